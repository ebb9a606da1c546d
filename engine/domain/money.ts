/**
 * Money is an integer count of minor units with its ISO 4217 currency, never a
 * float. Each currency's minor-unit exponent (USD 2, JPY 0, KWD 3) comes from
 * ICU's ISO 4217 data through `Intl`, so it is the same table browsers and
 * payment processors use.
 */
import { Schema } from "effect"

const supportedCurrencies: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"))

export const isCurrencyCode = (code: string): boolean => supportedCurrencies.has(code)

/** What is wrong with `text` given as a currency that `isCurrencyCode` refuses: one wording wherever a currency is read. */
export const notACurrency = (text: string): string => `"${text}" is not an ISO 4217 currency code such as USD`

/** Every ISO 4217 code `isCurrencyCode` accepts. */
export const currencyCodes: ReadonlyArray<string> = [...supportedCurrencies]

export const CurrencyCode = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => isCurrencyCode(s) || `expected an ISO 4217 currency code such as USD, got "${s}"`)),
  Schema.brand("CurrencyCode")
)
export type CurrencyCode = typeof CurrencyCode.Type

const exponents = new Map<string, number>()

/** Digits after the decimal point in the currency's minor unit. */
export const minorUnitExponent = (currency: string): number => {
  let e = exponents.get(currency)
  if (e === undefined) {
    e = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
    exponents.set(currency, e)
  }
  return e
}

/**
 * The largest amounts billcycle takes, in minor units of any currency. Every
 * amount is a JavaScript number, exact only up to 2^53 (≈ 9.007 × 10^15):
 * beyond it 90071992547409.91 × 3 comes out a cent off. The limits keep every
 * sum exact with room to spare:
 * - a line (unit price × quantity, before tax) at most 10^14, so with a tax
 *   of up to 100% its total is at most 2 × 10^14;
 * - an invoice (its lines with tax, and fees) at most 10^15, so nine whole
 *   invoices still add up exactly;
 * - a quantity at most 10^9 (the database keeps it in a 32-bit integer).
 * In USD that is a line of 1,000,000,000,000.00 and an invoice of
 * 10,000,000,000,000.00; in JPY 10^14 and 10^15 yen; in KWD 10^11 and 10^12 dinars.
 */
export const maxLineAmount = 100_000_000_000_000
export const maxInvoiceAmount = 1_000_000_000_000_000
export const maxQuantity = 1_000_000_000

/** A safe integer count of minor units (cents, øre, yen). */
export const MinorUnits = Schema.Number.pipe(
  Schema.check(Schema.makeFilter((n: number) => Number.isSafeInteger(n) || `expected a whole number of minor units, got ${n}`)),
  Schema.brand("MinorUnits")
)
export type MinorUnits = typeof MinorUnits.Type

export const Money = Schema.Struct({
  amount: MinorUnits,
  currency: CurrencyCode
})
export type Money = typeof Money.Type

export const money = (amount: number, currency: string): Money => ({
  amount: amount as MinorUnits,
  currency: currency as CurrencyCode
})

/** Why a decimal amount cannot be read: not a number, more decimals than the currency has, or more than an invoice holds. */
export type MajorAmountProblem = { readonly kind: "NotANumber" | "TooManyDecimals" | "TooLarge"; readonly problem: string }

/**
 * Reads a decimal amount in major units ("25.00", "12.5", "1000") into minor
 * units of `currency`, or says why it cannot (`MajorAmountProblem`). More
 * decimals than the currency has is an error, not a silent rounding: "12.345"
 * USD is refused; "12.500" KWD is 12500 fils.
 */
export const readMajorAmount = (text: string, currency: string): number | MajorAmountProblem => {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim())
  if (m === null) return { kind: "NotANumber", problem: `expected an amount such as 25.00, got "${text}"` }
  const exp = minorUnitExponent(currency)
  const frac = m[3] ?? ""
  if (frac.length > exp) {
    return {
      kind: "TooManyDecimals",
      problem: exp === 0 ? `${currency} has no minor unit; got "${text}"` : `${currency} has ${exp} decimals; got "${text}"`
    }
  }
  // Compared as a bigint: a long digit string must not round to a number that looks in range.
  const exact = BigInt(m[2]! + frac.padEnd(exp, "0"))
  if (exact > BigInt(maxInvoiceAmount)) {
    return { kind: "TooLarge", problem: `amount out of range: "${text}" is more than ${formatMajorAmount(maxInvoiceAmount, currency)}, the most one invoice can hold` }
  }
  const minor = Number(exact)
  return m[1] === "-" ? -minor : minor
}

/** `readMajorAmount` with its problem in words: minor units, or why not. */
export const parseMajorAmount = (text: string, currency: string): number | string => {
  const read = readMajorAmount(text, currency)
  return typeof read === "number" ? read : read.problem
}

/** Formats minor units as a plain decimal in major units ("25.00"), for CSV and JSON. */
export const formatMajorAmount = (minor: number, currency: string): string => {
  const exp = minorUnitExponent(currency)
  const negative = minor < 0
  const digits = String(Math.abs(minor)).padStart(exp + 1, "0")
  const whole = exp === 0 ? digits : digits.slice(0, digits.length - exp)
  const frac = exp === 0 ? "" : "." + digits.slice(digits.length - exp)
  return (negative ? "-" : "") + whole + frac
}

/**
 * What a unit price may be: never negative; 0 on a recurring item (a free
 * plan: its invoices total 0 and are settled without a charge, its MRR is 0);
 * more than 0 on a one-time item. A problem as words, or undefined.
 */
export const unitPriceProblem = (unitPrice: number, oneTime: boolean): string | undefined =>
  unitPrice < 0
    ? "the unit price cannot be negative"
    : unitPrice === 0 && oneTime
    ? "a one-time item's unit price must be greater than 0 (a free plan is a recurring item priced 0)"
    : undefined

/**
 * Money as the JSON of both doors shows it, one shape everywhere (the HTTP
 * API and every `--json` of the CLI): minor units, the currency, and the
 * amount as people read it (`{ amount: 2500, currency: "USD", formatted: "25.00 USD" }`).
 */
export const moneyJson = (amount: number, currency: string): { readonly amount: number; readonly currency: string; readonly formatted: string } => ({
  amount,
  currency,
  formatted: `${formatMajorAmount(amount, currency)} ${currency}`
})
