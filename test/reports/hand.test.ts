/**
 * The hand-computed dataset (fixtures/hand, worked out in its README.md
 * without the code): 17 customers, 20 subscriptions, December 2025 to June
 * 2026, two of them in EUR converted with monthly rates. Every figure of every
 * report, and every movement of the drill-down, must match exactly.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildReports, readFxFile } from "../../reports/index.ts"
import type { ReportSet } from "../../reports/index.ts"
import { importHistory } from "../../engine/store/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"

const dir = fileURLToPath(new URL("./fixtures/hand/", import.meta.url))
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

describe(`the hand-computed dataset (${backend})`, () => {
  for (const kind of ["mrr", "movements", "churn", "retention", "growth", "cohorts"] as const) {
    it(`${kind} matches the hand computation`, () => {
      expect(set[kind]).toEqual(expected.reports[kind])
    })
  }
  it("the drill-down lists exactly the hand-listed movements", () => {
    expect(set.details).toEqual(expected.details)
  })
})
