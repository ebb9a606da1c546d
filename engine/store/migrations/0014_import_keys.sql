-- Imports are idempotent. A subscriptions CSV names each purchase with a key
-- (the `subscription` column); the subscriptions made from it keep that key
-- and a digest of the rows they came from. Re-importing the same file finds
-- the keys and changes nothing; the same key with other rows is refused.
-- One purchase becomes one subscription per billing frequency (line items of
-- different frequencies bill apart), so the key is unique per frequency; the
-- index is also what makes two concurrent imports of one file write it once.
alter table subscriptions add column import_key text, add column import_digest text;
create unique index subscriptions_import_key on subscriptions (import_key, frequency_unit, frequency_count) where import_key is not null;
