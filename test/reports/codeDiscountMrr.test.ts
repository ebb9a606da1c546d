/**
 * A discount code redeemed at checkout is in MRR while it covers the payments, as the invoices bill it: finance saw
 * a buyer paying 15.00 a month (a 20.00 plan, 25% off its first three payments) counted at 20.00 from the first day,
 * so MRR overstated what came in, and the month the code ended showed no expansion. Through the buyer's real
 * checkout and the engine's renewals, on both databases: the report set (in memory, through an analytics copy
 * refreshed as the months go, and rebuilt), and the store's own month-end series (`mrrSeries`), each against the
 * invoices.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, insertDiscountCode } from "../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../engine/domain/index.ts"
import { buildReports, computeReports, mrrSeries, openCopy, rebuildCopy, refreshCopy } from "../../reports/index.ts"
import type { ReportOptions } from "../../reports/index.ts"
import type { ApiUnderTest } from "../engine/api/apiHarness.ts"
import { startApi } from "../engine/api/apiHarness.ts"
import { getPage, monthlyWithSetup, openForm, postForm } from "../engine/checkout/buyerPagesHarness.ts"
import { tickAt } from "../engine/runtime/engineHarness.ts"
import { subscriptionJson, subscriptionWithRows } from "../../engine/subscriptions/index.ts"
import { backend } from "../storeHarness.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
let dir: string
beforeAll(async () => {
  api = await startApi(today)
  dir = mkdtempSync(join(tmpdir(), "billcycle-code-mrr-"))
})
afterAll(async () => {
  await api?.close()
  rmSync(dir, { recursive: true, force: true })
})
const sql = () => api.db.db.sql

const plan = (slug: string): Promise<{ slug: string }> =>
  createPaymentLink(sql(), today, {
    ...monthlyWithSetup,
    name: "Beans club",
    items: [{ name: "Beans", unitPrice: 2000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }],
    allowDiscountCodes: true
  } satisfies PaymentLinkSettings, { slug })

/** A buyer opens the link, types the code, pays with a good card. */
const buy = async (slug: string, email: string, code: string) => {
  const opened = await getPage(api, `/l/${slug}`)
  const path = opened.headers.get("location")!
  const form = await openForm(api, path)
  const paid = await postForm(api, path, { csrf: form.csrf, action: "pay", email, name: "Ada Buyer", payment_method: "pm_ok", discount_code: code }, form.cookie)
  expect(paid.status).toBe(303)
}

const options: ReportOptions = { from: "2026-04", to: "2026-08", currency: "USD", details: true }
const figures = (set: Awaited<ReturnType<typeof buildReports>>) => ({
  mrr: set.mrr.map((r) => [r["month"], r["mrr"]]),
  expansion: set.movements.map((r) => [r["month"], r["expansion"]])
})

describe(`a discount code in MRR (${backend})`, () => {
  it("counts what the buyer pays while the code covers the payments, and the end of the code as an expansion", async () => {
    const suffix = backend.toLowerCase()
    await insertDiscountCode(sql(), {
      code: `THREE${suffix}`, off: { _tag: "Percent", ppm: 250_000 }, duration: { _tag: "Payments", payments: 3 }, expiresOn: undefined, maxRedemptions: undefined
    }, today)
    await insertDiscountCode(sql(), {
      code: `ALWAYS${suffix}`, off: { _tag: "Amount", amount: 500, currency: "USD" }, duration: { _tag: "Forever" }, expiresOn: undefined, maxRedemptions: undefined
    }, today)
    await plan(`beans-${suffix}`)
    await buy(`beans-${suffix}`, `three-${suffix}@example.com`, `THREE${suffix}`)
    await buy(`beans-${suffix}`, `always-${suffix}@example.com`, `ALWAYS${suffix}`)

    // A copy made now, refreshed month by month as the engine renews.
    const copy = (await openCopy(join(dir, `refreshed-${suffix}.duckdb`)))!
    try {
      await rebuildCopy(sql(), copy.db)
      // The subscriptions' view (`subscriptions show`, GET /v1/subscriptions/:id) says what the code takes off, and until when.
      const [three, always] = (await sql()<Array<{ id: number }>>`
        select s.id from subscriptions s join contacts c on c.id = s.contact_id where c.email in (${`three-${suffix}@example.com`}, ${`always-${suffix}@example.com`})
        order by c.email desc`).map((r) => Number(r.id))
      const discountOf = async (id: number, on: string) => subscriptionJson(await subscriptionWithRows(sql(), id), on as CalendarDate).discount
      for (const day of ["2026-05-02", "2026-06-02", "2026-07-02", "2026-08-02"]) {
        await tickAt(api.db, day)
        expect((await refreshCopy(sql(), copy)).mode).toBe("refresh")
        // Billed on 2 June, the third payment is the code's last: full price from 2 July.
        expect(await discountOf(three!, day)).toEqual({ percent_off: "25%", amount_off: null, payments: 3, full_price_from: day < "2026-06-02" ? null : "2026-07-02" })
      }
      expect(await discountOf(always!, "2026-08-02")).toEqual({ percent_off: null, amount_off: expect.objectContaining({ amount: 500, currency: "USD" }), payments: null, full_price_from: null })
      // What the invoices billed: three payments of 15.00 then 20.00; 15.00 every month for good.
      const billed = await sql()<Array<{ email: string; totals: Array<number> }>>`
        select c.email, array_agg(i.total order by i.period_start)::int8[] as totals
        from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id
        where c.email like ${`%-${suffix}@example.com`} group by c.email order by c.email`
      expect(billed.map((b) => [b.email, b.totals.map(Number)])).toEqual([
        [`always-${suffix}@example.com`, [1500, 1500, 1500, 1500, 1500]],
        [`three-${suffix}@example.com`, [1500, 1500, 1500, 2000, 2000]]
      ])

      const inMemory = figures(await buildReports(sql(), options))
      expect(inMemory.mrr).toEqual([["2026-04", 30], ["2026-05", 30], ["2026-06", 30], ["2026-07", 35], ["2026-08", 35]])
      expect(inMemory.expansion).toEqual([["2026-04", 0], ["2026-05", 0], ["2026-06", 0], ["2026-07", 5], ["2026-08", 0]])
      // The code's end on the details: the day its last covered period ended, the customer who pays more.
      const { timings: _a, ...refreshed } = await computeReports(copy.db, options)
      expect(refreshed.details.filter((d) => d["kind"] === "expansion").map((d) => [d["date"], d["amount"]])).toEqual([["2026-07-02", 5]])
      const fresh = (await openCopy(join(dir, `rebuilt-${suffix}.duckdb`)))!
      try {
        await rebuildCopy(sql(), fresh.db)
        const { timings: _b, ...rebuilt } = await computeReports(fresh.db, options)
        expect(JSON.stringify(refreshed)).toBe(JSON.stringify(rebuilt))
        expect(figures({ ...rebuilt, timings: { loadMs: 0, computeMs: 0 } })).toEqual(inMemory)
      } finally {
        fresh.db.closeSync()
        fresh.instance.closeSync()
      }
      // A copy derived before codes counted (no format in its bookkeeping) would keep them at full price: rebuilt.
      await copy.db.run(`create or replace table analytics_meta as select store, final_id, high_id, xmax, refreshed_at, replaced, refreshes from analytics_meta`)
      const again = await refreshCopy(sql(), copy)
      expect([again.mode, again.reason]).toEqual(["rebuild", "the copy was derived by an older billcycle (discount codes now count in MRR)"])
      // The store's own month-end series says the same, in minor units.
      expect((await mrrSeries(sql(), "2026-04", 5, "USD")).map((m) => m.mrr)).toEqual([3000, 3000, 3000, 3500, 3500])
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
    }
  }, 120_000)
})
