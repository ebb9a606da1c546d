-- A contact is found by its email in any case (`lower(email) = lower($1)`): a paid
-- checkout's buyer (checkout/checkoutPaymentsRepository.ts `contactForBuyer`, under
-- the completing transaction's locks), `subscriptions create --email`, a contact's
-- show and update, the imports. `email`'s unique index does not serve `lower(email)`,
-- so each of them read the whole table. Not unique: stores may hold emails that
-- differ only in case.
create index if not exists contacts_email_lower on contacts (lower(email));
