/**
 * What rules may talk about: the properties of subscriptions, contacts,
 * invoices and payments with their types, which of them the engine owns,
 * the events and their fields, the templates, teams and lists. The account's
 * custom subscription properties extend it.
 */
export type PropertyType = "string" | "number" | "money" | "date" | "boolean" | "status" | "duration"

export interface PropertySpec {
  readonly type: PropertyType
  /** Set by the engine only: a rule may read it, never `set` it. */
  readonly engineOwned: boolean
  readonly values?: ReadonlyArray<string>
}

const p = (type: PropertyType, engineOwned = true, values?: ReadonlyArray<string>): PropertySpec => ({ type, engineOwned, ...(values === undefined ? {} : { values }) })

export const statuses = ["scheduled", "active", "past_due", "unpaid", "paused", "canceled", "expired"] as const

export const objects: Record<string, Record<string, PropertySpec>> = {
  subscription: {
    id: p("number"), name: p("string", false), status: p("status", true, statuses), mrr: p("money"), amount: p("money"), currency: p("string"),
    frequency: p("string", true, ["weekly", "biweekly", "monthly", "quarterly", "semiannually", "annually"]), terms: p("string"),
    start_date: p("date"), end_date: p("date"), next_billing_date: p("date"), created_on: p("date"), canceled_on: p("date"),
    payments_made: p("number"), collection_method: p("string", true, ["charge", "invoice"]), owner: p("string", false),
    language: p("string", false), locale: p("string", false), reminders: p("boolean", false), payment_method: p("string")
  },
  contact: { id: p("number"), email: p("string"), name: p("string", false), language: p("string", false), locale: p("string", false), country: p("string", false) },
  invoice: { id: p("number"), number: p("string"), total: p("money"), due_date: p("date"), issue_date: p("date"), status: p("string", true, ["open", "paid", "void", "uncollectible"]) },
  payment: { id: p("number"), amount: p("money"), status: p("string", true, ["succeeded", "failed", "unknown"]), attempt: p("number"), failure_reason: p("string") }
}

/** Events a rule can be triggered by, with the fields `event.X` may read in such a rule. */
export const events: Record<string, Record<string, PropertyType>> = {
  "subscription.created": {},
  "subscription.status_changed": { from: "string", to: "string", reason: "string" },
  "subscription.property_changed": { property: "string" },
  "subscription.items_changed": { version: "number", effective_from: "date" },
  "subscription.canceled": { effective_on: "date", at_period_end: "boolean" },
  "subscription.expired": { end_date: "date" },
  "subscription.paused": { resume_on: "date" },
  "subscription.resumed": { next_billing_date: "date", end_date: "date" },
  "subscription.renewed": { payments_made: "number" },
  "subscription.reminder_due": { next_billing_date: "date" },
  "invoice.created": { total: "money", due_date: "date", period_start: "date", period_end: "date" },
  "invoice.paid": { total: "money" },
  "invoice.overdue": { total: "money", due_date: "date" },
  "payment.succeeded": { amount: "money", payments_made: "number" },
  "checkout.completed": { amount: "money", slug: "string", discount_code: "string" },
  "payment.failed": { amount: "money", attempt: "number", reason: "string", next_retry_on: "date" }
}

/** Events that happen once per subject: `reenroll` on them changes nothing. */
export const onceOnlyEvents = new Set(["subscription.created", "subscription.expired"])

export const durationUnits = ["day", "days", "week", "weeks", "month", "months", "year", "years"]

/**
 * ISO 4217 codes, from the same ICU table engine/domain/money.ts reads (the
 * dsl does not import the engine). A currency is stored in capitals, so
 * `currency is "usd"` never matches.
 */
export const knownCurrencies: ReadonlyArray<string> = Intl.supportedValuesOf("currency")

/** Properties whose value is a currency code. */
export const currencyProperties = new Set(["subscription.currency"])

/** Properties whose value is a country code (ISO 3166-1 alpha-2), stored in capitals: `country is "no"` never matches. */
export const countryProperties = new Set(["contact.country"])

export interface CheckContext {
  readonly templates: ReadonlyArray<string>
  readonly teams: ReadonlyArray<string>
  /** Undefined: any list name is allowed (lists are created on first use). */
  readonly lists?: ReadonlyArray<string> | undefined
  readonly customProperties?: Readonly<Record<string, PropertyType>>
  /** Labels of the custom properties, for hover and completion. */
  readonly propertyLabels?: Readonly<Record<string, string>>
  /** Undefined: the ISO 4217 codes (`knownCurrencies`). */
  readonly currencies?: ReadonlyArray<string> | undefined
}

export const defaultCheckContext: CheckContext = {
  templates: ["welcome", "renewal_offer", "internal_notification", "receipt", "payment_failed", "reminder", "invoice_sent", "cancellation", "expiry", "payment_notification"],
  teams: ["finance", "support", "sales", "ops"]
}

/** What each property means, for the language server's hover and completion. */
export const propertyDocs: Record<string, string> = {
  "subscription.id": "the subscription's number",
  "subscription.name": "the subscription's name, as the buyer sees it",
  "subscription.status": `its status: ${statuses.join(", ")}`,
  "subscription.mrr": "monthly recurring revenue, in the subscription's currency (50.00)",
  "subscription.amount": "the amount of one billing period, in the subscription's currency",
  "subscription.currency": "its ISO 4217 currency code, in capitals (\"USD\")",
  "subscription.frequency": "how often it bills: weekly, biweekly, monthly, quarterly, semiannually, annually",
  "subscription.terms": "its payment terms",
  "subscription.start_date": "the day it started",
  "subscription.end_date": "the day a fixed term ends; unknown for an open-ended subscription",
  "subscription.next_billing_date": "the next day it bills",
  "subscription.created_on": "the day it was created",
  "subscription.canceled_on": "the day it was canceled; unknown while it is not",
  "subscription.payments_made": "how many periods have been paid",
  "subscription.collection_method": "charge (a saved payment method) or invoice (the buyer pays an invoice)",
  "subscription.owner": "who looks after it (an email address); rules may set it",
  "subscription.language": "the language of its emails (\"nb\"); rules may set it",
  "subscription.locale": "the locale of its numbers and dates (\"nb-NO\"); rules may set it",
  "subscription.reminders": "whether renewal reminders are sent; rules may set it",
  "subscription.payment_method": "the payment method's token it is charged: its own, else its contact's",
  "contact.id": "the contact's number",
  "contact.email": "the contact's email address",
  "contact.name": "the contact's name",
  "contact.language": "the contact's language",
  "contact.locale": "the contact's locale",
  "contact.country": "the contact's country (ISO 3166 code, \"NO\")",
  "invoice.id": "the invoice's number in the store",
  "invoice.number": "the invoice number printed on it",
  "invoice.total": "its total, in its currency",
  "invoice.due_date": "the day it is due",
  "invoice.issue_date": "the day it was issued",
  "invoice.status": "open, paid, void or uncollectible",
  "payment.id": "the payment attempt's number",
  "payment.amount": "the amount charged",
  "payment.status": "succeeded, failed or unknown (a lost gateway reply)",
  "payment.attempt": "which attempt this is (1, 2, …)",
  "payment.failure_reason": "why the gateway declined it"
}
