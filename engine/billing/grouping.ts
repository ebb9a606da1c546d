/**
 * Grouping line items into subscriptions (reference, "Creation"): items with
 * the same billing frequency, billing terms, start date and number of payments
 * go on one subscription; others make separate subscriptions, so a purchase of
 * one monthly and one yearly item makes two.
 */
import type { BillingTerms, CalendarDate, Frequency, LineItem } from "../domain/index.ts"
import { formatBillingTerms } from "../domain/index.ts"
import { BillingSchedule, toDayNumber } from "./calendar.ts"
import { lineAmounts } from "./pricing.ts"

export interface Groupable {
  readonly frequency: Frequency
  readonly terms: BillingTerms
  readonly startDate: CalendarDate
}

export const groupKey = (item: Groupable): string =>
  `${item.frequency.unit}:${item.frequency.count}|${formatBillingTerms(item.terms)}|${item.startDate}`

/** Groups items in order of first appearance; each group keeps its items' order. */
export const groupIntoSubscriptions = <T extends Groupable>(items: ReadonlyArray<T>): Array<Array<T>> => {
  const groups = new Map<string, Array<T>>()
  for (const item of items) {
    const key = groupKey(item)
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [item])
    else g.push(item)
  }
  return [...groups.values()]
}

/** One item of a purchase, resolved: its line, currency and frequency (undefined: a one-time item). */
export interface PurchaseItem {
  readonly line: Pick<LineItem, "name" | "unitPrice" | "quantity" | "discount" | "taxRate" | "oneTime">
  readonly currency: string
  readonly frequency: Frequency | undefined
}

/** What one payment of these lines bills: the recurring lines, tax included, in minor units. */
export const recurringAmount = (lines: ReadonlyArray<Pick<LineItem, "unitPrice" | "quantity" | "discount" | "taxRate" | "oneTime">>): number =>
  lines.reduce((sum, l) => (l.oneTime ? sum : sum + lineAmounts(l).total), 0)

export interface PlannedSubscription<T extends PurchaseItem> {
  /** The group's recurring items, then (the first subscription in their currency) the one-time items. */
  readonly items: ReadonlyArray<T>
  readonly name: string
  readonly currency: string
  readonly frequency: Frequency
  readonly terms: BillingTerms
  /** The billing anchor: every billing date is computed from it. */
  readonly startDate: CalendarDate
  /** The first date billcycle bills: the start, or for a migrated purchase the first anchor date on or after today. */
  readonly nextBillingDate: CalendarDate
  /** The periods before `nextBillingDate`, billed (and paid) by the system a migrated purchase came from; 0 for a new one. */
  readonly periodsBilledBefore: number
  readonly endDate: CalendarDate | null
  readonly status: "scheduled" | "active"
  readonly amountPerPayment: number
}

/** Why a purchase cannot be planned; `item` is the index (in the purchase) of the item the refusal is about. */
export type PurchaseRefusal =
  | { readonly _tag: "NoRecurringItem"; readonly item: number }
  | { readonly _tag: "MixedCurrencies"; readonly currencies: ReadonlyArray<string>; readonly item: number }
  | { readonly _tag: "StartsBeforeToday"; readonly startDate: CalendarDate; readonly today: CalendarDate }
  | { readonly _tag: "TermEndedBeforeToday"; readonly endDate: CalendarDate; readonly today: CalendarDate }

export type PurchasePlan<T extends PurchaseItem> =
  | { readonly _tag: "Planned"; readonly subscriptions: ReadonlyArray<PlannedSubscription<T>> }
  | { readonly _tag: "Refused"; readonly refusal: PurchaseRefusal }

/** A purchase as `planPurchase` takes it. */
export interface Purchase {
  readonly terms: BillingTerms
  readonly startDate: CalendarDate
  readonly today: CalendarDate
  /**
   * A subscription moved from another system (`import FILE.csv`): a start before today is when the
   * other system began billing it, which billed every period before today.
   */
  readonly migrated?: boolean | undefined
  /** The language the buyer reads (en, nb, nl, fr, sv; default en): a subscription of several items is named in it. */
  readonly language?: string | undefined
}

/** "+ N more" in the buyer's language, after the first item's name. */
const andMore: Record<string, (n: number) => string> = {
  en: (n) => `${n} more`, nb: (n) => `${n} til`, nl: (n) => `${n} meer`, fr: (n) => `${n} autre${n === 1 ? "" : "s"}`, sv: (n) => `${n} till`
}

/**
 * A purchase's subscription is named after its first recurring item, and how many more recurring items it holds:
 * `Beans + 1 more`, `Kaffe + 1 til`. The one-time items riding with its first payment (a setup fee) are not what
 * it bills every period: they are not counted (`Beans` with a setup fee, not `Beans + 1 more`). An order of
 * one-time items only (`planOneTimeOrder`) is named after its first item and counts the others.
 */
export const purchaseName = (items: ReadonlyArray<{ readonly line: { readonly name: string; readonly oneTime?: boolean | undefined } }>, language = "en"): string => {
  const recurring = items.filter((i) => i.line.oneTime !== true)
  const named = recurring.length > 0 ? recurring : items
  return named.length === 1 ? named[0]!.line.name : `${named[0]!.line.name} + ${(andMore[language] ?? andMore["en"]!)(named.length - 1)}`
}

/** Where billing of a subscription planned on `today` begins: its next billing date, or a refusal. */
const firstBilling = (
  purchase: Purchase, frequency: Frequency
): { readonly nextBillingDate: CalendarDate; readonly periodsBilledBefore: number; readonly endDate: CalendarDate | null } | PurchaseRefusal => {
  const { terms, startDate, today } = purchase
  const schedule = new BillingSchedule(startDate, frequency)
  const endDate = terms._tag === "Fixed" ? schedule.endDate(terms.payments) : null
  const todayDay = toDayNumber(today)
  if (toDayNumber(startDate) >= todayDay) return { nextBillingDate: startDate, periodsBilledBefore: 0, endDate }
  // Billing never reaches back: a start before today would invoice (and charge) every period since at once,
  // and a mistyped year would bill years. A new subscription starts today or later.
  if (purchase.migrated !== true) return { _tag: "StartsBeforeToday", startDate, today }
  // A migration: the other system billed the periods before today. The start stays the anchor (the customer's
  // billing day) and billing goes on from the first anchor date on or after today, as after a resume
  // (invoicing/billingRun.ts skipUnpaidPeriods). Fixed terms are the contract from the start: the end date
  // stays, the periods before today count as payments made, and one that ended before today has nothing to bill.
  if (endDate !== null && toDayNumber(endDate) < todayDay) return { _tag: "TermEndedBeforeToday", endDate, today }
  const k = schedule.indexOnOrAfter(todayDay)
  const periodsBilledBefore = terms._tag === "Fixed" ? Math.min(k, terms.payments) : k
  return { nextBillingDate: schedule.dateAt(periodsBilledBefore), periodsBilledBefore, endDate }
}

/**
 * Plans one purchase (reference, "Creation"), for `subscriptions create`,
 * `import FILE.csv` and a paid checkout alike: recurring items grouped by
 * frequency (terms and start date are the purchase's), one subscription per
 * group; the items of a group must share a currency; a one-time item rides with
 * the first payment of the first subscription in its currency (none: refused). A
 * subscription starting after today is scheduled; it is named after its first
 * item. A start before today is refused, except for a migrated purchase, which
 * bills on from the first anchor date on or after today (`firstBilling`).
 */
export const planPurchase = <T extends PurchaseItem>(items: ReadonlyArray<T>, purchase: Purchase): PurchasePlan<T> => {
  const indexed = items.map((item, index) => ({ item, index }))
  const recurring = indexed.filter((r) => r.item.frequency !== undefined)
  const oneTime = indexed.filter((r) => r.item.frequency === undefined)
  if (recurring.length === 0) return { _tag: "Refused", refusal: { _tag: "NoRecurringItem", item: 0 } }
  const { terms, startDate } = purchase
  const groups = groupIntoSubscriptions(recurring.map((r) => ({ ...r, frequency: r.item.frequency!, terms, startDate })))
  for (const g of groups) {
    const other = g.find((r) => r.item.currency !== g[0]!.item.currency)
    if (other !== undefined) {
      return { _tag: "Refused", refusal: { _tag: "MixedCurrencies", currencies: [...new Set(g.map((r) => r.item.currency))], item: other.index } }
    }
  }
  // A one-time item rides with the first subscription in its currency. One in a currency no subscription
  // bills would be dropped without a word (a setup fee never charged), so the purchase is refused, naming it.
  const currencies = groups.map((g) => g[0]!.item.currency)
  const stray = oneTime.find((r) => !currencies.includes(r.item.currency))
  if (stray !== undefined) return { _tag: "Refused", refusal: { _tag: "MixedCurrencies", currencies: [currencies[0]!, stray.item.currency], item: stray.index } }
  const status = toDayNumber(startDate) > toDayNumber(purchase.today) ? "scheduled" : "active"
  const subscriptions: Array<PlannedSubscription<T>> = []
  for (const [gi, g] of groups.entries()) {
    const currency = g[0]!.item.currency
    const frequency = g[0]!.frequency
    const billing = firstBilling(purchase, frequency)
    if ("_tag" in billing) return { _tag: "Refused", refusal: billing }
    const ridesHere = (o: { item: T }) => o.item.currency === currency && currencies.indexOf(currency) === gi
    const planned = [...g.map((r) => r.item), ...oneTime.filter(ridesHere).map((o) => o.item)]
    subscriptions.push({
      items: planned, currency, frequency, terms, startDate, status, ...billing,
      name: purchaseName(planned, purchase.language),
      amountPerPayment: recurringAmount(planned.map((r) => r.line))
    })
  }
  return { _tag: "Planned", subscriptions }
}

/**
 * A purchase of one-time items only, through a payment link (a simple link made from a contact, a
 * one-time offer): billcycle keeps every invoice on a subscription, so the order is one subscription
 * of one payment, holding the items, billed at once and closed (expired) the same day by the checkout.
 * Its lines are all one-time: it adds nothing to MRR, subscribers or churn.
 */
export const planOneTimeOrder = <T extends PurchaseItem>(
  items: ReadonlyArray<T>,
  purchase: { readonly startDate: CalendarDate; readonly language?: string | undefined }
): PlannedSubscription<T> => {
  const frequency: Frequency = { unit: "month", count: 1 }
  const terms: BillingTerms = { _tag: "Fixed", payments: 1 }
  return {
    items, currency: items[0]!.currency, frequency, terms, startDate: purchase.startDate, nextBillingDate: purchase.startDate, periodsBilledBefore: 0, status: "active",
    name: purchaseName(items, purchase.language),
    endDate: new BillingSchedule(purchase.startDate, frequency).endDate(1),
    amountPerPayment: 0
  }
}
