/**
 * RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, a leading BOM.
 * Rows keep their line numbers so errors can name `file:row:column`.
 */
import { decodeUtf8, formatByte } from "../domain/index.ts"
import { InputError } from "../sql/index.ts"

export interface CsvRow {
  /** 1-based line of the file where the row starts (the header is line 1). */
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

export class CsvSyntaxError extends Error {
  readonly line: number
  constructor(line: number, message: string) {
    super(message)
    this.line = line
  }
}

/** The rows finished before `end` and the row in hand there (its cells so far): a cell's place at any offset. */
const scanCsv = (s: string, end: number) => {
  const rows: Array<CsvRow> = []
  let cells: Array<string> = []
  let cell = ""
  let line = 1
  let rowLine = 1
  let i = 0
  let quoted = false
  let fieldStart = true
  while (i < end) {
    const c = s[i]!
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"'
          i += 2
          continue
        }
        quoted = false
        i++
        continue
      }
      if (c === "\n") line++
      cell += c
      i++
      continue
    }
    if (c === '"' && fieldStart) {
      quoted = true
      fieldStart = false
      i++
      continue
    }
    if (c === ",") {
      cells.push(cell)
      cell = ""
      fieldStart = true
      i++
      continue
    }
    if (c === "\r" && s[i + 1] === "\n") {
      i++
      continue
    }
    if (c === "\n") {
      cells.push(cell)
      if (!isBlankRow(cells)) rows.push({ line: rowLine, cells })
      cells = []
      cell = ""
      fieldStart = true
      line++
      rowLine = line
      i++
      continue
    }
    cell += c
    fieldStart = false
    i++
  }
  return { rows, cells, cell, rowLine, quoted }
}

/**
 * A row with nothing in any cell: a blank line, or a spreadsheet's row of commas (`,,,`) or spaces that it saves
 * below the data. Skipped like a blank line: read as a record, every importer would refuse it for its missing cells.
 */
const isBlankRow = (cells: ReadonlyArray<string>): boolean => cells.every((c) => c.trim() === "")

const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

export const parseCsv = (text: string): Array<CsvRow> => {
  const s = withoutBom(text)
  const { rows, cells, cell, rowLine, quoted } = scanCsv(s, s.length)
  if (quoted) throw new CsvSyntaxError(rowLine, "a quoted field is not closed")
  cells.push(cell)
  if (!isBlankRow(cells)) rows.push({ line: rowLine, cells })
  return rows
}

/** A problem with one cell of a CSV file: its line, and its column by the header's name (or its number where there is none). */
export interface CellProblem {
  readonly line: number
  readonly column: string
  readonly message: string
}

/**
 * A CSV file's bytes as text, or the first byte that is not UTF-8 as a `CellProblem`. Read leniently, a
 * spreadsheet's Latin-1 or Windows-1252 export would be imported with U+FFFD for every accented letter,
 * lost for good; refused, the user saves it as UTF-8 and nothing is lost. A byte order mark is UTF-8 and
 * stays in the text (`parseCsv` drops it). The line is the file's line of the byte (what an editor shows,
 * also inside a quoted cell over several lines); the column is named as `cellProblems` names them.
 */
export const decodeCsv = (bytes: Uint8Array): { readonly text: string; readonly problem: CellProblem | undefined } => {
  const { text, notUtf8 } = decodeUtf8(bytes)
  if (notUtf8 === undefined) return { text, problem: undefined }
  const s = withoutBom(text)
  const { rows, cells } = scanCsv(s, notUtf8.index - (text.length - s.length))
  const [head] = rows
  const i = cells.length
  // Past the header, the cell is named by its column's header; in the header (whose name the bad byte spoils), by its number.
  const column = head === undefined ? String(i + 1) : (head.cells[i] ?? "").trim().toLowerCase() || String(i + 1)
  return { text, problem: { line: notUtf8.line, column, message: `not valid UTF-8 (byte ${formatByte(notUtf8.byte)}): save the file as UTF-8` } }
}

/** `decodeCsv` for a reader that refuses at once: the text, or an InputError `FILE:LINE:COLUMN: not valid UTF-8 …`. */
export const csvText = (bytes: Uint8Array, file: string): string => {
  const { text, problem } = decodeCsv(bytes)
  if (problem !== undefined) throw new InputError(`${file}:${problem.line}:${problem.column}: ${problem.message}`)
  return text
}

/** The longest cell an import takes, in characters; longer is a mistake (a pasted file), refused, not stored. */
export const maxCellLength = 1000

/**
 * Cells no import can take, each named by its line and column (the header's name, or its number past the
 * header): a NUL byte (PostgreSQL text cannot hold one), a cell longer than `maxCellLength`, and cells
 * `csvRecords` would drop without a word: one past the header's last column, one under a column without
 * a name, and a column the header names twice (named at the second: records would keep only one of them).
 * An unnamed column with nothing under it (a spreadsheet's trailing commas) is no problem.
 */
export const cellProblems = (rows: ReadonlyArray<CsvRow>): Array<CellProblem> => {
  const [head, ...body] = rows
  const header = (head?.cells ?? []).map((h) => h.trim().toLowerCase())
  const out: Array<CellProblem> = []
  // Compared as csvRecords' snakeCase reads them: "payment method" and "payment_method" are one column there.
  const firstAt = new Map<string, number>()
  header.forEach((h, i) => {
    if (h === "") return
    const key = h.replace(/[\s-]+/g, "_")
    const first = firstAt.get(key)
    if (first === undefined) firstAt.set(key, i)
    else out.push({ line: head!.line, column: String(i + 1), message: `column "${h}" appears twice (also column ${first + 1}${header[first] === h ? "" : `, "${header[first]}"`}): one of them would be dropped` })
  })
  for (const r of rows) {
    r.cells.forEach((cell, i) => {
      const column = header[i] || String(i + 1)
      if (cell.includes("\0")) out.push({ line: r.line, column, message: "holds a NUL byte (\\0), which no field can hold" })
      if (cell.length > maxCellLength) out.push({ line: r.line, column, message: `is ${cell.length} characters long, more than the ${maxCellLength} a cell may hold` })
    })
    if (r !== head && r.cells.length > header.length) {
      out.push({ line: r.line, column: String(header.length + 1), message: `the row has ${r.cells.length} cells, the header ${header.length} columns: a cell without a column is refused, not dropped` })
    }
  }
  // One problem per unnamed column, at its first cell with data: a long file would otherwise bury the rest.
  header.forEach((h, i) => {
    if (h !== "") return
    const r = body.find((r) => (r.cells[i] ?? "").trim() !== "")
    if (r !== undefined) out.push({ line: r.line, column: String(i + 1), message: `a cell under a column without a name is refused, not dropped: name column ${i + 1} in the header, or remove it` })
  })
  return out
}

const needsQuotes = /[",\r\n]/

export const formatCsv = (rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  rows.map((r) => r.map((c) => (needsQuotes.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",")).join("\r\n") + "\r\n"

/**
 * A cell a spreadsheet would run as a formula (CSV injection): one beginning with =, +, -, @, a tab or
 * a carriage return gets a leading single quote, OWASP's rule, so it shows as text. A plain number
 * (-12.50) is no formula and stays as it is. For files people open in a spreadsheet; the data read
 * back by an import would carry the quote, so imports never see these files' cells as ours.
 */
export const spreadsheetSafe = (cell: string): string =>
  /^[=+\-@\t\r]/.test(cell) && !/^-\d+(\.\d+)?$/.test(cell) ? `'${cell}` : cell

/** Rows as records keyed by the header's lower-cased column names. */
export const csvRecords = (rows: ReadonlyArray<CsvRow>, options: { readonly snakeCase?: boolean } = {}): { header: Array<string>; records: Array<{ line: number; get: (column: string) => string }> } => {
  const [head, ...body] = rows
  // snakeCase: `payment-method` or `Payment method` name the column `payment_method`.
  const header = (head?.cells ?? []).map((h) => h.trim().toLowerCase()).map((h) => (options.snakeCase === true ? h.replace(/[\s-]+/g, "_") : h))
  const index = new Map(header.map((h, i) => [h, i]))
  return {
    header,
    records: body.map((r) => ({ line: r.line, get: (column: string) => (r.cells[index.get(column) ?? -1] ?? "").trim() }))
  }
}
