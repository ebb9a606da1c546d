-- Reminders follow billing: a subscription billed on its next date is reminded before it, whether it is
-- active, scheduled (its first payment, on its start date: a delayed start, a payment link's later start)
-- or past due (an invoice overdue, the next one still issued). Only active ones were: a buyer who was
-- promised reminders was charged the first time without one (lifecycle/lifecycleRun.ts sendDueReminders).
drop index if exists subscriptions_reminders;
create index subscriptions_reminders on subscriptions (next_billing_date, id)
  where reminders and status in ('active', 'scheduled', 'past_due') and reminder_sent_for is distinct from next_billing_date;
