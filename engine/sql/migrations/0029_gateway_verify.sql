-- A zero-amount check of a payment method (a card's authorization that charges nothing, Stripe's
-- SetupIntent): a checkout whose discount code took all of today's payment still verifies the buyer's
-- method before it makes subscriptions that will charge it (checkout/checkoutPayments.ts).
alter table sim_gateway_ledger drop constraint sim_gateway_ledger_kind_check;
alter table sim_gateway_ledger add constraint sim_gateway_ledger_kind_check check (kind in ('charge', 'refund', 'verify'));
