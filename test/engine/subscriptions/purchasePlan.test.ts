/**
 * `import FILE.csv` plans a purchase exactly as `subscriptions create` does (the same grouping, the same
 * currency rule, the same refusal) and journals `subscription.created` in the same shape, `items` included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { autoRenew, parseItemSpec } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings } from "../../../engine/account/index.ts"
import { addContact, addProduct } from "../../../engine/catalogue/index.ts"
import { createSubscriptions } from "../../../engine/subscriptions/index.ts"
import { importCsv } from "../../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
const base = { start: { _tag: "Today" } as const, terms: autoRenew, collection: "charge" as const, paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false }

beforeAll(async () => {
  t = await openTestDatabase()
  ctx = { today: "2026-03-01" as CalendarDate, settings: await loadSettings(t.db.sql), owner: "test", failpoint: () => {} }
  await addProduct(t.db.sql, { name: "Just one more cup – 1 kg", sku: "COFFEE-1KG", price: "25.00", currency: "USD", frequency: "monthly" })
  await addProduct(t.db.sql, { name: "Beans for a year", sku: "YEARLY", price: "250.00", currency: "USD", frequency: "annually" })
  await addProduct(t.db.sql, { name: "Grinder setup", sku: "SETUP", price: "15.00", currency: "USD", frequency: "one-time" })
  await addProduct(t.db.sql, { name: "Bønner for et år", sku: "YEARLY-EUR", price: "230.00", currency: "EUR", frequency: "annually" })
  await addProduct(t.db.sql, { name: "Kvern", sku: "SETUP-EUR", price: "14.00", currency: "EUR", frequency: "one-time" })
  await addContact(t.db.sql, { email: "ana@example.com", name: "Ana", paymentMethod: "pm_ok" }, "2026-03-01")
})
afterAll(async () => {
  await t.close()
})

const count = async () =>
  (await t.db.sql<Array<{ n: number }>>`select (select count(*) from subscriptions) + (select count(*) from line_items) + (select count(*) from events) + (select count(*) from status_history) as n`)[0]!.n

/** What a purchase became: per subscription its created event's data, its lines and its status history. */
const outcome = async (ids: ReadonlyArray<number>) =>
  Promise.all(ids.map(async (id) => ({
    created: (await t.db.sql<Array<{ data: Record<string, unknown> }>>`select data from events where subscription_id = ${id} and type = 'subscription.created'`).map((e) => e.data),
    lines: (await t.db.sql`select line_no, name, sku, unit_price, quantity, one_time from line_items where subscription_id = ${id} order by line_no`).map((l) => ({ ...l })),
    history: (await t.db.sql`select from_status, to_status, effective_on::text as on from status_history where subscription_id = ${id}`).map((h) => ({ ...h }))
  })))

const importedIds = async (key: string) => (await t.db.sql<Array<{ id: number }>>`select id from subscriptions where import_key = ${key} order by id`).map((r) => r.id)

describe(`a purchase planned once, for create and import (${backend})`, () => {
  it("an imported purchase journals subscription.created with items, the same data as subscriptions create writes", async () => {
    const specs = ["sku=COFFEE-1KG,qty=2,discount=10%", "sku=YEARLY", "sku=SETUP", "name=Filter papers,price=3.50,tax=25%"]
    const created = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items(...specs) })
    const csv = "subscription,contact,item\n" + specs.map((s) => `P1,ana@example.com,"${s}"`).join("\n") + "\n"
    expect(await importCsv(t.db.sql, ctx, "subs.csv", csv)).toMatchObject({ kind: "subscriptions", created: 2 })
    const fromCreate = await outcome(created.map((c) => c.id))
    const fromImport = await outcome(await importedIds("P1"))
    expect(fromImport).toEqual(fromCreate)
    // The shape EVENTS.md lists, items included.
    expect(Object.keys(fromImport[0]!.created[0]!).sort()).toEqual(
      ["amount", "collection_method", "currency", "end_date", "frequency", "items", "name", "next_billing_date", "start_date", "status", "terms"]
    )
    expect((fromImport[0]!.created[0]!["items"] as Array<{ sku: string | null }>).map((i) => i.sku)).toEqual(["COFFEE-1KG", null, "SETUP"])
  })

  it("a subscription of several items is named in the contact's language when the purchase gives none, on create as on import (found by an audit)", async () => {
    await addContact(t.db.sql, { email: "nora@example.no", name: "Nora", paymentMethod: "pm_ok", language: "nb", locale: "nb-NO" }, "2026-03-01")
    const specs = ["name=Kaffe,price=10.00", "name=Kopp,price=5.00"]
    const [created] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "nora@example.no", items: items(...specs) })
    const csv = "subscription,contact,item\n" + specs.map((s) => `N1,nora@example.no,"${s}"`).join("\n") + "\n"
    await importCsv(t.db.sql, ctx, "nora.csv", csv)
    const names = await t.db.sql<Array<{ name: string }>>`select name from subscriptions where id = any(${[created!.id, ...(await importedIds("N1"))]}) order by id`
    expect(names.map((n) => n.name)).toEqual(["Kaffe + 1 til", "Kaffe + 1 til"])
    // The purchase's own language wins over the contact's.
    const [french] = await createSubscriptions(t.db.sql, ctx, { ...base, language: "fr", contactEmail: "nora@example.no", items: items(...specs) })
    const [row] = await t.db.sql<Array<{ name: string }>>`select name from subscriptions where id = ${french!.id}`
    expect(row!.name).toBe("Kaffe + 1 autre")
  })

  it("a one-time item rides with the first subscription in its currency, on import as on create", async () => {
    const specs = ["sku=COFFEE-1KG", "sku=YEARLY-EUR", "sku=SETUP", "sku=SETUP-EUR"]
    const created = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items(...specs) })
    const csv = "subscription,contact,item\n" + specs.map((s) => `P2,ana@example.com,${s}`).join("\n") + "\n"
    expect(await importCsv(t.db.sql, ctx, "subs.csv", csv)).toMatchObject({ created: 2 })
    const fromImport = await outcome(await importedIds("P2"))
    expect(fromImport).toEqual(await outcome(created.map((c) => c.id)))
    expect(fromImport.map((s) => s.lines.map((l) => l["sku"]))).toEqual([["COFFEE-1KG", "SETUP"], ["YEARLY-EUR", "SETUP-EUR"]])
  })

  it("items billed together in two currencies are refused on import as on create, naming the row; nothing is written", async () => {
    const before = await count()
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG", "name=Extra,price=4.00,currency=EUR") }))
      .rejects.toMatchObject({ cause: { _tag: "PurchaseRefused", reason: { _tag: "MixedCurrencies", currencies: ["USD", "EUR"] } } })
    const csv = "subscription,contact,item\nP3,ana@example.com,sku=SETUP\nP3,ana@example.com,sku=COFFEE-1KG\nP3,ana@example.com,\"name=Extra,price=4.00,currency=EUR\"\nP4,ana@example.com,sku=YEARLY\n"
    await expect(importCsv(t.db.sql, ctx, "mixed.csv", csv)).rejects.toThrow(/^mixed\.csv:4:item: items billed together must share a currency, got USD and EUR$/)
    // A one-time item in a currency no subscription of the purchase bills was dropped without a word (found by an audit).
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=YEARLY-EUR", "name=Setup,price=5.00,one-time") }))
      .rejects.toMatchObject({ cause: { _tag: "PurchaseRefused", reason: { _tag: "MixedCurrencies", currencies: ["EUR", "USD"] } } })
    const stray = "subscription,contact,item\nP5,ana@example.com,sku=YEARLY-EUR\nP5,ana@example.com,sku=SETUP\n"
    await expect(importCsv(t.db.sql, ctx, "stray.csv", stray)).rejects.toThrow(/^stray\.csv:3:item: items billed together must share a currency, got EUR and USD$/)
    expect(await count()).toBe(before)
  })
})
