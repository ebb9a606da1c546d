/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices.
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { Sql } from "../store/index.ts"
import { getSubscription, itemVersionsOf, listInvoices } from "../store/index.ts"

/**
 * The rows behind the view. On a server (`together`: a pool of connections) the three queries are in
 * flight at once; on the embedded database one after another: its one connection hung (a
 * `subscriptions show` in CI) when they were sent at once through the owner's socket and one failed.
 */
export const subscriptionRows = async (sql: Sql, id: number, options: { readonly together?: boolean } = {}) => {
  if (options.together === true) {
    // The subscription's own read decides (not found, deleted); the others are read beside it.
    const [sub, versions, invoices] = await Promise.allSettled([getSubscription(sql, id), itemVersionsOf(sql, id), listInvoices(sql, { subscriptionId: id })])
    if (sub.status === "rejected") throw sub.reason
    if (versions.status === "rejected") throw versions.reason
    if (invoices.status === "rejected") throw invoices.reason
    return { sub: sub.value, versions: versions.value, invoices: invoices.value }
  }
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
