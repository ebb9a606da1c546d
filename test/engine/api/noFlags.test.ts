/**
 * The refusals that still reached an API client in the command line's words (or naming a field the client
 * never sent), found by driving every route with wrong values: each now names the JSON field the client sent,
 * in the message and as `field`, speaks of no command or flag of the CLI, and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi()
  expect((await api.call("POST", "/v1/products", { body: { name: "Tea", sku: "TEA", price: "5.00", currency: "USD" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", name: "Ana" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/webhook_endpoints", { body: { url: "https://crm.example.com/hook", events: ["invoice.paid"] } })).status).toBe(201)
}, 600_000)
afterAll(async () => {
  await api?.close()
}, 600_000)

/** Rows a refused request must leave as they were: links, codes, webhook endpoints, contacts, products, subscriptions, and the journal. */
const written = async () =>
  (await api.db.db.sql<Array<{ n: string }>>`
    select concat_ws(',', (select count(*) from payment_links), (select count(*) from payment_link_items), (select count(*) from discount_codes),
      (select count(*) from webhook_endpoints where removed_on is null), (select count(*) from contacts), (select count(*) from products), (select count(*) from subscriptions), (select count(*) from events)) as n`)[0]!.n

/** A refusal as an API client reads it: the status and field, a message starting with that field (when one) and naming nothing of the CLI; nothing written. */
const refused = async (method: string, path: string, body: unknown, status: number, field: string | undefined, message: RegExp) => {
  const before = await written()
  const r = await api.call(method, path, body === undefined ? {} : { body })
  expect([r.status, r.json.field], JSON.stringify(r.json)).toEqual([status, field])
  expect(r.json.message, "a flag of the CLI in an API error").not.toMatch(/(^|[\s(,"])--[a-z]/)
  expect(r.json.message, "a command of the CLI in an API error").not.toMatch(/billcycle |^[A-Z]+: /)
  // The field first: `currency: …`, or an item with the text sent, `items[1] ("…"): …`.
  if (field !== undefined) expect(r.json.message.startsWith(`${field}: `) || r.json.message.startsWith(`${field} (`), r.json.message).toBe(true)
  expect(r.json.message).toMatch(message)
  expect(await written()).toBe(before)
}

describe(`API refusals found still worded for the command line (${backend})`, () => {
  it("an unknown webhook endpoint in the path: 404 naming the route to list them, not the CLI's ID and command", async () => {
    await refused("DELETE", "/v1/webhook_endpoints/999999", undefined, 404, undefined, /^no webhook endpoint 999999 \(GET \/v1\/webhook_endpoints\)$/)
  })

  it("a checkout text too long names checkout_text, the field sent, not name", async () => {
    const text = "x".repeat(5_001)
    await refused("POST", "/v1/payment_links", { name: "Tea", items: ["sku=TEA"], checkout_text: text }, 400, "checkout_text", /^checkout_text: the checkout text must be at most 5000 characters$/)
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Tea", items: ["sku=TEA"], slug: "tea-link" } })).status).toBe(201)
    await refused("POST", "/v1/payment_links/tea-link", { checkout_text: text }, 400, "checkout_text", /^checkout_text: /)
  })

  it("a confirmation text too long names confirmation_text, as a checkout text does (100 KB was saved)", async () => {
    const text = "x".repeat(5_001)
    await refused("POST", "/v1/payment_links", { name: "Tea", items: ["sku=TEA"], confirmation_text: text }, 400, "confirmation_text", /^confirmation_text: the confirmation text must be at most 5000 characters$/)
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Tea", items: ["sku=TEA"], slug: "tea-thanks" } })).status).toBe(201)
    await refused("POST", "/v1/payment_links/tea-thanks", { confirmation_text: text }, 400, "confirmation_text", /^confirmation_text: /)
    await refused("POST", "/v1/payment_links/tea-thanks", { confirmation_text: "y".repeat(100_000) }, 400, "confirmation_text", /^confirmation_text: /)
    expect((await api.call("GET", "/v1/payment_links/tea-thanks")).json.confirmation_text).toBeNull()
  })

  it("a simple link in a currency that is none names currency (400), it failed the server (500)", async () => {
    const simple = { from_contact: "ana@example.com", name: "Once", items: ["Tea"], price: "5.00" }
    await refused("POST", "/v1/payment_links", { ...simple, currency: "XX" }, 400, "currency", /^currency: "XX" is not an ISO 4217 currency code such as USD$/)
  })

  it("an item in a currency that is none names the item (400), it failed the server (500)", async () => {
    const spec = "name=Cake,price=4.00,currency=XX"
    const problem = /^items\[1\] \("name=Cake,price=4\.00,currency=XX"\): currency "XX" is not an ISO 4217 currency code such as USD$/
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["sku=TEA", spec], collection: "invoice" }, 400, "items[1]", problem)
    await refused("POST", "/v1/payment_links", { name: "Cakes", items: ["sku=TEA", spec] }, 400, "items[1]", problem)
  })

  it("an element of an array of the wrong type names the element (items[1]), as its message does, not the array", async () => {
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["sku=TEA", 5] }, 400, "items[1]", /^items\[1\]: expected a string$/)
    await refused("POST", "/v1/payment_links", { name: "Tea", items: ["sku=TEA"], contact_fields: ["label=A", true] }, 400, "contact_fields[1]", /^contact_fields\[1\]: expected a string$/)
  })

  it("a field that takes null (to clear it) says so once: expected a number or null, not or null or null", async () => {
    await refused("POST", "/v1/payment_links", { name: "Tea", items: ["sku=TEA"], completed_payments_limit: "3" }, 400, "completed_payments_limit", /^completed_payments_limit: expected a number or null$/)
  })

  it("text with a NUL character names the field it came in (400), it failed the server (500)", async () => {
    const problem = /: text cannot hold the NUL character \(U\+0000\)$/
    await refused("POST", "/v1/contacts", { email: "bo@example.com", name: "B\u0000o" }, 400, "name", problem)
    await refused("POST", "/v1/products", { name: "Cake", sku: "CA\u0000KE", price: "4.00" }, 400, "sku", problem)
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["sku=TEA", "name=Ca\u0000ke,price=4.00"], collection: "invoice" }, 400, "items[1]", problem)
  })

  it("a NUL character in the path or the query is refused naming where (400), it failed the server (500)", async () => {
    const problem = /: text cannot hold the NUL character \(U\+0000\)$/
    await refused("GET", "/v1/contacts/a%00b@example.com", undefined, 400, undefined, /^path: text cannot hold/)
    await refused("POST", "/v1/products/TE%00A", { name: "Cake" }, 400, undefined, /^path: text cannot hold/)
    await refused("GET", "/v1/discount_codes/A%00B", undefined, 400, undefined, /^path: text cannot hold/)
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Tea", items: ["sku=TEA"], slug: "tea-nul" } })).status).toBe(201)
    await refused("GET", "/v1/payment_links/tea-nul/preview?code=A%00B", undefined, 400, "code", problem)
  })

  it("a slug or a code refused for its form is 400 by the rule, though the text sent reads 'taken' or 'exists already'", async () => {
    await refused("POST", "/v1/payment_links", { name: "Tea", items: ["sku=TEA"], slug: "is taken" }, 400, "slug", /^slug: a slug is 4 to 64 letters/)
    await refused("POST", "/v1/discount_codes", { code: "exists already", off: "10%" }, 400, "code", /^code: a code is 3 to 40 letters/)
  })

  it("a buyer's choice a preview refuses names the query parameter by the rule, not by a word of the item's name", async () => {
    // The item's name says "quantity": the refusal is about its price, set by the seller.
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Packs", items: ["name=Bulk quantity,price=9.00,one-time"], slug: "packs" } })).status).toBe(201)
    await refused("GET", "/v1/payment_links/packs/preview?price=1=8.00", undefined, 400, "price", /^price: the price of item 1 \(Bulk quantity\) is set by the seller$/)
    await refused("GET", "/v1/payment_links/packs/preview?qty=1=2", undefined, 400, "qty", /^qty: the quantity of item 1 \(Bulk quantity\) cannot be changed$/)
  })
})
