/**
 * The rules a payment link must keep when it is saved (reference, "Payment
 * links"), as one pure check returning the first refusal, typed
 * (`PaymentLinkInvalid{rule, field, item}`), or undefined. The doors read
 * their text into `PaymentLinkSettings` first and word the refusal with
 * their own names (a flag, a JSON field). Line amounts are checked by
 * `lineAmounts` (billing/pricing.ts), the invoices' own rule.
 */
import { checkInvoiceAmount, languageProblem, localeProblem, lineAmounts, PricingError, toDayNumber } from "../billing/index.ts"
import type { CalendarDate, DiscountCode, LinkField, LinkRule, PaymentLinkSettings } from "../domain/index.ts"
import {
  DiscountCodeInvalid, DiscountCodeUnusable, formatMajorAmount, isCurrencyCode, maxFixedPayments, notACurrency, maxQuantity, PaymentLinkInvalid, paymentTypes
} from "../domain/index.ts"
import { lineOf, linkSummary, lowestChoices, minimumDueAtCheckout } from "./linkSummary.ts"

const invalid = (rule: LinkRule, field: LinkField, problem: string, item?: number): PaymentLinkInvalid =>
  new PaymentLinkInvalid(item === undefined ? { rule, field, problem } : { rule, field, problem, item })

const whole = (n: number, min: number, max: number) => Number.isSafeInteger(n) && n >= min && n <= max

export const maxLinkItems = 100
export const maxContactFields = 20
const maxText = 5_000

/**
 * Where a buyer may be sent after paying: an absolute https URL with a host and no
 * credentials. Only the saved URL is ever used (never one from the request), so a
 * link cannot be made into an open redirect.
 */
export const redirectUrlProblem = (url: string): string | undefined => {
  if (/[\s\u0000-\u001f\u007f\\]/.test(url)) return `"${url}" is not a URL (spaces, control characters or backslashes)`
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `"${url}" is not an absolute URL`
  }
  if (u.protocol !== "https:") return `expected an https:// URL, got "${url}"`
  // Written `https://` as is: the store's check (payment_links_redirect_url_check, `like 'https://%'`) reads the scheme
  // case by case, and `HTTPS://…` left to it came back in the database's words.
  if (u.hostname === "" || !url.startsWith("https://")) return `expected https://HOST/…, got "${url}"`
  if (u.username !== "" || u.password !== "") return `a redirect URL may not carry a user name or password`
  return undefined
}

/** The first rule `settings` break on `today`, or undefined when the link may be saved. */
export const paymentLinkProblem = (settings: PaymentLinkSettings, today: CalendarDate): PaymentLinkInvalid | undefined => {
  const s = settings
  if (s.name.trim() === "") return invalid("NameMissing", "name", "a link needs an internal name")
  if (s.name.length > 200) return invalid("NameMissing", "name", "the name must be at most 200 characters")
  if (!isCurrencyCode(s.currency)) return invalid("CurrencyUnknown", "currency", notACurrency(s.currency))
  if (s.items.length === 0) return invalid("NoItems", "items", "a link needs at least one item")
  if (s.items.length > maxLinkItems) return invalid("NoItems", "items", `a link holds at most ${maxLinkItems} items`)
  for (const [i, item] of s.items.entries()) {
    if (item.name.trim() === "") return invalid("ItemNameMissing", "item", "an item needs a name", i)
    if (!Number.isSafeInteger(item.unitPrice) || item.unitPrice <= 0) {
      return invalid("UnitPriceNotPositive", "item.unitPrice", `the unit price must be greater than 0, got ${formatMajorAmount(item.unitPrice, s.currency)}`, i)
    }
    if (!whole(item.quantity, 1, maxQuantity)) {
      return invalid("QuantityNotWhole", "item.quantity", `the quantity must be a whole number from 1 to ${maxQuantity}, got ${item.quantity}`, i)
    }
    if (item.ownPrice !== undefined && item.editableQuantity !== undefined) {
      return invalid("OwnPriceWithEditableQuantity", "item.ownPrice", "an item whose buyer sets the price cannot also have an editable quantity", i)
    }
    const q = item.editableQuantity
    if (q !== undefined) {
      if (!whole(q.min, 1, maxQuantity) || !whole(q.max, 1, maxQuantity) || q.min > q.max) {
        return invalid("QuantityRange", "item.editableQuantity", `the editable quantity needs whole numbers 1 ≤ min ≤ max ≤ ${maxQuantity}, got ${q.min}..${q.max}`, i)
      }
      if (item.quantity < q.min || item.quantity > q.max) {
        return invalid("QuantityRange", "item.editableQuantity", `the quantity ${item.quantity} must lie within the editable range ${q.min}..${q.max}`, i)
      }
    }
    const own = item.ownPrice
    if (own !== undefined) {
      if (!Number.isSafeInteger(own.minimum) || own.minimum <= 0) {
        return invalid("OwnPriceMinimum", "item.ownPrice", `the minimum price must be greater than 0, got ${formatMajorAmount(own.minimum, s.currency)}`, i)
      }
      if (own.minimum > item.unitPrice) {
        return invalid("OwnPriceMinimum", "item.ownPrice", `the suggested price ${formatMajorAmount(item.unitPrice, s.currency)} is under the minimum ${formatMajorAmount(own.minimum, s.currency)}`, i)
      }
    }
    try {
      lineAmounts(lineOf(item, q?.max ?? item.quantity, item.unitPrice))
    } catch (e) {
      if (!(e instanceof PricingError)) throw e
      const field: LinkField = e.field === "discount" ? "item.discount" : e.field === "tax" ? "item.taxRate" : e.field === "qty" ? "item.quantity" : "item.unitPrice"
      const rule: LinkRule = e.field === "discount" ? "UnitDiscount" : e.field === "tax" ? "TaxRate" : "TooLarge"
      return invalid(rule, field, e.message, i)
    }
  }
  try {
    checkInvoiceAmount(s.items.reduce((sum, item) => sum + lineAmounts(lineOf(item, item.editableQuantity?.max ?? item.quantity, item.unitPrice)).total, 0))
  } catch (e) {
    if (!(e instanceof PricingError)) throw e
    return invalid("TooLarge", "items", e.message)
  }
  if (s.terms._tag === "Fixed" && !whole(s.terms.payments, 1, maxFixedPayments)) {
    return invalid("Terms", "terms", `a fixed number of payments must be from 1 to ${maxFixedPayments}, got ${s.terms.payments}`)
  }
  const st = s.start
  if (st._tag === "Date" && toDayNumber(st.date) <= toDayNumber(today)) return invalid("Start", "start", `a billing start date must be after today (${today}), got ${st.date}`)
  if (st._tag === "DelayDays" && !whole(st.days, 1, 36_525)) return invalid("Start", "start", `a delay in days must be a whole number from 1 to 36525, got ${st.days}`)
  if (st._tag === "DelayMonths" && !whole(st.months, 1, 1_200)) return invalid("Start", "start", `a delay in months must be a whole number from 1 to 1200, got ${st.months}`)
  const od = s.orderDiscount
  if (od !== undefined) {
    if (od._tag === "Percent" && !whole(od.ppm, 0, 1_000_000)) return invalid("OrderDiscount", "orderDiscount", `an order discount percent must be between 0% and 100%, got ${od.ppm / 10_000}%`)
    if (od._tag === "Amount" && !(Number.isSafeInteger(od.amount) && od.amount >= 0)) return invalid("OrderDiscount", "orderDiscount", `an order discount amount cannot be negative`)
  }
  if (s.checkoutText !== undefined && s.checkoutText.length > maxText) return invalid("TooLarge", "checkoutText", `the checkout text must be at most ${maxText} characters`)
  if (s.confirmationText !== undefined && s.confirmationText.length > maxText) {
    return invalid("TooLarge", "confirmationText", `the confirmation text must be at most ${maxText} characters`)
  }
  const badLanguage = languageProblem(s.language)
  if (badLanguage !== undefined) return invalid("Language", "language", badLanguage)
  const badLocale = s.locale === undefined ? undefined : localeProblem(s.locale)
  if (badLocale !== undefined) return invalid("Locale", "locale", badLocale)
  if (s.paymentTypes.length === 0) return invalid("PaymentTypes", "paymentTypes", `accept at least one payment type (${paymentTypes.join(", ")})`)
  for (const t of s.paymentTypes) {
    if (!(paymentTypes as ReadonlyArray<string>).includes(t)) return invalid("PaymentTypes", "paymentTypes", `unknown payment type "${t}" (${paymentTypes.join(", ")})`)
  }
  if (new Set(s.paymentTypes).size !== s.paymentTypes.length) return invalid("PaymentTypes", "paymentTypes", "each payment type once")
  if (s.redirectUrl !== undefined) {
    const problem = redirectUrlProblem(s.redirectUrl)
    if (problem !== undefined) return invalid("RedirectUrl", "redirectUrl", problem)
  }
  if (s.contactFields.length > maxContactFields) return invalid("ContactField", "contactFields", `at most ${maxContactFields} contact fields`)
  for (const [i, f] of s.contactFields.entries()) {
    if (f.label.trim() === "" || f.label.length > 200) return invalid("ContactField", "contactFields", `contact field ${i + 1} needs a label of 1 to 200 characters`)
    if (f.helpText !== undefined && f.helpText.length > 1_000) return invalid("ContactField", "contactFields", `contact field ${i + 1}: the help text must be at most 1000 characters`)
    if (!whole(f.order, 0, 1_000_000)) return invalid("ContactField", "contactFields", `contact field ${i + 1}: the order must be a whole number, got ${f.order}`)
  }
  if (new Set(s.contactFields.map((f) => f.label.trim().toLowerCase())).size !== s.contactFields.length) {
    return invalid("ContactField", "contactFields", "each contact field label once")
  }
  if (s.completedPaymentsLimit !== undefined && !whole(s.completedPaymentsLimit, 1, 1_000_000_000)) {
    return invalid("CompletedPaymentsLimit", "completedPaymentsLimit", `the completed-payments limit must be a whole number from 1, got ${s.completedPaymentsLimit}`)
  }
  // Checked when saved, at the least a buyer can choose: optional items out, minimum quantities and prices, no code.
  const least = linkSummary(s, lowestChoices(s), today).dueToday.amount
  const minimum = minimumDueAtCheckout(s.currency)
  if (least < minimum) {
    return invalid("DueAtCheckoutTooLow", "items",
      `a link must take at least ${formatMajorAmount(minimum, s.currency)} ${s.currency} at checkout; the least a buyer could pay today is ${formatMajorAmount(least, s.currency)} (a link of only delayed items needs a one-time item or a deposit)`)
  }
  return undefined
}

/** The first rule a discount code breaks, or undefined. */
export const discountCodeProblem = (code: Omit<DiscountCode, "id" | "redemptions" | "active" | "createdOn">, today: CalendarDate): DiscountCodeInvalid | undefined => {
  const bad = (rule: DiscountCodeInvalid["rule"], field: DiscountCodeInvalid["field"], problem: string) => new DiscountCodeInvalid({ rule, field, problem })
  if (!/^[A-Za-z0-9_-]{3,40}$/.test(code.code)) return bad("Code", "code", `a code is 3 to 40 letters, digits, - or _, got "${code.code}"`)
  const off = code.off
  if (off._tag === "Percent" && !whole(off.ppm, 1, 1_000_000)) return bad("Off", "off", `a percent off must be more than 0% and at most 100%, got ${off.ppm / 10_000}%`)
  if (off._tag === "Amount") {
    if (!isCurrencyCode(off.currency)) return bad("Currency", "currency", notACurrency(off.currency))
    if (!Number.isSafeInteger(off.amount) || off.amount <= 0) return bad("Off", "off", `an amount off must be greater than 0`)
  }
  if (code.duration._tag === "Payments" && !whole(code.duration.payments, 1, maxFixedPayments)) {
    return bad("Duration", "duration", `a code for N payments needs N from 1 to ${maxFixedPayments}, got ${code.duration.payments}`)
  }
  if (code.expiresOn !== undefined && toDayNumber(code.expiresOn) < toDayNumber(today)) return bad("Expiry", "expiresOn", `the expiry date ${code.expiresOn} is before today (${today})`)
  if (code.maxRedemptions !== undefined && !whole(code.maxRedemptions, 1, 1_000_000_000)) {
    return bad("RedemptionLimit", "maxRedemptions", `the redemption limit must be a whole number from 1, got ${code.maxRedemptions}`)
  }
  return undefined
}

/** A code with no redemption left (the limit reached, or the last one taken by a payment in flight). */
export const discountCodeUsedUp = (code: DiscountCode): DiscountCodeUnusable =>
  new DiscountCodeUnusable({ code: code.code, reason: "UsedUp", problem: `the code ${code.code} has been used up` })

/** Why a buyer cannot use `code` on `link` today (expired, used up, switched off, another currency, codes not allowed), or undefined. */
export const discountCodeUsable = (code: DiscountCode, link: { readonly currency: string; readonly allowDiscountCodes: boolean }, today: CalendarDate): DiscountCodeUnusable | undefined => {
  const no = (reason: DiscountCodeUnusable["reason"], problem: string) => new DiscountCodeUnusable({ code: code.code, reason, problem })
  if (!link.allowDiscountCodes) return no("NotAllowedOnLink", "this link takes no discount codes")
  if (!code.active) return no("Inactive", `the code ${code.code} is switched off`)
  // expiresOn is the code's last usable day: say until when it was valid, not that it "expired on" a day it still worked.
  if (code.expiresOn !== undefined && toDayNumber(code.expiresOn) < toDayNumber(today)) return no("Expired", `the code ${code.code} was valid until ${code.expiresOn}`)
  if (code.maxRedemptions !== undefined && code.redemptions >= code.maxRedemptions) return discountCodeUsedUp(code)
  if (code.off._tag === "Amount" && code.off.currency !== link.currency) return no("Currency", `the code ${code.code} is in ${code.off.currency}, the link in ${link.currency}`)
  return undefined
}
