-- Every renewal appends three or four events (invoice.created, payment.succeeded,
-- invoice.paid, subscription.renewed), and each index on `events` is one more
-- b-tree insertion per event. `events_type` served no hot read: the rules
-- runtime reads the journal by id (its offset) and by subscription
-- (events_subscription), the business day by occurred_on (events_business_day).
-- Only `events list --type T` filtered by type alone; it now reads the table
-- in id order, an operator's listing, not the engine's path.
drop index if exists events_type;
