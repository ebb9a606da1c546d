-- Paying a checkout session (issue #17). A buyer's payment is recorded (and
-- committed) before the gateway is called, under a key derived from the
-- session and the attempt's number, so a reload, a double click or a second
-- tab asks about the same charge instead of making a new one. What was
-- bought (the buyer's choices, contact and fields, the day) is frozen with
-- the attempt: the engine completes a payment whose reply was lost exactly
-- as the page would have.
create table checkout_payments (
  id               bigint generated always as identity primary key,
  session_id       text not null references checkout_sessions (id),
  attempt_number   integer not null check (attempt_number > 0),
  idempotency_key  text not null unique,
  amount           bigint not null check (amount >= 0),
  currency         text not null,
  payment_method   text not null,
  purchase         jsonb not null,
  status           text not null check (status in ('pending', 'succeeded', 'failed', 'unknown')),
  failure_reason   text,
  gateway_ref      text,
  check_count      integer not null default 0,
  check_after      timestamptz,
  created_at       timestamptz not null default now(),
  settled_at       timestamptz,
  unique (session_id, attempt_number)
);
-- One charge in flight per session, and one that succeeds: never two.
create unique index checkout_payments_one_in_flight on checkout_payments (session_id) where status in ('pending', 'unknown');
create unique index checkout_payments_one_paid on checkout_payments (session_id) where status = 'succeeded';
create index checkout_payments_unsettled on checkout_payments (check_after) where status in ('pending', 'unknown');

-- A completed session: the contact and subscriptions its payment made.
alter table checkout_sessions add column completed_on date;
alter table checkout_sessions add column contact_id bigint references contacts (id);
alter table checkout_sessions add column subscription_ids bigint[];

-- A discount code for N payments (or every payment) rides on the
-- subscriptions it was redeemed for: {"off": {"_tag": "Percent", "ppm": …} |
-- {"_tag": "Amount", "amount": …}, "payments": N | null}. Billing takes it
-- off each payment whose period index is below N (engine/store/billingRun.ts
-- draftInvoices, with billing/pricing.ts discountOff).
alter table subscriptions add column code_discount jsonb;

-- A change a buyer's checkout made is journaled with source 'buyer' (0019).

-- A bank debit is accepted at once and settles days later: the checkout
-- completes while it is pending (reference, "Payment links"), its first
-- invoices stay open, and the engine pays them, or records the failure, when
-- the debit settles. The invoices the payment is for, kept with it.
alter table checkout_payments add column invoice_ids bigint[];
alter table checkout_payments add column one_time_invoice_id bigint;

-- The simulated gateway's bank debits (`pm_bank_debit`, `pm_bank_debit_fail`):
-- pending until settles_at (business time), then succeeded or declined.
alter table sim_gateway_ledger drop constraint sim_gateway_ledger_outcome_check;
alter table sim_gateway_ledger add constraint sim_gateway_ledger_outcome_check check (outcome in ('succeeded', 'declined', 'pending'));
alter table sim_gateway_ledger add column settles_at timestamptz;
alter table sim_gateway_ledger add column final_outcome text check (final_outcome in ('succeeded', 'declined'));
