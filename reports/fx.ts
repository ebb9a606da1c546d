/**
 * `--fx FILE.csv`: `month, from_currency, to_currency, rate`, where one
 * `from` is `rate` of `to`. Month M's rate converts the balances at the end of
 * M and the movements dated in M. A pair may be given either way round (the
 * inverse is used). Every month of the report needs a rate of its own for
 * every currency in it; months before the report (history that only sets the
 * opening balance) take the nearest month given.
 */
import { readFileSync } from "node:fs"
import { isCurrencyCode, minorUnitExponent } from "../engine/domain/index.ts"
import { InputError } from "../engine/sql/index.ts"
import { cellProblems, csvRecords, CsvSyntaxError, csvText, parseCsv } from "../engine/imports/index.ts"

export interface FxRate {
  readonly month: string
  readonly from: string
  readonly to: string
  readonly rate: number
}

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/

/** Month index k = year × 12 + month − 1. */
export const monthIndex = (month: string): number => {
  const [y, m] = month.split("-").map(Number) as [number, number]
  return y * 12 + m - 1
}
export const monthName = (k: number): string => `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, "0")}`

/** Reads and checks an FX file; every problem is reported as `FILE:ROW:COLUMN: message`. */
export const readFxFile = (path: string): Array<FxRate> => {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (e) {
    throw new InputError(`${path}: cannot read: ${(e as Error).message}`)
  }
  const text = csvText(bytes, path)
  let rows
  try {
    rows = parseCsv(text)
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new InputError(`${path}:${e.line}: ${e.message}`)
    throw e
  }
  const { header, records } = csvRecords(rows)
  // A cell past the header's last column (a rate written with a decimal comma, 1,10) is refused, not dropped: read
  // as its first part, 1,10 would have converted at 1.
  const problems: Array<string> = cellProblems(rows).map((p) => `${path}:${p.line}:${p.column}: ${p.message}`)
  for (const column of ["month", "from_currency", "to_currency", "rate"]) {
    if (!header.includes(column)) problems.push(`${path}:1: missing column "${column}"`)
  }
  if (problems.length > 0) throw new InputError(problems.join("\n"))
  const out: Array<FxRate> = []
  const seen = new Map<string, number>()
  for (const r of records) {
    if (r.get("month") === "" && r.get("from_currency") === "" && r.get("to_currency") === "" && r.get("rate") === "") continue
    const month = r.get("month")
    const from = r.get("from_currency").toUpperCase()
    const to = r.get("to_currency").toUpperCase()
    const rateText = r.get("rate")
    const bad = (column: string, message: string) => problems.push(`${path}:${r.line}:${column}: ${message}`)
    if (!monthPattern.test(month)) bad("month", `expected a month YYYY-MM, got "${month}"`)
    if (!isCurrencyCode(from)) bad("from_currency", `"${r.get("from_currency")}" is not an ISO 4217 code`)
    if (!isCurrencyCode(to)) bad("to_currency", `"${r.get("to_currency")}" is not an ISO 4217 code`)
    const rate = Number(rateText)
    if (!/^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(rateText) || !(rate > 0) || !Number.isFinite(rate)) bad("rate", `expected a positive number, got "${rateText}"`)
    if (from === to && isCurrencyCode(from)) bad("to_currency", `a rate from ${from} to itself`)
    const key = `${month}/${[from, to].sort().join("/")}`
    const first = seen.get(key)
    if (first !== undefined) bad("month", `a second rate between ${from} and ${to} for ${month} (first on row ${first})`)
    else seen.set(key, r.line)
    out.push({ month, from, to, rate })
  }
  if (problems.length > 0) throw new InputError(problems.slice(0, 50).join("\n"))
  return out
}

export interface RateRow {
  readonly currency: string
  readonly k: number
  /** Minor units of `currency` → minor units of the report currency. */
  readonly rate: number
}

/**
 * Dense rates for months `firstK`…`lastK`: 1 for the report currency; for the
 * others the file's rate, converted to minor units. A month of the report
 * (`reportFromK`…`lastK`) without a rate is an error naming it; earlier months
 * take the nearest month given.
 */
export const rateTable = (options: {
  readonly file: string
  readonly rates: ReadonlyArray<FxRate>
  readonly reportCurrency: string
  readonly currencies: ReadonlyArray<string>
  readonly firstK: number
  readonly reportFromK: number
  readonly lastK: number
}): Array<RateRow> => {
  const out: Array<RateRow> = []
  const problems: Array<string> = []
  const target = options.reportCurrency
  for (const currency of options.currencies) {
    const scale = 10 ** (minorUnitExponent(target) - minorUnitExponent(currency))
    if (currency === target) {
      for (let k = options.firstK; k <= options.lastK; k++) out.push({ currency, k, rate: 1 })
      continue
    }
    const given = new Map<number, number>()
    for (const r of options.rates) {
      if (r.from === currency && r.to === target) given.set(monthIndex(r.month), r.rate)
      else if (r.from === target && r.to === currency) given.set(monthIndex(r.month), 1 / r.rate)
    }
    if (given.size === 0) {
      problems.push(`${options.file}: no rate between ${currency} and ${target}, and the store has ${currency} subscriptions`)
      continue
    }
    const known = [...given.keys()].sort((a, b) => a - b)
    for (let k = options.firstK; k <= options.lastK; k++) {
      let rate = given.get(k)
      if (rate === undefined) {
        if (k >= options.reportFromK) {
          problems.push(`${options.file}: no ${currency}→${target} rate for ${monthName(k)}`)
          continue
        }
        const before = known.filter((x) => x < k)
        rate = given.get(before.length > 0 ? before[before.length - 1]! : known[0]!)!
      }
      out.push({ currency, k, rate: rate * scale })
    }
  }
  if (problems.length > 0) throw new InputError(problems.slice(0, 50).join("\n"))
  return out
}
