-- Payment links (issue #17): a seller's saved offer that buyers pay at
-- /l/SLUG; its items; and the discount-code catalogue. The link rules are
-- checked by engine/checkout/linkRules.ts before saving; the checks here are
-- the database's last word on what must never be stored.
create table payment_links (
  id                        bigserial primary key,
  -- The public address part, never reused (a deleted link keeps it).
  slug                      text not null unique check (slug ~ '^[A-Za-z0-9_-]{4,64}$'),
  name                      text not null check (name <> ''),
  currency                  text not null,
  -- null: auto-renew; N: a fixed number of payments.
  terms_payments            integer check (terms_payments > 0),
  start_kind                text not null default 'checkout' check (start_kind in ('checkout', 'date', 'days', 'months')),
  start_date                date,
  start_delay               integer check (start_delay > 0),
  order_discount_ppm        integer check (order_discount_ppm between 0 and 1000000),
  order_discount_amount     bigint check (order_discount_amount >= 0),
  checkout_text             text,
  confirmation_text         text,
  redirect_url              text check (redirect_url like 'https://%'),
  language                  text not null default 'en',
  locale                    text,
  payment_types             text[] not null default '{card}' check (cardinality(payment_types) > 0),
  collect_billing_address   boolean not null default false,
  collect_shipping_address  boolean not null default false,
  allow_discount_codes      boolean not null default false,
  -- [{label, help_text, required, order}]
  contact_fields            jsonb not null default '[]',
  -- Switched off by the seller (links off) or by reaching the limit below.
  active                    boolean not null default true,
  completed_payments        integer not null default 0 check (completed_payments >= 0),
  completed_payments_limit  integer check (completed_payments_limit > 0),
  -- A simple link made from a contact: one payment, then it switches off.
  from_contact_id           bigint references contacts(id),
  created_on                date not null,
  updated_on                date not null,
  -- Deleted: gone from lists, takes no payments; kept for the payments that point at it.
  deleted_on                date,
  check ((start_kind = 'date') = (start_date is not null)),
  check ((start_kind in ('days', 'months')) = (start_delay is not null)),
  check (order_discount_ppm is null or order_discount_amount is null)
);

create table payment_link_items (
  link_id            bigint not null references payment_links(id) on delete cascade,
  position           integer not null check (position > 0),
  product_id         bigint references products(id),
  sku                text,
  name               text not null check (name <> ''),
  description        text,
  -- No item is free (reference); with an own price, the price suggested to the buyer.
  unit_price         bigint not null check (unit_price > 0),
  quantity           integer not null check (quantity > 0),
  -- null: one-time.
  frequency_unit     text check (frequency_unit in ('day', 'week', 'month', 'year')),
  frequency_count    integer check (frequency_count > 0),
  discount_ppm       integer check (discount_ppm between 0 and 1000000),
  discount_amount    bigint check (discount_amount >= 0),
  tax_rate_ppm       integer check (tax_rate_ppm between 0 and 1000000),
  optional           boolean not null default false,
  quantity_min       integer check (quantity_min > 0),
  quantity_max       integer,
  own_price_minimum  bigint check (own_price_minimum > 0),
  primary key (link_id, position),
  check ((frequency_unit is null) = (frequency_count is null)),
  check ((quantity_min is null) = (quantity_max is null) and quantity_min <= quantity_max),
  -- A buyer sets the price or the quantity, never both.
  check (own_price_minimum is null or quantity_min is null)
);

create table discount_codes (
  id               bigserial primary key,
  code             text not null check (code ~ '^[A-Za-z0-9_-]{3,40}$'),
  percent_ppm      integer check (percent_ppm between 1 and 1000000),
  amount           bigint check (amount > 0),
  currency         text,
  -- once: the payment at checkout; payments: the first N of each subscription; forever.
  duration         text not null check (duration in ('once', 'payments', 'forever')),
  duration_payments integer check (duration_payments > 0),
  expires_on       date,
  max_redemptions  integer check (max_redemptions > 0),
  redemptions      integer not null default 0 check (redemptions >= 0),
  active           boolean not null default true,
  created_on       date not null,
  deleted_on       date,
  check ((percent_ppm is null) <> (amount is null)),
  check ((amount is null) = (currency is null)),
  check ((duration = 'payments') = (duration_payments is not null)),
  check (max_redemptions is null or redemptions <= max_redemptions)
);
-- A buyer types a code in any case: one code per spelling.
create unique index discount_codes_code on discount_codes (lower(code));
