import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { autoRenew, fixedPayments, parseItemSpec } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { addContact, addProduct } from "../../../engine/catalogue/index.ts"
import {
  cancelSubscription, createSubscriptions, currentItems, deleteSubscription, getSubscription, listSubscriptions,
  pauseSubscription, resumeSubscription, updateSubscription
} from "../../../engine/subscriptions/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
const at = (date: string): EngineContext => ({ ...ctx, today: date as CalendarDate })
const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
const base = { start: { _tag: "Today" } as const, terms: autoRenew, collection: "charge" as const, paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false }

beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), "2026-03-01" as CalendarDate, { owner: "test", failpoint: () => {} })
  await addProduct(t.db.sql, { name: "Just one more cup – 1 kg", sku: "COFFEE-1KG", price: "25.00", currency: "USD", frequency: "monthly" })
  await addProduct(t.db.sql, { name: "Beans for a year", sku: "YEARLY", price: "250.00", currency: "USD", frequency: "annually" })
  await addProduct(t.db.sql, { name: "Grinder setup", sku: "SETUP", price: "15.00", currency: "USD", frequency: "one-time" })
  await addContact(t.db.sql, { email: "ana@example.com", name: "Ana", paymentMethod: "pm_ok" }, "2026-03-01")
  await addContact(t.db.sql, { email: "bo@example.com", name: "Bo" }, "2026-03-01")
})
afterAll(async () => {
  await t.close()
})

describe(`subscriptions in the store (${backend})`, () => {
  it("one monthly and one yearly item make two subscriptions; the one-time item rides with the first", async () => {
    const created = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG,qty=2", "sku=YEARLY", "sku=SETUP") })
    expect(created.map((c) => [c.frequency, c.items, c.status, c.nextBillingDate])).toEqual([["monthly", 2, "active", "2026-03-01"], ["annually", 1, "active", "2026-03-01"]])
    const events = await t.db.sql<Array<{ type: string; subscription_id: number }>>`select type, subscription_id from events where subscription_id = any(${created.map((c) => c.id)}) order by id`
    expect(events.map((e) => e.type)).toEqual(["subscription.created", "subscription.status_changed", "subscription.created", "subscription.status_changed"])
    const history = await t.db.sql`select to_status from status_history where subscription_id = ${created[0]!.id}`
    expect(history.map((h) => h["to_status"])).toEqual(["active"])
  })

  it("fixed terms get their end date; a delayed start is scheduled", async () => {
    const [fixed] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG"), terms: fixedPayments(6) })
    expect(fixed!.endDate).toBe("2026-09-01")
    const [later] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG"), start: { _tag: "DelayMonths", months: 1 } })
    expect(later).toMatchObject({ status: "scheduled", startDate: "2026-04-01", nextBillingDate: "2026-04-01" })
  })

  it("rejects bad input naming the item, and writes nothing", async () => {
    const count = async () => (await t.db.sql<Array<{ n: number }>>`select (select count(*) from subscriptions) + (select count(*) from line_items) + (select count(*) from events) as n`)[0]!.n
    const before = await count()
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG", "sku=NOPE") })).rejects.toThrow(/item 2: unknown SKU "NOPE"/)
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "nobody@example.com", items: items("sku=COFFEE-1KG") })).rejects.toMatchObject({ cause: { _tag: "ContactNotFound", email: "nobody@example.com" } })
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG,discount=30.00") })).rejects.toThrow(/cannot exceed the unit price/)
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "bo@example.com", items: items("sku=COFFEE-1KG") })).rejects.toMatchObject({ cause: { _tag: "NoPaymentMethod", contact: "bo@example.com" } })
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=SETUP") })).rejects.toThrow(/recurring/)
    expect(parseItemSpec("sku=A,qty=0")).toMatch(/whole number/)
    expect(parseItemSpec("sku=A,discount=120%")).toMatch(/0% and 100%/)
    expect(parseItemSpec("name=Custom")).toMatch(/price/)
    expect(await count()).toBe(before)
  })

  it("a SKU typed in the wrong case or one letter off is refused with the product's SKU to use; an unlike one without", async () => {
    const count = async () => (await t.db.sql<Array<{ n: number }>>`select (select count(*) from subscriptions) + (select count(*) from line_items) + (select count(*) from events) as n`)[0]!.n
    const before = await count()
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=coffee-1kg") }))
      .rejects.toThrow('--item 1: unknown SKU "coffee-1kg" (did you mean "COFFEE-1KG"?)')
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=YEARLY", "sku=COFFE-1KG") }))
      .rejects.toThrow('--item 2: unknown SKU "COFFE-1KG" (did you mean "COFFEE-1KG"?)')
    await expect(createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=TEAPOT") }))
      .rejects.toThrow(/^--item 1: unknown SKU "TEAPOT"$/)
    // A change of items on a subscription gets the same help.
    const [s] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG") })
    const after = await count()
    await expect(updateSubscription(t.db.sql, ctx, s!.id, { items: items("sku=Coffee-1kg,qty=2") })).rejects.toThrow('unknown SKU "Coffee-1kg" (did you mean "COFFEE-1KG"?)')
    expect(await count()).toBe(after)
    expect(after).toBeGreaterThan(before)
  })

  it("a change of items is a new version from the next billing date; the old one is kept", async () => {
    const [s] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG") })
    const changes = await updateSubscription(t.db.sql, at("2026-03-05"), s!.id, { items: items("sku=COFFEE-1KG,qty=3") })
    expect(changes.changes[0]).toContain("version 2")
    const versions = await t.db.sql`select version, effective_from from item_versions where subscription_id = ${s!.id} order by version`
    expect(versions.map((v) => [v["version"], v["effective_from"]])).toEqual([[1, "2026-03-01"], [2, "2026-03-05"]])
    expect((await currentItems(t.db.sql, s!.id))[0]!.quantity).toBe(3)
    await expect(updateSubscription(t.db.sql, at("2026-03-05"), s!.id, { items: items("sku=YEARLY") })).rejects.toThrow(/own subscription/)
  })

  it("status rules: pause only active, resume only paused, delete only canceled or expired", async () => {
    const [s] = await createSubscriptions(t.db.sql, ctx, { ...base, contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG") })
    await expect(resumeSubscription(t.db.sql, ctx, s!.id)).rejects.toThrow(/only a paused/)
    await expect(deleteSubscription(t.db.sql, ctx, s!.id)).rejects.toThrow(/only canceled or expired/)
    await pauseSubscription(t.db.sql, at("2026-03-10"), s!.id, undefined)
    await expect(pauseSubscription(t.db.sql, at("2026-03-10"), s!.id, undefined)).rejects.toThrow(/only an active/)
    // Resumed on the 20th: next billing is the first anchor date on or after it (April 1), never back-billed.
    expect(await resumeSubscription(t.db.sql, at("2026-03-20"), s!.id)).toBe("2026-04-01")
    const end = await cancelSubscription(t.db.sql, at("2026-03-21"), s!.id, { atPeriodEnd: true, refundUnused: false })
    expect(end).toMatchObject({ status: "active", effectiveOn: "2026-04-01" })
    const now = await cancelSubscription(t.db.sql, at("2026-03-22"), s!.id, { atPeriodEnd: false, refundUnused: false })
    expect(now.status).toBe("canceled")
    await expect(cancelSubscription(t.db.sql, at("2026-03-22"), s!.id, { atPeriodEnd: false, refundUnused: false })).rejects.toThrow(/cannot be canceled/)
    await deleteSubscription(t.db.sql, at("2026-03-23"), s!.id)
    // Deleted: gone from every list and view (the row stays behind as a tombstone that keeps the books: test/engine/invoicing/books.test.ts).
    expect((await listSubscriptions(t.db.sql, {})).map((x) => x.id)).not.toContain(s!.id)
    await expect(getSubscription(t.db.sql, s!.id)).rejects.toThrow(/was deleted/)
    expect((await t.db.sql`select type from events where subscription_id = ${s!.id} order by id desc limit 1`)[0]!["type"]).toBe("subscription.deleted")
    const emails = await t.db.sql`select template from outbox where subscription_id = ${s!.id}`
    expect(emails.map((e) => e["template"])).toEqual(["cancellation"])
  })
})
