-- The engine's due checks (lifecycle/lifecycleRun.ts `dueWork`, once per pass) and its reminder
-- step must cost the same on 10,000 subscriptions as on 1,000,000: each reads the front of an
-- index, never the table.
--
-- Reminders: the subscriptions whose next payment has not been reminded yet. Keyed on the next
-- billing date of every active subscription with reminders on, each day's look read the whole
-- reminder window (14 days of renewals) to find the one day not yet reminded, twice a tick. A
-- reminder sent takes its row out of this index; billing's next date puts it back.
drop index if exists subscriptions_reminders;
create index subscriptions_reminders on subscriptions (next_billing_date, id)
  where reminders and status = 'active' and reminder_sent_for is distinct from next_billing_date;

-- Fixed terms whose payments are all made expire on their date: the check read every
-- subscription (no index held terms), 5 ms a pass at 10,000 subscriptions, 0.5 s at 1,000,000.
create index subscriptions_terms_due on subscriptions (next_billing_date) where terms_payments is not null;
