/**
 * The worked example of METRICS.md "With a second currency": the history
 * fixture plus a customer paying 100.00 EUR a month, reported in USD with
 * EUR→USD at 1.10 up to May and 1.20 in June. Also the FX file's errors.
 */
import { cpSync, mkdtempSync, appendFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildReports, readFxFile } from "../../reports/index.ts"
import { InputError } from "../../engine/sql/index.ts"
import { importHistory } from "../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"

const fixture = fileURLToPath(new URL("../engine/imports/fixtures/history/", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "billcycle-fx-"))
let t: TestDatabase
beforeAll(async () => {
  const history = join(dir, "history")
  cpSync(fixture, history, { recursive: true })
  appendFileSync(join(history, "customers.csv"), "c9,Eva Euro,eva@example.com,EUR\n")
  appendFileSync(join(history, "subscriptions.csv"), "s9,c9,EUR,monthly,auto-renew,charge,2025-01-01,2025-01-01\n")
  appendFileSync(join(history, "line_items.csv"), "s9,1,2025-01-01,1,Office plan,100.00,1,,,false\n")
  writeFileSync(join(dir, "fx.csv"), "month,from_currency,to_currency,rate\n" +
    ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"].map((m) => `${m},EUR,USD,1.10`).join("\n") + "\n2025-06,USD,EUR,0.8333333333333334\n")
  t = await openTestDatabase()
  await importHistory(t.db.sql, history, { today: "2025-12-31" })
})
afterAll(async () => {
  await t.close()
})

describe(`currency conversion (${backend})`, () => {
  it("revalues the opening balance as fx_adjustment, converts balances and movements at their month's rate", async () => {
    const fx = { file: join(dir, "fx.csv"), rates: readFxFile(join(dir, "fx.csv")) }
    const set = await buildReports(t.db.sql, { from: "2025-05", to: "2025-06", currency: "USD", fx })
    expect(set.movements[0]).toMatchObject({ month: "2025-05", mrr_end: 169.33, fx_adjustment: 0 })
    expect(set.movements[1]).toEqual({
      month: "2025-06", mrr_start: 169.33, new: 0, expansion: 0, contraction: 22.5, churn: 16, reactivation: 0,
      fx_adjustment: 10, net_new_mrr: -38.5, mrr_end: 140.83
    })
    expect(set.churn[1]!["gross_mrr_churn_rate"]).toBe(0.214684) // 38.50 / (169.3333 + 10), the unrounded opening
    expect(set.mrr[1]).toMatchObject({ mrr: 140.83, subscribers: 2 })
    // Without --fx the EUR customer is not in a USD report.
    const usd = await buildReports(t.db.sql, { from: "2025-06", to: "2025-06", currency: "USD" })
    expect(usd.mrr[0]).toMatchObject({ mrr: 20.83, subscribers: 1 })
  })

  it("a month of the report without a rate is an error naming the month", async () => {
    const fx = { file: "fx.csv", rates: readFxFile(join(dir, "fx.csv")) }
    await expect(buildReports(t.db.sql, { from: "2025-06", to: "2025-07", currency: "USD", fx })).rejects.toThrow("fx.csv: no EUR→USD rate for 2025-07")
  })

  it("a rate written with a decimal comma is refused, not read as its whole part (1,10 is not 1)", () => {
    const comma = join(dir, "comma.csv")
    writeFileSync(comma, "month,from_currency,to_currency,rate\n2025-06,EUR,USD,1,10\n2025-07,EUR,USD,1.20\n")
    expect(() => readFxFile(comma)).toThrow(InputError)
    expect(() => readFxFile(comma)).toThrow(`${comma}:2:5: the row has 5 cells, the header 4 columns`)
  })

  it("a bad FX file names the row and the column", () => {
    const bad = join(dir, "bad.csv")
    writeFileSync(bad, "month,from_currency,to_currency,rate\n2025-13,EUR,USD,1.1\n2025-01,EUR,usdx,-2\n")
    expect(() => readFxFile(bad)).toThrow(InputError)
    expect(() => readFxFile(bad)).toThrow(`${bad}:2:month: expected a month YYYY-MM, got "2025-13"`)
    try {
      readFxFile(bad)
    } catch (e) {
      expect((e as Error).message).toContain(`${bad}:3:to_currency:`)
      expect((e as Error).message).toContain(`${bad}:3:rate: expected a positive number, got "-2"`)
    }
  })
})
