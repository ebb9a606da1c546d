/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices.
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { Sql } from "../store/index.ts"
import { getSubscription, itemVersionsOf, listInvoices } from "../store/index.ts"

export const subscriptionView = async (sql: Sql, id: number, today: CalendarDate) => {
  const sub = await getSubscription(sql, id)
  const versions = await itemVersionsOf(sql, id)
  const invoices = await listInvoices(sql, { subscriptionId: id })
  return { sub, invoices, current: versionInForce(versions, today), next: nextVersionAfter(versions, today) }
}
