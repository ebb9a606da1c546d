-- billcycle schema, version 1.
-- Money is bigint minor units with a currency code; business dates are `date`
-- in the account's time zone; technical instants are timestamptz.
-- Invariants live here: unique keys make every engine step idempotent.

create table settings (
  key   text primary key,
  value text not null
);

-- Gapless invoice numbering: one row, bumped inside the invoice's transaction,
-- so a rolled-back invoice never burns a number.
create table invoice_sequence (
  id          boolean primary key default true check (id),
  prefix      text not null default 'INV-',
  next_number bigint not null default 1 check (next_number > 0)
);
insert into invoice_sequence default values;

create table custom_properties (
  name  text primary key check (name ~ '^[a-z][a-z0-9_]*$'),
  type  text not null check (type in ('string', 'number', 'money', 'date', 'boolean')),
  label text
);

create table products (
  id              bigint generated always as identity primary key,
  name            text not null check (name <> ''),
  sku             text not null unique check (sku <> ''),
  unit_price      bigint not null check (unit_price >= 0),
  currency        text not null check (currency ~ '^[A-Z]{3}$'),
  frequency_unit  text check (frequency_unit in ('day', 'week', 'month', 'year')),
  frequency_count integer check (frequency_count > 0),
  created_at      timestamptz not null default now(),
  check ((frequency_unit is null) = (frequency_count is null))
);

create table companies (
  id          bigint generated always as identity primary key,
  name        text not null check (name <> ''),
  tax_id      text,
  address     jsonb,
  external_id text unique,
  created_at  timestamptz not null default now()
);

create table contacts (
  id             bigint generated always as identity primary key,
  email          text not null unique check (email ~ '^[^\s@]+@[^\s@]+\.[^\s@]+$'),
  name           text,
  language       text,
  locale         text,
  payment_method text,
  address        jsonb,
  company_id     bigint references companies (id),
  external_id    text unique,
  created_at     timestamptz not null default now()
);

create table subscriptions (
  id                 bigint generated always as identity primary key,
  contact_id         bigint not null references contacts (id),
  company_id         bigint references companies (id),
  billing_contact_id bigint references contacts (id),
  owner              text,
  name               text not null,
  currency           text not null check (currency ~ '^[A-Z]{3}$'),
  frequency_unit     text not null check (frequency_unit in ('day', 'week', 'month', 'year')),
  frequency_count    integer not null check (frequency_count > 0),
  -- null: auto-renew until canceled; N: a fixed number of payments
  terms_payments     integer check (terms_payments > 0),
  start_date         date not null,            -- the billing anchor
  end_date           date,                     -- derived for fixed terms: the (N+1)-th billing date
  next_billing_date  date,                     -- null once nothing more will be billed
  payments_made      integer not null default 0 check (payments_made >= 0),
  collection_method  text not null check (collection_method in ('charge', 'invoice')),
  payment_terms      text check (payment_terms in ('due-on-receipt', 'net-15', 'net-30', 'net-60')),
  payment_method     text,
  reminders          boolean not null default false,
  invoice_language   text,
  invoice_locale     text,
  invoice_comments   text,
  invoice_tax_ids    text[],
  auto_email         boolean,
  invoicing_enabled  boolean not null default true,
  properties         jsonb not null default '{}'::jsonb,
  status             text not null check (status in ('scheduled', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'expired')),
  created_on         date not null,
  canceled_on        date,                     -- when a cancellation took effect
  cancel_at          date,                     -- a requested cancellation at period end
  paused_on          date,
  resume_on          date,
  retry_count        integer not null default 0,   -- failed charge retries made in the current cycle
  next_retry_on      date,
  reminder_sent_for  date,                     -- the billing date the last reminder was sent for
  external_id        text unique,
  -- engine bookkeeping: claims with leases, failures parked after a few tries
  lease_owner        text,
  lease_until        timestamptz,
  failure_count      integer not null default 0,
  last_error         text,
  parked_at          timestamptz,
  updated_at         timestamptz not null default now(),
  check (terms_payments is null or payments_made <= terms_payments),
  check (collection_method <> 'invoice' or payment_terms is not null)
);
create index subscriptions_due on subscriptions (next_billing_date) where status in ('active', 'scheduled', 'unpaid', 'past_due') and parked_at is null;
create index subscriptions_retry on subscriptions (next_retry_on) where next_retry_on is not null;
create index subscriptions_status on subscriptions (status);
create index subscriptions_contact on subscriptions (contact_id);

-- Line items are versioned: a change of items is a new version from an
-- effective date; older versions are kept for history and reports.
create table item_versions (
  subscription_id bigint not null references subscriptions (id) on delete cascade,
  version         integer not null check (version > 0),
  effective_from  date not null,
  created_at      timestamptz not null default now(),
  primary key (subscription_id, version)
);

create table line_items (
  subscription_id  bigint not null,
  version          integer not null,
  line_no          integer not null check (line_no > 0),
  product_id       bigint references products (id),
  name             text not null check (name <> ''),
  sku              text,
  unit_price       bigint not null check (unit_price >= 0),
  quantity         integer not null check (quantity > 0),
  discount_ppm     integer check (discount_ppm between 0 and 1000000),
  discount_amount  bigint check (discount_amount >= 0),
  tax_rate_ppm     integer check (tax_rate_ppm between 0 and 1000000),
  one_time         boolean not null default false,
  primary key (subscription_id, version, line_no),
  foreign key (subscription_id, version) references item_versions (subscription_id, version) on delete cascade,
  check (discount_ppm is null or discount_amount is null),
  check (discount_amount is null or discount_amount <= unit_price)
);

create table invoices (
  id               bigint generated always as identity primary key,
  number           text not null unique,
  subscription_id  bigint not null references subscriptions (id) on delete cascade,
  period_index     integer not null check (period_index >= 0),
  period_start     date not null,
  period_end       date not null,
  issue_date       date not null,
  due_date         date not null,
  currency         text not null,
  subtotal         bigint not null check (subtotal >= 0),
  discount         bigint not null check (discount >= 0),
  tax              bigint not null check (tax >= 0),
  fees             bigint not null default 0 check (fees >= 0),
  total            bigint not null check (total >= 0),
  amount_paid      bigint not null default 0 check (amount_paid >= 0),
  amount_refunded  bigint not null default 0 check (amount_refunded >= 0),
  collection_method text not null check (collection_method in ('charge', 'invoice')),
  status           text not null check (status in ('open', 'paid', 'void', 'uncollectible')),
  paid_on          date,
  overdue_on       date,
  language         text,
  locale           text,
  created_at       timestamptz not null default now(),
  -- one invoice per subscription per period, never two
  unique (subscription_id, period_start),
  check (amount_paid <= total),
  check (amount_refunded <= amount_paid)
);
create index invoices_open_due on invoices (due_date) where status = 'open';

create table invoice_lines (
  invoice_id     bigint not null references invoices (id) on delete cascade,
  line_no        integer not null,
  name           text not null,
  quantity       integer not null check (quantity > 0),
  unit_price     bigint not null check (unit_price >= 0),
  unit_discount  bigint not null default 0 check (unit_discount >= 0),
  tax_rate_ppm   integer,
  amount         bigint not null check (amount >= 0),
  tax            bigint not null default 0 check (tax >= 0),
  one_time       boolean not null default false,
  primary key (invoice_id, line_no)
);

-- A payment attempt is recorded (and committed) before the gateway is called;
-- its idempotency key is derived from the row, so a retry after a lost reply
-- asks about the same charge instead of making a new one.
create table payment_attempts (
  id               bigint generated always as identity primary key,
  invoice_id       bigint not null references invoices (id) on delete cascade,
  kind             text not null check (kind in ('charge', 'refund')),
  attempt_number   integer not null check (attempt_number > 0),
  idempotency_key  text not null unique,
  amount           bigint not null check (amount > 0),
  currency         text not null,
  payment_method   text,
  status           text not null check (status in ('pending', 'succeeded', 'failed', 'unknown')),
  failure_reason   text,
  gateway_ref      text,
  check_count      integer not null default 0,
  next_check_at    timestamptz,
  created_at       timestamptz not null default now(),
  settled_at       timestamptz,
  unique (invoice_id, kind, attempt_number)
);
-- one in-flight charge per invoice
create unique index payment_attempts_one_in_flight on payment_attempts (invoice_id)
  where kind = 'charge' and status in ('pending', 'unknown');
create index payment_attempts_unsettled on payment_attempts (next_check_at) where status in ('pending', 'unknown');

-- The event journal: every change writes its events in the same transaction.
-- No foreign key to subscriptions: history outlives a deleted subscription.
create table events (
  id              bigint generated always as identity primary key,
  type            text not null,
  subscription_id bigint,
  contact_id      bigint,
  invoice_id      bigint,
  occurred_on     date not null,
  recorded_at     timestamptz not null default now(),
  source          text not null default 'cli' check (source in ('cli', 'engine', 'import', 'rule')),
  data            jsonb not null default '{}'::jsonb
);
create index events_subscription on events (subscription_id, id);
create index events_type on events (type, id);

create table status_history (
  id              bigint generated always as identity primary key,
  subscription_id bigint not null,
  from_status     text,
  to_status       text not null,
  effective_on    date not null,
  event_id        bigint references events (id)
);
create index status_history_subscription on status_history (subscription_id, effective_on, id);

-- Where each consumer of the journal has read up to (the rules runtime).
create table journal_offsets (
  consumer      text primary key,
  last_event_id bigint not null default 0
);

create table enrollments (
  id               bigint generated always as identity primary key,
  rule_id          text not null,
  rule_version     text not null,
  subscription_id  bigint not null,
  trigger_event_id bigint,
  trigger_key      text not null,   -- the trigger event id, or the date of a date trigger
  status           text not null check (status in ('active', 'waiting', 'done', 'unenrolled', 'failed')),
  position         jsonb not null default '{}'::jsonb,
  wake_on          date,
  depth            integer not null default 0,
  program          jsonb,
  last_error       text,
  lease_owner      text,
  lease_until      timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  unique (rule_id, subscription_id, trigger_key)
);
create index enrollments_due on enrollments (wake_on) where status in ('active', 'waiting');
create index enrollments_subject on enrollments (subscription_id, rule_id);

-- Each action of an enrollment step happens once: keyed by (enrollment, step).
create table enrollment_steps (
  enrollment_id bigint not null references enrollments (id) on delete cascade,
  step_key      text not null,
  done_at       timestamptz not null default now(),
  primary key (enrollment_id, step_key)
);

-- Messages to deliver, written in the same transaction as the change that
-- caused them; the dedupe key makes "one message per (kind, subject, period)".
create table outbox (
  id               bigint generated always as identity primary key,
  kind             text not null check (kind in ('email', 'notification', 'webhook')),
  template         text,
  dedupe_key       text not null unique,
  subscription_id  bigint,
  invoice_id       bigint,
  recipient        text not null,
  language         text,
  locale           text,
  payload          jsonb not null default '{}'::jsonb,
  status           text not null default 'queued' check (status in ('queued', 'sending', 'sent', 'failed')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  last_error       text,
  provider_id      text,
  lease_owner      text,
  lease_until      timestamptz,
  created_on       date not null,
  created_at       timestamptz not null default now(),
  sent_at          timestamptz
);
create index outbox_due on outbox (next_attempt_at) where status in ('queued', 'sending');

create table tasks (
  id              bigint generated always as identity primary key,
  title           text not null,
  assignee        text,
  team            text,
  due_on          date,
  subscription_id bigint,
  dedupe_key      text not null unique,
  status          text not null default 'open' check (status in ('open', 'done')),
  created_at      timestamptz not null default now()
);

create table lists (
  name       text primary key,
  created_at timestamptz not null default now()
);

create table list_members (
  list_name  text not null references lists (name) on delete cascade,
  contact_id bigint not null references contacts (id) on delete cascade,
  added_on   date not null,
  primary key (list_name, contact_id)
);

-- Engine state that must survive restarts (the simulated clock's last day).
create table engine_state (
  key   text primary key,
  value text not null
);

-- The simulated payment gateway's own ledger. It stands for an external
-- system: written in its own transaction, keyed by idempotency key, so a
-- repeated key returns the first result and never charges twice.
create table sim_gateway_ledger (
  idempotency_key text primary key,
  kind            text not null check (kind in ('charge', 'refund')),
  amount          bigint not null,
  currency        text not null,
  payment_method  text,
  outcome         text not null check (outcome in ('succeeded', 'declined')),
  reference       text not null,
  created_at      timestamptz not null default now()
);
