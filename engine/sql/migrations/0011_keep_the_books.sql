-- Financial records outlive the subscription. `subscriptions delete` no longer
-- removes the row: it marks it deleted (a tombstone), so its item versions,
-- status history, invoices, payment attempts and journal stay, the invoice
-- numbers stay gapless and the reports, which read those tables, do not change.
-- Lists, views, `show` and the export hide a deleted subscription.
alter table subscriptions add column deleted_on date;

-- An invoice is never deleted: it is paid, voided or written off. The schema
-- has the last word: a subscription with invoices cannot be deleted as a row
-- (it used to take its invoices with it), and deleting an invoice row is refused.
alter table invoices drop constraint invoices_subscription_id_fkey;
alter table invoices add constraint invoices_subscription_id_fkey
  foreign key (subscription_id) references subscriptions (id) on delete restrict;

create function refuse_invoice_delete() returns trigger language plpgsql as $$
begin
  raise exception 'invoice % (id %) cannot be deleted: an invoice is paid, voided or written off, never deleted', old.number, old.id
    using errcode = 'integrity_constraint_violation';
end
$$;
create trigger invoices_never_deleted before delete on invoices for each row execute function refuse_invoice_delete();

-- When an invoice was voided or written off (the journal has the event too).
alter table invoices add column closed_on date;
