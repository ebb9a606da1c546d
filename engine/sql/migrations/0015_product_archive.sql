-- A product can be retired: `products archive SKU` sets the business day it
-- was archived. An archived product cannot go on new subscriptions (create,
-- update adding it, import); subscriptions that have it keep billing it.
alter table products add column archived_on date;
