/**
 * The lifecycle room's door. Starts, resumes, period-end cancels, expiries, overdue invoices, reminders.
 * Named exports only: what other rooms use.
 */
export {
  activateScheduled, applyPeriodEndCancellations, dueSubscriptionIds, dueWork, expireCompletedTerms, markOverdueInvoices,
  recordSubscriptionFailure, resumedBilling, resumedStatuses, resumeDuePaused, sendDueReminders
} from "./lifecycleRun.ts"
export type { DueWork } from "./lifecycleRun.ts"
