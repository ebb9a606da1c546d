/**
 * Reading a payment link as both doors give it: the command line's flags and
 * the HTTP API's JSON fields carry the same strings (item SPECs as for
 * `subscriptions create`, `fixed:6`, `10%`, `card,bank-debit`), so one
 * function reads them into `PaymentLinkSettings`. A text that is not what a
 * flag takes fails as an InputError whose words name the field, each door by
 * its name (`--terms: …`, `terms: …`; domain/fieldNames.ts). The rules of a link are checked afterwards,
 * by the use case (linkRules.ts), as typed refusals.
 *
 * An item is a SPEC of `subscriptions create` (sku=, name=, price=, qty=,
 * frequency=, discount=, tax=, one-time) plus the link's own keys:
 * `optional`, `qty-min=N` and `qty-max=N` (the buyer edits the quantity),
 * `min-price=AMOUNT` (the buyer sets the price, at least AMOUNT; `price=` is
 * then the suggestion, the minimum when left out), `description=TEXT`.
 */
import { parsePercentPpm } from "../billing/index.ts"
import type { BillingStart, CalendarDate, ContactField, FieldName, ItemSpec, Words, LinkItem, OrderDiscount, PaymentLinkSettings, PaymentType } from "../domain/index.ts"
import { flagField, isCurrencyCode, itemField, itemsField, notACurrency, parseBillingTerms, words, parseItemSpec, parseMajorAmount, PaymentLinkInvalid, paymentTypes } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError, refuseWords } from "../sql/index.ts"
import { resolveItems } from "../subscriptions/index.ts"
import { parseCalendarDate } from "../billing/index.ts"

/** A link as text, every field optional (an update names only what changes). */
export interface LinkRequest {
  readonly name?: string | undefined
  readonly currency?: string | undefined
  readonly items?: ReadonlyArray<string> | undefined
  readonly terms?: string | undefined
  readonly start?: string | undefined
  readonly delayDays?: string | undefined
  readonly delayMonths?: string | undefined
  /** CLI.md's form of the three above: `14d` (days after checkout), `2m` (months after checkout) or a DATE. */
  readonly startAfter?: string | undefined
  /** `10%` or `5.00`; `none` removes it. */
  readonly orderDiscount?: string | undefined
  readonly checkoutText?: string | undefined
  readonly confirmationText?: string | undefined
  /** An https URL; `none` removes it. */
  readonly redirectUrl?: string | undefined
  readonly language?: string | undefined
  readonly locale?: string | undefined
  /** `card,debit-card,bank-debit` (CLI.md's `card,debit,bank` too) */
  readonly paymentTypes?: string | undefined
  readonly collectBillingAddress?: boolean | undefined
  readonly collectShippingAddress?: boolean | undefined
  /** CLI.md's form of the two above: the addresses to collect, `billing,shipping` (`none`: neither); the others are not collected. */
  readonly collect?: string | undefined
  readonly allowDiscountCodes?: boolean | undefined
  /** Each `label=TEXT,help=TEXT,required,order=N` (or CLI.md's `LABEL:required`); replaces the list. */
  readonly contactFields?: ReadonlyArray<string> | undefined
  /** A whole number, or `none`. */
  readonly completedPaymentsLimit?: string | undefined
}

/** Bad input naming its field (`--terms` on the command line, `terms` over HTTP). */
const bad = (w: Words): never => refuseWords(w)

const linkKeys = new Set(["optional", "qty-min", "qty-max", "min-price", "description"])
/** Other names of the link's own keys (CLI.md writes `own-price-min=5.00`). */
const linkKeyAliases: Record<string, string> = { "own-price-min": "min-price" }

interface LinkItemSpec {
  readonly spec: ItemSpec
  readonly optional: boolean
  readonly qtyMin: string | undefined
  readonly qtyMax: string | undefined
  readonly minPrice: string | undefined
  /** How the minimum's key was written: min-price or own-price-min (CLI.md), for a refusal naming it. */
  readonly minPriceKey: string
  readonly description: string | undefined
}

/** Splits a link item's own keys from the subscription SPEC; a string is the problem. */
export const parseLinkItemSpec = (text: string): LinkItemSpec | string => {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "")
  const rest: Array<string> = []
  const own: Record<string, string> = {}
  let minPriceKey = "min-price"
  for (const part of parts) {
    const eq = part.indexOf("=")
    const written = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    const key = linkKeyAliases[written] ?? written
    if (key === "min-price") minPriceKey = written
    if (!linkKeys.has(key)) {
      rest.push(part)
      continue
    }
    if (key === "optional") {
      if (eq >= 0) return `optional takes no value (write: optional)`
      own[key] = "yes"
    } else {
      if (eq < 0) return `${key} needs a value (${key}=…)`
      own[key] = part.slice(eq + 1).trim()
    }
  }
  // An own-price item may leave out price=: the minimum is then the price suggested.
  const hasPrice = rest.some((p) => /^price\s*=/i.test(p))
  if (!hasPrice && own["min-price"] !== undefined) rest.push(`price=${own["min-price"]}`)
  const spec = parseItemSpec(rest.join(","))
  if (typeof spec === "string") return spec.replace("(keys: sku, name, price, qty, frequency, discount, tax, currency, one-time)", "(keys: sku, name, price, qty, frequency, discount, tax, currency, one-time, optional, qty-min, qty-max, min-price, description)")
  return { spec, optional: own["optional"] !== undefined, qtyMin: own["qty-min"], qtyMax: own["qty-max"], minPrice: own["min-price"], minPriceKey, description: own["description"] }
}

/** A whole number given for `what` (a field, or words such as `--item 2: qty-min`). */
const wholeText = (what: FieldName | Words, value: string, min: number, max: number): number => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : bad([...(Array.isArray(what) ? what : [what as FieldName]), `: expected a whole number from ${min} to ${max}, got "${value}"`])
}

/** A currency given as text (`usd`): its ISO 4217 code, else refused naming the currency field. */
export const readCurrency = (text: string): string => {
  const code = text.trim().toUpperCase()
  return isCurrencyCode(code) ? code : bad(words`${flagField("currency")}: ${notACurrency(text)}`)
}

const none = (v: string | undefined) => v !== undefined && v.trim().toLowerCase() === "none"

/** An order discount: `10%` or an amount in major units of `currency`. */
const readOrderDiscount = (text: string, currency: string): OrderDiscount => {
  if (text.trim().endsWith("%")) {
    const ppm = parsePercentPpm(text)
    return ppm === undefined || ppm > 1_000_000 ? bad(words`${flagField("order-discount")}: expected a percent from 0% to 100% or an amount such as 5.00, got "${text}"`) : { _tag: "Percent", ppm }
  }
  const amount = parseMajorAmount(text, currency)
  if (typeof amount === "string") return bad(words`${flagField("order-discount")}: ${amount}`)
  return amount < 0 ? bad(words`${flagField("order-discount")}: an amount off cannot be negative, got "${text}"`) : { _tag: "Amount", amount }
}

/** `label=TEXT,help=TEXT,required,order=N` (label first, or the only key). */
export const parseContactField = (text: string, index: number): ContactField => {
  const flag: FieldName = { flag: `--contact-field ${index + 1}`, json: `contact_fields[${index}]` }
  // CLI.md's short form, `--field "Company:required"`: a label, then :required or :optional.
  if (!text.includes("=")) {
    const short = /^(.*?)(?::(required|optional))?$/i.exec(text.trim())!
    const label = short[1]!.trim()
    if (label === "" || label.toLowerCase() === "required" || label.toLowerCase() === "optional") bad(words`${flag}: a contact field needs a label: "Company:required" or label=TEXT,required`)
    return { label, required: short[2]?.toLowerCase() === "required", order: index + 1 }
  }
  const field: { label?: string; helpText?: string; required: boolean; order: number } = { required: false, order: index + 1 }
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const eq = part.indexOf("=")
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    const value = eq < 0 ? "" : part.slice(eq + 1).trim()
    if (key === "required" && eq < 0) field.required = true
    else if (key === "optional" && eq < 0) field.required = false
    else if (key === "label") field.label = value
    else if (key === "help") field.helpText = value
    else if (key === "order") field.order = wholeText(flag, value, 0, 1_000_000)
    else bad(words`${flag}: unknown key "${key}" (keys: label=TEXT, help=TEXT, required, order=N)`)
  }
  return field.label === undefined ? bad(words`${flag}: a contact field needs label=TEXT`) : { ...field, label: field.label }
}

/** CLI.md's names of the payment types. */
const paymentTypeAliases: Record<string, string> = { debit: "debit-card", bank: "bank-debit" }

/** `--collect billing,shipping`: the addresses named are collected, the others not; beside --billing-address or --shipping-address, refused. */
const readCollect = (r: LinkRequest): { readonly billing: boolean; readonly shipping: boolean } | undefined => {
  if (r.collect === undefined) return undefined
  if (r.collectBillingAddress !== undefined || r.collectShippingAddress !== undefined) bad(words`${flagField("collect")}: give it or ${flagField("billing-address", "collect_billing_address")}/${flagField("shipping-address", "collect_shipping_address")}, not both`)
  const named = r.collect.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "")
  if (named.length === 1 && named[0] === "none") return { billing: false, shipping: false }
  for (const t of named) if (t !== "billing" && t !== "shipping") bad(words`${flagField("collect")}: expected billing, shipping, both (billing,shipping) or none, got "${t}"`)
  return { billing: named.includes("billing"), shipping: named.includes("shipping") }
}

const readStart = (r: LinkRequest): BillingStart | undefined => {
  const given = [r.start, r.delayDays, r.delayMonths, r.startAfter].filter((v) => v !== undefined).length
  if (given > 1) bad(words`${flagField("start")}, ${flagField("start-after")}, ${flagField("delay-days")} and ${flagField("delay-months")}: give at most one`)
  if (r.startAfter !== undefined) {
    const after = /^(\d+)\s*([dm])$/i.exec(r.startAfter.trim())
    if (after !== null) {
      return after[2]!.toLowerCase() === "d"
        ? { _tag: "DelayDays", days: wholeText(flagField("start-after"), after[1]!, 1, 36_525) }
        : { _tag: "DelayMonths", months: wholeText(flagField("start-after"), after[1]!, 1, 1_200) }
    }
    const d = parseCalendarDate(r.startAfter.trim())
    return d === undefined ? bad(words`${flagField("start-after")}: expected 14d (days after checkout), 2m (months after checkout) or a date YYYY-MM-DD, got "${r.startAfter}"`) : { _tag: "Date", date: d as CalendarDate }
  }
  if (r.start !== undefined) {
    if (r.start === "checkout") return { _tag: "AtCheckout" }
    const d = parseCalendarDate(r.start)
    return d === undefined ? bad(words`${flagField("start")}: "${r.start}" is not a calendar date (expected YYYY-MM-DD, or checkout)`) : { _tag: "Date", date: d as CalendarDate }
  }
  if (r.delayDays !== undefined) return { _tag: "DelayDays", days: wholeText(flagField("delay-days"), r.delayDays, 1, 36_525) }
  if (r.delayMonths !== undefined) return { _tag: "DelayMonths", months: wholeText(flagField("delay-months"), r.delayMonths, 1, 1_200) }
  return undefined
}

const readItems = async (sql: Sql | TransactionSql, texts: ReadonlyArray<string>, currency: string): Promise<Array<LinkItem>> => {
  const parsed = texts.map((text, i) => {
    const p = parseLinkItemSpec(text)
    return typeof p === "string" ? bad(words`${itemField(i)} ("${text}"): ${p}`) : p
  })
  const labels = parsed.map((_, i) => itemField(i))
  // No item of a link is free (reference): a zero price is the link rule's refusal, before the catalogue's own words.
  parsed.forEach((p, i) => {
    if (p.spec.price !== undefined && parseMajorAmount(p.spec.price, p.spec.currency ?? currency) === 0) {
      throw new InputError("the unit price must be greater than 0", {
        cause: new PaymentLinkInvalid({ rule: "UnitPriceNotPositive", field: "item.unitPrice", item: i, problem: `the unit price must be greater than 0, got ${p.spec.price}` })
      })
    }
  })
  const resolved = await resolveItems(sql, parsed.map((p) => p.spec), labels.map((l) => l.flag), currency)
  return resolved.map((r, i): LinkItem => {
    const p = parsed[i]!
    if (r.currency !== currency) bad(words`${labels[i]!}: the item is priced in ${r.currency}, the link in ${currency} (one currency per link)`)
    if ((p.qtyMin === undefined) !== (p.qtyMax === undefined)) bad(words`${labels[i]!}: an editable quantity needs both qty-min=N and qty-max=N`)
    const editableQuantity = p.qtyMin === undefined ? undefined : { min: wholeText(words`${labels[i]!}: qty-min`, p.qtyMin, 0, 2_147_483_647), max: wholeText(words`${labels[i]!}: qty-max`, p.qtyMax!, 0, 2_147_483_647) }
    let ownPrice: { minimum: number } | undefined
    if (p.minPrice !== undefined) {
      const m = parseMajorAmount(p.minPrice, currency)
      if (typeof m === "string") bad(words`${labels[i]!}: ${p.minPriceKey}: ${m}`)
      ownPrice = { minimum: m as number }
    }
    return {
      productId: r.line.productId, sku: r.line.sku, name: r.line.name, description: p.description,
      unitPrice: r.line.unitPrice, quantity: r.line.quantity, frequency: r.frequency, discount: r.line.discount, taxRate: r.line.taxRate,
      optional: p.optional, editableQuantity, ownPrice
    }
  })
}

/** The defaults of a new link: nothing recurs from any setting but these. */
export const newLinkDefaults = (currency: string): PaymentLinkSettings => ({
  name: "", currency, items: [], terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, language: "en", paymentTypes: ["card"],
  collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: []
})

/**
 * The settings `request` makes of `base` (a new link's defaults, or the link being updated): what the
 * request names replaces what base has; items given replace all items. Text a flag does not take throws
 * an InputError naming the flag; SKUs are resolved against the catalogue (as `subscriptions create` does).
 */
export const readLinkSettings = async (sql: Sql | TransactionSql, request: LinkRequest, base: PaymentLinkSettings): Promise<PaymentLinkSettings> => {
  const r = request
  const currency = r.currency === undefined ? base.currency : readCurrency(r.currency)
  const terms = r.terms === undefined ? base.terms : parseBillingTerms(r.terms) ?? bad(words`${flagField("terms")}: expected auto-renew or fixed:N (N from 1 to 1000), got "${r.terms}"`)
  const start = readStart(r) ?? base.start
  const orderDiscount = r.orderDiscount === undefined ? base.orderDiscount : none(r.orderDiscount) ? undefined : readOrderDiscount(r.orderDiscount, currency)
  const types = r.paymentTypes === undefined
    ? base.paymentTypes
    : r.paymentTypes.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "").map((t) => paymentTypeAliases[t] ?? t).map((t) =>
      (paymentTypes as ReadonlyArray<string>).includes(t) ? (t as PaymentType) : bad(words`${flagField("payment-types")}: unknown payment type "${t}" (${paymentTypes.join(", ")}; or card, debit, bank)`)
    )
  const collected = readCollect(r)
  const items = r.items === undefined
    ? (currency !== base.currency && base.items.length > 0 ? bad(words`${flagField("currency")}: changing the currency needs the items again (${itemsField}), priced in ${currency}`) : base.items)
    : await readItems(sql, r.items, currency)
  const optionalText = (v: string | undefined, was: string | undefined) => (v === undefined ? was : v.trim() === "" || none(v) ? undefined : v)
  return {
    name: r.name ?? base.name,
    currency,
    items,
    terms,
    start,
    orderDiscount,
    checkoutText: optionalText(r.checkoutText, base.checkoutText),
    confirmationText: optionalText(r.confirmationText, base.confirmationText),
    redirectUrl: optionalText(r.redirectUrl, base.redirectUrl),
    language: r.language ?? base.language,
    locale: optionalText(r.locale, base.locale),
    paymentTypes: types,
    collectBillingAddress: r.collectBillingAddress ?? collected?.billing ?? base.collectBillingAddress,
    collectShippingAddress: r.collectShippingAddress ?? collected?.shipping ?? base.collectShippingAddress,
    allowDiscountCodes: r.allowDiscountCodes ?? base.allowDiscountCodes,
    contactFields: r.contactFields === undefined ? base.contactFields : r.contactFields.map(parseContactField),
    completedPaymentsLimit: r.completedPaymentsLimit === undefined
      ? base.completedPaymentsLimit
      : none(r.completedPaymentsLimit) ? undefined : wholeText(flagField("completed-payments-limit"), r.completedPaymentsLimit, 1, 1_000_000_000)
  }
}
