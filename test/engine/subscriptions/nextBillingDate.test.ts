/**
 * `subscriptions update --next-billing-date`: the items given in the same command are in force from the new date.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ItemSpec } from "../../../engine/domain/index.ts"
import { parseItemSpec } from "../../../engine/domain/index.ts"
import { closeInvoice } from "../../../engine/invoicing/index.ts"
import { updateSubscription } from "../../../engine/subscriptions/index.ts"
import { contextAt, createSubscription, invoicesOf, tickAt } from "../runtime/engineHarness.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
const versionsOf = async (id: number) =>
  (await t.db.sql<Array<{ version: number; effective_from: string }>>`select version, effective_from from item_versions where subscription_id = ${id} order by version`)
    .map((v) => [v.version, v.effective_from])

describe(`update --item with --next-billing-date (${backend})`, () => {
  // Found by an audit: the new items were dated at the old next billing date, no longer a billing date.
  it("the new items are in force from the new next billing date given in the same command", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-31" })
    await tickAt(t, "2026-01-31")
    const r = await updateSubscription(t.db.sql, await contextAt(t, "2026-02-01"), id, { items: items("name=Item 1,price=25.00,qty=2"), nextBillingDate: "2026-03-10" as never })
    expect(r.items).toMatchObject({ version: 2, effectiveFrom: "2026-03-10", amountPerPaymentBefore: 2500, amountPerPaymentAfter: 5000 })
    expect(r.changes).toEqual(["items (version 2, effective 2026-03-10): per payment 25.00 USD → 50.00 USD", "next billing date 2026-02-28 → 2026-03-10"])
    expect(await versionsOf(id)).toEqual([[1, "2026-01-31"], [2, "2026-03-10"]])
    const [changed] = await t.db.sql<Array<{ data: Record<string, unknown> }>>`select data from events where subscription_id = ${id} and type = 'subscription.items_changed'`
    expect(changed!.data["effective_from"]).toBe("2026-03-10")
    await tickAt(t, "2026-03-10")
    expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.total])).toEqual([["2026-01-31", 2500], ["2026-03-10", 5000]])
  })

  it("an earlier date (the period's invoice voided) bills the new items on it, not the old ones", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-12-01", collection: "invoice", paymentTerms: "net-15" })
    await tickAt(t, "2026-12-01")
    const ctx = await contextAt(t, "2026-12-02")
    await closeInvoice(t.db.sql, ctx, (await invoicesOf(t.db.sql, id))[0]!.id, "void")
    await updateSubscription(t.db.sql, ctx, id, { items: items("name=Item 1,price=25.00,qty=3"), nextBillingDate: "2026-12-10" as never })
    await tickAt(t, "2026-12-10")
    expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.total, i.status])).toEqual([["2026-12-01", 2500, "void"], ["2026-12-10", 7500, "open"]])
  })
})
