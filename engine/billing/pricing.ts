/**
 * Pricing: what a line costs, what is due now, what later payments add.
 * Pure integer math on minor units; exact rational arithmetic (bigint) until
 * the one rounding of each amount.
 *
 * The rounding rule, written down: each line's amount (unit price × quantity,
 * less the unit discount × quantity) is computed exactly and rounded once,
 * half-up away from zero, to the currency's minor unit; the line's tax is
 * computed on that rounded net amount and rounded once the same way. Rounding
 * once per line (not per unit) keeps 3 × 0.333 from becoming 3 × 0.33, and
 * taxing the rounded line makes every printed tax line equal its base × rate,
 * which is what a reader of the invoice can check. Half-up away from zero is
 * the commercial rounding of most tax authorities (EU VAT directive practice,
 * Norway's MVA), and Stripe's default.
 */
import type { Frequency, LineItem, UnitDiscount } from "../domain/index.ts"
import { maxInvoiceAmount, maxLineAmount, maxQuantity } from "../domain/index.ts"

const PPM = 1_000_000n

/** Rounds num/den (den > 0) to the nearest integer, halves away from zero. */
export const roundHalfAwayFromZero = (num: bigint, den: bigint): bigint => {
  const negative = num < 0n
  const n = negative ? -num : num
  const q = (2n * n + den) / (2n * den)
  return negative ? -q : q
}

export class PricingError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
    this.name = "PricingError"
  }
}

/** Validates a line's inputs; the message names the field. */
export const validateLine = (line: Pick<LineItem, "unitPrice" | "quantity" | "discount" | "taxRate">): void => {
  if (!Number.isSafeInteger(line.unitPrice) || line.unitPrice < 0) {
    throw new PricingError("price", `unit price must be a non-negative amount, got ${line.unitPrice}`)
  }
  if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
    throw new PricingError("qty", `quantity must be a whole number greater than 0, got ${line.quantity}`)
  }
  if (line.quantity > maxQuantity) throw new PricingError("qty", `quantity must be at most ${maxQuantity}, got ${line.quantity}`)
  // Exact: both factors are safe integers, their product may not be.
  if (BigInt(line.unitPrice) * BigInt(line.quantity) > BigInt(maxLineAmount)) {
    throw new PricingError("price", `unit price × quantity must be at most ${maxLineAmount} minor units (the most one line can hold), got ${BigInt(line.unitPrice) * BigInt(line.quantity)}`)
  }
  const d = line.discount
  if (d !== undefined) {
    if (d._tag === "Percent" && (!Number.isInteger(d.ppm) || d.ppm < 0 || d.ppm > 1_000_000)) {
      throw new PricingError("discount", `a percent discount must be between 0% and 100%, got ${d.ppm / 10_000}%`)
    }
    if (d._tag === "Amount" && (!Number.isSafeInteger(d.amount) || d.amount < 0 || d.amount > line.unitPrice)) {
      throw new PricingError("discount", `an amount discount must be between 0 and the unit price (${line.unitPrice}), got ${d.amount}`)
    }
  }
  if (line.taxRate !== undefined && (!Number.isInteger(line.taxRate) || line.taxRate < 0 || line.taxRate > 1_000_000)) {
    throw new PricingError("tax", `a tax rate must be between 0% and 100%, got ${line.taxRate / 10_000}%`)
  }
}

export interface LineAmounts {
  /** unit price × quantity */
  readonly gross: number
  /** the unit discount × quantity, as the difference gross − net so lines add up */
  readonly discount: number
  /**
   * The discount per unit, rounded on its own: recorded (`invoice_lines.unit_discount`), never shown, for it does not add
   * up (3 × 999 JPY at 33% off: 330 a unit, yet the line is 2008 = 2997 − 989, not 2997 − 3 × 330). What is shown is `shownLine`.
   */
  readonly unitDiscount: number
  /** gross − discount, rounded once */
  readonly net: number
  /** tax on net, rounded once */
  readonly tax: number
  /** net + tax */
  readonly total: number
}

/** The exact discounted amount of a line as a fraction numerator over PPM. */
const netNumerator = (unitPrice: bigint, quantity: bigint, discount: UnitDiscount | undefined): bigint => {
  if (discount === undefined) return unitPrice * quantity * PPM
  if (discount._tag === "Percent") return unitPrice * quantity * (PPM - BigInt(discount.ppm))
  const perUnit = unitPrice - BigInt(discount.amount)
  return (perUnit > 0n ? perUnit : 0n) * quantity * PPM
}

/**
 * The net amount of one line: unit price × quantity less the unit discount × quantity (a percent in ppm, or an
 * amount per unit; an amount beyond the price leaves 0), exact, rounded once half away from zero. No validation:
 * what is stored is priced as stored. Its SQL twin is `lineNetSql` (pricingSql.ts), for the reports.
 */
export const lineNet = (line: Pick<LineItem, "unitPrice" | "quantity" | "discount">): number =>
  Number(roundHalfAwayFromZero(netNumerator(BigInt(line.unitPrice), BigInt(line.quantity), line.discount), PPM))

export const lineAmounts = (line: Pick<LineItem, "unitPrice" | "quantity" | "discount" | "taxRate">): LineAmounts => {
  validateLine(line)
  const unitPrice = BigInt(line.unitPrice)
  const quantity = BigInt(line.quantity)
  const gross = unitPrice * quantity
  const net = BigInt(lineNet(line))
  const unitDiscount = line.discount === undefined
    ? 0n
    : line.discount._tag === "Amount"
    ? BigInt(Math.min(line.discount.amount, line.unitPrice))
    : roundHalfAwayFromZero(unitPrice * BigInt(line.discount.ppm), PPM)
  const tax = line.taxRate === undefined ? 0n : roundHalfAwayFromZero(net * BigInt(line.taxRate), PPM)
  return {
    gross: Number(gross),
    discount: Number(gross - net),
    unitDiscount: Number(unitDiscount),
    net: Number(net),
    tax: Number(tax),
    total: Number(net + tax)
  }
}

/**
 * A line as every buyer and admin reads it (the checkout page, `links preview`, the invoice and its PDF, the pay page,
 * `invoices show`): quantity × unit price = `gross`, less the line's `discount` (one amount for the line, never a
 * discount per unit rounded on its own) = `amount`, what the line charges before tax. The one rule of what a line shows:
 * its parts add up to its amount by construction, and the amounts of the lines to the subtotal (`shownTotals`).
 * `net` is the line's `lineNet` (an invoice line's stored `amount`).
 */
export interface ShownLine {
  readonly quantity: number
  readonly unitPrice: number
  readonly gross: number
  readonly discount: number
  readonly amount: number
}

export const shownLine = (line: { readonly unitPrice: number; readonly quantity: number; readonly net: number }): ShownLine => {
  const gross = line.unitPrice * line.quantity
  return { quantity: line.quantity, unitPrice: line.unitPrice, gross, discount: gross - line.net, amount: line.net }
}

/** `shownLine` of a line as priced (`lineNet`, the amount billing charges). */
export const shownLineOf = (line: Pick<LineItem, "unitPrice" | "quantity" | "discount">): ShownLine =>
  shownLine({ unitPrice: line.unitPrice, quantity: line.quantity, net: lineNet(line) })

/**
 * The totals under lines shown by `shownLine`: the subtotal is what the lines' amounts add up to (after their own
 * discounts), and the discounts are those taken off the whole payment (an order discount, a code). An invoice records
 * its subtotal before the lines' discounts and its discount with them (`totalsOf`): the same total, told so a reader
 * can add it up: subtotal − discounts + tax + fees = total.
 */
export const shownTotals = (lines: ReadonlyArray<ShownLine>, recorded: { readonly subtotal: number; readonly discount: number }): { readonly subtotal: number; readonly discount: number } => {
  const lineDiscounts = lines.reduce((sum, l) => sum + l.discount, 0)
  return { subtotal: recorded.subtotal - lineDiscounts, discount: recorded.discount - lineDiscounts }
}

export interface Fee {
  readonly name: string
  readonly amount: number
  /** A recurring fee is added to every payment; a one-time fee only to what is due now. */
  readonly recurring?: boolean
}

export interface Totals {
  readonly subtotal: number
  readonly discount: number
  readonly tax: number
  readonly fees: number
  readonly total: number
}

const zeroTotals: Totals = { subtotal: 0, discount: 0, tax: 0, fees: 0, total: 0 }

const addLine = (t: Totals, a: LineAmounts): Totals => ({
  subtotal: t.subtotal + a.gross,
  discount: t.discount + a.discount,
  tax: t.tax + a.tax,
  fees: t.fees,
  total: t.total + a.total
})

const addFee = (t: Totals, amount: number): Totals => ({ ...t, fees: t.fees + amount, total: t.total + amount })

/**
 * Totals of a set of lines and fees: every total is the sum of its lines. Refused beyond the invoice
 * maximum (money.ts): below it every sum here is an exact integer.
 */
export const totalsOf = (lines: ReadonlyArray<LineAmounts>, fees: ReadonlyArray<number> = []): Totals => {
  const totals = fees.reduce(addFee, lines.reduce(addLine, zeroTotals))
  checkInvoiceAmount(totals.total)
  return totals
}

/** A discount off one payment as a whole: a percent (ppm) rounded half away from zero once, or an amount; never more than the payment. */
export type PaymentDiscount = { readonly _tag: "Percent"; readonly ppm: number } | { readonly _tag: "Amount"; readonly amount: number }

/**
 * What a discount takes off one payment of `amount` minor units (a link's order discount, a discount
 * code on the payment at checkout and on later payments): the one rule, for the checkout summary and
 * for billing alike.
 */
export const discountOff = (amount: number, off: PaymentDiscount | undefined): number =>
  off === undefined || amount <= 0 ? 0 : off._tag === "Percent" ? Number(roundHalfAwayFromZero(BigInt(amount) * BigInt(off.ppm), 1_000_000n)) : Math.min(amount, off.amount)

/** One line of a payment as `discountBeforeTax` takes it: its net amount (after its unit discount) and its tax rate. */
export interface NetLine {
  readonly net: number
  readonly taxRate?: number | undefined
}

/** A payment whose whole-payment discounts were taken before tax (`discountBeforeTax`). */
export interface DiscountedPayment {
  /** What each discount took off, in the order given: each off what the ones before it left. */
  readonly discounts: ReadonlyArray<number>
  /** Each line's share of all the discounts. */
  readonly shares: ReadonlyArray<number>
  /** Each line's tax, on its net less its share. */
  readonly taxes: ReadonlyArray<number>
  /** The lines' nets before the discounts. */
  readonly net: number
  readonly tax: number
  /** net − the discounts + tax */
  readonly total: number
}

/**
 * Whole-payment discounts (a link's order discount, a discount code) taken off a payment's lines before
 * tax: the seller's own discount lowers the amount taxed (EU VAT directive art. 79, and how Stripe taxes a
 * discounted invoice). Each discount is `discountOff` of the nets the discounts before it left (a percent
 * of the pre-tax amount rounded once, or an amount, never more than what is left); their sum is shared out
 * over the lines pro rata to their nets, exactly, the cents that do not divide going to the largest
 * remainders (the earlier line on a tie); each line's tax is then its rate on what its share leaves,
 * rounded once as `lineAmounts` rounds. Without tax the total is the nets less `discountOff`, as before.
 * The one rule for the checkout summary, the invoices a checkout pays and the renewals a code discounts.
 */
export const discountBeforeTax = (lines: ReadonlyArray<NetLine>, offs: ReadonlyArray<PaymentDiscount | undefined>): DiscountedPayment => {
  const net = lines.reduce((sum, l) => sum + l.net, 0)
  const discounts: Array<number> = []
  let left = net
  for (const off of offs) {
    const d = discountOff(left, off)
    discounts.push(d)
    left -= d
  }
  const discount = BigInt(net - left)
  const total = BigInt(net)
  const exact = lines.map((l) => (total === 0n ? 0n : discount * BigInt(l.net)))
  const floors = exact.map((q) => (total === 0n ? 0n : q / total))
  let leftover = Number(discount - floors.reduce((s, f) => s + f, 0n))
  const byRemainder = exact.map((q, i) => ({ i, r: total === 0n ? 0n : q % total })).sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
  const shares = floors.map(Number)
  for (const { i } of byRemainder) {
    if (leftover <= 0) break
    shares[i]! += 1
    leftover -= 1
  }
  const taxes = lines.map((l, i) => (l.taxRate === undefined ? 0 : Number(roundHalfAwayFromZero(BigInt(l.net - shares[i]!) * BigInt(l.taxRate), PPM))))
  const tax = taxes.reduce((s, t) => s + t, 0)
  return { discounts, shares, taxes, net, tax, total: left + tax }
}

/** An invoice's total must not pass the invoice maximum; `total` is what the lines' totals and fees add up to. */
export const checkInvoiceAmount = (total: number): void => {
  if (!(Math.abs(total) <= maxInvoiceAmount)) {
    throw new PricingError("total", `the lines add up to more than ${maxInvoiceAmount} minor units, the most one invoice can hold`)
  }
}

/**
 * What one invoice of these lines comes to: the sum of the lines' totals, refused beyond the invoice maximum.
 * Checks line by line, so no partial sum is ever past 2^53.
 */
export const invoiceTotal = (lines: ReadonlyArray<Pick<LineItem, "unitPrice" | "quantity" | "discount" | "taxRate">>): number =>
  lines.reduce((sum, line) => {
    const next = sum + lineAmounts(line).total
    checkInvoiceAmount(next)
    return next
  }, 0)

export interface SummaryInput {
  readonly items: ReadonlyArray<LineItem>
  readonly fees?: ReadonlyArray<Fee>
  /** Undefined for auto-renew; the number of payments for fixed terms. */
  readonly payments?: number
  /** False when billing starts later than the purchase: nothing recurring is due now. */
  readonly firstPaymentDueNow: boolean
}

export interface Summary {
  /** What the buyer pays at checkout: one-time lines and fees, plus the first payment when it is due now. */
  readonly dueNow: Totals
  /** Each later recurring payment (recurring lines and recurring fees). */
  readonly perPayment: Totals
  /** How many recurring payments follow what is due now; undefined for auto-renew (no end). */
  readonly futurePayments: number | undefined
  /** The whole contract's total: only for fixed terms. */
  readonly total: number | undefined
}

/**
 * The summary of a purchase (reference, "Summary"): the subtotal counts only
 * what is due now; later charges show as future payments; a total exists only
 * when the number of payments is fixed; one-time lines, discounts, fees and
 * taxes apply only to what is due now.
 */
export const summarize = (input: SummaryInput): Summary => {
  const recurring = input.items.filter((i) => !i.oneTime).map(lineAmounts)
  const oneTime = input.items.filter((i) => i.oneTime).map(lineAmounts)
  const fees = input.fees ?? []
  const recurringFees = fees.filter((f) => f.recurring === true).map((f) => f.amount)
  const oneTimeFees = fees.filter((f) => f.recurring !== true).map((f) => f.amount)
  const perPayment = totalsOf(recurring, recurringFees)
  const dueNow = input.firstPaymentDueNow
    ? totalsOf([...recurring, ...oneTime], [...recurringFees, ...oneTimeFees])
    : totalsOf(oneTime, oneTimeFees)
  const hasRecurring = recurring.length > 0
  const futurePayments = !hasRecurring
    ? 0
    : input.payments === undefined
    ? undefined
    : input.firstPaymentDueNow
    ? input.payments - 1
    : input.payments
  // A whole contract may pass 2^53 (the invoice maximum × many payments): computed exactly, refused if not a safe integer.
  const exactTotal = futurePayments === undefined ? undefined : BigInt(dueNow.total) + BigInt(perPayment.total) * BigInt(futurePayments)
  if (exactTotal !== undefined && exactTotal > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PricingError("terms", `the contract's total of ${exactTotal} minor units is too large to hold exactly; fewer payments or smaller amounts`)
  }
  const total = exactTotal === undefined ? undefined : Number(exactTotal)
  return { dueNow, perPayment, futurePayments, total }
}

/**
 * A month in units of each frequency, as a fraction: a period of `count` units is numerator / (denominator × count)
 * of a month's worth. A year is 12 months, 52 weeks or 365 days: weekly × 52/12, biweekly × 26/12, every N days
 * × 365/12/N, quarterly ÷ 3, semiannual ÷ 6, annual ÷ 12. The one table of these factors: the SQL twin
 * (`monthlyAmountSql`, pricingSql.ts) is written from it.
 */
export const monthlyFactors: Readonly<Record<Frequency["unit"], { readonly numerator: number; readonly denominator: number }>> = {
  day: { numerator: 365, denominator: 12 },
  week: { numerator: 52, denominator: 12 },
  month: { numerator: 1, denominator: 1 },
  year: { numerator: 1, denominator: 12 }
}

/**
 * The amount of one billing period normalised to a month, for analytics (MRR), by `monthlyFactors`:
 * (amount × numerator) ÷ (denominator × count) in double precision, the very operations `monthlyAmountSql` does,
 * so both give the same bits. Returned in (fractional) minor units: it is a measure, never an amount to charge.
 */
export const normalizedMonthlyAmount = (amountPerPeriod: number, frequency: Frequency): number => {
  const f = monthlyFactors[frequency.unit]
  return (amountPerPeriod * f.numerator) / (f.denominator * frequency.count)
}

/** Parses `25%` or `12.5%` into parts per million; undefined when malformed. */
export const parsePercentPpm = (text: string): number | undefined => {
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?%$/.exec(text.trim())
  if (m === null) return undefined
  return Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"))
}
