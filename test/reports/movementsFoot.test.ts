/**
 * The movements table foots as printed: a finance person adds up a row of
 * `report movements` (mrr_start + fx_adjustment + new + expansion +
 * reactivation − contraction − churn) and gets its mrr_end, to the cent, and
 * net_new_mrr is the sum of the row's printed movements.
 *
 * Seen before: two quarterly 100.00 plans (33.333… a month each), one from
 * January and one from February, printed February as 33.33 + 33.33 = 66.67;
 * a USD report of a 12.500 KWD and a 3000 JPY quarterly plan printed
 * February as 57.33 + 0.93 (fx) = 58.25. Each figure was rounded on its own
 * from the exact amounts, so the printed row was a cent off its own identity.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ReportRow } from "../../reports/index.ts"
import { computeReports, snapshotTables } from "../../reports/index.ts"

interface Sub {
  readonly id: number
  readonly contact: number
  readonly currency: string
  /** Price per billing period in minor units of its currency. */
  readonly price: number
  readonly months: number
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
  await db.run(`insert into subscriptions (id, contact_id, currency, frequency_unit, frequency_count) values ${rows(subs.map((s) => `(${s.id}, ${s.contact}, '${s.currency}', 'month', ${s.months})`))}`)
  await db.run(`insert into item_versions values ${rows(subs.map((s) => `(${s.id}, 1, '${s.statuses[0]![0]}')`))}`)
  await db.run(`insert into line_items values ${rows(subs.map((s) => `(${s.id}, 1, ${s.price}, 1, null, null, false)`))}`)
  let id = 0
  await db.run(`insert into status_history values ${rows(subs.flatMap((s) => s.statuses.map(([day, status]) => `(${++id}, ${s.id}, '${status}', '${day}')`)))}`)
}

/** A row as a finance person checks it, in minor units (cents, fils, yen) so that no float noise hides a cent. */
const foots = (rows: ReadonlyArray<ReportRow>, digits: number) => {
  const m = (row: ReportRow, key: string) => Math.round(Number(row[key]) * 10 ** digits)
  rows.forEach((row, i) => {
    const net = m(row, "new") + m(row, "expansion") + m(row, "reactivation") - m(row, "contraction") - m(row, "churn")
    expect(m(row, "mrr_start") + m(row, "fx_adjustment") + net, `${row["month"]}: the row adds up to mrr_end`).toBe(m(row, "mrr_end"))
    expect(m(row, "net_new_mrr"), `${row["month"]}: net_new_mrr is the printed movements' sum`).toBe(net)
    if (i > 0) expect(row["mrr_start"]).toBe(rows[i - 1]!["mrr_end"])
  })
}

const quarterly = (id: number, from: string, statuses: ReadonlyArray<readonly [string, string]> = []): Sub =>
  ({ id, contact: id, currency: "USD", price: 10000, months: 3, statuses: [[from, "active"], ...statuses] })

describe("report movements foots as printed", () => {
  it("two quarterly 100.00 plans: February is 33.33 + 33.34 = 66.67, the MRR report's figures", async () => {
    await load([quarterly(1, "2026-01-01"), quarterly(2, "2026-02-01")])
    const set = await computeReports(db, { from: "2026-01", to: "2026-02", currency: "USD" })
    // By hand: 10000 / 3 = 3333.33… cents a month each. January 33.33; February 66.666… → 66.67 (report mrr says so),
    // opening at January's 33.33, so its one movement, new, is printed 33.34: the cent that rounding left over.
    expect(set.mrr.map((r) => r["mrr"])).toEqual([33.33, 66.67])
    expect(set.movements[1]).toMatchObject({ month: "2026-02", mrr_start: 33.33, new: 33.34, net_new_mrr: 33.34, mrr_end: 66.67 })
    foots(set.movements, 2)
    // The drill-down behind February's new is that one customer-day, at the printed total.
    const details = await computeReports(db, { from: "2026-01", to: "2026-02", currency: "USD", details: true })
    expect(details.details).toEqual([{ date: "2026-01-01", customer: "c1", kind: "new", amount: 33.33 }, { date: "2026-02-01", customer: "c2", kind: "new", amount: 33.34 }])
  })

  it("three plans coming and going by thirds, every month of the year", async () => {
    await load([
      quarterly(1, "2026-01-01", [["2026-04-10", "paused"], ["2026-06-10", "active"]]),
      quarterly(2, "2026-02-01", [["2026-05-03", "canceled"]]),
      quarterly(3, "2026-03-01"),
      { id: 4, contact: 2, currency: "USD", price: 10000, months: 3, statuses: [["2026-08-15", "active"], ["2026-11-20", "unpaid"]] },
      { id: 5, contact: 5, currency: "USD", price: 25000, months: 12, statuses: [["2026-02-11", "active"], ["2026-07-11", "canceled"]] }
    ])
    const set = await computeReports(db, { from: "2026-01", to: "2026-12", currency: "USD", details: true })
    foots(set.movements, 2)
    // The drill-down adds up to each printed total, to the cent.
    for (const row of set.movements) {
      for (const kind of ["new", "expansion", "contraction", "churn", "reactivation"]) {
        const cents = set.details.filter((d) => String(d["date"]).startsWith(String(row["month"])) && d["kind"] === kind).reduce((s, d) => s + Math.round(Number(d["amount"]) * 100), 0)
        expect(cents, `${row["month"]} ${kind}`).toBe(Math.round(Number(row[kind]) * 100))
      }
    }
    // The balances are the MRR report's, rounded once from the exact amount.
    expect(set.movements.map((r) => r["mrr_end"])).toEqual(set.mrr.map((r) => r["mrr"]))
  })

  it("a USD report of KWD and JPY plans with --fx: February is 57.33 + 0.92 (fx) = 58.25", async () => {
    await load([
      { id: 1, contact: 1, currency: "JPY", price: 3000, months: 3, statuses: [["2026-01-01", "active"]] },
      { id: 2, contact: 2, currency: "KWD", price: 12500, months: 1, statuses: [["2026-01-01", "active"]] },
      { id: 3, contact: 3, currency: "USD", price: 1000, months: 1, statuses: [["2026-01-01", "active"]] }
    ])
    const rates = [
      { month: "2026-01", from: "JPY", to: "USD", rate: 0.0067 }, { month: "2026-01", from: "KWD", to: "USD", rate: 3.25 },
      { month: "2026-02", from: "JPY", to: "USD", rate: 0.007 }, { month: "2026-02", from: "KWD", to: "USD", rate: 3.3 }
    ]
    const set = await computeReports(db, { from: "2026-01", to: "2026-02", currency: "USD", fx: { file: "fx.csv", rates } })
    // By hand: January 1000 JPY × 0.0067 + 12.500 KWD × 3.25 + 10.00 = 6.70 + 40.625 + 10.00 = 57.325 → 57.33;
    // February 7.00 + 41.25 + 10.00 = 58.25; fx_adjustment 1000 × 0.0003 + 12.5 × 0.05 = 0.925, printed 0.92 so that the row foots.
    expect(set.mrr.map((r) => r["mrr"])).toEqual([57.33, 58.25])
    expect(set.movements[1]).toMatchObject({ mrr_start: 57.33, fx_adjustment: 0.92, new: 0, mrr_end: 58.25 })
    foots(set.movements, 2)
  })
})
