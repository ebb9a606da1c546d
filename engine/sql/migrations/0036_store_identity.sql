-- The store's own identity: a random id made once, when the store is made (or upgraded). An email's Message-ID
-- was its delivery key alone (`<email_receipt_42@billcycle.local>`), the same in every billcycle store: a buyer of
-- two sellers, or of a seller who started a new store, got two receipts with one Message-ID, and mail systems that
-- drop a repeated Message-ID dropped the second. The id makes it the store's own, still the same on a re-send.
create table store_identity (
  id text primary key,
  one boolean not null default true unique check (one)
);
insert into store_identity (id) values (replace(gen_random_uuid()::text, '-', ''));
