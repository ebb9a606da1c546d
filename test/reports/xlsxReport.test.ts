/**
 * `report … --format xlsx --out FILE`: read back with read-excel-file, every sheet
 * holds its report's rows exactly as `report dashboard --format json` gives
 * them (the CLI's columns in order, numbers as numbers, null as an empty
 * cell), money with a number format naming the currency.
 */
import { unzipSync, strFromU8 } from "fflate"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import readExcelFile from "read-excel-file/node"
import { beforeAll, describe, expect, it } from "vitest"
import { reportKinds } from "../../reports/index.ts"
import { runCli } from "../cliRunner.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-xlsx-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-12"]
beforeAll(() => {
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", db])
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
    const workbook = await readExcelFile(file)
    expect(workbook.map((w) => w.sheet)).toEqual([...reportKinds, "movement details"])
    const sheetOf = (name: string) => workbook.find((w) => w.sheet === name)!.data
    for (const kind of reportKinds) {
      const rows = reports[kind]!
      expect(rows.length).toBeGreaterThan(0)
      const data = sheetOf(kind)
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
      expect(data[0]).toEqual(columns)
      expect(data.length).toBe(rows.length + 1)
      rows.forEach((row, i) => {
        columns.forEach((c, j) => {
          expect(data[i + 1]![j] ?? null, `${kind} ${String(row["month"] ?? row["cohort"])} ${c}`).toEqual(row[c] ?? null)
        })
      })
    }
    // Number formats, read from the workbook's XML: a cell's style (s) → its number format's code.
    const zip = unzipSync(readFileSync(file))
    const xml = (name: string) => strFromU8(zip[name]!)
    const styles = xml("xl/styles.xml")
    const codes = new Map([...styles.matchAll(/<numFmt numFmtId="(\d+)" formatCode="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&quot;/g, '"')]))
    const xfs = [...(/<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] ?? "").matchAll(/<xf\b([^>]*)>/g)].map((m) => /numFmtId="(\d+)"/.exec(m[1]!)?.[1] ?? "0")
    const sheetXml = (kind: string) => xml(`xl/worksheets/sheet${workbook.findIndex((w) => w.sheet === kind) + 1}.xml`)
    const formatOf = (kind: string, column: string) => {
      const index = sheetOf(kind)[0]!.indexOf(column)
      // The first row where the column holds a number (a ratio without a denominator is an empty cell).
      const row = sheetOf(kind).findIndex((r) => typeof r[index] === "number") + 1
      const style = new RegExp(`<c r="${String.fromCharCode(65 + index)}${row}"[^>]*? s="(\\d+)"`).exec(sheetXml(kind))?.[1]
      return style === undefined ? undefined : codes.get(xfs[Number(style)]!)
    }
    expect(typeof sheetOf("mrr")[1]![sheetOf("mrr")[0]!.indexOf("mrr")]).toBe("number")
    expect(formatOf("mrr", "mrr")).toBe('#,##0.00 "USD"')
    expect(formatOf("mrr", "subscribers")).toBe("0")
    expect(formatOf("churn", "logo_churn_rate")).toBe("0.0%")
    const details = runCli(["report", "movements", ...range, "--details", "--format", "json", "--db", db])
    expect(sheetOf("movement details").length).toBe((JSON.parse(details.stdout) as Array<unknown>).length + 1)
    // Without --out the workbook goes to stdout when it is not a terminal (here a pipe): a zip, as the file is.
    const piped = runCli(["report", "mrr", ...range, "--format", "xlsx", "--db", db])
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stdout.slice(0, 4)).toBe("PK\u0003\u0004")
    // Bad input: one line naming the flag, exit 2.
    const badFormat = runCli(["report", "mrr", ...range, "--format", "xls", "--db", db])
    expect(badFormat.code).toBe(2)
    expect(badFormat.stderr.trim().split("\n")).toEqual([expect.stringContaining("--format")])
  }, 300_000)
})
