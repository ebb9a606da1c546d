/**
 * `subscriptions update --next-billing-date`: the items given in the same command are in force from the new
 * date, and a date inside a period already invoiced is refused (it would bill the overlap twice), unless that
 * period's invoice was voided.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ItemSpec } from "../../../engine/domain/index.ts"
import { describeSubscriptionError, parseItemSpec, subscriptionErrorOf } from "../../../engine/domain/index.ts"
import { closeInvoice } from "../../../engine/invoicing/index.ts"
import { updateSubscription } from "../../../engine/subscriptions/index.ts"
import { contextAt, createSubscription, invoicesOf, subscriptionRow, tickAt } from "../runtime/engineHarness.ts"
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
const snapshot = async (id: number) =>
  JSON.stringify([await subscriptionRow(t.db.sql, id), await versionsOf(id), await t.db.sql`select count(*)::int as n from events where subscription_id = ${id}`])

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

describe(`--next-billing-date on fixed terms (${backend})`, () => {
  // Found by an audit helper: the schedule was re-anchored but the term kept its old end date.
  it("moves the end date with the schedule: the payments still to bill follow the new date, journaled", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", payments: 3 })
    await tickAt(t, "2026-05-01")
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ end_date: "2026-08-01", next_billing_date: "2026-06-01" })
    const r = await updateSubscription(t.db.sql, await contextAt(t, "2026-05-10"), id, { nextBillingDate: "2026-06-15" as never })
    expect(r.changes).toEqual(["next billing date 2026-06-01 → 2026-06-15", "ends 2026-08-01 → 2026-08-15"])
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ end_date: "2026-08-15", next_billing_date: "2026-06-15" })
    const [event] = await t.db.sql<Array<{ data: Record<string, unknown> }>>`
      select data from events where subscription_id = ${id} and type = 'subscription.property_changed' and data->>'property' = 'end_date'`
    expect(event!.data).toEqual({ property: "end_date", from: "2026-08-01", to: "2026-08-15" })
    for (const day of ["2026-06-15", "2026-07-15", "2026-08-15", "2026-09-15"]) await tickAt(t, day)
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.period_start)).toEqual(["2026-05-01", "2026-06-15", "2026-07-15"])
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "expired", end_date: "2026-08-15" })
  })
})

describe(`--next-billing-date inside a period already invoiced (${backend})`, () => {
  // Found by an audit: 02-10 after a paid 01-31..02-29 invoice charged 02-10..02-29 a second time, silently.
  it("is refused naming the invoiced period and its invoice, and the first date it may be; nothing changes", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-06-30" })
    await tickAt(t, "2026-06-30")
    await tickAt(t, "2026-07-30")
    const [, second] = await invoicesOf(t.db.sql, id)
    const ctx = await contextAt(t, "2026-07-31")
    const before = await snapshot(id)
    for (const input of [{ nextBillingDate: "2026-08-10" }, { nextBillingDate: "2026-07-31", items: items("name=Item 1,price=25.00,qty=2"), paymentMethod: "pm_fail_once" }]) {
      const refusal = await updateSubscription(t.db.sql, ctx, id, input as never).then(() => undefined, subscriptionErrorOf)
      expect(refusal).toMatchObject({ _tag: "NextBillingDateRefused", reason: { _tag: "InvoicedPeriod", periodStart: "2026-07-30", lastDay: "2026-08-29", periodEnd: "2026-08-30", invoice: second!.number } })
      expect(describeSubscriptionError(refusal!)).toBe(
        `${input.nextBillingDate} is inside 2026-07-30..2026-08-29, already invoiced (${second!.number}); give 2026-08-30 or later`)
    }
    expect(await snapshot(id)).toBe(before)
    // The end of the invoiced period, or later, is fine.
    await updateSubscription(t.db.sql, ctx, id, { nextBillingDate: "2026-08-30" as never })
    await updateSubscription(t.db.sql, ctx, id, { nextBillingDate: "2026-09-05" as never })
    expect((await subscriptionRow(t.db.sql, id))["next_billing_date"]).toBe("2026-09-05")
  })

  it("a date in a period whose invoice was voided is fine", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-10-01", collection: "invoice", paymentTerms: "net-15" })
    await tickAt(t, "2026-10-01")
    const [inv] = await invoicesOf(t.db.sql, id)
    const ctx = await contextAt(t, "2026-10-02")
    await expect(updateSubscription(t.db.sql, ctx, id, { nextBillingDate: "2026-10-20" as never })).rejects.toThrow(/already invoiced/)
    await closeInvoice(t.db.sql, ctx, inv!.id, "void")
    await updateSubscription(t.db.sql, ctx, id, { nextBillingDate: "2026-10-20" as never })
    await tickAt(t, "2026-10-20")
    expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.period_end, i.status])).toEqual([
      ["2026-10-01", "2026-11-01", "void"], ["2026-10-20", "2026-11-20", "open"]
    ])
  })
})

describe(`a period with no item version in force on its first day (${backend})`, () => {
  // Found by an audit: `--next-billing-date` before a scheduled subscription's start made a period before its first
  // version, and the billing run silently billed it with the lowest version (itemVersions.ts: none is in force yet).
  it("--next-billing-date before a scheduled subscription's start date is refused, naming both; nothing changes", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", createdOn: "2026-03-10" })
    const before = await snapshot(id)
    const ctx = await contextAt(t, "2026-03-10")
    for (const input of [{ nextBillingDate: "2026-04-01" }, { nextBillingDate: "2026-04-01", items: items("name=Item 1,price=30.00") }]) {
      const refusal = await updateSubscription(t.db.sql, ctx, id, input as never).then(() => undefined, subscriptionErrorOf)
      expect(refusal).toBeDefined()
      expect(describeSubscriptionError(refusal!)).toBe("2026-04-01 is before the subscription's start date 2026-05-01; a subscription bills from its start date: give 2026-05-01 or later")
    }
    expect(await snapshot(id)).toBe(before)
  })

  it("a store with such a period (made before the refusal) is not billed on the lowest version: the subscription's failure is recorded and the others are billed", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", createdOn: "2026-03-10" })
    const other = await createSubscription(t.db.sql, { start: "2026-05-01", createdOn: "2026-03-10" })
    await t.db.sql`update subscriptions set next_billing_date = '2026-04-01' where id = ${id}`
    await tickAt(t, "2026-05-01")
    expect(await invoicesOf(t.db.sql, id)).toEqual([])
    expect((await invoicesOf(t.db.sql, other)).map((i) => [i.period_start, i.total])).toEqual([["2026-05-01", 2500]])
    // The tick retries it as it does any failure, and parks it when it keeps failing (`subscriptions list` shows the error).
    const [row] = await t.db.sql<Array<{ failure_count: number; last_error: string; parked: boolean }>>`
      select failure_count, last_error, parked_at is not null as parked from subscriptions where id = ${id}`
    expect(row!.failure_count).toBeGreaterThanOrEqual(1)
    expect(row!.last_error).toContain(`subscription ${id}: no item version is in force on 2026-04-01, the first day of the period to bill (version 1 is effective from 2026-05-01)`)
  })
})
