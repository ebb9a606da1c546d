-- The billing claim takes the due subscriptions in (next_billing_date, id) order, a batch at a
-- time, FOR UPDATE SKIP LOCKED. Keyed on next_billing_date alone, the index gave that order only
-- up to the date: when many renewals fall on one day (200,000 in bench/scale.ts), every claim read
-- and sorted all the day's remaining subscriptions (and joined their contacts) to lock 500 of them,
-- and every engine process and billing worker did so at once. Keyed on (next_billing_date, id),
-- a claim reads in order and stops at its batch, past the rows other engines hold.
drop index if exists subscriptions_due;
create index subscriptions_due on subscriptions (next_billing_date, id)
  where status in ('active', 'scheduled', 'unpaid', 'past_due') and parked_at is null;
