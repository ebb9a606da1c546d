-- Keys made by the engine for the engine (delivery keys, idempotency keys, invoice numbers, the simulated gateway's
-- references, rules' trigger and step keys) are compared byte by byte ("C"). Under the database's collation each
-- comparison in their unique indexes went through the locale's rules (strcoll): every renewal inserts about five such
-- keys (an invoice number, an attempt's key, two or three outbox messages, the gateway's ledger), each insert some 20
-- comparisons down its index. On a PostgreSQL server created with C.UTF-8, 300,000 delivery keys took 3.8–4.7 s to
-- index, bytewise 2.1–3.8 s; an en_US or ICU collation costs more. The keys are ASCII: equality is the same, and
-- their order is the same as before under any collation that orders ASCII by code point.
-- The embedded database (PGlite) is created with the C collation already: this changes nothing there.
alter table outbox alter column dedupe_key type text collate "C";
alter table tasks alter column dedupe_key type text collate "C";
alter table payment_attempts alter column idempotency_key type text collate "C";
alter table checkout_payments alter column idempotency_key type text collate "C";
alter table invoices alter column number type text collate "C";
alter table enrollments alter column trigger_key type text collate "C";
alter table enrollment_steps alter column step_key type text collate "C";
alter table sim_gateway_ledger alter column idempotency_key type text collate "C";
alter table sim_gateway_ledger alter column merchant_reference type text collate "C";
alter table sim_gateway_refusals alter column idempotency_key type text collate "C";
