-- Gapless invoice numbers lock the numbering row from the moment they are taken to the commit, so
-- engines billing at once queue on it. Billing therefore numbers and inserts its invoices last, after
-- their lines and first charge attempts (invoicing/billingRun.ts `billDue`): those rows name invoices
-- that exist only a moment later, in the same transaction, so their references are checked at the
-- commit. A reference to an invoice that does not exist still fails the whole transaction.
alter table invoice_lines alter constraint invoice_lines_invoice_id_fkey deferrable initially deferred;
alter table payment_attempts alter constraint payment_attempts_invoice_id_fkey deferrable initially deferred;
