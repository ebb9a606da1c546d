/**
 * The two definitions of issue #18, each on a small hand-made history loaded
 * straight into DuckDB (as load.ts would load it), figures worked out by hand
 * from the words of METRICS.md:
 *
 * - Cancellation rate: cancellations that took effect in the month of
 *   subscriptions live at the start of the month ÷ those live at the start.
 *   Live = started and not ended (active, unpaid, past due, paused); a
 *   scheduled subscription that has not started is not live; one that starts
 *   and is canceled within the month is not in the rate (growth still counts
 *   it).
 * - A resume after a pause is an expansion (the mirror of the pause's
 *   contraction); reactivation is only a return after churn.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { computeReports, snapshotTables } from "../../reports/index.ts"

interface Sub {
  readonly id: number
  readonly contact: number
  /** Monthly price in cents. */
  readonly price: number
  /** [date, status] in order; the first is the subscription's creation. */
  readonly statuses: ReadonlyArray<readonly [string, string]>
}

let instance: DuckDBInstance
let db: DuckDBConnection
beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:")
  db = await instance.connect()
})
afterAll(() => {
  db.closeSync()
  instance.closeSync()
})

const load = async (subs: ReadonlyArray<Sub>) => {
  for (const t of snapshotTables) await db.run(`create or replace table ${t.name} (${t.ddl})`)
  const rows = (xs: Array<string>) => xs.join(", ")
  await db.run(`insert into contacts values ${rows([...new Set(subs.map((s) => s.contact))].map((c) => `(${c}, 'c${c}')`))}`)
  await db.run(`insert into subscriptions (id, contact_id, currency, frequency_unit, frequency_count) values ${rows(subs.map((s) => `(${s.id}, ${s.contact}, 'USD', 'month', 1)`))}`)
  await db.run(`insert into item_versions values ${rows(subs.map((s) => `(${s.id}, 1, '${s.statuses[0]![0]}')`))}`)
  await db.run(`insert into line_items values ${rows(subs.map((s) => `(${s.id}, 1, ${s.price}, 1, null, null, false)`))}`)
  let id = 0
  await db.run(`insert into status_history values ${rows(subs.flatMap((s) => s.statuses.map(([day, status]) => `(${++id}, ${s.id}, '${status}', '${day}')`)))}`)
}

describe("cancellation rate: of the subscriptions live at the start of the month", () => {
  // March 2026. Live at the start (end of February): s1…s7 active, s8 paused,
  // s9 unpaid for over 30 days (no MRR, still live), s10 past due: 10.
  // Not live: s12 scheduled (starts in April), s13 canceled in February.
  const subs: Array<Sub> = [
    ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({ id: i, contact: i, price: 1000, statuses: [["2026-01-05", "active"]] as Array<[string, string]> })),
    { id: 8, contact: 8, price: 1000, statuses: [["2026-01-05", "active"], ["2026-02-10", "paused"]] },
    { id: 9, contact: 9, price: 1000, statuses: [["2026-01-05", "active"], ["2026-01-20", "unpaid"]] },
    { id: 10, contact: 10, price: 1000, statuses: [["2026-01-05", "active"], ["2026-02-25", "past_due"]] },
    // s11 starts and is canceled within March: in growth, not in the rate.
    { id: 11, contact: 11, price: 1000, statuses: [["2026-03-05", "active"], ["2026-03-20", "canceled"]] },
    // s12 scheduled from February for April, canceled in March before it started: not live, not in the rate.
    { id: 12, contact: 12, price: 1000, statuses: [["2026-02-20", "scheduled"], ["2026-03-15", "canceled"]] },
    { id: 13, contact: 13, price: 1000, statuses: [["2026-01-05", "active"], ["2026-02-14", "canceled"]] }
  ]
  // Of the ten, s1 (active) and s8 (paused) are canceled in March: 2 ÷ 10.
  subs[0] = { ...subs[0]!, statuses: [["2026-01-05", "active"], ["2026-03-10", "canceled"]] }
  subs[7] = { ...subs[7]!, statuses: [...subs[7]!.statuses, ["2026-03-18", "canceled"]] }

  it("is 2 ÷ 10 = 20.0% in March, and growth still counts all four cancellations", async () => {
    await load(subs)
    const set = await computeReports(db, { from: "2026-02", to: "2026-04", currency: "USD" })
    const march = set.churn.find((r) => r["month"] === "2026-03")!
    expect(march["cancellation_rate"]).toBe(0.2)
    // February: 11 live at its start (s1…s10 and s13; s12 is created on February 20), one canceled (s13): 1 ÷ 11.
    expect(set.churn.find((r) => r["month"] === "2026-02")!["cancellation_rate"]).toBe(round6(1 / 11))
    // April: s2…s7, s9, s10 live at the start (8), none canceled.
    expect(set.churn.find((r) => r["month"] === "2026-04")!["cancellation_rate"]).toBe(0)
    // Growth is unchanged: open at the start of March = s1…s10 and the scheduled s12 (11); new s11; canceled s1, s8, s11, s12.
    expect(set.growth.find((r) => r["month"] === "2026-03")).toEqual({
      month: "2026-03", subscriptions_start: 11, new_subscriptions: 1, canceled: 4, expired: 0, subscriptions_end: 8
    })
  })
})

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

describe("a resume after a pause is an expansion; a return after churn is a reactivation", () => {
  const subs: Array<Sub> = [
    // c1: 30.00 from January, paused March 12, resumed May 8.
    { id: 1, contact: 1, price: 3000, statuses: [["2026-01-10", "active"], ["2026-03-12", "paused"], ["2026-05-08", "active"]] },
    // c2: 20.00 from January, canceled March 3; a new subscription of 25.00 on May 20.
    { id: 2, contact: 2, price: 2000, statuses: [["2026-01-05", "active"], ["2026-03-03", "canceled"]] },
    { id: 3, contact: 2, price: 2500, statuses: [["2026-05-20", "active"]] },
    // c3: 15.00 from January, unpaid February 1 (delinquent churn on March 3), recovered May 2.
    { id: 4, contact: 3, price: 1500, statuses: [["2026-01-07", "active"], ["2026-02-01", "unpaid"], ["2026-05-02", "active"]] }
  ]

  it("March contraction 30.00 (pause), May expansion 30.00 (resume); churned customers come back as reactivation", async () => {
    await load(subs)
    const set = await computeReports(db, { from: "2026-03", to: "2026-05", currency: "USD", details: true })
    const month = (m: string) => set.movements.find((r) => r["month"] === m)!
    expect(month("2026-03")).toMatchObject({ contraction: 30, churn: 35, expansion: 0, reactivation: 0 })
    expect(month("2026-04")).toMatchObject({ contraction: 0, churn: 0, expansion: 0, reactivation: 0 })
    expect(month("2026-05")).toMatchObject({ expansion: 30, reactivation: 40, new: 0, contraction: 0, churn: 0 })
    expect(set.details.map((d) => [d["date"], d["customer"], d["kind"], d["amount"]])).toEqual([
      ["2026-03-03", "c2", "churn", 20],
      ["2026-03-03", "c3", "churn", 15],
      ["2026-03-12", "c1", "contraction", 30],
      ["2026-05-02", "c3", "reactivation", 15],
      ["2026-05-08", "c1", "expansion", 30],
      ["2026-05-20", "c2", "reactivation", 25]
    ])
  })
})
