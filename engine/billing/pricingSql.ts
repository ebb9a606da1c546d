/**
 * The SQL twins of pricing.ts's money rules, for the queries that price lines
 * in bulk (the reports, in PostgreSQL/PGlite and in DuckDB). Each fragment
 * gives exactly what its TypeScript twin gives (test/engine/billing/
 * pricingSql.test.ts checks it on both engines): integer arithmetic only,
 * no float rounding, and no division whose meaning differs between the two
 * dialects (PostgreSQL's `/` truncates integers, DuckDB's returns a double).
 * Strings of SQL, no connection: the caller puts them into its statements.
 */
import { monthlyFactors } from "./pricing.ts"

const ppm = 1_000_000

/**
 * floor(x ÷ d) for an integer x ≥ 0 below 2^53 and a positive integer constant d, the same in both dialects:
 * x − x mod d is a multiple of d, so the division is exact whether it truncates (PostgreSQL) or gives a double
 * (DuckDB).
 */
const floorDiv = (x: string, d: number): string => `cast(((${x}) - (${x}) % ${d}) / ${d} as bigint)`

/** The columns (or expressions) of one line as line_items stores it. */
export interface LineColumns {
  readonly unitPrice: string
  readonly quantity: string
  readonly discountPpm: string
  readonly discountAmount: string
}

/**
 * The net amount of a line, as `lineNet` computes it: unit price × quantity less the unit discount × quantity,
 * rounded once half up (the amounts are never negative), an amount discount beyond the price leaving 0. A bigint.
 * The exact percent product (up to 10^14 × 10^6, past bigint) is never formed: with gross = 10^6·a + b,
 * gross × kept ÷ 10^6 = a·kept + b·kept ÷ 10^6, and only the second part needs rounding.
 */
export const lineNetSql = (c: LineColumns): string => {
  const gross = `(${c.unitPrice}) * (${c.quantity})`
  const kept = `(${ppm} - (${c.discountPpm}))`
  const percent = `${floorDiv(gross, ppm)} * ${kept} + ${floorDiv(`((${gross}) % ${ppm}) * ${kept} + ${ppm / 2}`, ppm)}`
  return `(case when (${c.discountPpm}) is not null then ${percent}` +
    ` when (${c.discountAmount}) is not null then greatest((${c.unitPrice}) - (${c.discountAmount}), 0) * (${c.quantity})` +
    ` else ${gross} end)`
}

const units = Object.keys(monthlyFactors) as Array<keyof typeof monthlyFactors>
const factorCase = (unit: string, part: "numerator" | "denominator") =>
  `(case ${unit} ${units.map((u) => `when '${u}' then ${monthlyFactors[u][part]}`).join(" ")} end)`

/**
 * An amount per billing period normalised to a month, as `normalizedMonthlyAmount` computes it:
 * (amount × numerator) ÷ (denominator × count) in double precision, the same operations in the same order, so
 * the same bits. `unit` and `count` are the subscription's frequency columns.
 */
export const monthlyAmountSql = (amount: string, unit: string, count: string): string =>
  `(cast(${amount} as float8) * ${factorCase(unit, "numerator")} / (${factorCase(unit, "denominator")} * (${count})))`

/** A whole-payment discount as two columns (or expressions): a percent in parts per million, or an amount; one of them set. */
export interface PaymentDiscountColumns {
  readonly ppm: string
  readonly amount: string
}

/**
 * What a whole-payment discount takes off a payment of `amount` minor units (≥ 0), as `discountOff` computes it:
 * a percent rounded once, half away from zero (half up, the amount being ≥ 0), without forming the product past
 * bigint (as `lineNetSql`); an amount, at most the payment. 0 when neither column is set. A bigint.
 */
export const discountOffSql = (amount: string, off: PaymentDiscountColumns): string => {
  const percent = `${floorDiv(amount, ppm)} * (${off.ppm}) + ${floorDiv(`((${amount}) % ${ppm}) * (${off.ppm}) + ${ppm / 2}`, ppm)}`
  return `(case when (${amount}) <= 0 then cast(0 as bigint) when (${off.ppm}) is not null then ${percent}` +
    ` when (${off.amount}) is not null then least(cast(${amount} as bigint), cast(${off.amount} as bigint)) else cast(0 as bigint) end)`
}
