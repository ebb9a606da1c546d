/**
 * Two hand-computed datasets, each worked out in its README.md without the
 * code, by different hands:
 * - fixtures/hand: 17 customers, 20 subscriptions, December 2025 to June 2026,
 *   two of them in EUR converted with monthly rates;
 * - fixtures/independent: 19 customers, 23 subscriptions, 2026-01 to 2026-06,
 *   written by someone who never read reports/ (weekly, biweekly, semiannual
 *   and annual terms, a free trial turning paid, past_due turning unpaid
 *   without restarting the 30 days, a same-day switch, two EUR customers).
 * Every figure of every report, and every movement of the drill-down, must
 * match exactly.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildReports, readFxFile } from "../../reports/index.ts"
import type { ReportSet } from "../../reports/index.ts"
import { importHistory } from "../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"

for (const name of ["hand", "independent"]) {
  describe(`the hand-computed dataset fixtures/${name} (${backend})`, () => {
    const dir = fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url))
    const expected = JSON.parse(readFileSync(`${dir}expected.json`, "utf8"))
    let t: TestDatabase
    let set: ReportSet
    beforeAll(async () => {
      t = await openTestDatabase()
      await importHistory(t.db.sql, dir, { today: expected.today })
      set = await buildReports(t.db.sql, {
        from: expected.from, to: expected.to, currency: expected.currency, details: true,
        fx: { file: expected.fx, rates: readFxFile(`${dir}${expected.fx}`) }
      })
    })
    afterAll(async () => {
      await t.close()
    })

    for (const kind of ["mrr", "movements", "churn", "retention", "growth", "cohorts"] as const) {
      it(`${kind} matches the hand computation`, () => {
        expect(set[kind]).toEqual(expected.reports[kind])
      })
    }
    it("the drill-down lists exactly the hand-listed movements", () => {
      expect(set.details).toEqual(expected.details)
    })
  })
}
