-- `invoices_open_due` held every open invoice, so every charged renewal entered
-- it when issued and left a dead entry behind when paid minutes later; the
-- overdue step and the engine's due check then read those entries (46,594 of
-- them, none overdue, after 75 simulated days on a server without autovacuum).
-- Only invoices sent for payment (collection by invoice) can become overdue:
-- the index holds those alone, and only until they are marked overdue.
drop index if exists invoices_open_due;
create index invoices_awaiting_payment on invoices (due_date)
  where status = 'open' and overdue_on is null and collection_method = 'invoice';
