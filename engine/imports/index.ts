/**
 * The imports room's door. CSV in and out: contacts/products/subscriptions import, history import, export.
 * Named exports only: what other rooms use.
 */
export { cellProblems, csvRecords, CsvSyntaxError, csvText, decodeCsv, formatCsv, parseCsv, spreadsheetSafe } from "./csv.ts"
export type { CellProblem } from "./csv.ts"
export { exportSubscriptions, headerLanguages } from "./exportSubscriptions.ts"
export type { ExportProperties, HeaderLanguage } from "./exportSubscriptions.ts"
export { importHistory } from "./history.ts"
export { importCsv } from "./imports.ts"
export { Imports } from "./ImportsService.ts"
export type { ImportFailure } from "./ImportsService.ts"
