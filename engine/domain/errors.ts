/**
 * Typed domain errors: what a rule refused, as data. The store throws them
 * (inside the transaction, so nothing is written) wrapped as the `cause` of
 * its InputError, and the use case services (Subscriptions, Contacts,
 * Products) fail with them as values; each room that talks to people words
 * them: `describe…` below for any caller, the CLI with its flag names
 * (cli/commands), the catalogue's as the doors always have (catalogue/refusals.ts).
 */
import { Schema } from "effect"
import { formatMajorAmount } from "./money.ts"
import { SubscriptionStatus } from "./status.ts"

export class SubscriptionNotFound extends Schema.TaggedError<SubscriptionNotFound>()("SubscriptionNotFound", {
  id: Schema.Number
}) {}

export class SubscriptionDeleted extends Schema.TaggedError<SubscriptionDeleted>()("SubscriptionDeleted", {
  id: Schema.Number,
  deletedOn: Schema.String
}) {}

/** A status rule refused an action: `change` (update), `cancel`, `pause`, `resume`, `delete`. */
export class TransitionRefused extends Schema.TaggedError<TransitionRefused>()("TransitionRefused", {
  id: Schema.Number,
  status: SubscriptionStatus,
  action: Schema.Literals(["change", "cancel", "pause", "resume", "delete"])
}) {}

export class ContactNotFound extends Schema.TaggedError<ContactNotFound>()("ContactNotFound", {
  email: Schema.String
}) {}

/** Charging automatically with no payment method given nor saved on the contact. */
export class NoPaymentMethod extends Schema.TaggedError<NoPaymentMethod>()("NoPaymentMethod", {
  contact: Schema.String
}) {}

/** A purchase `planPurchase` (engine/billing) refuses, or one without items. */
export class PurchaseRefused extends Schema.TaggedError<PurchaseRefused>()("PurchaseRefused", {
  reason: Schema.Union([
    Schema.TaggedStruct("NoItems", {}),
    Schema.TaggedStruct("NoRecurringItem", {}),
    Schema.TaggedStruct("MixedCurrencies", { currencies: Schema.Array(Schema.String) })
  ])
}) {}

/** An item given to `update` that the subscription cannot bill: another currency or another frequency. */
export class ItemDoesNotFit extends Schema.TaggedError<ItemDoesNotFit>()("ItemDoesNotFit", {
  id: Schema.Number,
  /** Where the item is in the request's items (0-based), when the caller gave them as a list: the API names `items[index]`. */
  index: Schema.optional(Schema.Number),
  reason: Schema.Union([
    Schema.TaggedStruct("Currency", { subscription: Schema.String, item: Schema.String }),
    Schema.TaggedStruct("Frequency", { item: Schema.String, itemFrequency: Schema.String, subscription: Schema.String })
  ])
}) {}

/**
 * A new next billing date the subscription cannot take: in the past, before the subscription's start date (a
 * period there has no item version to bill), nothing is left to bill, or inside a period
 * already invoiced (billed from there, the overlap would be charged twice); `invoice` is that period's invoice number.
 */
export class NextBillingDateRefused extends Schema.TaggedError<NextBillingDateRefused>()("NextBillingDateRefused", {
  id: Schema.Number,
  reason: Schema.Union([
    Schema.TaggedStruct("InThePast", { date: Schema.String, today: Schema.String }),
    Schema.TaggedStruct("NothingToBill", {}),
    Schema.TaggedStruct("BeforeStart", { date: Schema.String, start: Schema.String }),
    // `lastDay`: the period's last day covered, as a person reads the period (`coveredDays`); `periodEnd` is the stored,
    // exclusive end, the first date that may be given.
    Schema.TaggedStruct("InvoicedPeriod", { date: Schema.String, periodStart: Schema.String, lastDay: Schema.String, periodEnd: Schema.String, invoice: Schema.String })
  ])
}) {}

/**
 * A new subscription starting before today: billing never reaches back (it would invoice every period
 * since at once). `subscriptions create --start`; an import keeps a past start as a migration instead.
 */
export class StartBeforeToday extends Schema.TaggedError<StartBeforeToday>()("StartBeforeToday", {
  date: Schema.String,
  today: Schema.String
}) {}

export class NothingToUpdate extends Schema.TaggedError<NothingToUpdate>()("NothingToUpdate", {
  id: Schema.Number
}) {}

/** A refund of the unused days asked for with a cancellation at period end, where nothing is unused. */
export class RefundAtPeriodEnd extends Schema.TaggedError<RefundAtPeriodEnd>()("RefundAtPeriodEnd", {
  id: Schema.Number
}) {}

export class ResumeDateNotAfterToday extends Schema.TaggedError<ResumeDateNotAfterToday>()("ResumeDateNotAfterToday", {
  id: Schema.Number,
  resumeOn: Schema.String,
  today: Schema.String
}) {}

export type SubscriptionError =
  | SubscriptionNotFound
  | SubscriptionDeleted
  | TransitionRefused
  | ContactNotFound
  | NoPaymentMethod
  | PurchaseRefused
  | ItemDoesNotFit
  | NextBillingDateRefused
  | StartBeforeToday
  | NothingToUpdate
  | RefundAtPeriodEnd
  | ResumeDateNotAfterToday

const subscriptionErrorTags: ReadonlySet<string> = new Set<SubscriptionError["_tag"]>([
  "SubscriptionNotFound", "SubscriptionDeleted", "TransitionRefused", "ContactNotFound", "NoPaymentMethod", "PurchaseRefused",
  "ItemDoesNotFit", "NextBillingDateRefused", "StartBeforeToday", "NothingToUpdate", "RefundAtPeriodEnd", "ResumeDateNotAfterToday"
])

/** The typed error of `tags` a thrown value is, or carries as its `cause`; undefined for anything else. */
export const typedErrorOf = <E>(tags: ReadonlySet<string>) => (e: unknown): E | undefined => {
  for (const x of [e, (e as { cause?: unknown } | null | undefined)?.cause]) {
    const tag = (x as { _tag?: unknown } | null | undefined)?._tag
    if (typeof tag === "string" && tags.has(tag)) return x as E
  }
  return undefined
}

export const subscriptionErrorOf: (e: unknown) => SubscriptionError | undefined = typedErrorOf(subscriptionErrorTags)

const allowedFrom: Record<TransitionRefused["action"], string> = {
  change: "it can no longer be changed",
  cancel: "it cannot be canceled",
  pause: "only an active, past-due or unpaid subscription can be paused",
  resume: "only a paused subscription can be resumed",
  delete: "only canceled or expired subscriptions can be deleted"
}

/** Words for people, naming no flag: for callers that are not the CLI (rule tests, the demo, logs). */
export const describeSubscriptionError = (e: SubscriptionError): string => {
  switch (e._tag) {
    case "SubscriptionNotFound":
      return `subscription ${e.id} does not exist`
    case "SubscriptionDeleted":
      return `subscription ${e.id} was deleted on ${e.deletedOn} (its invoices remain)`
    case "TransitionRefused":
      return `subscription ${e.id} is ${e.status}: ${allowedFrom[e.action]}`
    case "ContactNotFound":
      return `no contact with email ${e.email}`
    case "NoPaymentMethod":
      return `charging automatically needs a saved payment method (none given, none saved on contact ${e.contact})`
    case "PurchaseRefused":
      return e.reason._tag === "NoItems"
        ? "a subscription needs at least one item"
        : e.reason._tag === "NoRecurringItem"
        ? "a subscription needs at least one recurring item (all items are one-time)"
        : `items billed together must share a currency, got ${e.reason.currencies.join(" and ")}`
    case "ItemDoesNotFit":
      return e.reason._tag === "Currency"
        ? `the subscription bills in ${e.reason.subscription}, not ${e.reason.item}`
        : `${e.reason.item} bills ${e.reason.itemFrequency}, the subscription ${e.reason.subscription}; a different frequency needs its own subscription`
    case "NextBillingDateRefused":
      switch (e.reason._tag) {
        case "InThePast":
          return `${e.reason.date} is in the past (today is ${e.reason.today})`
        case "NothingToBill":
          return `subscription ${e.id} has nothing more to bill`
        case "BeforeStart":
          return `${e.reason.date} is before the subscription's start date ${e.reason.start}; a subscription bills from its start date: give ${e.reason.start} or later`
        case "InvoicedPeriod":
          return `${e.reason.date} is inside ${e.reason.periodStart}..${e.reason.lastDay}, already invoiced (${e.reason.invoice}); give ${e.reason.periodEnd} or later`
      }
    case "StartBeforeToday":
      return `${e.date} is before today (${e.today}); a subscription starts today or later, billing never reaches back`
    case "NothingToUpdate":
      return "nothing to update"
    case "RefundAtPeriodEnd":
      return "nothing is unused when canceling at period end"
    case "ResumeDateNotAfterToday":
      return `the resume date ${e.resumeOn} must be after today (${e.today})`
  }
}

// Items and the catalogue: what resolving a purchase's items, and adding or changing contacts and products, refuse.

/** An item names a SKU the catalogue does not have. `item` is where the caller says the item came from (`--item 2`, `row 4`). */
export class UnknownSku extends Schema.TaggedError<UnknownSku>()("UnknownSku", {
  item: Schema.String,
  /** Where the item is in the request's items (0-based), when the caller gave them as a list: the API names `items[index]`. */
  index: Schema.optional(Schema.Number),
  sku: Schema.String,
  /** The SKU of a product on sale spelt nearly alike, when there is one: the refusal asks "did you mean" it. */
  nearest: Schema.optional(Schema.String)
}) {}

/** An archived product, on a subscription that does not have it yet. */
export class ProductArchived extends Schema.TaggedError<ProductArchived>()("ProductArchived", {
  item: Schema.String,
  /** Where the item is in the request's items (0-based), when the caller gave them as a list: the API names `items[index]`. */
  index: Schema.optional(Schema.Number),
  sku: Schema.String,
  archivedOn: Schema.String
}) {}

/** An item whose price, discount or amount cannot be billed; `problem` is the pricing rule's own words (domain/money.ts, billing/pricing.ts). */
export class ItemRefused extends Schema.TaggedError<ItemRefused>()("ItemRefused", {
  item: Schema.String,
  /** Where the item is in the request's items (0-based), when the caller gave them as a list: the API names `items[index]`. */
  index: Schema.optional(Schema.Number),
  reason: Schema.Union([
    Schema.TaggedStruct("PricedInOtherCurrency", { sku: Schema.String, productCurrency: Schema.String, currency: Schema.String }),
    Schema.TaggedStruct("Price", { problem: Schema.String }),
    Schema.TaggedStruct("NoPrice", {}),
    Schema.TaggedStruct("Discount", { problem: Schema.String }),
    Schema.TaggedStruct("DiscountAbovePrice", { discount: Schema.String }),
    Schema.TaggedStruct("Amount", { problem: Schema.String })
  ])
}) {}

export class ProductExists extends Schema.TaggedError<ProductExists>()("ProductExists", {
  sku: Schema.String
}) {}

export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", {
  sku: Schema.String
}) {}

export class ContactExists extends Schema.TaggedError<ContactExists>()("ContactExists", {
  email: Schema.String
}) {}

/** A contact looked up by its id (`ContactNotFound` is the lookup by email). */
export class ContactIdNotFound extends Schema.TaggedError<ContactIdNotFound>()("ContactIdNotFound", {
  id: Schema.Number
}) {}

/** A field of a product that does not pass (`name`, `sku`, `currency`, `frequency`, `price`); `problem` names no flag. */
export class ProductInvalid extends Schema.TaggedError<ProductInvalid>()("ProductInvalid", {
  field: Schema.Literals(["name", "sku", "currency", "frequency", "price"]),
  problem: Schema.String
}) {}

/** A field of a contact that does not pass (`email`, `language`, `locale`, `country`, or an address part as `address`, `address-line2`, `postal-code`, `city`, `region`). */
export class ContactInvalid extends Schema.TaggedError<ContactInvalid>()("ContactInvalid", {
  field: Schema.String,
  problem: Schema.String
}) {}

/** What resolving items refuses (subscriptions create and update, imports, payment links). */
export type ItemError = UnknownSku | ProductArchived | ItemRefused

/** What the catalogue's use cases refuse. */
export type CatalogueError = ItemError | ProductExists | ProductNotFound | ContactExists | ContactNotFound | ContactIdNotFound | ProductInvalid | ContactInvalid

const catalogueErrorTags: ReadonlySet<string> = new Set<CatalogueError["_tag"]>([
  "UnknownSku", "ProductArchived", "ItemRefused", "ProductExists", "ProductNotFound", "ContactExists", "ContactNotFound", "ContactIdNotFound",
  "ProductInvalid", "ContactInvalid"
])

const itemErrorTags: ReadonlySet<string> = new Set<ItemError["_tag"]>(["UnknownSku", "ProductArchived", "ItemRefused"])

// ---- invoices and the outbox (engine/invoicing) ----

export class InvoiceNotFound extends Schema.TaggedError<InvoiceNotFound>()("InvoiceNotFound", {
  id: Schema.Number
}) {}

/** Paying, voiding or writing off an invoice its status does not allow (only an open invoice; void also from uncollectible). */
export class InvoiceStatusRefused extends Schema.TaggedError<InvoiceStatusRefused>()("InvoiceStatusRefused", {
  number: Schema.String,
  status: Schema.String,
  action: Schema.Literals(["pay", "void", "write-off"])
}) {}

/** Voiding or writing off an invoice already closed that way. */
export class InvoiceAlreadyClosed extends Schema.TaggedError<InvoiceAlreadyClosed>()("InvoiceAlreadyClosed", {
  number: Schema.String,
  how: Schema.Literals(["void", "write-off"])
}) {}

/** Voiding or writing off a paid invoice: it is refunded instead. */
export class InvoicePaid extends Schema.TaggedError<InvoicePaid>()("InvoicePaid", {
  number: Schema.String,
  how: Schema.Literals(["void", "write-off"])
}) {}

/** Voiding an invoice with money received on it (the rest can be written off). */
export class InvoicePartlyPaid extends Schema.TaggedError<InvoicePartlyPaid>()("InvoicePartlyPaid", {
  id: Schema.Number,
  number: Schema.String,
  paid: Schema.Number,
  due: Schema.Number,
  currency: Schema.String
}) {}

/** A charge the gateway may still complete, or a checkout's pending bank debit: the invoice waits until it settles. */
export class MoneyInFlight extends Schema.TaggedError<MoneyInFlight>()("MoneyInFlight", {
  number: Schema.String,
  kind: Schema.Literals(["charge", "debit"])
}) {}

/** An amount recorded by hand that the invoice cannot take. */
export class PaymentAmountRefused extends Schema.TaggedError<PaymentAmountRefused>()("PaymentAmountRefused", {
  reason: Schema.Union([
    Schema.TaggedStruct("Unreadable", { problem: Schema.String }),
    Schema.TaggedStruct("NotPositive", {}),
    Schema.TaggedStruct("MoreThanDue", { number: Schema.String, amount: Schema.Number, due: Schema.Number, currency: Schema.String })
  ])
}) {}

export class OutboxMessageNotFound extends Schema.TaggedError<OutboxMessageNotFound>()("OutboxMessageNotFound", {
  id: Schema.Number
}) {}

/** Only a failed message can be queued again. */
export class OutboxRetryRefused extends Schema.TaggedError<OutboxRetryRefused>()("OutboxRetryRefused", {
  id: Schema.Number,
  status: Schema.String
}) {}

export type InvoiceError =
  | InvoiceNotFound
  | InvoiceStatusRefused
  | InvoiceAlreadyClosed
  | InvoicePaid
  | InvoicePartlyPaid
  | MoneyInFlight
  | PaymentAmountRefused
  | OutboxMessageNotFound
  | OutboxRetryRefused

const invoiceErrorTags: ReadonlySet<string> = new Set<InvoiceError["_tag"]>([
  "InvoiceNotFound", "InvoiceStatusRefused", "InvoiceAlreadyClosed", "InvoicePaid", "InvoicePartlyPaid", "MoneyInFlight",
  "PaymentAmountRefused", "OutboxMessageNotFound", "OutboxRetryRefused"
])

const closedWord = { void: "voided", "write-off": "written off", pay: "paid" } as const

const minorText = (minor: number, currency: string) => `${formatMajorAmount(minor, currency)} ${currency}`

/** Words for people, naming no flag (the CLI adds its flags, cli/refusals.ts). */
export const describeInvoiceError = (e: InvoiceError): string => {
  switch (e._tag) {
    case "InvoiceNotFound":
      return `invoice ${e.id} does not exist`
    case "InvoiceStatusRefused":
      return `invoice ${e.number} is ${e.status}: only an open invoice can be ${closedWord[e.action]}`
    case "InvoiceAlreadyClosed":
      return `invoice ${e.number} is already ${closedWord[e.how]}`
    case "InvoicePaid":
      return `invoice ${e.number} is paid: a paid invoice is refunded, not ${closedWord[e.how]}`
    case "InvoicePartlyPaid":
      return `invoice ${e.number} has ${minorText(e.paid, e.currency)} paid: it cannot be voided; write off the ${minorText(e.due, e.currency)} still due`
    case "MoneyInFlight":
      return e.kind === "charge"
        ? `invoice ${e.number} has a charge in flight with the gateway; wait for it to settle`
        : `invoice ${e.number} is being paid by the buyer's bank debit from checkout (pending until the bank settles it); wait for it to settle`
    case "PaymentAmountRefused":
      return e.reason._tag === "Unreadable"
        ? e.reason.problem
        : e.reason._tag === "NotPositive"
        ? "a payment must be greater than 0"
        : `${formatMajorAmount(e.reason.amount, e.reason.currency)} is more than the ${formatMajorAmount(e.reason.due, e.reason.currency)} still due on ${e.reason.number}`
    case "OutboxMessageNotFound":
      return `outbox message ${e.id} does not exist`
    case "OutboxRetryRefused":
      return `outbox message ${e.id} is ${e.status}: only a failed message can be retried`
  }
}

// ---- the account: settings, API keys, webhook endpoints (engine/account) ----

export class SettingRefused extends Schema.TaggedError<SettingRefused>()("SettingRefused", {
  key: Schema.String,
  value: Schema.String,
  reason: Schema.Union([
    Schema.TaggedStruct("UnknownSetting", { known: Schema.Array(Schema.String) }),
    Schema.TaggedStruct("Invalid", { problem: Schema.String })
  ])
}) {}

/** An API key's name: empty or over 100 characters, or another key's. */
export class ApiKeyNameRefused extends Schema.TaggedError<ApiKeyNameRefused>()("ApiKeyNameRefused", {
  name: Schema.String,
  reason: Schema.Literals(["Length", "Taken"])
}) {}

/** No API key with that id (`byId`) or name. */
export class ApiKeyNotFound extends Schema.TaggedError<ApiKeyNotFound>()("ApiKeyNotFound", {
  ref: Schema.String,
  byId: Schema.Boolean
}) {}

export class ApiKeyRevokedAlready extends Schema.TaggedError<ApiKeyRevokedAlready>()("ApiKeyRevokedAlready", {
  name: Schema.String,
  revokedAt: Schema.String
}) {}

/** A webhook endpoint's URL or event list that cannot be used; `taken`: another live endpoint has that URL. */
export class WebhookEndpointRefused extends Schema.TaggedError<WebhookEndpointRefused>()("WebhookEndpointRefused", {
  field: Schema.Literals(["url", "events"]),
  problem: Schema.String,
  taken: Schema.optional(Schema.Boolean)
}) {}

export class WebhookEndpointNotFound extends Schema.TaggedError<WebhookEndpointNotFound>()("WebhookEndpointNotFound", {
  id: Schema.Number
}) {}

export type AccountError =
  | SettingRefused
  | ApiKeyNameRefused
  | ApiKeyNotFound
  | ApiKeyRevokedAlready
  | WebhookEndpointRefused
  | WebhookEndpointNotFound

const accountErrorTags: ReadonlySet<string> = new Set<AccountError["_tag"]>([
  "SettingRefused", "ApiKeyNameRefused", "ApiKeyNotFound", "ApiKeyRevokedAlready", "WebhookEndpointRefused", "WebhookEndpointNotFound"
])

/** Words for people, naming no flag (the CLI adds its flags, cli/refusals.ts). */
export const describeAccountError = (e: AccountError): string => {
  switch (e._tag) {
    case "SettingRefused":
      return e.reason._tag === "UnknownSetting"
        ? `unknown setting "${e.key}" (known: ${e.reason.known.join(", ")})`
        : `setting ${e.key}: ${e.reason.problem}, got "${e.value}"`
    case "ApiKeyNameRefused":
      return e.reason === "Length" ? "a key needs a name of 1 to 100 characters" : `an API key named "${e.name}" exists already`
    case "ApiKeyNotFound":
      return `no API key ${e.byId ? `with id ${e.ref}` : `named "${e.ref}"`}`
    case "ApiKeyRevokedAlready":
      return `API key "${e.name}" was revoked already at ${e.revokedAt}`
    case "WebhookEndpointRefused":
      return e.problem
    case "WebhookEndpointNotFound":
      return `no webhook endpoint ${e.id}`
  }
}

export const invoiceErrorOf: (e: unknown) => InvoiceError | undefined = typedErrorOf(invoiceErrorTags)
export const accountErrorOf: (e: unknown) => AccountError | undefined = typedErrorOf(accountErrorTags)

/** The catalogue error a thrown value is, or carries as its `cause`; undefined for anything else. */
export const catalogueErrorOf: (e: unknown) => CatalogueError | undefined = typedErrorOf(catalogueErrorTags)

/** The item error a thrown value is, or carries as its `cause`; undefined for anything else. */
export const itemErrorOf: (e: unknown) => ItemError | undefined = typedErrorOf(itemErrorTags)

const itemReason = (reason: ItemRefused["reason"]): string => {
  switch (reason._tag) {
    case "PricedInOtherCurrency":
      return `SKU ${reason.sku} is priced in ${reason.productCurrency}, not ${reason.currency}`
    case "Price":
      return `price: ${reason.problem}`
    case "NoPrice":
      return "no price"
    case "Discount":
      return `discount: ${reason.problem}`
    case "DiscountAbovePrice":
      return `an amount discount (${reason.discount}) cannot exceed the unit price`
    case "Amount":
      return reason.problem
  }
}

/** What is wrong with an item, without its label (the doors name the item: `--item 2`, `items[1]`, `row 4`). */
export const describeItemProblem = (e: ItemError): string => {
  switch (e._tag) {
    case "UnknownSku":
      return `unknown SKU "${e.sku}"${e.nearest === undefined ? "" : ` (did you mean "${e.nearest}"?)`}`
    case "ProductArchived":
      return `product ${e.sku} was archived on ${e.archivedOn}; it cannot go on a new subscription`
    case "ItemRefused":
      return itemReason(e.reason)
  }
}

/**
 * Words for people, naming no flag. An item's refusal starts with the item's
 * label as its caller gave it (`--item 2: unknown SKU "NOPE"`); the others say
 * what was wrong without the field (the doors put the field's name first).
 */
export const describeCatalogueError = (e: CatalogueError): string => {
  switch (e._tag) {
    case "UnknownSku":
    case "ProductArchived":
    case "ItemRefused":
      return `${e.item}: ${describeItemProblem(e)}`
    case "ProductExists":
      return `a product with SKU "${e.sku}" exists already`
    case "ProductNotFound":
      return `no product with SKU "${e.sku}"`
    case "ContactExists":
      return `a contact with email ${e.email} exists already`
    case "ContactNotFound":
      return `no contact with email ${e.email}`
    case "ContactIdNotFound":
      return `no contact with id ${e.id}`
    case "ProductInvalid":
    case "ContactInvalid":
      return e.problem
  }
}
