/**
 * The billing entities as Effect schemas: what the store reads and writes and
 * what the engine, the rules and the templates are handed. Ids are branded so
 * that a contact id cannot be passed where a subscription id is expected.
 */
import { Schema } from "effect"
import { CalendarDate } from "./calendarDate.ts"
import { CurrencyCode, MinorUnits, Money } from "./money.ts"
import { Frequency } from "./frequency.ts"
import { BillingTerms } from "./terms.ts"
import { CollectionMethod, InvoiceStatus, PaymentAttemptStatus, PaymentTerms, SubscriptionStatus } from "./status.ts"

const Id = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

export const ProductId = Id.pipe(Schema.brand("ProductId"))
export type ProductId = typeof ProductId.Type
export const ContactId = Id.pipe(Schema.brand("ContactId"))
export type ContactId = typeof ContactId.Type
export const CompanyId = Id.pipe(Schema.brand("CompanyId"))
export type CompanyId = typeof CompanyId.Type
export const SubscriptionId = Id.pipe(Schema.brand("SubscriptionId"))
export type SubscriptionId = typeof SubscriptionId.Type
export const LineItemId = Id.pipe(Schema.brand("LineItemId"))
export type LineItemId = typeof LineItemId.Type
export const InvoiceId = Id.pipe(Schema.brand("InvoiceId"))
export type InvoiceId = typeof InvoiceId.Type
export const PaymentAttemptId = Id.pipe(Schema.brand("PaymentAttemptId"))
export type PaymentAttemptId = typeof PaymentAttemptId.Type
export const EventId = Id.pipe(Schema.brand("EventId"))
export type EventId = typeof EventId.Type

/**
 * An email address as the store takes it (contacts_email_check, `^[^\s@]+@[^\s@]+\.[^\s@]+$`): white space is
 * PostgreSQL's, which counts U+0085 (NEXT LINE) where JavaScript's `\s` does not; left to the database, that
 * address came back in its own words and named no field. Every door that reads an email asks this.
 */
export const emailAddressPattern = /^[^\s\u0085@]+@[^\s\u0085@]+\.[^\s\u0085@]+$/

export const Email = Schema.String.pipe(
  Schema.check(Schema.isPattern(emailAddressPattern, { message: "expected an email address such as ana@example.com" }))
)

/** Quantity of a line: a whole number above zero. */
export const Quantity = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0, { message: "quantity must be a whole number greater than 0" })))

/** A rate in parts per million of the whole: 25% is 250000. Exact for 4 decimals of a percent. */
export const RatePpm = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })))
export type RatePpm = typeof RatePpm.Type

export const UnitDiscount = Schema.Union([
  Schema.TaggedStruct("Percent", { ppm: RatePpm }),
  Schema.TaggedStruct("Amount", { amount: MinorUnits })
])
export type UnitDiscount = typeof UnitDiscount.Type

export const Address = Schema.Struct({
  line1: Schema.optional(Schema.String),
  line2: Schema.optional(Schema.String),
  postalCode: Schema.optional(Schema.String),
  city: Schema.optional(Schema.String),
  region: Schema.optional(Schema.String),
  country: Schema.optional(Schema.String)
})
export type Address = typeof Address.Type

export const Product = Schema.Struct({
  id: ProductId,
  name: Schema.NonEmptyString,
  sku: Schema.NonEmptyString,
  unitPrice: MinorUnits,
  currency: CurrencyCode,
  /** Undefined for a one-time product. */
  frequency: Schema.optional(Frequency)
})
export type Product = typeof Product.Type

export const Contact = Schema.Struct({
  id: ContactId,
  email: Email,
  name: Schema.optional(Schema.String),
  language: Schema.optional(Schema.String),
  locale: Schema.optional(Schema.String),
  paymentMethod: Schema.optional(Schema.String),
  address: Schema.optional(Address),
  companyId: Schema.optional(CompanyId)
})
export type Contact = typeof Contact.Type

export const Company = Schema.Struct({
  id: CompanyId,
  name: Schema.NonEmptyString,
  taxId: Schema.optional(Schema.String),
  address: Schema.optional(Address)
})
export type Company = typeof Company.Type

export const LineItem = Schema.Struct({
  id: Schema.optional(LineItemId),
  productId: Schema.optional(ProductId),
  name: Schema.NonEmptyString,
  sku: Schema.optional(Schema.String),
  unitPrice: MinorUnits,
  quantity: Quantity,
  discount: Schema.optional(UnitDiscount),
  taxRate: Schema.optional(RatePpm),
  /** One-time lines are billed with the first payment only. */
  oneTime: Schema.Boolean
})
export type LineItem = typeof LineItem.Type

export const InvoiceSettings = Schema.Struct({
  language: Schema.optional(Schema.String),
  locale: Schema.optional(Schema.String),
  comments: Schema.optional(Schema.String),
  taxIds: Schema.optional(Schema.Array(Schema.String)),
  autoEmail: Schema.optional(Schema.Boolean)
})
export type InvoiceSettings = typeof InvoiceSettings.Type

export const Subscription = Schema.Struct({
  id: SubscriptionId,
  contactId: ContactId,
  companyId: Schema.optional(CompanyId),
  billingContactId: Schema.optional(ContactId),
  owner: Schema.optional(Schema.String),
  name: Schema.String,
  currency: CurrencyCode,
  frequency: Frequency,
  terms: BillingTerms,
  startDate: CalendarDate,
  endDate: Schema.optional(CalendarDate),
  nextBillingDate: Schema.optional(CalendarDate),
  paymentsMade: Schema.Int,
  collectionMethod: CollectionMethod,
  paymentTerms: Schema.optional(PaymentTerms),
  paymentMethod: Schema.optional(Schema.String),
  reminders: Schema.Boolean,
  invoiceSettings: InvoiceSettings,
  properties: Schema.Record(Schema.String, Schema.Unknown),
  status: SubscriptionStatus,
  items: Schema.Array(LineItem)
})
export type Subscription = typeof Subscription.Type

export const InvoiceLine = Schema.Struct({
  name: Schema.String,
  quantity: Quantity,
  unitPrice: MinorUnits,
  unitDiscount: MinorUnits,
  taxRate: Schema.optional(RatePpm),
  amount: MinorUnits,
  tax: MinorUnits
})
export type InvoiceLine = typeof InvoiceLine.Type

export const Invoice = Schema.Struct({
  id: InvoiceId,
  number: Schema.String,
  subscriptionId: SubscriptionId,
  periodStart: CalendarDate,
  periodEnd: CalendarDate,
  issueDate: CalendarDate,
  dueDate: CalendarDate,
  currency: CurrencyCode,
  subtotal: MinorUnits,
  discount: MinorUnits,
  tax: MinorUnits,
  fees: MinorUnits,
  total: MinorUnits,
  amountPaid: MinorUnits,
  status: InvoiceStatus,
  lines: Schema.Array(InvoiceLine)
})
export type Invoice = typeof Invoice.Type

export const PaymentAttempt = Schema.Struct({
  id: PaymentAttemptId,
  invoiceId: InvoiceId,
  /** Derived from the attempt row: a retry after a lost reply must not charge twice. */
  idempotencyKey: Schema.String,
  amount: Money,
  status: PaymentAttemptStatus,
  attemptNumber: Schema.Int,
  failureReason: Schema.optional(Schema.String)
})
export type PaymentAttempt = typeof PaymentAttempt.Type

export const Event = Schema.Struct({
  id: EventId,
  type: Schema.String,
  subscriptionId: Schema.optional(SubscriptionId),
  occurredOn: CalendarDate,
  data: Schema.Record(Schema.String, Schema.Unknown)
})
export type Event = typeof Event.Type
