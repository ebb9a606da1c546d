/**
 * `report … --format xlsx --out FILE`: read back with exceljs, every sheet
 * holds its report's rows exactly as `report dashboard --format json` gives
 * them (the CLI's columns in order, numbers as numbers, null as an empty
 * cell), money with a number format naming the currency.
 */
import ExcelJS from "exceljs"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { reportKinds } from "../../reports/index.ts"
import { runCli } from "../cliRunner.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-xlsx-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-12"]
beforeAll(() => {
  const imported = runCli(["import", "history", "test/engine/store/fixtures/history", "--now", "2025-12-31", "--db", db])
  expect(imported.code, imported.stderr).toBe(0)
}, 120_000)

describe("report --format xlsx", () => {
  it("one sheet per report, cells equal to the JSON reports, money formatted in the currency", async () => {
    const json = runCli(["report", "dashboard", ...range, "--format", "json", "--db", db])
    expect(json.code, json.stderr).toBe(0)
    const reports = JSON.parse(json.stdout) as Record<string, Array<Record<string, unknown>>>
    // The dashboard's JSON is each report's own JSON.
    const single = runCli(["report", "churn", ...range, "--format", "json", "--db", db])
    expect(JSON.parse(single.stdout)).toEqual(reports["churn"])
    const file = join(dir, "reports.xlsx")
    const written = runCli(["report", "movements", ...range, "--format", "xlsx", "--out", file, "--details", "--db", db])
    expect(written.code, written.stderr).toBe(0)
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.readFile(file)
    expect(workbook.worksheets.map((w) => w.name)).toEqual([...reportKinds, "movement details"])
    for (const kind of reportKinds) {
      const rows = reports[kind]!
      expect(rows.length).toBeGreaterThan(0)
      const ws = workbook.getWorksheet(kind)!
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
      expect((ws.getRow(1).values as Array<unknown>).slice(1)).toEqual(columns)
      expect(ws.rowCount).toBe(rows.length + 1)
      rows.forEach((row, i) => {
        columns.forEach((c, j) => {
          const cell = ws.getRow(i + 2).getCell(j + 1)
          expect(cell.value ?? null, `${kind} ${String(row["month"] ?? row["cohort"])} ${c}`).toEqual(row[c] ?? null)
        })
      })
    }
    const mrr = workbook.getWorksheet("mrr")!
    const header = (mrr.getRow(1).values as Array<unknown>).slice(1)
    const cell = (ws: ExcelJS.Worksheet, column: string) => ws.getRow(2).getCell(((ws.getRow(1).values as Array<unknown>).slice(1)).indexOf(column) + 1)
    expect(header).toContain("mrr")
    expect(typeof cell(mrr, "mrr").value).toBe("number")
    expect(cell(mrr, "mrr").numFmt).toBe('#,##0.00 "USD"')
    expect(cell(mrr, "subscribers").numFmt).toBe("0")
    expect(cell(workbook.getWorksheet("churn")!, "logo_churn_rate").numFmt).toBe("0.0%")
    const details = runCli(["report", "movements", ...range, "--details", "--format", "json", "--db", db])
    expect(workbook.getWorksheet("movement details")!.rowCount).toBe((JSON.parse(details.stdout) as Array<unknown>).length + 1)
    // Bad input: one line naming the flag, exit 2.
    const noOut = runCli(["report", "mrr", ...range, "--format", "xlsx", "--db", db])
    expect(noOut.code).toBe(2)
    expect(noOut.stderr.trim().split("\n")).toEqual([expect.stringContaining("--out")])
    const badFormat = runCli(["report", "mrr", ...range, "--format", "xls", "--db", db])
    expect(badFormat.code).toBe(2)
    expect(badFormat.stderr.trim().split("\n")).toEqual([expect.stringContaining("--format")])
  }, 300_000)
})
