/**
 * A discount code's end follows the next billing date when it moves before full price has started: finance moved a
 * buyer's next payment (`subscriptions update --next-billing-date`) after the last of three discounted payments was
 * billed, and MRR still went back to full price on the old date, a month before anyone paid it, while `subscriptions
 * show` said "full price from" that old date. Through the buyer's real checkout and the engine's renewals, on both
 * databases: the subscription's view, the report set (in memory, through a copy refreshed as the months go, and
 * rebuilt) and the store's own month-end series (`mrrSeries`), each against the invoices.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, insertDiscountCode } from "../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../engine/domain/index.ts"
import { SubscriptionId } from "../../engine/domain/index.ts"
import { makeSubscriptions, subscriptionJson, subscriptionWithRows } from "../../engine/subscriptions/index.ts"
import { buildReports, computeReports, mrrSeries, openCopy, rebuildCopy, refreshCopy } from "../../reports/index.ts"
import type { ReportOptions } from "../../reports/index.ts"
import type { ApiUnderTest } from "../engine/api/apiHarness.ts"
import { startApi } from "../engine/api/apiHarness.ts"
import { getPage, monthlyWithSetup, openForm, postForm } from "../engine/checkout/buyerPagesHarness.ts"
import { contextAt, tickAt } from "../engine/runtime/engineHarness.ts"
import { backend } from "../storeHarness.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
let dir: string
beforeAll(async () => {
  api = await startApi(today)
  dir = mkdtempSync(join(tmpdir(), "billcycle-code-moved-"))
})
afterAll(async () => {
  await api?.close()
  rmSync(dir, { recursive: true, force: true })
})
const sql = () => api.db.db.sql

/** A buyer opens the link, types the code, pays with a good card; the subscription's id. */
const buy = async (slug: string, email: string, code: string): Promise<number> => {
  const opened = await getPage(api, `/l/${slug}`)
  const path = opened.headers.get("location")!
  const form = await openForm(api, path)
  const paid = await postForm(api, path, { csrf: form.csrf, action: "pay", email, name: "Ada Buyer", payment_method: "pm_ok", discount_code: code }, form.cookie)
  expect(paid.status).toBe(303)
  const [s] = await sql()<Array<{ id: number }>>`select s.id from subscriptions s join contacts c on c.id = s.contact_id where c.email = ${email}`
  return Number(s!.id)
}

/** What `subscriptions show` (and GET /v1/subscriptions/:id) says of the code on `on`. */
const discountOf = async (id: number, on: string) => subscriptionJson(await subscriptionWithRows(sql(), id), on as CalendarDate).discount

const options: ReportOptions = { from: "2026-04", to: "2026-09", currency: "USD", details: true }
const figures = (set: Awaited<ReturnType<typeof buildReports>>) => ({
  mrr: set.mrr.map((r) => [r["month"], r["mrr"]]),
  expansion: set.movements.map((r) => [r["month"], r["expansion"]]),
  expansionDays: set.details.filter((d) => d["kind"] === "expansion").map((d) => [d["date"], d["amount"]])
})

describe(`a discount code's end moves with the next billing date (${backend})`, () => {
  it("next billing date moved from 2 July to 5 August after the third discounted payment: full price, and the expansion, from 5 August", async () => {
    await insertDiscountCode(sql(), {
      code: "THREE", off: { _tag: "Percent", ppm: 250_000 }, duration: { _tag: "Payments", payments: 3 }, expiresOn: undefined, maxRedemptions: undefined
    }, today)
    await createPaymentLink(sql(), today, {
      ...monthlyWithSetup,
      name: "Beans club",
      items: [{ name: "Beans", unitPrice: 2000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }],
      allowDiscountCodes: true
    } satisfies PaymentLinkSettings, { slug: "beans" })
    const id = await buy("beans", "moved@example.com", "THREE")

    const copy = (await openCopy(join(dir, "refreshed.duckdb")))!
    try {
      await rebuildCopy(sql(), copy.db)
      for (const day of ["2026-05-02", "2026-06-02"]) {
        await tickAt(api.db, day)
        expect((await refreshCopy(sql(), copy)).mode).toBe("refresh")
      }
      // The third payment, billed on 2 June, is the code's last.
      expect(await discountOf(id, "2026-06-02")).toMatchObject({ payments: 3, full_price_from: "2026-07-02" })

      // On 20 June finance moves the next payment, the first at full price, to 5 August.
      const ctx = await contextAt(api.db, "2026-06-20")
      const updated = await Effect.runPromise(makeSubscriptions(api.db.db).update(ctx, SubscriptionId.make(id), { nextBillingDate: "2026-08-05" as CalendarDate }))
      expect(updated.changes).toEqual(["next billing date 2026-07-02 → 2026-08-05"])
      expect(await discountOf(id, "2026-06-20")).toEqual({ percent_off: "25%", amount_off: null, payments: 3, full_price_from: "2026-08-05" })
      expect((await refreshCopy(sql(), copy)).mode).toBe("refresh")

      for (const day of ["2026-07-02", "2026-08-05", "2026-09-05"]) {
        await tickAt(api.db, day)
        // Nothing is billed on 2 July: nothing to copy.
        expect((await refreshCopy(sql(), copy)).mode).toBe(day === "2026-07-02" ? "unchanged" : "refresh")
      }
      expect(await discountOf(id, "2026-09-05")).toMatchObject({ full_price_from: "2026-08-05" })
      // What the invoices billed: three payments of 15.00, nothing on 2 July, 20.00 from 5 August.
      const billed = await sql()<Array<{ period_start: string; total: number }>>`
        select period_start, total from invoices where subscription_id = ${id} order by period_start`
      expect(billed.map((b) => [b.period_start, Number(b.total)])).toEqual([["2026-04-02", 1500], ["2026-05-02", 1500], ["2026-06-02", 1500], ["2026-08-05", 2000], ["2026-09-05", 2000]])

      // MRR is 15.00 through July, 20.00 from 5 August: the expansion of 5.00 is August's, on the 5th.
      const expected = {
        mrr: [["2026-04", 15], ["2026-05", 15], ["2026-06", 15], ["2026-07", 15], ["2026-08", 20], ["2026-09", 20]],
        expansion: [["2026-04", 0], ["2026-05", 0], ["2026-06", 0], ["2026-07", 0], ["2026-08", 5], ["2026-09", 0]],
        expansionDays: [["2026-08-05", 5]]
      }
      expect(figures(await buildReports(sql(), options))).toEqual(expected)
      const { timings: _a, ...refreshed } = await computeReports(copy.db, options)
      expect(figures({ ...refreshed, timings: { loadMs: 0, computeMs: 0 } })).toEqual(expected)
      const fresh = (await openCopy(join(dir, "rebuilt.duckdb")))!
      try {
        await rebuildCopy(sql(), fresh.db)
        const { timings: _b, ...rebuilt } = await computeReports(fresh.db, options)
        expect(JSON.stringify(refreshed)).toBe(JSON.stringify(rebuilt))
      } finally {
        fresh.db.closeSync()
        fresh.instance.closeSync()
      }
      expect((await mrrSeries(sql(), "2026-04", 6, "USD")).map((m) => m.mrr)).toEqual([1500, 1500, 1500, 1500, 2000, 2000])
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
    }
  }, 120_000)

  it("a resume (by hand or on its date) and an unpaid subscription's skipped period move the first full-price payment, and full price, to 2 August", async () => {
    const subscriptions = makeSubscriptions(api.db.db)
    const run = <A, E>(work: Effect.Effect<A, E>) => Effect.runPromise(work)
    const at = (day: string) => contextAt(api.db, day)
    const ids = {
      resumed: await buy("beans", "resumed@example.com", "THREE"),
      resumeOn: await buy("beans", "resume-on@example.com", "THREE"),
      unpaid: await buy("beans", "unpaid@example.com", "THREE")
    }
    await tickAt(api.db, "2026-05-02")
    // The third payment, due on 2 June, is declined: unpaid from 2 June, retried on the account's schedule.
    await run(subscriptions.update(await at("2026-05-20"), SubscriptionId.make(ids.unpaid), { paymentMethod: "pm_declined" }))
    await tickAt(api.db, "2026-06-02")
    for (const id of Object.values(ids)) expect(await discountOf(id, "2026-06-02")).toMatchObject({ full_price_from: "2026-07-02" })
    // Two are paused before the first full-price payment: one resumed by hand on 20 July, one on its date, 15 July.
    await run(subscriptions.pause(await at("2026-06-10"), SubscriptionId.make(ids.resumed), undefined))
    await run(subscriptions.pause(await at("2026-06-10"), SubscriptionId.make(ids.resumeOn), "2026-07-15" as CalendarDate))
    // A good card on 10 July: the retry that day pays June's invoice, and July's period, not delivered, is skipped.
    await run(subscriptions.update(await at("2026-07-10"), SubscriptionId.make(ids.unpaid), { paymentMethod: "pm_ok" }))
    for (const day of ["2026-07-02", "2026-07-10", "2026-07-15"]) await tickAt(api.db, day)
    expect((await run(subscriptions.resume(await at("2026-07-20"), SubscriptionId.make(ids.resumed)))).nextBillingDate).toBe("2026-08-02")
    for (const id of Object.values(ids)) {
      expect((await sql()<Array<{ next_billing_date: string }>>`select next_billing_date from subscriptions where id = ${id}`)[0]!.next_billing_date).toBe("2026-08-02")
      expect(await discountOf(id, "2026-07-20")).toEqual({ percent_off: "25%", amount_off: null, payments: 3, full_price_from: "2026-08-02" })
    }
    await tickAt(api.db, "2026-08-02")
    const billed = await sql()<Array<{ id: number; totals: Array<number> }>>`
      select subscription_id as id, array_agg(total order by period_start)::int8[] as totals from invoices
      where subscription_id = any(${Object.values(ids)}::int8[]) group by subscription_id`
    expect(new Map(billed.map((b) => [Number(b.id), b.totals.map(Number)]))).toEqual(new Map(Object.values(ids).map((id) => [id, [1500, 1500, 1500, 2000]])))
    // The code's end, an expansion of 5.00, on 2 August for each: the paused ones come back at 15.00 on their resume,
    // the unpaid one, churned after 30 days unpaid, at 15.00 on its recovery.
    const set = await buildReports(sql(), options)
    const theirs = set.details.filter((d) => ["resumed@example.com", "resume-on@example.com", "unpaid@example.com"].includes(String(d["customer"])) && String(d["date"]) >= "2026-07-01")
    expect(theirs.map((d) => [d["date"], d["customer"], d["kind"], d["amount"]])).toEqual([
      ["2026-07-02", "unpaid@example.com", "churn", 15],
      ["2026-07-10", "unpaid@example.com", "reactivation", 15],
      ["2026-07-15", "resume-on@example.com", "expansion", 15],
      ["2026-07-20", "resumed@example.com", "expansion", 15],
      ["2026-08-02", "resumed@example.com", "expansion", 5],
      ["2026-08-02", "resume-on@example.com", "expansion", 5],
      ["2026-08-02", "unpaid@example.com", "expansion", 5]
    ])
  }, 120_000)
})
