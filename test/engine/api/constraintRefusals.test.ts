/**
 * A value the code let by and a check of the schema refused came back as the database's own text
 * ("new row for relation … violates check constraint …", the failing row quoted) with no field: found
 * by probing every create and update route with values just past the code's own checks. Each is now
 * refused before the store, 400 naming the JSON field in the words the API uses for it, nothing written;
 * and a discount code named in the path by digits past bigint is not found (404), not the database's 22003.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi()
  expect((await api.call("POST", "/v1/products", { body: { name: "Beans", sku: "BEANS", price: "10.00", currency: "USD" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", payment_method: "pm_ok" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=BEANS"] } })).status).toBe(201)
  expect((await api.call("POST", "/v1/payment_links", { body: { name: "Beans monthly", items: ["sku=BEANS"], slug: "beans-monthly" } })).status).toBe(201)
}, 600_000)
afterAll(async () => {
  await api?.close()
}, 600_000)

/** Every row a refused request could touch, as text: equal before and after means nothing was written. */
const written = async () => {
  const parts: Array<string> = []
  for (const table of ["contacts", "subscriptions", "item_versions", "line_items", "payment_links", "payment_link_items", "discount_codes", "events"]) {
    parts.push(table + JSON.stringify(await api.db.db.sql.unsafe(`select * from ${table} order by 1, 2`)))
  }
  return parts.join("\n")
}

/** A 400 as a client reads it: the field named (in `field` and first in the message, an item with its text), never the database's words; nothing written. */
const refused = async (path: string, body: unknown, field: string) => {
  const before = await written()
  const r = await api.call("POST", path, { body })
  expect(r.headers.get("content-type")).toContain("application/problem+json")
  expect([r.status, r.json.code, r.json.field], JSON.stringify(r.json)).toEqual([400, "invalid_input", field])
  expect(r.json.message.startsWith(`${field}: `) || r.json.message.startsWith(`${field} (`), r.json.message).toBe(true)
  expect(r.json.message).not.toMatch(/violates|constraint|relation|Failing row/)
  expect(await written()).toBe(before)
  return r.json.message as string
}

describe("values past the code's checks that a check of the schema refuses: 400 naming the field, not the database's text", () => {
  // U+0085 (NEXT LINE) is white space to PostgreSQL's regular expressions (contacts_email_check) but not to
  // JavaScript's \s: the embedded database refused it with its own text, a server stored it in the address.
  it("an email holding U+0085: POST /v1/contacts", async () => {
    expect(await refused("/v1/contacts", { email: "bo\u0085@example.com" }, "email")).toContain("is not an email address")
  })

  it("an email holding U+0085: POST /v1/contacts/:contact", async () => {
    expect(await refused("/v1/contacts/ana@example.com", { email: "ana\u0085@example.com" }, "email")).toContain("is not an email address")
  })

  // line_items_name_check (name <> ''): a custom item with an empty or blank name.
  it("a custom item without a name: POST /v1/subscriptions", async () => {
    expect(await refused("/v1/subscriptions", { contact: "ana@example.com", items: ["sku=BEANS", "name=,price=1.00"] }, "items[1]")).toContain("needs a name")
    expect(await refused("/v1/subscriptions", { contact: "ana@example.com", items: ["name= ,price=1.00"] }, "items[0]")).toContain("needs a name")
  })

  it("a custom item without a name: POST /v1/subscriptions/:id", async () => {
    expect(await refused("/v1/subscriptions/1", { items: ["name=,price=1.00"] }, "items[0]")).toContain("needs a name")
  })

  // payment_links_redirect_url_check (redirect_url like 'https://%') is case-sensitive; the link rule read the scheme in any case.
  it("a redirect URL whose scheme is not written https://: POST /v1/payment_links", async () => {
    expect(await refused("/v1/payment_links", { name: "Beans", items: ["sku=BEANS"], redirect_url: "HTTPS://shop.example/thanks" }, "redirect_url"))
      .toContain("expected https://HOST/")
  })

  it("a redirect URL whose scheme is not written https://: POST /v1/payment_links/:link", async () => {
    expect(await refused("/v1/payment_links/beans-monthly", { redirect_url: "Https://shop.example/thanks" }, "redirect_url")).toContain("expected https://HOST/")
  })

  // A discount code named in the path by a number past bigint was looked up as an id: 22003, "value … is out of range
  // for type bigint", as a 400 without a field. No code has that id (nor can one): not found, as for payment links.
  it("a discount code named by a number past any id: GET, POST and DELETE /v1/discount_codes/:code answer 404", async () => {
    const before = await written()
    for (const method of ["GET", "POST", "DELETE"]) {
      const r = await api.call(method, "/v1/discount_codes/99999999999999999999", method === "POST" ? { body: { max_redemptions: 3 } } : {})
      expect([r.status, r.json.code, r.json.message], method).toEqual([404, "not_found", "no discount code 99999999999999999999"])
    }
    expect(await written()).toBe(before)
  })
})
