/**
 * What a buyer pays through a payment link (reference, "Payment links" and
 * "Summary"): due today, the future payments, and a total only when the
 * number of payments is fixed. Pure: takes the link, the buyer's choices and
 * today, returns money. The purchase is planned by `planPurchase`, the same
 * grouping as `subscriptions create` and the CSV import (a monthly and a
 * yearly item are two subscriptions, two streams of future payments); line
 * amounts are `lineAmounts` (billing/pricing.ts), never a second rule.
 *
 * Discounts, in order: unit discounts are in every line (every payment); the
 * one-time order discount comes off what is due today; a discount code for N
 * payments comes off N charges in all, what is due today the first (`once` is
 * N = 1), or every payment for `forever` (`codeDiscountedPeriods`). Both come off a
 * payment before tax, shared out over its lines, which are then taxed on what is left
 * (`discountBeforeTax`). A percent is rounded half away from zero once per payment; an amount
 * never takes a payment below 0.
 */
import type { NetLine, PaymentDiscount, PurchaseItem, ShownLine } from "../billing/index.ts"
import { BillingSchedule, discountBeforeTax, lineAmounts, planPurchase, recurringAmount, shownLineOf, startDate, toDayNumber } from "../billing/index.ts"
import type { BillingStart, BuyerChoices, CalendarDate, DiscountDuration, Frequency, LineItem, LinkItem, Money, PaymentLink, PaymentLinkSettings } from "../domain/index.ts"
import { BuyerChoiceRefused, maxLineAmount, minorUnitExponent, money } from "../domain/index.ts"
import type { CodeDiscount } from "../invoicing/index.ts"

/** One item as bought: its line (quantity and price as chosen), its currency and frequency, and its index in the link. */
export interface ChosenItem extends PurchaseItem {
  readonly index: number
  readonly line: Pick<LineItem, "name" | "unitPrice" | "quantity" | "discount" | "taxRate" | "oneTime">
}

/** A run of equal future payments of one subscription. */
export interface FuturePayments {
  /** Which planned subscription (index in `planPurchase`'s order). */
  readonly subscription: number
  readonly name: string
  readonly frequency: Frequency
  /** The date of the first payment of the run. */
  readonly firstDate: CalendarDate
  /** Each payment of the run. */
  readonly amount: Money
  /** How many payments; undefined: until canceled (auto-renew). */
  readonly payments: number | undefined
}

export interface LinkSummary {
  readonly currency: string
  /** When recurring billing starts (today when it starts at checkout). */
  readonly startDate: CalendarDate
  /** Today's lines before tax and before the order discount and the code: one-time items, plus the first payments when billing starts now. */
  readonly subtotal: Money
  /** What the order discount takes off today's lines, before tax. */
  readonly orderDiscount: Money
  /** What the discount code takes off today's lines (what the order discount left), before tax. */
  readonly codeDiscount: Money
  /** The tax on today's lines, on what the discounts left of each. */
  readonly tax: Money
  /** What the buyer pays at checkout: subtotal − orderDiscount − codeDiscount + tax. */
  readonly dueToday: Money
  /** The order discount and the code as they were taken off today's lines, for the invoices the payment pays. */
  readonly discountsToday: ReadonlyArray<PaymentDiscount | undefined>
  readonly futurePayments: ReadonlyArray<FuturePayments>
  /** The code as the subscriptions the purchase makes keep it (`subscriptions.code_discount`, billed by `draftInvoices`): none when it discounts no payment after today's. */
  readonly codeOnSubscriptions: CodeDiscount | undefined
  /** Everything the buyer will pay: only when the number of payments is fixed (or nothing recurs). */
  readonly total: Money | undefined
  /** What is bought, for planning the subscriptions with `planPurchase`. */
  readonly items: ReadonlyArray<ChosenItem>
  /**
   * Each item bought as the buyer reads it (`shownLine`, billing/pricing.ts): quantity × unit price, less the line's
   * discount, = the line's amount, what it charges each payment before tax. Today's lines' amounts add up to `subtotal`.
   */
  readonly lines: ReadonlyArray<SummaryLine>
}

/** One item of a summary as shown: its index in the link, its name, whether it is one-time, and its `ShownLine`. */
export interface SummaryLine extends ShownLine {
  readonly index: number
  readonly name: string
  readonly oneTime: boolean
  /** How often it is paid; undefined: one-time. */
  readonly frequency: Frequency | undefined
}

const refuse = (item: number, reason: BuyerChoiceRefused["reason"], problem: string): never => {
  throw new BuyerChoiceRefused({ item, reason, problem })
}

/** The most a buyer may set as an own price at this quantity: what one line can hold (more threw a PricingError: a 500). */
export const ownPriceMaximum = (quantity: number): number => Math.floor(maxLineAmount / Math.max(1, quantity))

/** A link item as a priced line at a quantity and unit price. */
export const lineOf = (item: LinkItem, quantity: number, unitPrice: number): ChosenItem["line"] => ({
  name: item.name,
  unitPrice: unitPrice as LineItem["unitPrice"],
  quantity,
  oneTime: item.frequency === undefined,
  ...(item.discount === undefined ? {} : { discount: item.discount }),
  ...(item.taxRate === undefined ? {} : { taxRate: item.taxRate })
})

/**
 * The items a buyer's choices make of a link: optional items only when
 * included, quantities within their min..max, own prices at least their
 * minimum. Throws `BuyerChoiceRefused` for a choice the link does not allow.
 */
export const chooseItems = (link: Pick<PaymentLinkSettings, "items" | "currency">, choices: BuyerChoices): Array<ChosenItem> => {
  for (const index of choices.items?.keys() ?? []) {
    if (!Number.isInteger(index) || index < 0 || index >= link.items.length) refuse(index, "NoSuchItem", `the link has no item ${index + 1}`)
  }
  const chosen: Array<ChosenItem> = []
  link.items.forEach((item, index) => {
    const choice = choices.items?.get(index)
    const n = index + 1
    if (!item.optional && choice?.include === false) refuse(index, "NotOptional", `item ${n} (${item.name}) is not optional`)
    if (item.optional && choice?.include !== true) return
    let quantity = item.quantity
    if (choice?.quantity !== undefined) {
      const q = choice.quantity
      if (item.editableQuantity === undefined) {
        if (q !== item.quantity) refuse(index, "QuantityNotEditable", `the quantity of item ${n} (${item.name}) cannot be changed`)
      } else if (!Number.isSafeInteger(q) || q < item.editableQuantity.min || q > item.editableQuantity.max) {
        refuse(index, "QuantityOutOfRange", `the quantity of item ${n} (${item.name}) must be a whole number from ${item.editableQuantity.min} to ${item.editableQuantity.max}, got ${q}`)
      }
      quantity = q
    }
    let unitPrice = item.unitPrice
    if (choice?.unitPrice !== undefined) {
      const p = choice.unitPrice
      if (item.ownPrice === undefined) {
        if (p !== item.unitPrice) refuse(index, "PriceNotOwn", `the price of item ${n} (${item.name}) is set by the seller`)
      } else if (!Number.isSafeInteger(p) || p < item.ownPrice.minimum) {
        refuse(index, "PriceBelowMinimum", `the price of item ${n} (${item.name}) must be at least ${item.ownPrice.minimum} minor units, got ${p}`)
      } else if (p > ownPriceMaximum(quantity)) {
        refuse(index, "PriceAboveMaximum", `the price of item ${n} (${item.name}) must be at most ${ownPriceMaximum(quantity)} minor units (the most one line can hold), got ${p}`)
      }
      unitPrice = p
    }
    chosen.push({ index, currency: link.currency, frequency: item.frequency, line: lineOf(item, quantity, unitPrice) })
  })
  return chosen
}

/** The least a buyer can choose: optional items left out, quantities at their minimum, own prices at their minimum. */
export const lowestChoices = (link: Pick<PaymentLinkSettings, "items">): BuyerChoices => ({
  items: new Map(link.items.flatMap((item, i) =>
    item.editableQuantity === undefined && item.ownPrice === undefined
      ? []
      : [[i, { quantity: item.editableQuantity?.min, unitPrice: item.ownPrice?.minimum }] as const]
  ))
})

/**
 * The start of recurring billing for a purchase on `today`. A link's start date that has passed (the link
 * was made before it, the buyer pays after it) starts billing at checkout: billing never reaches back to the
 * periods since that date (`planPurchase` refuses a start before today).
 */
export const billingStartDate = (start: BillingStart, today: CalendarDate): CalendarDate => {
  const date = startDate(today, start._tag === "AtCheckout" ? undefined : start._tag === "Date" ? start : start._tag === "DelayDays" ? { _tag: "Days", days: start.days } : { _tag: "Months", months: start.months })
  return toDayNumber(date) < toDayNumber(today) ? today : date
}

/** 0.50 in the currency's major unit, in its minor units, rounded up (USD 50, JPY 1, KWD 500). */
export const minimumDueAtCheckout = (currency: string): number => Math.ceil((50 * 10 ** minorUnitExponent(currency)) / 100)

/** A chosen line as `discountBeforeTax` takes it: its net (after its unit discount, the amount `shownLineOf` shows) and its tax rate. */
const netLine = (line: ChosenItem["line"]): NetLine => ({ net: lineAmounts(line).net, taxRate: line.taxRate })

/**
 * How many of each subscription's payments a code discounts, counting its periods from 0. A code for N payments
 * discounts N charges of the purchase in all, the charge at checkout the first (`once` is N = 1; `forever`, every
 * payment), so a buyer gets the same number of discounted payments whenever billing starts. Billed from checkout, that
 * charge is each subscription's period 0: periods 0..N−1. Billed later, it pays today's one-time items: the
 * subscriptions' periods 0..N−2 follow it. (With nothing charged at checkout, which a link cannot be saved to do,
 * the first subscription payment is the first.)
 */
const codeDiscountedPeriods = (duration: DiscountDuration, chargedBeforeBilling: boolean): number => {
  const charges = duration._tag === "Once" ? 1 : duration._tag === "Payments" ? duration.payments : Infinity
  return chargedBeforeBilling ? charges - 1 : charges
}

/**
 * The summary of buying `link` with `choices` on `today`. Throws
 * `BuyerChoiceRefused` for a choice the link does not allow. A code whose
 * currency is not the link's is not applied here: check it with
 * `discountCodeProblem` first.
 */
export const linkSummary = (
  link: Pick<PaymentLink, "items" | "currency" | "terms" | "start" | "orderDiscount">,
  choices: BuyerChoices,
  today: CalendarDate
): LinkSummary => {
  const currency = link.currency
  const items = chooseItems(link, choices)
  const start = billingStartDate(link.start, today)
  const firstPaymentNow = toDayNumber(start) <= toDayNumber(today)
  const code = choices.discountCode
  const codeOff = code !== undefined && (code.off._tag === "Percent" || code.off.currency === currency) ? code.off : undefined
  const recurringItems = items.filter((i) => i.frequency !== undefined)

  const streams: Array<{ name: string; frequency: Frequency; lines: ReadonlyArray<NetLine>; perPayment: number }> = []
  // Today's lines, in the order billing invoices them (the checkout's discounts are shared out over them in that order):
  // the planned subscriptions' lines when billing starts now, else the one-time items alone; a purchase of only one-time
  // items is one order of them.
  let todayLines: ReadonlyArray<ChosenItem["line"]> = items.map((i) => i.line)
  if (recurringItems.length > 0) {
    const plan = planPurchase(items, { terms: link.terms, startDate: start, today })
    // One currency per link (linkRules), at least one recurring item here: planPurchase cannot refuse.
    if (plan._tag === "Refused") throw new Error(`planPurchase refused a link's purchase: ${plan.refusal._tag}`)
    for (const s of plan.subscriptions) {
      const recurring = s.items.filter((i) => !i.line.oneTime).map((i) => i.line)
      streams.push({ name: s.name, frequency: s.frequency, lines: recurring.map(netLine), perPayment: recurringAmount(s.items.map((i) => i.line)) })
    }
    todayLines = firstPaymentNow ? plan.subscriptions.flatMap((s) => s.items.map((i) => i.line)) : items.filter((i) => i.frequency === undefined).map((i) => i.line)
  }

  // The order discount, then the code, off what is due today before tax (billing/pricing.ts, the rule its invoices use).
  const discountsToday = [link.orderDiscount, codeOff] as const
  const paidToday = discountBeforeTax(todayLines.map(netLine), discountsToday)
  const [orderDiscount, codeDiscount] = paidToday.discounts as [number, number]
  const dueToday = paidToday.total
  const codePeriods = code === undefined || codeOff === undefined ? 0 : codeDiscountedPeriods(code.duration, !firstPaymentNow && todayLines.length > 0)

  const futurePayments: Array<FuturePayments> = []
  const fixed = link.terms._tag === "Fixed" ? link.terms.payments : undefined
  // Payment k (0-based) of each subscription is on schedule date k; k = 0 was paid today when billing starts now.
  const firstFuture = firstPaymentNow ? 1 : 0
  streams.forEach((s, subscription) => {
    const schedule = new BillingSchedule(start, s.frequency)
    const remaining = fixed === undefined ? Infinity : fixed - firstFuture
    const discounted = Math.min(remaining, Math.max(0, codePeriods - firstFuture))
    const run = (from: number, count: number, amount: number) => {
      if (!(count > 0)) return
      futurePayments.push({
        subscription, name: s.name, frequency: s.frequency, firstDate: schedule.dateAt(from),
        amount: money(amount, currency), payments: Number.isFinite(count) ? count : undefined
      })
    }
    run(firstFuture, discounted, discountBeforeTax(s.lines, [codeOff]).total)
    // A code for every payment of an endless subscription leaves no undiscounted payments (∞ − ∞ is none, not NaN).
    if (discounted !== Infinity) run(firstFuture + discounted, remaining - discounted, s.perPayment)
  })

  const endless = futurePayments.some((f) => f.payments === undefined)
  const exactTotal = futurePayments.reduce((sum, f) => sum + BigInt(f.amount.amount) * BigInt(f.payments ?? 0), BigInt(dueToday))
  if (exactTotal > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`a link's total of ${exactTotal} minor units is too large to hold exactly`)
  return {
    currency,
    startDate: start,
    subtotal: money(paidToday.net, currency),
    orderDiscount: money(orderDiscount, currency),
    codeDiscount: money(codeDiscount, currency),
    tax: money(paidToday.tax, currency),
    dueToday: money(dueToday, currency),
    discountsToday,
    futurePayments,
    codeOnSubscriptions: codeOff === undefined || codePeriods <= firstFuture ? undefined : {
      off: codeOff._tag === "Percent" ? { _tag: "Percent", ppm: codeOff.ppm } : { _tag: "Amount", amount: codeOff.amount },
      payments: Number.isFinite(codePeriods) ? codePeriods : null
    },
    total: endless ? undefined : money(Number(exactTotal), currency),
    items,
    lines: items.map((i) => ({ index: i.index, name: i.line.name, oneTime: i.line.oneTime, frequency: i.frequency, ...shownLineOf(i.line) }))
  }
}
