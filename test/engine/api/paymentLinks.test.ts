/**
 * `/v1/payment_links` and `/v1/discount_codes` over real HTTP (issue #17): the same use cases as `billcycle links`,
 * every rule of the article refused with a 4xx problem naming the field and nothing written; cursor pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

let api: ApiUnderTest
const slow = { timeout: 600_000 }

beforeAll(async () => {
  api = await startApi()
  expect((await api.call("POST", "/v1/products", { body: { name: "Coffee 1kg", sku: "COFFEE", price: "25.00", currency: "USD", frequency: "monthly" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/products", { body: { name: "Kaffe", sku: "KAFFE", price: "250.00", currency: "NOK", frequency: "monthly" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", name: "Ana" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/payment_links", { body: { name: "Existing", items: ["sku=COFFEE"], slug: "taken" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/discount_codes", { body: { code: "SPRING", off: "10%" } })).status).toBe(201)
}, 600_000)
afterAll(async () => {
  await api?.close()
}, 600_000)

const written = async () =>
  (await api.db.db.sql<Array<{ n: number }>>`
    select (select count(*) from payment_links) + (select count(*) from payment_link_items) + (select count(*) from discount_codes) + (select count(*) from events) as n`)[0]!.n

const refused = async (method: string, path: string, body: unknown, field: string | undefined, status = 400, words?: RegExp) => {
  const before = await written()
  const r = await api.call(method, path, body === undefined ? {} : { body })
  expect(r.status, JSON.stringify(r.json)).toBe(status)
  expect(r.headers.get("content-type")).toContain("application/problem+json")
  if (field !== undefined) expect(r.json.field, JSON.stringify(r.json)).toBe(field)
  if (words !== undefined) expect(r.json.message).toMatch(words)
  expect(await written()).toBe(before)
  return r.json
}

const create = (body: Record<string, unknown>, field: string | undefined, status = 400, words?: RegExp) =>
  refused("POST", "/v1/payment_links", { name: "Test", ...body }, field, status, words)

describe(`/v1/payment_links: every rule refused naming the field, nothing written (${backend})`, () => {
  it("no item has a zero unit price (one-time or recurring)", slow, async () => {
    await create({ items: ["name=Free,price=0,one-time"] }, "items[0]", 400, /greater than 0/)
    await create({ items: ["sku=COFFEE", "name=Free plan,price=0,frequency=monthly"] }, "items[1]", 400, /greater than 0/)
  })
  it("quantity is a whole number above 0", slow, async () => {
    await create({ items: ["name=A,price=10,qty=1.5"] }, "items[0]", 400, /whole number/)
    await create({ items: ["name=A,price=10,qty=0"] }, "items[0]")
  })
  it("an editable quantity: 1 ≤ min ≤ quantity ≤ max, both bounds", slow, async () => {
    await create({ items: ["name=A,price=10,qty=6,qty-min=1,qty-max=5"] }, "items[0]", 400, /1\.\.5/)
    await create({ items: ["name=A,price=10,qty-min=3,qty-max=2"] }, "items[0]")
    await create({ items: ["name=A,price=10,qty-min=0,qty-max=2"] }, "items[0]")
    await create({ items: ["name=A,price=10,qty-max=2"] }, "items[0]", 400, /both/)
  })
  it("own price with a minimum, not combined with an editable quantity; allowed on a recurring item", slow, async () => {
    await create({ items: ["name=A,price=10,min-price=5,qty-min=1,qty-max=3"] }, "items[0]", 400, /cannot also have an editable quantity/)
    await create({ items: ["name=Tip,price=10,min-price=0"] }, "items[0]", 400, /minimum price/)
    await create({ items: ["name=Tip,price=5,min-price=10"] }, "items[0]", 400, /under the minimum/)
    const donation = await api.call("POST", "/v1/payment_links", { body: { name: "Monthly donation", items: ["name=Donation,min-price=5.00,frequency=monthly"] } })
    expect(donation.status, JSON.stringify(donation.json)).toBe(201)
    expect(donation.json.items[0]).toMatchObject({ unit_price: { amount: 500 }, own_price_minimum: { amount: 500 }, frequency: "monthly" })
  })
  it("at least 0.50 of the currency is due at checkout, at the least a buyer can choose", slow, async () => {
    await create({ items: ["name=Sticker,price=0.40,one-time"] }, "items", 400, /at least 0\.50 USD/)
    await create({ items: ["sku=COFFEE"], delay_days: 14 }, "items", 400, /only delayed items/)
    await create({ items: ["sku=COFFEE"], delay_months: 1 }, "items")
    await create({ items: ["sku=COFFEE"], start: "2026-04-01" }, "items")
    await create({ items: ["name=Mug,price=12.00,one-time,optional"] }, "items")
    await create({ items: ["name=Filters,price=0.30,one-time,qty=3,qty-min=1,qty-max=9"] }, "items")
    await create({ items: ["name=Mug,price=1.00,one-time"], order_discount: "60%" }, "items")
    await create({ items: ["name=Bønner,price=0.40,currency=NOK,one-time"], currency: "NOK" }, "items", 400, /0\.50 NOK/)
    const deposit = await api.call("POST", "/v1/payment_links", { body: { name: "Delayed with deposit", items: ["sku=COFFEE", "name=Deposit,price=0.50,one-time"], delay_days: 14 } })
    expect(deposit.status, JSON.stringify(deposit.json)).toBe(201)
  })
  it("the redirect URL is https, absolute, without credentials: no open redirect", slow, async () => {
    for (const url of ["http://shop.example.com/thanks", "javascript:alert(1)", "//evil.example.com", "/thanks", "https://user:pw@evil.example.com", "https://shop.example.com/\\evil", "https:evil.example.com", "data:text/html,hi"]) {
      await create({ items: ["sku=COFFEE"], redirect_url: url }, "redirect_url")
    }
  })
  it("one-time or recurring with a frequency; terms fixed or auto-renew; a delayed start", slow, async () => {
    await create({ items: ["name=A,price=10,frequency=fortnightly"] }, "items[0]", 400, /unknown frequency/)
    await create({ items: ["sku=COFFEE"], terms: "fixed:0" }, "terms")
    await create({ items: ["sku=COFFEE"], terms: "sometimes" }, "terms")
    await create({ items: ["sku=COFFEE", "name=D,price=5,one-time"], start: "2026-03-01" }, "start", 400, /after today/)
    await create({ items: ["sku=COFFEE", "name=D,price=5,one-time"], start: "2026-02-30" }, "start")
    await create({ items: ["sku=COFFEE", "name=D,price=5,one-time"], delay_days: 0 }, "delay_days")
    await create({ items: ["sku=COFFEE", "name=D,price=5,one-time"], delay_months: 1201 }, "delay_months")
    await create({ items: ["sku=COFFEE"], start: "2026-05-01", delay_days: 3 }, "start")
  })
  it("unit discounts and the one-time order discount", slow, async () => {
    await create({ items: ["name=A,price=10,discount=11.00"] }, "items[0]", 400, /cannot exceed the unit price/)
    await create({ items: ["name=A,price=10,discount=120%"] }, "items[0]")
    await create({ items: ["sku=COFFEE"], order_discount: "120%" }, "order_discount")
    await create({ items: ["sku=COFFEE"], order_discount: "-1" }, "order_discount")
    await create({ items: ["sku=COFFEE"], order_discount: "1.234" }, "order_discount")
  })
  it("payment types, language, locale, contact fields, completed-payments limit, name", slow, async () => {
    await create({ items: ["sku=COFFEE"], payment_types: ["card", "paypal"] }, "payment_types", 400, /paypal/)
    await create({ items: ["sku=COFFEE"], payment_types: [] }, "payment_types")
    await create({ items: ["sku=COFFEE"], payment_types: ["card", "card"] }, "payment_types")
    await create({ items: ["sku=COFFEE"], language: "de" }, "language", 400, /en, nb, nl, fr or sv/)
    await create({ items: ["sku=COFFEE"], locale: "not a locale" }, "locale")
    await create({ items: ["sku=COFFEE"], contact_fields: ["help=Whole or ground"] }, "contact_fields[0]", 400, /label/)
    await create({ items: ["sku=COFFEE"], contact_fields: ["label=Grind", "label=grind"] }, "contact_fields", 400, /once/)
    await create({ items: ["sku=COFFEE"], contact_fields: ["label=Grind,colour=red"] }, "contact_fields[0]")
    await create({ items: ["sku=COFFEE"], completed_payments_limit: 0 }, "completed_payments_limit")
    await create({ items: ["sku=COFFEE"], name: "  " }, "name")
    await refused("POST", "/v1/payment_links", { items: ["sku=COFFEE"] }, "name")
    await create({ items: [] }, "items")
    await create({ items: ["sku=COFFEE"], colour: "red" }, undefined)
  })
  it("items from the catalogue in the link's currency; a slug not taken", slow, async () => {
    await create({ items: ["sku=NOPE"] }, "items[0]", 400, /unknown SKU "NOPE"$/)
    await create({ items: ["sku=coffee"] }, "items[0]", 400, /unknown SKU "coffee" \(did you mean "COFFEE"\?\)/)
    await create({ items: ["sku=KAFFE"] }, "items[0]", 400, /priced in NOK, the link in USD/)
    await create({ items: ["sku=COFFEE"], currency: "XXQ" }, "currency")
    await create({ items: ["sku=COFFEE"], slug: "taken" }, "slug", 409, /taken/)
    await create({ items: ["sku=COFFEE"], slug: "a b" }, "slug")
  })
  it("a simple link from a contact: a known contact, a name, one item and a price", slow, async () => {
    await create({ from_contact: "nobody@example.com", items: ["Cake"], price: "30.00" }, "from_contact")
    await create({ from_contact: "ana@example.com", items: ["Cake"] }, "price")
    await create({ from_contact: "ana@example.com", items: ["Cake", "Pie"], price: "3.00" }, "items")
    await create({ from_contact: "ana@example.com", items: ["Cake"], price: "0" }, "items[0]")
    await create({ from_contact: "ana@example.com", items: ["Cake"], price: "3.00", terms: "fixed:3" }, "terms")
    const simple = await api.call("POST", "/v1/payment_links", { body: { name: "Ana's cake", from_contact: "ana@example.com", items: ["Wedding cake, three tiers"], price: "300.00" } })
    expect(simple.status, JSON.stringify(simple.json)).toBe(201)
    expect(simple.json).toMatchObject({ completed_payments_limit: 1, from_contact_id: 1, items: [{ name: "Wedding cake, three tiers", unit_price: { amount: 30_000 }, frequency: "one-time" }] })
  })
  it("update checks every rule again; an unknown link is 404", slow, async () => {
    await refused("POST", "/v1/payment_links/taken", { redirect_url: "ftp://x" }, "redirect_url")
    await refused("POST", "/v1/payment_links/taken", { items: ["name=A,price=0"] }, "items[0]")
    await refused("POST", "/v1/payment_links/taken", {}, undefined, 400, /nothing to update/)
    await refused("POST", "/v1/payment_links/nope", { name: "X" }, undefined, 404)
    await refused("GET", "/v1/payment_links/nope", undefined, undefined, 404)
  })
  it("preview refuses choices the link does not allow", slow, async () => {
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Tip jar", slug: "tip-jar", items: ["name=Tip,price=5.00,own-price-min=1.00,one-time"] } })).status).toBe(201)
    // An own price more than one line can hold: it was a 500.
    await refused("GET", "/v1/payment_links/tip-jar/preview?price=1=9999999999999.00", undefined, "price", 400, /at most/)
    await refused("GET", "/v1/payment_links/taken/preview?qty=1=3", undefined, "qty", 400, /cannot be changed/)
    await refused("GET", "/v1/payment_links/taken/preview?include=4", undefined, "include")
    await refused("GET", "/v1/payment_links/taken/preview?code=NOPE", undefined, "code", 400, /no discount code/)
    await refused("GET", "/v1/payment_links/taken/preview?code=spring", undefined, "code", 400, /takes no discount codes/)
  })
  it("preview with a code the day after its last day says until when it was valid (it said \"expired on\" its last valid day)", slow, async () => {
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Codes", slug: "with-codes", items: ["sku=COFFEE"], allow_discount_codes: true } })).status).toBe(201)
    // Usable through February 28; the API's today is March 1.
    await api.db.db.sql`insert into discount_codes (code, percent_ppm, duration, expires_on, created_on) values ('LASTFEB', 100000, 'once', '2026-02-28', '2026-02-01')`
    const problem = await refused("GET", "/v1/payment_links/with-codes/preview?code=LASTFEB", undefined, "code", 400, /the code LASTFEB was valid until 2026-02-28/)
    expect(problem.message).not.toMatch(/expired on/)
    await api.db.db.sql`delete from discount_codes where code = 'LASTFEB'`
  })
})

describe(`/v1/discount_codes: rules refused naming the field (${backend})`, () => {
  it("percent or amount, duration, expiry, redemption limit, code", slow, async () => {
    const code = (body: Record<string, unknown>, field: string, status = 400) => refused("POST", "/v1/discount_codes", { code: "NEW1", off: "10%", ...body }, field, status)
    await code({ off: "0%" }, "off")
    await code({ off: "150%" }, "off")
    await code({ off: "0.00" }, "off")
    await code({ off: "5.00", currency: "XXQ" }, "currency")
    await code({ duration: "0" }, "duration")
    await code({ duration: "sometimes" }, "duration")
    await code({ expires_on: "2026-02-28" }, "expires_on")
    await code({ max_redemptions: 0 }, "max_redemptions")
    await code({ code: "spring" }, "code", 409)
    await code({ code: "a b" }, "code")
  })
})

describe(`/v1/payment_links and /v1/discount_codes: managing (${backend})`, () => {
  it("create, show by slug and id, preview, update, clone, off/on, delete; events from the API key", slow, async () => {
    const made = await api.call("POST", "/v1/payment_links", {
      body: {
        name: "Coffee club", slug: "club", items: ["sku=COFFEE,qty-min=1,qty-max=5,discount=10%", "name=Mug,price=12.00,one-time,optional", "name=Tip,price=5.00,min-price=1.00,frequency=monthly"],
        terms: "fixed:6", order_discount: "2.00", language: "sv", payment_types: ["card", "debit-card"], collect_shipping_address: true,
        allow_discount_codes: true, redirect_url: "https://shop.example.com/thanks", contact_fields: ["label=Grind,required"], completed_payments_limit: 100
      }
    })
    expect(made.status, JSON.stringify(made.json)).toBe(201)
    expect(made.json).toMatchObject({ object: "payment_link", slug: "club", language: "sv", payment_types: ["card", "debit-card"], collect_shipping_address: true, completed_payments_limit: 100 })
    expect((await api.call("GET", "/v1/payment_links/club")).json).toEqual(made.json)
    expect((await api.call("GET", `/v1/payment_links/${made.json.id}`)).json).toEqual(made.json)

    const preview = await api.call("GET", "/v1/payment_links/club/preview?include=2&qty=1=2&price=3=10.00&code=SPRING")
    expect(preview.status, JSON.stringify(preview.json)).toBe(200)
    expect(preview.json).toMatchObject({ due_today: { amount: 5850, currency: "USD" }, total: { amount: 5850 + 5 * 5500, currency: "USD" } })
    // A read-only key may preview (nothing is written) but not change a link.
    expect((await api.call("GET", "/v1/payment_links/club/preview", { key: api.readOnlyKey })).status).toBe(200)
    expect((await api.call("POST", "/v1/payment_links/club/off", { key: api.readOnlyKey })).status).toBe(403)

    const updated = await api.call("POST", "/v1/payment_links/club", { body: { name: "Coffee club 2", redirect_url: null, completed_payments_limit: null } })
    expect(updated.status, JSON.stringify(updated.json)).toBe(200)
    expect(updated.json).toMatchObject({ name: "Coffee club 2", redirect_url: null, completed_payments_limit: null, items: made.json.items })
    const copy = await api.call("POST", "/v1/payment_links/club/clone", { body: { slug: "club-copy" } })
    expect(copy.status).toBe(201)
    expect(copy.json).toMatchObject({ slug: "club-copy", name: "Coffee club 2 (copy)", items: made.json.items })
    expect((await api.call("POST", "/v1/payment_links/club/off")).json).toMatchObject({ active: false, changed: true })
    expect((await api.call("POST", "/v1/payment_links/club/off")).json).toMatchObject({ active: false, changed: false })
    expect((await api.call("GET", "/v1/payment_links?status=off")).json.data.map((l: { slug: string }) => l.slug)).toEqual(["club"])
    expect((await api.call("POST", "/v1/payment_links/club/on")).json).toMatchObject({ active: true })
    expect((await api.call("DELETE", "/v1/payment_links/club")).json).toMatchObject({ deleted: true })
    expect((await api.call("GET", "/v1/payment_links/club")).status).toBe(404)
    const sources = await api.db.db.sql<Array<{ type: string; source: string }>>`select type, source from events where type like 'payment_link.%' and data->>'slug' = 'club' order by id`
    expect(sources.map((e) => e.type)).toEqual(["payment_link.created", "payment_link.updated", "payment_link.switched_off", "payment_link.switched_on", "payment_link.deleted"])
    expect(new Set(sources.map((e) => e.source))).toEqual(new Set(["api:shop"]))
  })

  it("off and on answer the link as it is now: updated_on today, as a GET shows it (found by an audit: the day before the switch)", slow, async () => {
    expect((await api.call("POST", "/v1/payment_links", { body: { name: "Switch", slug: "switch-days", items: ["sku=COFFEE"] } })).status).toBe(201)
    await api.db.db.sql`update payment_links set updated_on = '2026-02-01' where slug = 'switch-days'`
    const off = await api.call("POST", "/v1/payment_links/switch-days/off")
    expect(off.json).toMatchObject({ active: false, changed: true, updated_on: "2026-03-01" })
    const { changed: _changed, ...shown } = off.json
    expect((await api.call("GET", "/v1/payment_links/switch-days")).json).toEqual(shown)
    await api.db.db.sql`update payment_links set updated_on = '2026-02-01' where slug = 'switch-days'`
    // Switched off already: nothing changes, the day stays.
    expect((await api.call("POST", "/v1/payment_links/switch-days/off")).json).toMatchObject({ changed: false, updated_on: "2026-02-01" })
    expect((await api.call("POST", "/v1/payment_links/switch-days/on")).json).toMatchObject({ active: true, changed: true, updated_on: "2026-03-01" })
  })

  it("lists page by cursor: limit and starting_after, has_more", slow, async () => {
    const all = (await api.call("GET", "/v1/payment_links?limit=100")).json
    expect(all.data.length).toBeGreaterThan(3)
    const first = (await api.call("GET", "/v1/payment_links?limit=2")).json
    expect(first.has_more).toBe(true)
    const next = (await api.call("GET", `/v1/payment_links?limit=2&starting_after=${first.data[1].id}`)).json
    expect([...first.data, ...next.data].map((l: { id: number }) => l.id)).toEqual(all.data.slice(0, 4).map((l: { id: number }) => l.id))
    await refused("GET", "/v1/payment_links?limit=0", undefined, "limit")
    await refused("GET", "/v1/payment_links?status=maybe", undefined, "status")
  })

  it("discount codes: create, show in any case, update, off and on, delete", slow, async () => {
    const made = await api.call("POST", "/v1/discount_codes", { body: { code: "Summer-5", off: "5.00", duration: "3", expires_on: "2026-09-30", max_redemptions: 50 } })
    expect(made.status, JSON.stringify(made.json)).toBe(201)
    expect(made.json).toMatchObject({ code: "Summer-5", amount_off: { amount: 500, currency: "USD" }, duration: "payments", duration_payments: 3, expires_on: "2026-09-30", max_redemptions: 50 })
    expect((await api.call("GET", "/v1/discount_codes/SUMMER-5")).json).toEqual(made.json)
    expect((await api.call("POST", "/v1/discount_codes/summer-5", { body: { max_redemptions: null } })).json).toMatchObject({ max_redemptions: null })
    expect((await api.call("POST", "/v1/discount_codes/summer-5/off")).json).toMatchObject({ active: false })
    expect((await api.call("POST", "/v1/discount_codes/summer-5/on")).json).toMatchObject({ active: true })
    expect((await api.call("GET", "/v1/discount_codes")).json.data.map((c: { code: string }) => c.code)).toEqual(["SPRING", "Summer-5"])
    expect((await api.call("DELETE", "/v1/discount_codes/summer-5")).status).toBe(200)
    expect((await api.call("GET", "/v1/discount_codes/summer-5")).status).toBe(404)
  })
})
