/**
 * Payment links and discount codes as data (reference, "Payment links"): what
 * a seller saves, what a buyer may choose at checkout, and the typed refusals
 * of the link rules. The rules themselves live in engine/checkout
 * (linkRules.ts, linkSummary.ts); each door words the refusals its own way
 * (a flag on the CLI, a JSON field over HTTP).
 */
import { Schema } from "effect"
import type { CalendarDate } from "./calendarDate.ts"
import type { FieldName } from "./fieldNames.ts"
import { flagField, itemsField } from "./fieldNames.ts"
import type { UnitDiscount } from "./entities.ts"
import type { Frequency } from "./frequency.ts"
import type { BillingTerms } from "./terms.ts"

/** Buyers may change the quantity within min..max (whole numbers, min ≥ 1). */
export interface EditableQuantity {
  readonly min: number
  readonly max: number
}

/** Buyers enter their own price (pay what you want, a donation), at least `minimum` minor units. */
export interface OwnPrice {
  readonly minimum: number
}

/** One item of a link: from the product library (`productId`, `sku`) or custom. */
export interface LinkItem {
  readonly productId?: number | undefined
  readonly sku?: string | undefined
  readonly name: string
  readonly description?: string | undefined
  /** Minor units of the link's currency; with an own price, the price suggested to the buyer. */
  readonly unitPrice: number
  readonly quantity: number
  /** Undefined: a one-time item. */
  readonly frequency: Frequency | undefined
  /** Applies to every payment of the item. */
  readonly discount?: UnitDiscount | undefined
  readonly taxRate?: number | undefined
  /** The buyer ticks it to buy it. */
  readonly optional: boolean
  readonly editableQuantity?: EditableQuantity | undefined
  readonly ownPrice?: OwnPrice | undefined
}

/** When recurring billing starts: at checkout, on a date, or N days / N months after checkout. */
export type BillingStart =
  | { readonly _tag: "AtCheckout" }
  | { readonly _tag: "Date"; readonly date: CalendarDate }
  | { readonly _tag: "DelayDays"; readonly days: number }
  | { readonly _tag: "DelayMonths"; readonly months: number }

/** A discount off the whole order, applied once, to what is due at checkout. */
export type OrderDiscount =
  | { readonly _tag: "Percent"; readonly ppm: number }
  | { readonly _tag: "Amount"; readonly amount: number }

/** An extra field the checkout asks the buyer for, shown in `order`. */
export interface ContactField {
  readonly label: string
  readonly helpText?: string | undefined
  readonly required: boolean
  readonly order: number
}

export const paymentTypes = ["card", "debit-card", "bank-debit"] as const
export type PaymentType = (typeof paymentTypes)[number]

export interface PaymentLinkSettings {
  /** The internal name (never shown to buyers). */
  readonly name: string
  readonly currency: string
  readonly items: ReadonlyArray<LinkItem>
  readonly terms: BillingTerms
  readonly start: BillingStart
  readonly orderDiscount?: OrderDiscount | undefined
  readonly checkoutText?: string | undefined
  readonly language: string
  readonly locale?: string | undefined
  readonly paymentTypes: ReadonlyArray<PaymentType>
  readonly collectBillingAddress: boolean
  readonly collectShippingAddress: boolean
  /** Where the buyer goes after paying (https only); undefined: the confirmation page. */
  readonly redirectUrl?: string | undefined
  readonly confirmationText?: string | undefined
  readonly allowDiscountCodes: boolean
  readonly contactFields: ReadonlyArray<ContactField>
  /** The link switches itself off after this many completed payments; undefined: no limit. */
  readonly completedPaymentsLimit?: number | undefined
}

export interface PaymentLink extends PaymentLinkSettings {
  readonly id: number
  /** The link's public address part: /l/SLUG. Unique, never reused. */
  readonly slug: string
  readonly active: boolean
  /** Set when deleted: the link takes no more payments and leaves the lists; its slug stays reserved. */
  readonly deletedOn: CalendarDate | undefined
  readonly completedPayments: number
  /** The contact a simple link was made from. */
  readonly fromContactId: number | undefined
  readonly createdOn: CalendarDate
  readonly updatedOn: CalendarDate
}

export type DiscountOff =
  | { readonly _tag: "Percent"; readonly ppm: number }
  | { readonly _tag: "Amount"; readonly amount: number; readonly currency: string }

/** How many payments a code discounts: the one at checkout, the first N of each subscription, or all. */
export type DiscountDuration =
  | { readonly _tag: "Once" }
  | { readonly _tag: "Payments"; readonly payments: number }
  | { readonly _tag: "Forever" }

export interface DiscountCode {
  readonly id: number
  /** What the buyer types; matched without regard to case. */
  readonly code: string
  readonly off: DiscountOff
  readonly duration: DiscountDuration
  readonly expiresOn: CalendarDate | undefined
  readonly maxRedemptions: number | undefined
  readonly redemptions: number
  readonly active: boolean
  readonly createdOn: CalendarDate
}

/** What the buyer chose for one item of the link (by its index in `items`). */
export interface ItemChoice {
  /** An optional item is bought only when included. */
  readonly include?: boolean | undefined
  /** Only for an item with an editable quantity, within its min..max. */
  readonly quantity?: number | undefined
  /** Only for an item with an own price, at least its minimum (minor units). */
  readonly unitPrice?: number | undefined
}

export interface BuyerChoices {
  /** Keyed by item index; an item not named keeps the link's defaults (an optional item is then left out). */
  readonly items?: ReadonlyMap<number, ItemChoice> | undefined
  readonly discountCode?: DiscountCode | undefined
}

/** The rules of a link, each a tag a door can word (see engine/checkout/README.md for the fields). */
export const LinkRule = Schema.Literals([
  "NameMissing", "SlugInvalid", "SlugTaken", "CurrencyUnknown", "NoItems", "ItemNameMissing", "UnknownSku", "ProductArchived",
  "ItemCurrency", "UnitPriceNotPositive", "QuantityNotWhole", "QuantityRange", "OwnPriceWithEditableQuantity", "OwnPriceMinimum",
  "UnitDiscount", "OrderDiscount", "TaxRate", "Terms", "Start", "DueAtCheckoutTooLow", "RedirectUrl", "PaymentTypes",
  "Language", "Locale", "ContactField", "CompletedPaymentsLimit", "TooLarge"
])
export type LinkRule = typeof LinkRule.Type

/**
 * The link fields a refusal is about, as the domain names them; the CLI maps them to flags
 * (`unitPrice` of item 2 → `--item 2`), the API to JSON fields (`items[1].unit_price`).
 */
export const LinkField = Schema.Literals([
  "name", "slug", "currency", "items", "item", "item.unitPrice", "item.quantity", "item.editableQuantity", "item.ownPrice",
  "item.discount", "item.taxRate", "item.frequency", "terms", "start", "orderDiscount", "checkoutText", "confirmationText", "redirectUrl",
  "paymentTypes", "language", "locale", "contactFields", "completedPaymentsLimit"
])
export type LinkField = typeof LinkField.Type

/** Each link field as the doors name it (`FieldName`): the CLI's flag, the API's JSON field; an item's rules name the items. */
export const linkFieldNames: Record<LinkField, FieldName> = {
  name: flagField("name"), slug: flagField("slug"), currency: flagField("currency"), items: itemsField, item: itemsField,
  "item.unitPrice": itemsField, "item.quantity": itemsField, "item.editableQuantity": itemsField, "item.ownPrice": itemsField,
  "item.discount": itemsField, "item.taxRate": itemsField, "item.frequency": itemsField,
  terms: flagField("terms"), start: flagField("start"), orderDiscount: flagField("order-discount"), checkoutText: flagField("checkout-text"),
  confirmationText: flagField("confirmation-text"), redirectUrl: flagField("redirect-url"), paymentTypes: flagField("payment-types"),
  language: flagField("language"), locale: flagField("locale"), contactFields: flagField("contact-field", "contact_fields"),
  completedPaymentsLimit: flagField("completed-payments-limit")
}

/** A payment link rule refused what was saved; `item` is the item's index (0-based) when the rule is about one. */
export class PaymentLinkInvalid extends Schema.TaggedError<PaymentLinkInvalid>()("PaymentLinkInvalid", {
  rule: LinkRule,
  field: LinkField,
  item: Schema.optional(Schema.Number),
  /** Words for people, naming no flag or field. */
  problem: Schema.String
}) {}

export class PaymentLinkNotFound extends Schema.TaggedError<PaymentLinkNotFound>()("PaymentLinkNotFound", {
  /** The id or slug asked for. */
  ref: Schema.String
}) {}

/** A buyer's choice the link does not allow (a quantity outside min..max, a price under the minimum, …). */
export class BuyerChoiceRefused extends Schema.TaggedError<BuyerChoiceRefused>()("BuyerChoiceRefused", {
  item: Schema.Number,
  reason: Schema.Literals(["NoSuchItem", "NotOptional", "QuantityNotEditable", "QuantityOutOfRange", "PriceNotOwn", "PriceBelowMinimum", "PriceAboveMaximum"]),
  problem: Schema.String
}) {}

export const DiscountCodeRule = Schema.Literals(["Code", "CodeTaken", "Off", "Currency", "Duration", "Expiry", "RedemptionLimit"])
export type DiscountCodeRule = typeof DiscountCodeRule.Type

/** A discount code rule refused what was saved; `field`: code, percent/amount, currency, duration, expiresOn, maxRedemptions. */
export class DiscountCodeInvalid extends Schema.TaggedError<DiscountCodeInvalid>()("DiscountCodeInvalid", {
  rule: DiscountCodeRule,
  field: Schema.Literals(["code", "off", "currency", "duration", "expiresOn", "maxRedemptions"]),
  problem: Schema.String
}) {}

/** Each discount code field as the doors name it: the code is the CLI's argument (`CODE`), the others flags. */
export const discountCodeFieldNames: Record<DiscountCodeInvalid["field"], FieldName> = {
  code: { flag: "CODE", json: "code" }, off: flagField("off"), currency: flagField("currency"), duration: flagField("duration"),
  expiresOn: flagField("expires-on"), maxRedemptions: flagField("max-redemptions")
}

export class DiscountCodeNotFound extends Schema.TaggedError<DiscountCodeNotFound>()("DiscountCodeNotFound", {
  ref: Schema.String
}) {}

/** Why a code cannot be used on a purchase now: expired, used up, switched off, another currency. */
export class DiscountCodeUnusable extends Schema.TaggedError<DiscountCodeUnusable>()("DiscountCodeUnusable", {
  code: Schema.String,
  reason: Schema.Literals(["Expired", "UsedUp", "Inactive", "Currency", "NotAllowedOnLink"]),
  problem: Schema.String
}) {}
