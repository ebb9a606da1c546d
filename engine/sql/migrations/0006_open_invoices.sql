-- A subscription's open invoices. Retries and payment settlement look up the
-- open invoice of each subscription in a batch; without this index the planner
-- intersects the open-invoice index on due dates (which keeps entries for every
-- invoice paid since the last vacuum) with the subscription key, and a retry
-- batch slows down as the year goes on (0.4 s by July in a simulated year).
create index invoices_open_by_subscription on invoices (subscription_id, period_start) where status = 'open';
