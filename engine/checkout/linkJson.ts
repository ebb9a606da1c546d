/**
 * The JSON shape of payment links, summaries and discount codes, the same
 * for the CLI's `--json` and the HTTP API: money in the one shape
 * `{ amount, currency, formatted }` (domain/money.ts moneyJson), dates as YYYY-MM-DD, snake_case fields.
 */
import type { DiscountCode, PaymentLink } from "../domain/index.ts"
import { formatBillingTerms, formatFrequency, moneyJson } from "../domain/index.ts"
import type { LinkSummary } from "./linkSummary.ts"

/** A link as JSON: money in minor units with its currency, as the API gives it. */
export const linkJson = (link: PaymentLink) => ({
  object: "payment_link",
  id: link.id, slug: link.slug, name: link.name, currency: link.currency, active: link.active, deleted_on: link.deletedOn ?? null,
  items: link.items.map((i) => ({
    name: i.name, sku: i.sku ?? null, description: i.description ?? null, unit_price: moneyJson(i.unitPrice, link.currency), quantity: i.quantity,
    frequency: i.frequency === undefined ? "one-time" : formatFrequency(i.frequency),
    discount: i.discount === undefined ? null : i.discount._tag === "Percent" ? `${i.discount.ppm / 10_000}%` : moneyJson(i.discount.amount, link.currency),
    tax_rate: i.taxRate === undefined ? null : `${i.taxRate / 10_000}%`, optional: i.optional,
    editable_quantity: i.editableQuantity ?? null, own_price_minimum: i.ownPrice === undefined ? null : moneyJson(i.ownPrice.minimum, link.currency)
  })),
  terms: formatBillingTerms(link.terms),
  start: link.start._tag === "AtCheckout" ? "checkout" : link.start._tag === "Date" ? link.start.date : link.start._tag === "DelayDays" ? `${link.start.days} days` : `${link.start.months} months`,
  order_discount: link.orderDiscount === undefined ? null : link.orderDiscount._tag === "Percent" ? `${link.orderDiscount.ppm / 10_000}%` : moneyJson(link.orderDiscount.amount, link.currency),
  checkout_text: link.checkoutText ?? null, confirmation_text: link.confirmationText ?? null, redirect_url: link.redirectUrl ?? null,
  language: link.language, locale: link.locale ?? null, payment_types: link.paymentTypes,
  collect_billing_address: link.collectBillingAddress, collect_shipping_address: link.collectShippingAddress, allow_discount_codes: link.allowDiscountCodes,
  contact_fields: link.contactFields.map((f) => ({ label: f.label, help_text: f.helpText ?? null, required: f.required, order: f.order })),
  completed_payments: link.completedPayments, completed_payments_limit: link.completedPaymentsLimit ?? null,
  from_contact_id: link.fromContactId ?? null, created_on: link.createdOn, updated_on: link.updatedOn
})

/** Money of a summary in the one JSON shape (domain/money.ts). */
const m = (x: { readonly amount: number; readonly currency: string }) => moneyJson(x.amount, x.currency)

/** A summary as JSON (money in the one shape: minor units, currency, formatted). */
export const summaryJson = (s: LinkSummary) => ({
  object: "link_summary",
  currency: s.currency, start_date: s.startDate,
  // Each item as the buyer reads it: quantity × unit_price − discount = amount (billing/pricing.ts shownLine).
  lines: s.lines.map((l) => ({
    item: l.index + 1, name: l.name, one_time: l.oneTime, quantity: l.quantity, unit_price: moneyJson(l.unitPrice, s.currency),
    discount: moneyJson(l.discount, s.currency), amount: moneyJson(l.amount, s.currency)
  })),
  subtotal: m(s.subtotal), order_discount: m(s.orderDiscount), code_discount: m(s.codeDiscount), tax: m(s.tax),
  due_today: m(s.dueToday),
  future_payments: s.futurePayments.map((f) => ({ subscription: f.subscription, name: f.name, frequency: formatFrequency(f.frequency), first_date: f.firstDate, amount: m(f.amount), payments: f.payments ?? null })),
  total: s.total === undefined ? null : m(s.total)
})

export const codeJson = (c: DiscountCode) => ({
  object: "discount_code", id: c.id, code: c.code,
  percent_off: c.off._tag === "Percent" ? `${c.off.ppm / 10_000}%` : null,
  amount_off: c.off._tag === "Amount" ? moneyJson(c.off.amount, c.off.currency) : null,
  duration: c.duration._tag === "Once" ? "once" : c.duration._tag === "Forever" ? "forever" : "payments",
  duration_payments: c.duration._tag === "Payments" ? c.duration.payments : null,
  expires_on: c.expiresOn ?? null, max_redemptions: c.maxRedemptions ?? null, redemptions: c.redemptions, active: c.active, created_on: c.createdOn
})

