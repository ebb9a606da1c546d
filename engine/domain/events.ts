/**
 * The `data` of journal events whose shape more than one writer shares
 * (engine/sql/EVENTS.md): built here once, so `subscriptions create`,
 * `import FILE.csv` and `import history` journal the same thing.
 */
import type { LineItem, UnitDiscount } from "./entities.ts"
import type { Frequency } from "./frequency.ts"
import { formatFrequency } from "./frequency.ts"
import type { BillingTerms } from "./terms.ts"
import { formatBillingTerms } from "./terms.ts"
import { closestName } from "./nearName.ts"

/** A line as the journal records it; `sku` and `productId` may be absent (custom items, imported history). */
export type JournalLine = Pick<LineItem, "name" | "unitPrice" | "quantity" | "oneTime"> & {
  readonly sku?: string | undefined
  readonly discount?: UnitDiscount | undefined
  readonly taxRate?: number | undefined
}

/** `items` of `subscription.created` and `subscription.items_changed`. */
export const itemsData = (lines: ReadonlyArray<JournalLine>) =>
  lines.map((l) => ({
    name: l.name, sku: l.sku ?? null, unit_price: l.unitPrice, quantity: l.quantity, one_time: l.oneTime,
    discount: l.discount ?? null, tax_rate_ppm: l.taxRate ?? null
  }))

export interface SubscriptionCreated {
  readonly name: string
  readonly currency: string
  readonly frequency: Frequency
  readonly terms: BillingTerms
  readonly startDate: string
  /** Its first billing date: the start date, unless an import migrated it (the first anchor date on or after the import's day). */
  readonly nextBillingDate?: string | undefined
  readonly endDate: string | null
  readonly collection: string
  readonly status: string
  /** One payment: the recurring lines, tax included, in minor units. */
  readonly amount: number
  readonly items: ReadonlyArray<JournalLine>
}

/** `data` of `subscription.created`; the next billing date of a new subscription is its start date unless given. */
export const subscriptionCreatedData = (s: SubscriptionCreated) => ({
  name: s.name, currency: s.currency, frequency: formatFrequency(s.frequency), terms: formatBillingTerms(s.terms), start_date: s.startDate,
  end_date: s.endDate, next_billing_date: s.nextBillingDate ?? s.startDate, collection_method: s.collection, status: s.status, amount: s.amount, items: itemsData(s.items)
})

/** Every type of event the journal holds (engine/sql/EVENTS.md), by noun: what webhooks may subscribe to. */
export const journalEventTypes = [
  "contact.created", "contact.updated",
  "product.updated", "product.archived",
  "subscription.created", "subscription.status_changed", "subscription.property_changed", "subscription.items_changed",
  "subscription.cancel_requested", "subscription.canceled", "subscription.paused", "subscription.resumed", "subscription.expired",
  "subscription.deleted", "subscription.renewed", "subscription.reminder_due",
  "invoice.created", "invoice.paid", "invoice.overdue", "invoice.voided", "invoice.written_off", "invoice.payment_recorded",
  "payment.succeeded", "payment.failed", "payment.refunded",
  "payment_link.created", "payment_link.updated", "payment_link.switched_off", "payment_link.switched_on", "payment_link.deleted",
  "discount_code.created", "discount_code.updated", "discount_code.deleted",
  "checkout.completed"
] as const

/**
 * A type to find events by (`events list --type`, `GET /v1/events?type=`): one the journal holds, else the
 * problem as words, with the type spelt nearly alike when there is one. A type no event has yet is a type.
 */
export const eventTypeProblem = (type: string): string | undefined => {
  if ((journalEventTypes as ReadonlyArray<string>).includes(type)) return undefined
  const near = closestName(type, journalEventTypes)
  return `unknown event type "${type}"${near === undefined ? "" : ` (did you mean "${near}"?)`}; types: ${journalEventTypes.join(", ")}`
}

/**
 * An event pattern of a webhook endpoint: a type (`invoice.paid`), a noun's
 * every type (`subscription.*`) or every event (`*`). The problem as words,
 * or undefined.
 */
export const eventPatternProblem = (pattern: string): string | undefined => {
  if (pattern === "*" || (journalEventTypes as ReadonlyArray<string>).includes(pattern)) return undefined
  const noun = /^([a-z_]+)\.\*$/.exec(pattern)?.[1]
  if (noun !== undefined && journalEventTypes.some((t) => t.startsWith(`${noun}.`))) return undefined
  return `unknown event "${pattern}" (a type such as invoice.paid, a noun such as subscription.*, or *; types: ${journalEventTypes.join(", ")})`
}
