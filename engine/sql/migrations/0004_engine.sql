-- Engine bookkeeping, version 4.

-- How many periods have been invoiced (fixed terms stop at N), and since when
-- the current cycle has been unpaid (retries count from that day).
alter table subscriptions add column periods_billed integer not null default 0 check (periods_billed >= 0);
alter table subscriptions add column unpaid_since date;

-- A claimed payment attempt carries a lease: another engine takes it over
-- only after the lease has expired, and the outcome is recorded only while
-- the attempt is still unsettled, so a late writer changes nothing.
alter table payment_attempts add column lease_owner text;
alter table payment_attempts add column lease_until timestamptz;
alter table payment_attempts add column requested_on date;

-- The simulated gateway remembers whose invoice a charge was for.
alter table sim_gateway_ledger add column merchant_reference text;
create index sim_gateway_ledger_reference on sim_gateway_ledger (merchant_reference);

-- What the engine's "anything due?" check reads, each an index-only probe.
create index subscriptions_cancel_at on subscriptions (cancel_at) where cancel_at is not null and status not in ('canceled', 'expired');
create index subscriptions_resume_on on subscriptions (resume_on) where status = 'paused';
create index subscriptions_scheduled on subscriptions (start_date) where status = 'scheduled';
create index subscriptions_reminders on subscriptions (next_billing_date) where reminders and status = 'active';
