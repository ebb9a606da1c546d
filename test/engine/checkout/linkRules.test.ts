/**
 * The rules of a saved payment link and discount code (reference, "Payment links"), each refused as a typed
 * error naming the rule and the domain's field; the doors word them (test/engine/cli/links.test.ts,
 * test/engine/api/paymentLinks.test.ts).
 */
import { describe, expect, it } from "vitest"
import { discountCodeProblem, paymentLinkProblem, redirectUrlProblem } from "../../../engine/checkout/index.ts"
import type { CalendarDate, LinkItem, PaymentLinkSettings } from "../../../engine/domain/index.ts"

const today = "2026-03-01" as CalendarDate
const beans: LinkItem = { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }
const base: PaymentLinkSettings = {
  name: "Club", currency: "USD", items: [beans], terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, language: "en",
  paymentTypes: ["card"], collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: []
}
const withItem = (over: Partial<LinkItem>, more: Partial<PaymentLinkSettings> = {}) => ({ ...base, items: [{ ...beans, ...over }], ...more })
const problem = (s: PaymentLinkSettings) => {
  const p = paymentLinkProblem(s, today)
  return p === undefined ? undefined : { rule: p.rule, field: p.field, item: p.item }
}

describe("paymentLinkProblem", () => {
  it("a valid link passes", () => expect(problem(base)).toBeUndefined())
  it.each([
    ["zero unit price", withItem({ unitPrice: 0 }), { rule: "UnitPriceNotPositive", field: "item.unitPrice", item: 0 }],
    ["fractional quantity", withItem({ quantity: 1.5 }), { rule: "QuantityNotWhole", field: "item.quantity", item: 0 }],
    ["zero quantity", withItem({ quantity: 0 }), { rule: "QuantityNotWhole", field: "item.quantity", item: 0 }],
    ["editable quantity min above max", withItem({ editableQuantity: { min: 3, max: 2 } }), { rule: "QuantityRange", field: "item.editableQuantity", item: 0 }],
    ["quantity outside its editable range", withItem({ quantity: 9, editableQuantity: { min: 1, max: 5 } }), { rule: "QuantityRange", field: "item.editableQuantity", item: 0 }],
    ["own price with editable quantity", withItem({ ownPrice: { minimum: 100 }, editableQuantity: { min: 1, max: 2 } }), { rule: "OwnPriceWithEditableQuantity", field: "item.ownPrice", item: 0 }],
    ["own price minimum of 0", withItem({ ownPrice: { minimum: 0 } }), { rule: "OwnPriceMinimum", field: "item.ownPrice", item: 0 }],
    ["suggested price under the minimum", withItem({ ownPrice: { minimum: 3000 } }), { rule: "OwnPriceMinimum", field: "item.ownPrice", item: 0 }],
    ["amount discount above the price", withItem({ discount: { _tag: "Amount", amount: 2600 as never } }), { rule: "UnitDiscount", field: "item.discount", item: 0 }],
    ["tax above 100%", withItem({ taxRate: 1_000_001 }), { rule: "TaxRate", field: "item.taxRate", item: 0 }],
    ["under 0.50 due at checkout", withItem({ unitPrice: 49, frequency: undefined }), { rule: "DueAtCheckoutTooLow", field: "items", item: undefined }],
    ["only delayed items", { ...base, start: { _tag: "DelayDays", days: 14 } }, { rule: "DueAtCheckoutTooLow", field: "items", item: undefined }],
    ["a start date not after today", { ...base, start: { _tag: "Date", date: today } }, { rule: "Start", field: "start", item: undefined }],
    ["a delay of 0 months", { ...base, start: { _tag: "DelayMonths", months: 0 } }, { rule: "Start", field: "start", item: undefined }],
    ["fixed terms of 0 payments", { ...base, terms: { _tag: "Fixed", payments: 0 } }, { rule: "Terms", field: "terms", item: undefined }],
    ["order discount above 100%", { ...base, orderDiscount: { _tag: "Percent", ppm: 1_000_001 } }, { rule: "OrderDiscount", field: "orderDiscount", item: undefined }],
    ["an http redirect", { ...base, redirectUrl: "http://shop.example.com" }, { rule: "RedirectUrl", field: "redirectUrl", item: undefined }],
    ["no payment type", { ...base, paymentTypes: [] }, { rule: "PaymentTypes", field: "paymentTypes", item: undefined }],
    ["a language without a catalog", { ...base, language: "de" }, { rule: "Language", field: "language", item: undefined }],
    ["a contact field without a label", { ...base, contactFields: [{ label: " ", required: true, order: 1 }] }, { rule: "ContactField", field: "contactFields", item: undefined }],
    ["a completed-payments limit of 0", { ...base, completedPaymentsLimit: 0 }, { rule: "CompletedPaymentsLimit", field: "completedPaymentsLimit", item: undefined }],
    ["no items", { ...base, items: [] }, { rule: "NoItems", field: "items", item: undefined }],
    ["no name", { ...base, name: "" }, { rule: "NameMissing", field: "name", item: undefined }],
    ["an unknown currency", { ...base, currency: "XXQ" }, { rule: "CurrencyUnknown", field: "currency", item: undefined }],
    ["a checkout text over 5000 characters", { ...base, checkoutText: "x".repeat(5_001) }, { rule: "TooLarge", field: "checkoutText", item: undefined }],
    ["a confirmation text over 5000 characters", { ...base, confirmationText: "x".repeat(5_001) }, { rule: "TooLarge", field: "confirmationText", item: undefined }]
  ] as Array<[string, PaymentLinkSettings, unknown]>)("refuses %s", (_, settings, expected) => expect(problem(settings)).toEqual(expected))

  it("a confirmation text of 5000 characters passes, as a checkout text does", () =>
    expect(problem({ ...base, checkoutText: "x".repeat(5_000), confirmationText: "x".repeat(5_000) })).toBeUndefined())
  it("an own price is allowed on a recurring item (a monthly donation)", () =>
    expect(problem(withItem({ unitPrice: 500, ownPrice: { minimum: 100 } }))).toBeUndefined())
  it("0.50 is enough, and a delayed link passes with a one-time deposit", () => {
    expect(problem(withItem({ unitPrice: 50, frequency: undefined }))).toBeUndefined()
    expect(problem({ ...base, start: { _tag: "DelayDays", days: 14 }, items: [beans, { ...beans, name: "Deposit", unitPrice: 50, frequency: undefined }] })).toBeUndefined()
  })
})

describe("redirectUrlProblem", () => {
  it("takes https URLs with a host, and nothing else", () => {
    expect(redirectUrlProblem("https://shop.example.com/thanks?order=1")).toBeUndefined()
    for (const url of ["http://shop.example.com", "javascript:alert(1)", "//evil.example.com", "/thanks", "https://u:p@evil.example.com", "https://evil.example.com/\\x", "https:evil.example.com", "https://shop.example.com/a b"]) {
      expect(redirectUrlProblem(url), url).toBeDefined()
    }
  })
})

describe("discountCodeProblem", () => {
  const code = { code: "SPRING", off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined } as const
  it.each([
    ["a code with spaces", { ...code, code: "a b" }, "Code"],
    ["0% off", { ...code, off: { _tag: "Percent", ppm: 0 } }, "Off"],
    ["an amount of 0", { ...code, off: { _tag: "Amount", amount: 0, currency: "USD" } }, "Off"],
    ["0 payments", { ...code, duration: { _tag: "Payments", payments: 0 } }, "Duration"],
    ["an expiry in the past", { ...code, expiresOn: "2026-02-28" }, "Expiry"],
    ["a redemption limit of 0", { ...code, maxRedemptions: 0 }, "RedemptionLimit"]
  ] as Array<[string, Parameters<typeof discountCodeProblem>[0], string]>)("refuses %s", (_, c, rule) => expect(discountCodeProblem(c, today)?.rule).toBe(rule))
  it("a valid code passes", () => expect(discountCodeProblem(code, today)).toBeUndefined())
})
