/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices.
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { Sql } from "../sql/index.ts"
import { subscriptionWithRows } from "../subscriptions/index.ts"

/** The rows behind the view: the subscription, its item versions and its invoices, in one statement. */
export const subscriptionRows = (sql: Sql, id: number) => subscriptionWithRows(sql, id)

/** The view of those rows on `today`: which items are in force, which come next. */
export const subscriptionViewOn = (rows: Awaited<ReturnType<typeof subscriptionRows>>, today: CalendarDate) => ({
  sub: rows.sub,
  invoices: rows.invoices,
  current: versionInForce(rows.versions, today),
  next: nextVersionAfter(rows.versions, today)
})

export const subscriptionView = async (sql: Sql, id: number, today: CalendarDate) => subscriptionViewOn(await subscriptionRows(sql, id), today)
