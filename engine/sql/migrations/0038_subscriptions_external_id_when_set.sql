-- A subscription's external id (another system's, from an import) is unique when it is set. The unique constraint
-- indexed every subscription, those without one too (a NULL entry each), and every update that moves a subscription's
-- row (billing a period, sending a reminder: two per renewal) added an entry there. Only set ids are indexed now: the
-- same uniqueness (NULLs were never equal), and the same name, so a duplicate is still reported as before.
alter table subscriptions drop constraint if exists subscriptions_external_id_key;
create unique index if not exists subscriptions_external_id_key on subscriptions (external_id) where external_id is not null;
