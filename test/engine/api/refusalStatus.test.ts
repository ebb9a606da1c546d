/**
 * A refusal's HTTP status comes from what was refused (the typed refusal: not
 * found, taken, a transition refused), never from its text: the text quotes
 * what the client sent, and a value reading "exists already" or "does not
 * exist" turned a 400 into a 409 or a 404 (found by a probe).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi()
  expect((await api.call("POST", "/v1/products", { body: { name: "Tea", sku: "TEA", price: "5.00", currency: "USD" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", name: "Ana", payment_method: "pm_ok" } })).status).toBe(201)
}, 600_000)
afterAll(async () => {
  await api?.close()
}, 600_000)

/** Rows a refused request must leave as they were: contacts, products, subscriptions, payment links, and the journal. */
const written = async () =>
  (await api.db.db.sql<Array<{ n: string }>>`
    select concat_ws(',', (select count(*) from contacts), (select count(*) from products), (select count(*) from subscriptions),
      (select count(*) from payment_links), (select count(*) from events)) as n`)[0]!.n

/** A refusal as an API client reads it: status, code and field, the message starting with the field; nothing written. */
const refused = async (method: string, path: string, body: unknown, status: number, code: string, field: string | undefined) => {
  const before = await written()
  const r = await api.call(method, path, { body })
  expect([r.status, r.json.code, r.json.field], JSON.stringify(r.json)).toEqual([status, code, field])
  if (field !== undefined) expect(r.json.message.startsWith(`${field}: `) || r.json.message.startsWith(`${field} (`), r.json.message).toBe(true)
  expect(await written()).toBe(before)
  return r.json.message as string
}

describe("a refusal's status does not depend on the words the client sent", () => {
  it("an item whose text reads \"exists already\" is bad input (400 naming the item), not a conflict", async () => {
    const message = await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["name=exists already,price=abc"] }, 400, "invalid_input", "items[0]")
    expect(message).toContain("exists already")
  })

  it("a product frequency \"exists already\" is bad input (400 naming frequency), not a conflict", async () => {
    await refused("POST", "/v1/products", { name: "Mug", sku: "MUG", price: "9.00", frequency: "exists already" }, 400, "invalid_input", "frequency")
    await refused("POST", "/v1/products/TEA", { frequency: "exists already" }, 400, "invalid_input", "frequency")
  })

  it("a name or value quoting \"does not exist\" or \"unknown SKU\" is bad input, not a missing resource", async () => {
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["name=does not exist,price=abc"] }, 400, "invalid_input", "items[0]")
    await refused("POST", "/v1/products", { name: "does not exist", sku: "GHOST", price: "free" }, 400, "invalid_input", "price")
    await refused("POST", "/v1/products", { name: "Ghost", sku: "GHOST", price: "9.00", frequency: "unknown SKU" }, 400, "invalid_input", "frequency")
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["sku=TEA"], language: "does not exist" }, 400, "invalid_input", "language")
  })

  it("what the refusal is still decides: missing 404 or 400 resource_missing, taken 409, a transition refused 409", async () => {
    await refused("POST", "/v1/products/NOPE", { price: "1.00" }, 404, "not_found", "sku")
    await refused("POST", "/v1/subscriptions", { contact: "ana@example.com", items: ["sku=NOPE"] }, 400, "resource_missing", "items[0]")
    await refused("POST", "/v1/subscriptions", { contact: "nobody@example.com", items: ["sku=TEA"] }, 400, "resource_missing", "contact")
    await refused("POST", "/v1/products", { name: "Tea", sku: "TEA", price: "5.00" }, 409, "already_exists", "sku")
    await refused("POST", "/v1/contacts", { email: "ana@example.com" }, 409, "already_exists", "email")
    expect((await api.call("GET", "/v1/subscriptions/999")).status).toBe(404)
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=TEA"] } })).json.data[0].id
    await refused("POST", `/v1/subscriptions/${id}/resume`, undefined, 409, "transition_refused", undefined)
  })
})
