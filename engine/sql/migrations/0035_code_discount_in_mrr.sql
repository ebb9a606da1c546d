-- A discount code redeemed at checkout takes its part off each payment it covers (`draftInvoices`), and MRR is
-- what the subscription bills, net of discounts: the reports read the code as two plain columns (generated from
-- `code_discount`, its one home) and the day its last covered period ends, which the billing run writes when it
-- bills that period (`persistPeriods`): MRR goes up to the full amount on that day. Null while the code still
-- covers the next payment, and for a code that covers every payment.
alter table subscriptions
  add column code_off_ppm integer generated always as ((code_discount -> 'off' ->> 'ppm')::integer) stored,
  add column code_off_amount bigint generated always as ((code_discount -> 'off' ->> 'amount')::bigint) stored,
  add column code_discount_ends_on date;
