-- The date billing dates are computed from. It starts as the start date;
-- `subscriptions update --next-billing-date` re-anchors future periods on
-- the new date (the start date stays what it was, for history and reports).
alter table subscriptions add column billing_anchor date;
update subscriptions set billing_anchor = start_date where billing_anchor is null;
