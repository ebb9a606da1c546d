/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices. The rows are read by
 * the `Subscriptions` service (`show`: one statement).
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { SubscriptionRows } from "./Subscriptions.ts"

/** The view of those rows on `today`: which items are in force, which come next. */
export const subscriptionViewOn = (rows: SubscriptionRows, today: CalendarDate) => ({
  sub: rows.sub,
  invoices: rows.invoices,
  current: versionInForce(rows.versions, today),
  next: nextVersionAfter(rows.versions, today)
})
