/** The rules of `contacts update` and `products update|archive`, in the store (both backends). */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { autoRenew, parseItemSpec } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import {
  addContact, addProduct, archiveProduct, listProducts, showContact, updateContact, updateProduct
} from "../../../engine/catalogue/index.ts"
import { createSubscriptions, currentItems, updateSubscription } from "../../../engine/subscriptions/index.ts"
import { importCsv } from "../../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
const base = { start: { _tag: "Today" } as const, terms: autoRenew, collection: "charge" as const, paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false }
/** Every contact, product and event, as text: equal snapshots mean nothing changed. */
const snapshot = async () =>
  JSON.stringify([
    await t.db.sql`select * from contacts order by id`, await t.db.sql`select * from products order by id`, await t.db.sql`select id, type, data from events order by id`
  ])

beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), "2026-03-01" as CalendarDate, { owner: "test", failpoint: () => {} })
  await addProduct(t.db.sql, { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD", frequency: "monthly" })
  await addProduct(t.db.sql, { name: "Tea", sku: "TEA", price: "8.00", currency: "USD", frequency: "monthly" })
  await addContact(t.db.sql, { email: "ana@example.com", name: "Ana", paymentMethod: "pm_ok", country: "NO" }, "2026-03-01")
  await addContact(t.db.sql, { email: "bo@example.com", name: "Bo", paymentMethod: "pm_ok" }, "2026-03-01")
})
afterAll(async () => {
  await t.close()
})

describe(`contacts update (${backend})`, () => {
  it("changes the fields given, by email or id, with one contact.updated event carrying from and to", async () => {
    const r = await updateContact(t.db.sql, "ANA@example.com", { name: "Ana Berg", language: "nb", paymentMethod: "pm_new", country: "SE" }, "2026-03-02")
    expect(r.changes).toEqual({
      name: { from: "Ana", to: "Ana Berg" }, language: { from: null, to: "nb" }, payment_method: { from: "pm_ok", to: "pm_new" }, country: { from: "NO", to: "SE" }
    })
    const [event] = await t.db.sql<Array<{ type: string; contact_id: number; occurred_on: string; data: unknown }>>`
      select type, contact_id, occurred_on::text as occurred_on, data from events where type = 'contact.updated' order by id desc limit 1`
    expect(event).toMatchObject({ type: "contact.updated", contact_id: r.contact.id, occurred_on: "2026-03-02", data: { changes: r.changes } })
    const byId = await updateContact(t.db.sql, String(r.contact.id), { email: "ana.berg@example.com", country: "" }, "2026-03-02")
    expect(byId.changes).toEqual({ email: { from: "ana@example.com", to: "ana.berg@example.com" }, country: { from: "SE", to: null } })
    expect((await showContact(t.db.sql, "ana.berg@example.com")).contact).toMatchObject({ name: "Ana Berg", language: "nb", payment_method: "pm_new", country: null })
  })

  it("the same values again change nothing and write no event", async () => {
    const before = await snapshot()
    expect((await updateContact(t.db.sql, "bo@example.com", { name: "Bo", paymentMethod: "pm_ok" }, "2026-03-02")).changes).toEqual({})
    expect(await snapshot()).toBe(before)
  })

  it("refuses bad input as contacts add does, naming the flag, and changes nothing", async () => {
    const before = await snapshot()
    await expect(updateContact(t.db.sql, "bo@example.com", { email: "ANA.BERG@example.com" }, "2026-03-02")).rejects.toThrow(/^--email: a contact with email ANA.BERG@example.com exists already/)
    await expect(updateContact(t.db.sql, "bo@example.com", { name: "Bob", email: "not-an-email" }, "2026-03-02")).rejects.toThrow(/^--email: "not-an-email" is not an email address/)
    await expect(updateContact(t.db.sql, "bo@example.com", { name: "Bob", language: "xx" }, "2026-03-02")).rejects.toThrow(/^--language: expected en, nb, nl, fr or sv, got "xx"/)
    await expect(updateContact(t.db.sql, "bo@example.com", { name: "Bob", locale: "not a locale" }, "2026-03-02")).rejects.toThrow(/^--locale:/)
    await expect(updateContact(t.db.sql, "zed@example.com", { name: "Zed" }, "2026-03-02")).rejects.toThrow(/^contact: no contact with email zed@example.com/)
    await expect(updateContact(t.db.sql, "999", { name: "Zed" }, "2026-03-02")).rejects.toThrow(/^contact: no contact with id 999/)
    expect(await snapshot()).toBe(before)
  })

  it("the same email in another case is the contact's own", async () => {
    expect((await updateContact(t.db.sql, "bo@example.com", { email: "Bo@example.com" }, "2026-03-02")).changes).toEqual({ email: { from: "bo@example.com", to: "Bo@example.com" } })
  })
})

describe(`products update and archive (${backend})`, () => {
  it("a new price goes to new subscriptions; existing ones keep the price on their items", async () => {
    const [old] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=COFFEE") })
    const r = await updateProduct(t.db.sql, "COFFEE", { price: "13.50", name: "Coffee, roasted" }, "2026-03-02")
    expect(r.changes).toEqual({ name: { from: "Coffee", to: "Coffee, roasted" }, price: { from: 1250, to: 1350 } })
    const [event] = await t.db.sql`select data from events where type = 'product.updated'`
    expect(event!["data"]).toMatchObject({ sku: "COFFEE", currency: "USD", changes: r.changes })
    expect((await currentItems(t.db.sql, old!.id)).map((l) => [l.name, Number(l.unit_price)])).toEqual([["Coffee", 1250]])
    const [fresh] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=COFFEE") })
    expect(fresh!.amountPerPayment).toBe(1350)
  })

  it("refuses a bad price or frequency, or an unknown SKU, naming it, and changes nothing", async () => {
    const before = await snapshot()
    await expect(updateProduct(t.db.sql, "COFFEE", { name: "X", price: "0", frequency: "one-time" }, "2026-03-02")).rejects.toThrow(/^--price: a one-time item.s unit price must be greater than 0/)
    await expect(updateProduct(t.db.sql, "COFFEE", { name: "X", price: "1.005" }, "2026-03-02")).rejects.toThrow(/^--price:/)
    await expect(updateProduct(t.db.sql, "COFFEE", { name: "X", frequency: "sometimes" }, "2026-03-02")).rejects.toThrow(/^--frequency: unknown frequency "sometimes"/)
    await expect(updateProduct(t.db.sql, "COFFEE", { name: " " }, "2026-03-02")).rejects.toThrow(/^--name: a product needs a name/)
    await expect(updateProduct(t.db.sql, "NOPE", { name: "X" }, "2026-03-02")).rejects.toThrow(/^sku: no product with SKU "NOPE"/)
    expect(await snapshot()).toBe(before)
  })

  it("an archived product goes on no new subscription or import; subscriptions that have it keep it", async () => {
    const [has] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=TEA") })
    const [other] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=COFFEE") })
    const archived = await archiveProduct(t.db.sql, "TEA", "2026-03-05")
    expect(archived).toMatchObject({ archivedNow: true, subscriptions: 1, product: { sku: "TEA", archived_on: "2026-03-05" } })
    expect(await archiveProduct(t.db.sql, "TEA", "2026-03-06")).toMatchObject({ archivedNow: false, product: { archived_on: "2026-03-05" } })
    expect((await t.db.sql`select count(*)::int as n from events where type = 'product.archived'`)[0]!["n"]).toBe(1)
    expect((await listProducts(t.db.sql)).map((p) => p.sku)).toEqual(["COFFEE"])
    expect((await listProducts(t.db.sql, true)).map((p) => p.sku)).toEqual(["COFFEE", "TEA"])

    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=COFFEE", "sku=TEA") }))
      .rejects.toThrow("--item 2: product TEA was archived on 2026-03-05; it cannot go on a new subscription")
    await expect(updateSubscription(t.db.sql, ctx, other!.id, { items: items("sku=COFFEE", "sku=TEA") }))
      .rejects.toThrow("--item 2: product TEA was archived on 2026-03-05")
    const sub = "subscription,contact,item\nk1,bo@example.com,sku=TEA\n"
    await expect(importCsv(t.db.sql, ctx, "subs.csv", sub)).rejects.toThrow("subs.csv:2:item: product TEA was archived on 2026-03-05")
    await expect(importCsv(t.db.sql, ctx, "products.csv", "sku,name,price,currency,frequency\nTEA,Tea,8.00,USD,monthly\n")).rejects.toThrow("products.csv:2:sku: product TEA was archived on 2026-03-05")

    // The subscription that has it keeps billing it, and can change its quantity.
    await updateSubscription(t.db.sql, ctx, has!.id, { items: items("sku=TEA,qty=2") })
    expect((await currentItems(t.db.sql, has!.id)).map((l) => [l.sku, l.quantity, Number(l.unit_price)])).toEqual([["TEA", 2, 800]])
  })
})
