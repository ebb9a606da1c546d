/** What the CSV reader refuses rather than lose: bytes that are not UTF-8, a column named twice, data under no name. */
import { describe, expect, it } from "vitest"
import { cellProblems, decodeCsv, parseCsv } from "../../../engine/imports/index.ts"

const latin1 = (text: string) => Buffer.from(text, "latin1")
const problemsOf = (text: string) => cellProblems(parseCsv(text)).map((p) => `${p.line}:${p.column}: ${p.message}`)

describe("decodeCsv", () => {
  it("a Latin-1 file from Excel is refused at its first accented letter, named by line and column, not imported as U+FFFD", () => {
    expect(decodeCsv(latin1("email,name\nandre@example.com,André\nzoe@example.com,Zoë\n")).problem).toEqual({ line: 2, column: "name", message: "not valid UTF-8 (byte 0xE9): save the file as UTF-8" })
    // In the header the bad byte spoils the column's name: the column is named by its number.
    expect(decodeCsv(latin1("email,prénom\n")).problem).toMatchObject({ line: 1, column: "2" })
    // Inside a quoted cell over two lines: the file's line of the byte, the cell's column; a comma inside quotes is no column.
    expect(decodeCsv(Buffer.concat([Buffer.from('email,"name"\nx@example.com,"A, b\nc ', "utf8"), Buffer.from([0xe9, 0x22, 0x0a])])).problem).toMatchObject({ line: 3, column: "name" })
    // Past the header's last column: its number, as the other cell problems name it.
    expect(decodeCsv(latin1("email\nx@example.com,é\n")).problem).toMatchObject({ line: 2, column: "2" })
  })

  it("UTF-8 with a byte order mark and four-byte letters is read as today", () => {
    const text = "\uFEFFemail,name\nandre@example.com,André ☕ 🇳🇴\n"
    const read = decodeCsv(Buffer.from(text, "utf8"))
    expect(read).toEqual({ text, problem: undefined })
    expect(parseCsv(read.text).map((r) => r.cells)).toEqual([["email", "name"], ["andre@example.com", "André ☕ 🇳🇴"]])
    // A byte order mark before a bad byte does not shift its column.
    expect(decodeCsv(Buffer.concat([Buffer.from("\uFEFFemail,name\nx@example.com,Andr", "utf8"), Buffer.from([0xe9])])).problem).toMatchObject({ line: 2, column: "name" })
  })
})

describe("cellProblems", () => {
  it("a column named twice is refused at the second one, not read as the last", () => {
    expect(problemsOf("email,name,name\nx7@example.com,First,Second\n")).toEqual(['1:3: column "name" appears twice (also column 2): one of them would be dropped'])
    // Named as csvRecords reads them with snakeCase.
    expect(problemsOf("email,Payment method,payment_method\nx@example.com,pm_1,pm_2\n")).toEqual(['1:3: column "payment_method" appears twice (also column 2, "payment method"): one of them would be dropped'])
  })

  it("a cell under a column without a name is refused, not dropped; an empty unnamed column (trailing commas) is no problem", () => {
    expect(problemsOf("email,name,\nx8@example.com,Eight,lost data\ny@example.com,Y,more\n")).toEqual(["2:3: a cell under a column without a name is refused, not dropped: name column 3 in the header, or remove it"])
    expect(problemsOf("email,name,\nx@example.com,Ex,\ny@example.com,Y,\n")).toEqual([])
    expect(problemsOf("email,,name\nx@example.com,,Ex\ny@example.com, ,Y\n")).toEqual([])
  })
})

describe("parseCsv", () => {
  it("a spreadsheet's empty rows (only commas, or only spaces) are skipped as blank lines are, not read as records with every cell missing", () => {
    const rows = parseCsv("email,name\r\nx@example.com,X\r\n,\r\n   \r\n\r\ny@example.com,Y\r\n,,\r\n,")
    expect(rows.map((r) => [r.line, r.cells])).toEqual([[1, ["email", "name"]], [2, ["x@example.com", "X"]], [6, ["y@example.com", "Y"]]])
  })
})
