/**
 * An API client sends JSON fields, not the CLI's flags: each refusal names the
 * field the client sent (`next_billing_date`, `items[1]`), in the message and
 * as `field`, and never a flag (`--next-billing-date`, `--item 2`). Users
 * writing API clients saw the CLI's flags in every refusal.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"
import { tickAt } from "../runtime/engineHarness.ts"

let api: ApiUnderTest
beforeEach(async () => {
  api = await startApi()
}, 60_000)
afterEach(async () => {
  await api.close()
})

const setUp = async () => {
  expect((await api.call("POST", "/v1/products", { body: { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/products", { body: { name: "Tea", sku: "TEA-EUR", price: "9.00", currency: "EUR" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", name: "Ana", payment_method: "pm_ok" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "bo@example.com", name: "Bo" } })).status).toBe(201)
}

type Refused = { readonly status: number; readonly json: { readonly code: string; readonly field?: string; readonly message: string } }

/** A refusal as a client reads it: the status, the field, and a message that starts with that field and names no flag. */
const expectRefused = (r: Refused, status: number, field: string | undefined, message?: RegExp) => {
  expect([r.status, r.json.field], r.json.message).toEqual([status, field])
  expect(r.json.message, "a flag of the CLI in an API error").not.toMatch(/(^|[\s(,])--[a-z]/)
  if (field !== undefined) expect(r.json.message.startsWith(`${field}`), r.json.message).toBe(true)
  if (message !== undefined) expect(r.json.message).toMatch(message)
}

describe("the API's refusals name the JSON field the client sent", () => {
  it("subscriptions create: each field by its JSON name, an item by its place in items", async () => {
    await setUp()
    const create = (body: Record<string, unknown>) => api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], ...body } })
    expectRefused(await create({ terms: "fixed:0" }), 400, "terms", /^terms: expected auto-renew or fixed:N/)
    expectRefused(await create({ collection: "cheque" }), 400, "collection", /^collection: expected charge or invoice/)
    expectRefused(await create({ start: "2026-02-30" }), 400, "start", /^start: "2026-02-30" is not a calendar date/)
    expectRefused(await create({ start: "2026-02-28" }), 400, "start", /^start: 2026-02-28 is before today \(2026-03-01\)/)
    expectRefused(await create({ start: "2026-04-01", delay_days: 3 }), 400, "start", /^start, delay_days and delay_months: give at most one$/)
    expectRefused(await create({ payment_method: " " }), 400, "payment_method")
    expectRefused(await create({ language: "xx-nope-1" }), 400, "language")
    // Items: the offending element, 0-based as in the JSON array; the same path whichever rule refused it.
    expectRefused(await create({ items: ["sku=COFFEE", "sku=COFFEE,qty=lots"] }), 400, "items[1]", /^items\[1\] \("sku=COFFEE,qty=lots"\): /)
    expectRefused(await create({ items: ["sku=COFFEE", "sku=NOPE"] }), 400, "items[1]", /^items\[1\]: unknown SKU "NOPE"/)
    expect((await create({ items: ["sku=NOPE"] })).json.code).toBe("resource_missing")
    expectRefused(await create({ items: ["sku=COFFEE", "sku=COFFEE,discount=20.00"] }), 400, "items[1]", /^items\[1\]: an amount discount \(20.00\) cannot exceed the unit price$/)
    expectRefused(await create({ items: ["sku=COFFEE", "sku=COFFEE,currency=EUR"] }), 400, "items[1]", /^items\[1\]: SKU COFFEE is priced in USD, not EUR$/)
    expectRefused(await create({ items: [] }), 400, "items", /^items: a subscription needs at least one item$/)
    // The use case's refusals: the contact, its payment method.
    expectRefused(await create({ contact: "nobody@example.com" }), 400, "contact", /^contact: no contact with email nobody@example\.com \(add it with: POST \/v1\/contacts/)
    expectRefused(await create({ contact: "bo@example.com" }), 400, "payment_method", /^payment_method: charging automatically needs a saved payment method \(give payment_method, or save one on contact bo@example\.com, or use "collection": "invoice"\)$/)
    expect((await api.call("GET", "/v1/subscriptions")).json.data).toEqual([])
  })

  it("subscriptions update, pause and list: next_billing_date, items[i], resume_on, next_billing_before", async () => {
    await setUp()
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"] } })).json.data[0].id
    await tickAt(api.db, "2026-03-01")
    const update = (body: Record<string, unknown>) => api.call("POST", `/v1/subscriptions/${id}`, { body })
    expectRefused(await update({ next_billing_date: "2026-03-10" }), 400, "next_billing_date", /^next_billing_date: 2026-03-10 is inside 2026-03-01\.\.2026-03-31, already invoiced \(\S+\); give 2026-04-01 or later$/)
    expectRefused(await update({ next_billing_date: "March" }), 400, "next_billing_date", /^next_billing_date: "March" is not a calendar date/)
    expectRefused(await update({ payment_method: "" }), 400, "payment_method")
    expectRefused(await update({ items: ["sku=COFFEE", "sku=TEA-EUR"] }), 400, "items[1]", /^items\[1\]: the subscription bills in USD, not EUR$/)
    expectRefused(await update({ items: ["sku=COFFEE,qty=2", "sku=NOPE"] }), 400, "items[1]", /^items\[1\]: unknown SKU "NOPE"/)
    expectRefused(await update({}), 400, undefined, /^nothing to update: give items, next_billing_date or payment_method$/)
    expectRefused(await api.call("POST", `/v1/subscriptions/${id}/pause`, { body: { resume_on: "2026-03-01" } }), 400, "resume_on", /^resume_on: 2026-03-01 must be after today/)
    expectRefused(await api.call("POST", `/v1/subscriptions/${id}/cancel`, { body: { at_period_end: true, refund_unused: true } }), 400, "refund_unused")
    expectRefused(await api.call("GET", "/v1/subscriptions?next_billing_before=soon"), 400, "next_billing_before", /^next_billing_before: "soon" is not a calendar date/)
  })

  it("contacts, products, invoices, webhook endpoints and reports: the JSON field, never the flag", async () => {
    await setUp()
    expectRefused(await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com" } }), 409, "email", /^email: a contact with email ana@example\.com exists already$/)
    expectRefused(await api.call("POST", "/v1/contacts", { body: { email: "not-an-email" } }), 400, "email")
    expectRefused(await api.call("POST", "/v1/products", { body: { name: "Coffee", sku: "COFFEE", price: "1.00" } }), 409, "sku")
    expectRefused(await api.call("POST", "/v1/products", { body: { name: "Mug", sku: "MUG", price: "free" } }), 400, "price")
    const sub = (await api.call("POST", "/v1/subscriptions", { body: { contact: "bo@example.com", items: ["sku=COFFEE"], collection: "invoice" } })).json.data[0].id
    await tickAt(api.db, "2026-03-01")
    const invoice = (await api.call("GET", `/v1/invoices?subscription=${sub}`)).json.data[0]
    expectRefused(await api.call("POST", `/v1/invoices/${invoice.id}/pay`, { body: { amount: "999.00" } }), 400, "amount", /^amount: /)
    expectRefused(await api.call("POST", "/v1/webhook_endpoints", { body: { url: "http://crm.example.com/", events: ["invoice.paid"] } }), 400, "url", /^url: /)
    expectRefused(await api.call("POST", "/v1/webhook_endpoints", { body: { url: "https://crm.example.com/", events: [] } }), 400, "events", /^events: /)
    expectRefused(await api.call("GET", "/v1/reports/mrr?from=2026-1&to=2026-03"), 400, "from", /^from: expected a month YYYY-MM, got "2026-1"$/)
    expectRefused(await api.call("GET", "/v1/reports/mrr?from=2026-04&to=2026-03"), 400, "from", /^from: 2026-04 is after to 2026-03$/)
    expectRefused(await api.call("GET", "/v1/reports/mrr?from=0000-01&to=2026-03"), 400, "from", /^from: 0000-01 is out of range \(years 1900 to 2999\)$/)
    expectRefused(await api.call("GET", "/v1/reports/mrr?from=2026-01&to=9999-12"), 400, "to", /^to: 9999-12 is out of range \(years 1900 to 2999\)$/)
    expectRefused(await api.call("GET", "/v1/reports/mrr?from=2026-01&to=2026-03&details=true"), 400, "details", /^details: only the movements report has details$/)
  })

  it("payment links and discount codes: the JSON field, an item or a contact field by its place", async () => {
    await setUp()
    const link = (body: Record<string, unknown>) => api.call("POST", "/v1/payment_links", { body: { name: "Test", items: ["sku=COFFEE"], ...body } })
    expectRefused(await link({ order_discount: "lots" }), 400, "order_discount", /^order_discount: /)
    expectRefused(await link({ terms: "fixed:0" }), 400, "terms", /^terms: /)
    expectRefused(await link({ start: "2026-04-01", delay_days: 3 }), 400, "start", /^start, start_after, delay_days and delay_months: give at most one$/)
    expectRefused(await link({ payment_types: ["cheque"] }), 400, "payment_types", /^payment_types: unknown payment type "cheque"/)
    expectRefused(await link({ items: ["sku=COFFEE", "sku=COFFEE,qty=lots"] }), 400, "items[1]", /^items\[1\] \("sku=COFFEE,qty=lots"\): /)
    expectRefused(await link({ items: ["sku=COFFEE", "sku=NOPE"] }), 400, "items[1]", /^items\[1\]: unknown SKU "NOPE"/)
    expectRefused(await link({ items: ["sku=COFFEE", "sku=COFFEE,qty-min=1"] }), 400, "items[1]", /^items\[1\]: an editable quantity needs both qty-min=N and qty-max=N$/)
    expectRefused(await link({ items: ["sku=COFFEE,qty-min=x,qty-max=3"] }), 400, "items[0]", /^items\[0\]: qty-min: expected a whole number/)
    expectRefused(await link({ contact_fields: ["label=Grind", "help=Whole or ground"] }), 400, "contact_fields[1]", /^contact_fields\[1\]: a contact field needs label=TEXT$/)
    expectRefused(await link({ items: [] }), 400, "items", /^items: a link needs at least one item$/)
    expectRefused(await api.call("POST", "/v1/payment_links", { body: { from_contact: "nobody@example.com", name: "Once", items: ["Tea"], price: "5.00" } }), 400, "from_contact", /^from_contact: no contact with email nobody@example\.com \(add it with: POST \/v1\/contacts/)
    const made = await link({ slug: "coffee" })
    expect(made.status).toBe(201)
    expectRefused(await api.call("GET", "/v1/payment_links/coffee/preview?qty=9=2"), 400, "qty", /^qty: expected an item number from 1 to 1, got "9"$/)
    expectRefused(await api.call("GET", "/v1/payment_links/coffee/preview?include=x"), 400, "include")
    const code = (body: Record<string, unknown>) => api.call("POST", "/v1/discount_codes", { body: { code: "NEW1", off: "10%", ...body } })
    expectRefused(await code({ off: "lots" }), 400, "off", /^off: /)
    expectRefused(await code({ duration: "often" }), 400, "duration", /^duration: /)
    expectRefused(await code({ expires_on: "2026-02-30" }), 400, "expires_on", /^expires_on: "2026-02-30" is not a calendar date/)
    expect((await code({})).status).toBe(201)
    expectRefused(await api.call("POST", "/v1/discount_codes/NEW1", { body: {} }), 400, undefined, /^nothing to update: give expires_on or max_redemptions$/)
  })
})
