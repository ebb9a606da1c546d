/**
 * One subscription as `subscriptions show` and `GET /v1/subscriptions/:id`
 * give it: the row, the items in force today and the next version (a change
 * waits for the next billing date), and its invoices. The rows are read by
 * the `Subscriptions` service (`show`: one statement).
 */
import { nextVersionAfter, versionInForce } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import { moneyJson } from "../domain/index.ts"
import { invoiceSummaryJson } from "../invoicing/index.ts"
import type { SubscriptionRows } from "./Subscriptions.ts"
import type { CreatedSubscription, ItemVersion, StoredLine, SubscriptionRow } from "./subscriptionWrites.ts"

/** The view of those rows on `today`: which items are in force, which come next. */
export const subscriptionViewOn = (rows: SubscriptionRows, today: CalendarDate) => ({
  sub: rows.sub,
  invoices: rows.invoices,
  current: versionInForce(rows.versions, today),
  next: nextVersionAfter(rows.versions, today)
})

/** Lines as JSON: money as `{ amount, currency, formatted }` (README: in the API and every `--json`). */
const linesJson = (lines: ReadonlyArray<StoredLine>, currency: string) =>
  lines.map((l) => ({ ...l, unit_price: moneyJson(l.unit_price, currency), discount_amount: l.discount_amount === null ? null : moneyJson(l.discount_amount, currency) }))

const versionJson = (v: ItemVersion | undefined, currency: string) =>
  v === undefined ? null : { version: v.version, effective_from: v.effectiveFrom, amount_per_payment: moneyJson(v.amountPerPayment, currency), items: linesJson(v.lines, currency) }

/**
 * The discount code a buyer redeemed at checkout, as the views give it: what it takes off each payment it covers (a
 * percent, or an amount in the subscription's currency), how many payments it covers counting the one at checkout
 * (null: every payment), and the first day at full price once the billing run has billed the last (null: the next
 * payment is still discounted). Null without a code.
 */
export const discountCodeJson = (sub: Pick<SubscriptionRow, "code_discount" | "code_discount_ends_on" | "currency">) => {
  const code = sub.code_discount
  if (code === null) return null
  return {
    percent_off: code.off._tag === "Percent" ? `${code.off.ppm / 10_000}%` : null,
    amount_off: code.off._tag === "Amount" ? moneyJson(code.off.amount, sub.currency) : null,
    payments: code.payments,
    full_price_from: sub.code_discount_ends_on
  }
}

/** A subscription's row as JSON (lists and views): its discount code as `discount`, not the stored shape. */
export const subscriptionRowJson = <R extends SubscriptionRow>(row: R) => {
  const { code_discount: _code, code_discount_ends_on: _ends, ...rest } = row
  return { object: "subscription" as const, ...rest, discount: discountCodeJson(row) }
}

/**
 * One subscription as JSON, the same in `GET /v1/subscriptions/:id` and `subscriptions show --json`: its row, the
 * items in force on `today` (else the next ones), what each payment costs, both versions and its invoices.
 */
export const subscriptionJson = (rows: SubscriptionRows, today: CalendarDate) => {
  const { sub, invoices, current, next } = subscriptionViewOn(rows, today)
  const shown = current ?? next
  return {
    ...subscriptionRowJson(sub), today,
    amount_per_payment: shown === undefined ? null : moneyJson(shown.amountPerPayment, sub.currency),
    items: shown === undefined ? [] : linesJson(shown.lines, sub.currency),
    current_items: versionJson(current, sub.currency), next_items: versionJson(next, sub.currency),
    invoices: invoices.map((i) => ({ object: "invoice", ...invoiceSummaryJson(i) }))
  }
}

/** A subscription just made, as `POST /v1/subscriptions` and `subscriptions create --json` give it (snake_case, money as JSON). */
export const createdSubscriptionJson = (c: CreatedSubscription) => ({
  object: "subscription", id: c.id, name: c.name, status: c.status, frequency: c.frequency, terms: c.terms, currency: c.currency,
  start_date: c.startDate, end_date: c.endDate, next_billing_date: c.nextBillingDate, item_count: c.items,
  amount_per_payment: moneyJson(c.amountPerPayment, c.currency)
})
