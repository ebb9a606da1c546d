/**
 * A subscriptions file with a start before the import's day is a migration from another system, which
 * billed the periods before: the start stays the billing anchor, billing goes on from the first anchor date
 * on or after the import's day, and fixed terms keep their end date with the payments before counted as made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { addContact, addProduct } from "../../../engine/catalogue/index.ts"
import { importCsv } from "../../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { invoicesOf, tickAt } from "../runtime/engineHarness.ts"

let t: TestDatabase
let ctx: EngineContext
beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), "2027-05-01" as CalendarDate, { owner: "test", failpoint: () => {} })
  await addProduct(t.db.sql, { name: "C3", sku: "C3", price: "10.00", currency: "USD", frequency: "monthly" })
  await addProduct(t.db.sql, { name: "Beans for a year", sku: "YEARLY", price: "250.00", currency: "USD", frequency: "annually" })
  await addContact(t.db.sql, { email: "bo@example.com", name: "Bo", paymentMethod: "pm_ok" }, "2027-01-01")
})
afterAll(async () => {
  await t.close()
})

const rowCount = async () =>
  (await t.db.sql<Array<{ n: number }>>`select (select count(*) from subscriptions) + (select count(*) from line_items) + (select count(*) from events) as n`)[0]!.n

const imported = async (key: string) =>
  (await t.db.sql<Array<Record<string, unknown>>>`
    select id, status, start_date::text, billing_anchor::text, next_billing_date::text, end_date::text, periods_billed, payments_made
    from subscriptions where import_key = ${key}`)[0]!

describe(`import FILE.csv with a start before today (${backend})`, () => {
  it("keeps the start as the anchor and bills next on the first anchor date on or after the import's day; fixed terms keep their end", async () => {
    const csv = [
      "subscription,contact,item,start,terms",
      "M1,bo@example.com,sku=C3,2026-11-01,",
      "M2,bo@example.com,sku=C3,2027-01-01,fixed:6",
      "M3,bo@example.com,sku=YEARLY,2025-06-15,",
      "M4,bo@example.com,sku=C3,2026-11-15,fixed:6"
    ].join("\n") + "\n"
    expect(await importCsv(t.db.sql, ctx, "subs.csv", csv)).toMatchObject({ kind: "subscriptions", created: 4 })
    expect(await imported("M1")).toMatchObject({
      status: "active", start_date: "2026-11-01", billing_anchor: "2026-11-01", next_billing_date: "2027-05-01", end_date: null, periods_billed: 6, payments_made: 6
    })
    // Six monthly payments from January end on July 1 as the contract says: January to April were paid to the old system.
    expect(await imported("M2")).toMatchObject({ next_billing_date: "2027-05-01", end_date: "2027-07-01", periods_billed: 4, payments_made: 4 })
    expect(await imported("M3")).toMatchObject({ next_billing_date: "2027-06-15", periods_billed: 2, payments_made: 2 })
    // November to April paid before: nothing left to bill, the last period runs to the end date.
    expect(await imported("M4")).toMatchObject({ next_billing_date: "2027-05-15", end_date: "2027-05-15", periods_billed: 6, payments_made: 6 })
    const [created] = await t.db.sql<Array<{ data: Record<string, unknown> }>>`
      select data from events where type = 'subscription.created' and subscription_id = ${(await imported("M1"))["id"] as number}`
    expect(created!.data).toMatchObject({ start_date: "2026-11-01", next_billing_date: "2027-05-01" })
  })

  it("the engine the next day invoices at most one period each, the one from the first anchor date on or after the import; fixed terms stop at N", async () => {
    await tickAt(t, "2027-05-02")
    const periods = async (key: string) => (await invoicesOf(t.db.sql, (await imported(key))["id"] as number)).map((i) => [i.period_start, i.period_end])
    expect(await periods("M1")).toEqual([["2027-05-01", "2027-06-01"]])
    expect(await periods("M2")).toEqual([["2027-05-01", "2027-06-01"]])
    expect(await periods("M3")).toEqual([])
    expect(await periods("M4")).toEqual([])
    await tickAt(t, "2027-06-01")
    await tickAt(t, "2027-07-01")
    // M2's sixth and last payment is June's; M4 expired on its end date without another charge.
    expect(await periods("M2")).toEqual([["2027-05-01", "2027-06-01"], ["2027-06-01", "2027-07-01"]])
    expect(await periods("M4")).toEqual([])
    expect(await imported("M2")).toMatchObject({ status: "expired", payments_made: 6 })
    expect(await imported("M4")).toMatchObject({ status: "expired", payments_made: 6, end_date: "2027-05-15" })
  })

  it("refuses a fixed term that ended before the import's day, naming the row and the start; nothing is written", async () => {
    const before = await rowCount()
    await expect(importCsv(t.db.sql, ctx, "ended.csv", "subscription,contact,item,start,terms\nE1,bo@example.com,sku=C3,2026-01-01,fixed:6\nE2,bo@example.com,sku=C3,2026-01-01,\n"))
      .rejects.toThrow("ended.csv:2:start: fixed:6 from 2026-01-01 ended on 2026-07-01, before today (2027-05-01): nothing is left to bill")
    expect(await rowCount()).toBe(before)
  })
})
