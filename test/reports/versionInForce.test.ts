/**
 * The reports bill MRR on the item version the invoice bills (engine/billing/
 * itemVersions.ts): the highest version effective on or before the day. A
 * change made after another but effective earlier replaces it for good: the
 * earlier-made version, whose date comes later, never bills.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { describe, expect, it } from "vitest"
import { lineNet, normalizedMonthlyAmount, versionInForce } from "../../engine/billing/index.ts"
import type { CalendarDate, MinorUnits } from "../../engine/domain/index.ts"
import { formatMajorAmount } from "../../engine/domain/index.ts"
import { computeReports, snapshotTables } from "../../reports/index.ts"

describe("MRR follows the item version in force", () => {
  it("a version replaced before its date came never counts, as it never bills", async () => {
    // Made in this order: v2 for May 1, then v3 for Apr 1 (after the next billing date was moved earlier).
    const versions = [
      { version: 1, effectiveFrom: "2026-01-01" as CalendarDate, unitPrice: 1000 },
      { version: 2, effectiveFrom: "2026-05-01" as CalendarDate, unitPrice: 2000 },
      { version: 3, effectiveFrom: "2026-04-01" as CalendarDate, unitPrice: 3000 }
    ]
    const instance = await DuckDBInstance.create(":memory:")
    const db = await instance.connect()
    try {
      for (const t of snapshotTables) await db.run(`create table ${t.name} (${t.ddl})`)
      await db.run(`insert into contacts values (1, 'c1')`)
      await db.run(`insert into subscriptions (id, contact_id, currency, frequency_unit, frequency_count) values (1, 1, 'USD', 'month', 1)`)
      await db.run(`insert into item_versions values ${versions.map((v) => `(1, ${v.version}, '${v.effectiveFrom}')`).join(", ")}`)
      await db.run(`insert into line_items values ${versions.map((v) => `(1, ${v.version}, ${v.unitPrice}, 1, null, null, false)`).join(", ")}`)
      await db.run(`insert into status_history values (1, 1, 'active', '2026-01-01')`)
      const set = await computeReports(db, { from: "2026-01", to: "2026-06", currency: "USD" })
      const monthEnds = ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"] as Array<CalendarDate>
      const billed = monthEnds.map((day) => {
        const v = versionInForce(versions, day)!
        const monthly = normalizedMonthlyAmount(lineNet({ unitPrice: v.unitPrice as MinorUnits, quantity: 1, discount: undefined }), { unit: "month", count: 1 })
        return formatMajorAmount(Math.round(monthly), "USD")
      })
      expect(billed.slice(3)).toStrictEqual(["30.00", "30.00", "30.00"])
      expect(set.mrr.map((r) => formatMajorAmount(Math.round(Number(r["mrr"]) * 100), "USD"))).toStrictEqual(billed)
      // Nothing moved in May: v2's date passed without it ever billing.
      expect(set.movements.map((r) => [r["month"], Number(r["expansion"]), Number(r["contraction"])])).toContainEqual(["2026-05", 0, 0])
    } finally {
      db.closeSync()
      instance.closeSync()
    }
  })
})
