/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices.
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { Sql } from "../store/index.ts"
import { getSubscription, itemVersionsOf, listInvoices } from "../store/index.ts"

/** The rows behind the view, read at once (three queries in flight together, not one after another). */
export const subscriptionRows = async (sql: Sql, id: number) => {
  // One after another: the embedded database's one connection hung (a `subscriptions show` in CI)
  // when these three were sent at once through the owner's socket.
  const sub = await getSubscription(sql, id)
  const versions = await itemVersionsOf(sql, id)
  const invoices = await listInvoices(sql, { subscriptionId: id })
  return { sub, versions, invoices }
}

/** The view of those rows on `today`: which items are in force, which come next. */
export const subscriptionViewOn = (rows: Awaited<ReturnType<typeof subscriptionRows>>, today: CalendarDate) => ({
  sub: rows.sub,
  invoices: rows.invoices,
  current: versionInForce(rows.versions, today),
  next: nextVersionAfter(rows.versions, today)
})

export const subscriptionView = async (sql: Sql, id: number, today: CalendarDate) => subscriptionViewOn(await subscriptionRows(sql, id), today)
