-- The store's day (business time never runs backwards) is read on every
-- command: the stored test clock, the last simulated day, and the latest
-- business date in the journal. This index answers the last one at once.
-- Replayed history (source 'history') is another system's past and does not count.
create index events_business_day on events (occurred_on) where source <> 'history';
