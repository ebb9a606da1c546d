/**
 * Each paid period counts as its own payment, also when one call pays several invoices of one subscription (bank
 * debits of two periods the engine billed while it was down settle together): `subscription.renewed` carries the
 * count of the payment it renews with, as `payment.succeeded` does, and a subscription's first payment is no renewal.
 * Rules and webhooks read the count ("on the 3rd payment"): two renewals both saying 3 skipped the 2nd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createSubscription, invoicesOf, tickAt } from "../runtime/engineHarness.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

/** The payment and renewal events of a subscription: type, the invoice's period, the count carried. */
const counted = async (id: number) => {
  const periods = new Map((await invoicesOf(t.db.sql, id)).map((i) => [Number(i.id), i.period_start]))
  const events = await t.db.sql<Array<{ type: string; data: Record<string, any> }>>`
    select type, data from events where subscription_id = ${id} and type in ('payment.succeeded', 'subscription.renewed') order by id`
  return events.map((e) => [e.type, periods.get(Number(e.data["invoice_id"])), e.data["payments_made"]])
}

describe(`two invoices of one subscription paid in one call each count their own payment (${backend})`, () => {
  it("bank debits of February and March settling together renew with counts 2 and 3, not 3 and 3", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-01", paymentMethod: "pm_bank_ok", items: [{ price: 1000 }] })
    // January's debit settles on its own; the engine is then down until 1 March and bills February and March that day.
    for (const day of ["2026-01-01", "2026-01-04", "2026-03-01", "2026-03-04"]) await tickAt(t, day)
    expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.status])).toEqual([["2026-01-01", "paid"], ["2026-02-01", "paid"], ["2026-03-01", "paid"]])
    expect(await counted(id)).toEqual([
      ["payment.succeeded", "2026-01-01", 1],
      ["payment.succeeded", "2026-02-01", 2],
      ["subscription.renewed", "2026-02-01", 2],
      ["payment.succeeded", "2026-03-01", 3],
      ["subscription.renewed", "2026-03-01", 3]
    ])
  })

  it("the first payment paid together with the second is no renewal: one renewal, count 2", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-01", paymentMethod: "pm_bank_ok", items: [{ price: 1000 }] })
    // The engine first runs on 1 February: January's and February's debits are made that day and settle together.
    for (const day of ["2026-02-01", "2026-02-04"]) await tickAt(t, day)
    expect(await counted(id)).toEqual([
      ["payment.succeeded", "2026-01-01", 1],
      ["payment.succeeded", "2026-02-01", 2],
      ["subscription.renewed", "2026-02-01", 2]
    ])
  })
})
