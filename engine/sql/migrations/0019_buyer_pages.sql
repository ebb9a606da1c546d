-- The buyer's pages (`/p/TOKEN` update the payment method, `/i/TOKEN` pay an
-- invoice). Their links carry a token signed with a secret made once per
-- database (random, 32 bytes, never in a URL); the first reader creates it
-- and every later one, in any process, reads the same row.
create table buyer_secrets (
  name       text primary key,
  secret     bytea not null check (length(secret) >= 32),
  created_at timestamptz not null default now()
);

-- Who asked for a charge: the engine (a billing date, a retry) or the buyer
-- on a page. A buyer's declined card is shown on the page: it neither makes
-- the subscription unpaid nor uses one of its retries.
alter table payment_attempts add column initiated_by text not null default 'engine'
  check (initiated_by in ('engine', 'buyer'));

-- A change the buyer made on a page is journaled with source 'buyer'.
alter table events drop constraint events_source_check;
alter table events add constraint events_source_check check (source in ('cli', 'engine', 'import', 'history', 'rule', 'buyer') or source like 'api:%');

-- A checkout session: `GET /l/SLUG` opens one and sends the buyer to
-- `/c/ID`. The id is 128 random bits (base64url), the only thing in the URL.
-- The link as it was when opened is frozen here (items, prices, terms,
-- discounts): a seller's later edit does not change a buyer's checkout. It
-- works for 24 hours of business time.
create table checkout_sessions (
  id            text primary key check (id ~ '^[A-Za-z0-9_-]{22}$'),
  link_id       bigint not null references payment_links (id),
  link_snapshot jsonb not null,
  opened_on     date not null,
  expires_at    timestamptz not null,
  created_at    timestamptz not null default now()
);
create index checkout_sessions_link on checkout_sessions (link_id);
