/**
 * `report … --format xlsx --out FILE`: a workbook of one sheet per report
 * (mrr, movements, churn, retention, growth, cohorts; and movement details
 * with `--details`), each with the CLI's columns in the CLI's order. Numbers
 * stay numbers: money with a number format naming the report's currency
 * (`#,##0.00 "USD"`), rates as percentages (`0.0%`, the cell holds 0.05),
 * counts as integers; a ratio without a denominator (null) is an empty cell.
 * The columns' kinds are the CLI table's (`formatReportCell`).
 *
 * An empty report is its header row. When the report leaves currencies out
 * (no rate to the report currency), every sheet opens with that note
 * (`unconvertedNote`) in a row above its header: a workbook is shared, and the
 * CLI's warning on stderr does not travel with it.
 *
 * write-excel-file (one dependency, fflate) is loaded here, when a workbook is
 * written: no other command loads it. Texts are written as texts, never as
 * formulas.
 */
import type { ReportRow } from "./revenue.ts"
import { unconvertedNote } from "./revenue.ts"
import { countColumn, rateColumn } from "./htmlReport.ts"
import { minorUnitExponent } from "../engine/domain/index.ts"

export interface XlsxSheet {
  readonly name: string
  /** The report's columns (`reportColumns`): the header, with or without rows. */
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReportRow>
}

/** The number format of a report column's cells. */
export const xlsxNumberFormat = (column: string, currency: string): string =>
  countColumn.test(column) ? "0" : rateColumn.test(column) ? "0.0%"
    : `#,##0${minorUnitExponent(currency) > 0 ? "." + "0".repeat(minorUnitExponent(currency)) : ""} "${currency.replace(/"/g, "")}"`

export const writeReportsXlsx = async (file: string, sheets: ReadonlyArray<XlsxSheet>, currency: string, unconverted: ReadonlyArray<string> = []): Promise<void> => {
  const { default: writeExcelFile } = await import("write-excel-file/node")
  const note = unconvertedNote(unconverted, currency)
  const noteRows = note === undefined ? [] : [[{ value: note, type: String, fontWeight: "bold" as const, textColor: "#92400e", backgroundColor: "#fef3c7" }]]
  const workbook = sheets.map((sheet) => {
    const cols = sheet.columns
    const header = cols.map((c) => ({ value: c, fontWeight: "bold" as const }))
    // A cell holds a number (with its column's format), a text as text (never a formula), or nothing.
    const cell = (c: string, v: unknown) =>
      v === null || v === undefined ? null
        : typeof v === "number" ? { value: v, type: Number, format: xlsxNumberFormat(c, currency) }
        : { value: String(v), type: String }
    return {
      sheet: sheet.name,
      data: [...noteRows, header, ...sheet.rows.map((r) => cols.map((c) => cell(c, r[c])))],
      columns: cols.map((c) => ({ width: Math.max(10, c.length + 2) })),
      stickyRowsCount: noteRows.length + 1
    }
  })
  await writeExcelFile(workbook).toFile(file)
}
