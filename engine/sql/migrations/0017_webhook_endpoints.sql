-- Event webhooks without rules: `billcycle webhooks add --url URL --events
-- invoice.paid,subscription.*`. Every journal event of a subscribed type is
-- queued in the outbox (kind webhook) in the same statement that writes the
-- event, one message per (event, endpoint), its dedupe key naming both.
create table webhook_endpoints (
  id          bigserial primary key,
  url         text not null,
  events      text[] not null,
  created_on  date not null,
  removed_on  date
);
