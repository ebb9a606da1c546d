-- Imports are idempotent. A subscriptions CSV names each purchase with a key
-- (the `subscription` column); the subscriptions made from it keep that key
-- and a digest of the rows they came from. Re-importing the same file finds
-- the keys and changes nothing; the same key with other rows is refused.
-- One purchase becomes one subscription per billing frequency (line items of
-- different frequencies bill apart), so the key is unique per frequency; the
-- index is also what makes two concurrent imports of one file write it once.
alter table subscriptions add column import_key text, add column import_digest text;
create unique index subscriptions_import_key on subscriptions (import_key, frequency_unit, frequency_count) where import_key is not null;

-- The simulated gateway's transient refusals (pm_rate_limited): a request it
-- answered 429 without charging, so that the retry under the same key is
-- served. Not a charge: the ledger above holds only what was charged.
create table sim_gateway_refusals (
  idempotency_key text primary key,
  http_status     integer not null,
  created_at      timestamptz not null default now()
);
