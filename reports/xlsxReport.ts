/**
 * `report … --format xlsx --out FILE`: a workbook of one sheet per report
 * (mrr, movements, churn, retention, growth, cohorts; and movement details
 * with `--details`), each with the CLI's columns in the CLI's order. Numbers
 * stay numbers: money with a number format naming the report's currency
 * (`#,##0.00 "USD"`), rates as percentages (`0.0%`, the cell holds 0.05),
 * counts as integers; a ratio without a denominator (null) is an empty cell.
 * The columns' kinds are the CLI table's (`formatReportCell`).
 *
 * exceljs is loaded here, when a workbook is written: no other command loads it.
 */
import type { ReportRow } from "./revenue.ts"
import { reportColumns } from "./reportRequest.ts"
import { countColumn, rateColumn } from "./htmlReport.ts"

export interface XlsxSheet {
  readonly name: string
  readonly rows: ReadonlyArray<ReportRow>
}

/** The number format of a report column's cells. */
export const xlsxNumberFormat = (column: string, currency: string): string =>
  countColumn.test(column) ? "0" : rateColumn.test(column) ? "0.0%" : `#,##0.00 "${currency.replace(/"/g, "")}"`

export const writeReportsXlsx = async (file: string, sheets: ReadonlyArray<XlsxSheet>, currency: string): Promise<void> => {
  const { default: ExcelJS } = await import("exceljs")
  const workbook = new ExcelJS.Workbook()
  workbook.creator = "billcycle"
  for (const sheet of sheets) {
    const ws = workbook.addWorksheet(sheet.name, { views: [{ state: "frozen", ySplit: 1 }] })
    const cols = reportColumns(sheet.rows)
    ws.columns = cols.map((c) => {
      const numeric = sheet.rows.some((r) => typeof r[c] === "number")
      return { header: c, key: c, width: Math.max(10, c.length + 2), ...(numeric ? { style: { numFmt: xlsxNumberFormat(c, currency) } } : {}) }
    })
    ws.getRow(1).font = { bold: true }
    for (const r of sheet.rows) ws.addRow(cols.map((c) => (r[c] === null || r[c] === undefined ? null : r[c])))
  }
  await workbook.xlsx.writeFile(file)
}
