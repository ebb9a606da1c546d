/**
 * Report amounts have the report currency's decimals (ISO 4217 minor units): none for JPY, three for KWD, in
 * JSON and CSV (rounded so) and in the table, the HTML and the spreadsheet's number format (shown so). Before,
 * every currency had two: 3000.00 JPY, and an annual 1.250 KWD plan's MRR of 0.104 came out as 0.10.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"
import { xlsxNumberFormat } from "../../reports/index.ts"

const db = join(mkdtempSync(join(tmpdir(), "billcycle-report-digits-")), "db")
const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env: { DATABASE_URL: "", BILLCYCLE_DB_SCHEMA: "" } })
const month = ["--from", "2026-03", "--to", "2026-03"]

beforeAll(() => {
  for (const args of [
    ["db", "migrate"],
    ["products", "add", "--name", "Tea", "--sku", "TEA", "--price", "3000", "--currency", "JPY", "--frequency", "monthly"],
    ["products", "add", "--name", "Dates", "--sku", "DATES", "--price", "1.250", "--currency", "KWD", "--frequency", "annually"],
    ["contacts", "add", "--email", "kenji@example.com", "--payment-method", "pm_ok"],
    ["contacts", "add", "--email", "noor@example.com", "--payment-method", "pm_ok"],
    ["subscriptions", "create", "--contact", "kenji@example.com", "--item", "sku=TEA"],
    ["subscriptions", "create", "--contact", "noor@example.com", "--item", "sku=DATES"],
    ["engine", "--once"]
  ]) {
    const r = cli(...args)
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`)
  }
}, 600_000)

describe("report amounts in the report currency's minor units", () => {
  it("JPY: whole yen in JSON and in the table", () => {
    const json = JSON.parse(cli("report", "mrr", ...month, "--currency", "JPY", "--format", "json").stdout)
    expect(json[0]).toMatchObject({ month: "2026-03", mrr: 3000, arr: 36000, subscribers: 1 })
    const table = cli("report", "mrr", ...month, "--currency", "JPY").stdout.split("\n")[2]!
    expect(table).toMatch(/^2026-03\s+3000\s+36000\s+1\s+3000\s/)
  }, 300_000)

  it("KWD: three decimals in JSON, CSV and the table", () => {
    const json = JSON.parse(cli("report", "mrr", ...month, "--currency", "KWD", "--format", "json").stdout)
    expect(json[0]).toMatchObject({ month: "2026-03", mrr: 0.104, subscribers: 1 })
    expect(cli("report", "mrr", ...month, "--currency", "KWD", "--format", "csv").stdout.split(/\r?\n/)[1]).toMatch(/^2026-03,0\.104,/)
    expect(cli("report", "mrr", ...month, "--currency", "KWD").stdout.split("\n")[2]).toMatch(/^2026-03\s+0\.104\s/)
    expect(cli("report", "mrr", ...month, "--currency", "KWD", "--format", "html").stdout).toContain("<td>0.104</td>")
  }, 300_000)

  it("the spreadsheet's number format follows the currency", () => {
    expect(xlsxNumberFormat("mrr", "USD")).toBe('#,##0.00 "USD"')
    expect(xlsxNumberFormat("mrr", "JPY")).toBe('#,##0 "JPY"')
    expect(xlsxNumberFormat("mrr", "KWD")).toBe('#,##0.000 "KWD"')
    expect(xlsxNumberFormat("subscribers", "KWD")).toBe("0")
  })
})
