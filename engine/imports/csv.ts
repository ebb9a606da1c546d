/**
 * RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, a leading BOM.
 * Rows keep their line numbers so errors can name `file:row:column`.
 */
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

export const parseCsv = (text: string): Array<CsvRow> => {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const rows: Array<CsvRow> = []
  let cells: Array<string> = []
  let cell = ""
  let line = 1
  let rowLine = 1
  let i = 0
  let quoted = false
  let fieldStart = true
  while (i < s.length) {
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
      if (!(cells.length === 1 && cells[0] === "")) rows.push({ line: rowLine, cells })
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
  if (quoted) throw new CsvSyntaxError(rowLine, "a quoted field is not closed")
  if (cell !== "" || cells.length > 0) {
    cells.push(cell)
    rows.push({ line: rowLine, cells })
  }
  return rows
}

/** The longest cell an import takes, in characters; longer is a mistake (a pasted file), refused, not stored. */
export const maxCellLength = 1000

/**
 * Cells no import can take, each named by its line and column (the header's name, or its number past the
 * header): a NUL byte (PostgreSQL text cannot hold one), a cell longer than `maxCellLength`, and a cell
 * past the header's last column (it would be dropped without a word).
 */
export const cellProblems = (rows: ReadonlyArray<CsvRow>): Array<{ line: number; column: string; message: string }> => {
  const [head, ...body] = rows
  const header = (head?.cells ?? []).map((h) => h.trim().toLowerCase())
  const out: Array<{ line: number; column: string; message: string }> = []
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
