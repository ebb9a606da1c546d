/**
 * Reports over the history fixture (test/engine/imports/fixtures/history), with
 * figures worked out by hand:
 *   s1 monthly 12.50 from Jan 10; 25.00 − 10% = 22.50 from Apr 10 (tax is not MRR);
 *      unpaid May 10, recovered May 13 (kept: under 30 days); paused Jun 20; resumed Jul 20.
 *   s2 monthly 2 × 25.00 = 50.00 from Feb 1, fixed 3 payments: expired May 1.
 *   s3 scheduled Mar 1, active Mar 15 at 18.00 − 2.00 = 16.00 (the one-time setup is not MRR);
 *      past due Apr 1, paid Apr 5; canceled at period end Jun 15.
 *   s4 annual 250.00 = 20.8333 a month from Jan 1; cancels 2026-01-01 (still live in 2025).
 * Month ends: Jan 33.33, Feb 83.33, Mar 99.33, Apr 109.33, May 59.33, Jun 20.83, Jul 43.33.
 * June: start 59.33, s1 pause is a contraction of 22.50, s3 a churn of 16.00; July: s1 resumes, an expansion of 22.50.
 */
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildReport, buildReports } from "../../reports/index.ts"
import { importHistory } from "../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"

const fixture = fileURLToPath(new URL("../engine/imports/fixtures/history/", import.meta.url))
let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
  await importHistory(t.db.sql, fixture, { today: "2025-12-31" })
})
afterAll(async () => {
  await t.close()
})

describe(`revenue reports (${backend})`, () => {
  it("month-end MRR, subscribers and ARPA match the hand computation", async () => {
    const rows = await buildReport(t.db.sql, { kind: "mrr", from: "2025-01", to: "2025-07", currency: "USD" })
    expect(rows.map((r) => r["mrr"])).toEqual([33.33, 83.33, 99.33, 109.33, 59.33, 20.83, 43.33])
    expect(rows.map((r) => r["subscribers"])).toEqual([2, 3, 4, 4, 3, 1, 2])
    expect(rows[0]!["arr"]).toBe(400)
  })

  it("movements classify a pause as contraction, its resume as expansion and a period-end cancel as churn, and add up", async () => {
    const rows = await buildReport(t.db.sql, { kind: "movements", from: "2025-01", to: "2025-07", currency: "USD" })
    const june = rows.find((r) => r["month"] === "2025-06")!
    expect(june).toMatchObject({ mrr_start: 59.33, contraction: 22.5, churn: 16, new: 0, mrr_end: 20.83 })
    const july = rows.find((r) => r["month"] === "2025-07")!
    expect(july).toMatchObject({ expansion: 22.5, reactivation: 0, mrr_end: 43.33 })
    const april = rows.find((r) => r["month"] === "2025-04")!
    expect(april).toMatchObject({ expansion: 10, mrr_end: 109.33 })
    for (const r of rows) {
      const sum = Number(r["mrr_start"]) + Number(r["new"]) + Number(r["expansion"]) + Number(r["reactivation"]) - Number(r["contraction"]) - Number(r["churn"])
      expect(Math.abs(sum - Number(r["mrr_end"]))).toBeLessThan(0.02)
    }
  })

  it("the drill-down lists each customer-day movement of the months asked for, and nothing for a month without any", async () => {
    const june = (await buildReports(t.db.sql, { from: "2025-06", to: "2025-06", currency: "USD", details: true })).details
    expect(june.map((r) => [r["date"], r["kind"], r["amount"]])).toEqual([["2025-06-15", "churn", 16], ["2025-06-20", "contraction", 22.5]])
    const quiet = (await buildReports(t.db.sql, { from: "2025-09", to: "2025-09", currency: "USD", details: true })).details
    expect(quiet).toEqual([])
  })

  it("the cancellation rate of June is s3 of the three live at the end of May (s2 expired)", async () => {
    const rows = await buildReport(t.db.sql, { kind: "churn", from: "2025-06", to: "2025-06", currency: "USD" })
    expect(rows[0]!["cancellation_rate"]).toBe(0.333333)
  })

  it("growth counts new, canceled and expired subscriptions", async () => {
    const rows = await buildReport(t.db.sql, { kind: "growth", from: "2025-05", to: "2025-06", currency: "USD" })
    expect(rows).toEqual([
      { month: "2025-05", subscriptions_start: 4, new_subscriptions: 0, canceled: 0, expired: 1, subscriptions_end: 3 },
      { month: "2025-06", subscriptions_start: 3, new_subscriptions: 0, canceled: 1, expired: 0, subscriptions_end: 2 }
    ])
  })
})
