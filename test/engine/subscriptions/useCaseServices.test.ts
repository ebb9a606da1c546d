/**
 * The Subscriptions, Contacts and Products services (both backends): their use cases fail with the rule's
 * refusal as a value (engine/domain/errors.ts), run inside a door's transaction (CurrentTransaction), and
 * the catalogue's refusals read as the messages the CLI and the API have always given.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Layer } from "effect"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { SubscriptionId } from "../../../engine/domain/index.ts"
import {
  autoRenew, ContactExists, ContactIdNotFound, ContactInvalid, ContactNotFound, ItemRefused, parseItemSpec, ProductArchived, ProductExists, ProductInvalid,
  ProductNotFound, UnknownSku
} from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { makeEngineContext } from "../../../engine/account/index.ts"
import { loadSettings, transactionAsSql } from "../../../engine/account/index.ts"
import { catalogueErrorMessage, Contacts, Products } from "../../../engine/catalogue/index.ts"
import { Subscriptions } from "../../../engine/subscriptions/index.ts"
import { CurrentTransaction } from "../../../engine/sql/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
const base = { start: { _tag: "Today" } as const, terms: autoRenew, collection: "charge" as const, paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false }
const run = <A, E>(effect: Effect.Effect<A, E, Subscriptions | Contacts | Products>) =>
  Effect.runPromise(effect.pipe(Effect.provide(Layer.mergeAll(Subscriptions.layer, Contacts.layer, Products.layer).pipe(Layer.provide(t.layer)))))
const failure = <A, E>(effect: Effect.Effect<A, E, Subscriptions | Contacts | Products>) => run(Effect.flip(effect))

beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), "2026-03-01" as CalendarDate, { owner: "test", failpoint: () => {} })
})
afterAll(async () => {
  await t.close()
})

describe(`use cases as services (${backend})`, () => {
  it("fail with the refusal as a value, and write nothing", async () => {
    await run(Effect.gen(function*() {
      const products = yield* Products
      const contacts = yield* Contacts
      yield* products.add({ name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD", frequency: "monthly" })
      yield* products.add({ name: "Tea", sku: "TEA", price: "8.00", currency: "USD", frequency: "monthly" })
      yield* products.archive("TEA", "2026-03-01")
      yield* contacts.add({ email: "ana@example.com", paymentMethod: "pm_ok" }, "2026-03-01")
    }))
    expect(await failure(Effect.flatMap(Effect.service(Products), (p) => p.add({ name: "Coffee", sku: "COFFEE", price: "1.00", currency: "USD", frequency: "monthly" }))))
      .toEqual(new ProductExists({ sku: "COFFEE" }))
    expect(await failure(Effect.flatMap(Effect.service(Products), (p) => p.update("NOPE", { name: "X" }, "2026-03-01")))).toEqual(new ProductNotFound({ sku: "NOPE" }))
    expect(await failure(Effect.flatMap(Effect.service(Products), (p) => p.add({ name: "X", sku: "X", price: "1.005", currency: "USD", frequency: "monthly" }))))
      .toMatchObject({ _tag: "ProductInvalid", field: "price" })
    expect(await failure(Effect.flatMap(Effect.service(Contacts), (c) => c.add({ email: "ANA@example.com" }, "2026-03-01")))).toEqual(new ContactExists({ email: "ANA@example.com" }))
    expect(await failure(Effect.flatMap(Effect.service(Contacts), (c) => c.show("999")))).toEqual(new ContactIdNotFound({ id: 999 }))
    expect(await failure(Effect.flatMap(Effect.service(Contacts), (c) => c.update("zed@example.com", { name: "Zed" }, "2026-03-01")))).toEqual(new ContactNotFound({ email: "zed@example.com" }))
    const create = (...specs: Array<string>) => Effect.flatMap(Effect.service(Subscriptions), (s) => s.create(ctx, { ...base, contactEmail: "ana@example.com", items: items(...specs) }))
    expect(await failure(create("sku=COFFEE", "sku=NOPE"))).toEqual(new UnknownSku({ item: "--item 2", index: 1, sku: "NOPE" }))
    expect(await failure(create("sku=TEA"))).toEqual(new ProductArchived({ item: "--item 1", index: 0, sku: "TEA", archivedOn: "2026-03-01" }))
    expect(await failure(create("sku=COFFEE,discount=30.00"))).toEqual(new ItemRefused({ item: "--item 1", index: 0, reason: { _tag: "DiscountAbovePrice", discount: "30.00" } }))
    expect(await failure(Effect.flatMap(Effect.service(Subscriptions), (s) => s.get(SubscriptionId.make(77))))).toMatchObject({ _tag: "SubscriptionNotFound", id: 77 })
    expect(await t.db.sql`select 1 from subscriptions`).toHaveLength(0)
  })

  it("run inside the door's transaction (CurrentTransaction, as the API's Idempotency-Key sets it): a rollback takes their change with it", async () => {
    const rolledBack = new Error("the door rolls back")
    await expect(t.db.sql.begin(async (tx) => {
      await run(Effect.flatMap(Effect.service(Contacts), (c) => c.add({ email: "bo@example.com" }, "2026-03-01")).pipe(Effect.provideService(CurrentTransaction, transactionAsSql(tx))))
      expect(await tx`select 1 from contacts where email = 'bo@example.com'`).toHaveLength(1)
      throw rolledBack
    })).rejects.toBe(rolledBack)
    expect(await t.db.sql`select 1 from contacts where email = 'bo@example.com'`).toHaveLength(0)
  })

  it("the catalogue's refusals read as the messages the CLI and the API gave before", () => {
    const cases: Array<[Parameters<typeof catalogueErrorMessage>[0], string]> = [
      [new UnknownSku({ item: "--item 2", sku: "NOPE" }), "--item 2: unknown SKU \"NOPE\""],
      [new ProductArchived({ item: "--item 2", sku: "TEA", archivedOn: "2026-03-05" }), "--item 2: product TEA was archived on 2026-03-05; it cannot go on a new subscription"],
      [new ItemRefused({ item: "--item 1", reason: { _tag: "PricedInOtherCurrency", sku: "COFFEE", productCurrency: "USD", currency: "EUR" } }), "--item 1: SKU COFFEE is priced in USD, not EUR"],
      [new ItemRefused({ item: "--item 1", reason: { _tag: "NoPrice" } }), "--item 1: no price"],
      [new ItemRefused({ item: "--item 1", reason: { _tag: "DiscountAbovePrice", discount: "30.00" } }), "--item 1: an amount discount (30.00) cannot exceed the unit price"],
      [new ProductExists({ sku: "COFFEE" }), "--sku: a product with SKU \"COFFEE\" exists already"],
      [new ProductNotFound({ sku: "NOPE" }), "sku: no product with SKU \"NOPE\" (billcycle products list --include-archived)"],
      [new ContactExists({ email: "ana@example.com" }), "--email: a contact with email ana@example.com exists already"],
      [new ContactNotFound({ email: "zed@example.com" }), "contact: no contact with email zed@example.com (billcycle contacts list)"],
      [new ContactIdNotFound({ id: 999 }), "contact: no contact with id 999 (billcycle contacts list)"],
      [new ProductInvalid({ field: "frequency", problem: "unknown frequency \"sometimes\"" }), "--frequency: unknown frequency \"sometimes\""],
      [new ContactInvalid({ field: "postal-code", problem: "201 characters; at most 200" }), "--postal-code: 201 characters; at most 200"]
    ]
    for (const [error, message] of cases) expect(catalogueErrorMessage(error)).toBe(message)
  })
})
