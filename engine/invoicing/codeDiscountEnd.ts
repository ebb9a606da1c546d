/**
 * The end of a discount code's payments as its subscription keeps it: `code_discount_ends_on` (migration 0035), the
 * first day of the first full-price period, which the billing run records when it bills the code's last payment
 * (`persistPeriods`) and the reports read as the day MRR goes back up to the full amount. Owns the one rule of how
 * that day follows the next billing date; writes nothing itself.
 */
import type { PendingQuery, Row } from "postgres"
import type { TransactionSql } from "../sql/index.ts"

/**
 * The assignment a statement `update subscriptions … set next_billing_date = NEXT` adds when it moves the next billing
 * date without billing a period (a new date by hand, a resume, an unpaid subscription's skipped periods): while full
 * price has not started, the code's end is the next billing date, the day the first full-price payment is due, and it
 * moves with that date, so that MRR goes up (and `subscriptions show` says full price from) the day that payment is
 * now due, not the day it used to be. An end already past (full price started) or not known yet (the code still
 * covers the next payment, or every payment) stays. In a `set` list the columns read the row as it was before the
 * update: `next_billing_date` here is the date moved from. Billing a period moves the date too, and must not carry
 * the rule (billing the first full-price period leaves the end where it is): so a fragment each mover names, not a
 * trigger, which could tell the two apart only by guessing from `periods_billed`.
 */
export const codeDiscountEndMoving = (tx: TransactionSql, next: string | PendingQuery<Array<Row>>): PendingQuery<Array<Row>> =>
  tx`code_discount_ends_on = case when code_discount_ends_on = next_billing_date then ${next}::date else code_discount_ends_on end`
