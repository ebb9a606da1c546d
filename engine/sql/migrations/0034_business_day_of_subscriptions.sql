-- The store's day counts the business dates of subscriptions' history only (events with a subscription):
-- a contact, product, payment link or discount code added or changed without --now (on the real date) made
-- the store's day the real date, and a later `--now 2026-03-01 subscriptions create` for that contact was
-- refused as running backwards. Catalogue changes are the store's present, not a step of billing.
drop index if exists events_business_day;
create index events_business_day on events (occurred_on) where source <> 'history' and subscription_id is not null;
