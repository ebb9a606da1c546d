-- The HTTP API (`billcycle serve`). An API key is shown once when created;
-- only its SHA-256 hash is kept. A revoked key stays (the journal names it).
create table api_keys (
  id bigserial primary key,
  name text not null unique check (length(name) between 1 and 100),
  key_hash text not null unique,
  read_only boolean not null default false,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

-- Idempotency-Key on POST (Stripe's semantics): one row per (api key, key).
-- The unique key makes a second request with the same key wait for, or
-- replay, the first; it never runs the change twice. A row whose response is
-- null is still running (409 to a concurrent retry). Rows older than 24 h are
-- expired and may be taken again.
create table idempotency_keys (
  api_key_id bigint not null references api_keys (id),
  key text not null check (length(key) between 1 and 255),
  request_hash text not null,
  response_status int,
  response_body text,
  created_at timestamptz not null default now(),
  primary key (api_key_id, key)
);

-- A write through the HTTP API names the key that made it: source 'api:<key name>'.
alter table events drop constraint events_source_check;
alter table events add constraint events_source_check check (source in ('cli', 'engine', 'import', 'history', 'rule') or source like 'api:%');
