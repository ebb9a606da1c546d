/**
 * Payment links in the store: saved whole with their items, read back by slug and id, a slug never reused,
 * the completed-payments limit switching a link off, and every refusal writing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  clonePaymentLink, countCompletedPayment, createPaymentLink, deletePaymentLink, listPaymentLinks, paymentLinkById, paymentLinkBySlug,
  previewPaymentLink, switchPaymentLink, updatePaymentLink
} from "../../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../../engine/domain/index.ts"
import { PaymentLinkInvalid } from "../../../engine/domain/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
const today = "2026-03-01" as CalendarDate

beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const settings = (over: Partial<PaymentLinkSettings> = {}): PaymentLinkSettings => ({
  name: "Coffee club",
  currency: "USD",
  items: [
    { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, discount: { _tag: "Percent", ppm: 100_000 } },
    { name: "Mug", description: "Stoneware", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true },
    { name: "Filters", unitPrice: 300, quantity: 2, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 10 } },
    { name: "Tip", unitPrice: 500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, ownPrice: { minimum: 100 }, taxRate: 250_000 }
  ],
  terms: { _tag: "Fixed", payments: 12 },
  start: { _tag: "AtCheckout" },
  orderDiscount: { _tag: "Amount", amount: 200 },
  checkoutText: "Fresh every month",
  language: "nb",
  locale: "nb-NO",
  paymentTypes: ["card", "bank-debit"],
  collectBillingAddress: true,
  collectShippingAddress: false,
  redirectUrl: "https://shop.example.com/thanks",
  confirmationText: undefined,
  allowDiscountCodes: true,
  contactFields: [{ label: "Grind", helpText: "Whole bean or ground", required: true, order: 1 }],
  completedPaymentsLimit: 2,
  ...over
})

const rows = async () =>
  (await t.db.sql<Array<{ n: number }>>`select (select count(*) from payment_links) + (select count(*) from payment_link_items) + (select count(*) from events) as n`)[0]!.n

describe(`payment links in the store (${backend})`, () => {
  it("a link is saved with its items and settings and read back by slug and by id, with its event", async () => {
    const created = await createPaymentLink(t.db.sql, today, settings(), { slug: "coffee-club" })
    expect(created.slug).toBe("coffee-club")
    const bySlug = await paymentLinkBySlug(t.db.sql, "coffee-club")
    const byId = await paymentLinkById(t.db.sql, created.id)
    expect(bySlug).toEqual(byId)
    expect(bySlug).toMatchObject({ ...settings(), active: true, completedPayments: 0, createdOn: today, deletedOn: undefined })
    const events = await t.db.sql`select type, data from events where type like 'payment_link.%'`
    expect(events.map((e) => ({ ...e }))).toEqual([{ type: "payment_link.created", data: { link_id: created.id, slug: "coffee-club", name: "Coffee club" } }])
  })

  it("a random slug is unguessable and unique; a taken slug is refused and nothing is written", async () => {
    const a = await createPaymentLink(t.db.sql, today, settings())
    const b = await createPaymentLink(t.db.sql, today, settings())
    expect(a.slug).toMatch(/^[A-Za-z0-9_-]{11}$/)
    expect(a.slug).not.toBe(b.slug)
    const before = await rows()
    await expect(createPaymentLink(t.db.sql, today, settings(), { slug: "coffee-club" })).rejects.toMatchObject({ cause: { _tag: "PaymentLinkInvalid", rule: "SlugTaken", field: "slug" } })
    expect(await rows()).toBe(before)
  })

  it("a link that breaks a rule is refused with its typed error and nothing is written", async () => {
    const before = await rows()
    const broken = settings({ items: [{ name: "Free", unitPrice: 0, quantity: 1, frequency: undefined, optional: false }] })
    const error = await createPaymentLink(t.db.sql, today, broken).catch((e: unknown) => (e as { cause: unknown }).cause)
    expect(error).toBeInstanceOf(PaymentLinkInvalid)
    expect(error).toMatchObject({ rule: "UnitPriceNotPositive", field: "item.unitPrice", item: 0 })
    expect(await rows()).toBe(before)
  })

  it("reaching the completed-payments limit switches the link off", async () => {
    const link = await createPaymentLink(t.db.sql, today, settings({ completedPaymentsLimit: 2 }))
    expect(await countCompletedPayment(t.db.sql, link.id)).toEqual({ completedPayments: 1, active: true })
    expect(await countCompletedPayment(t.db.sql, link.id)).toEqual({ completedPayments: 2, active: false })
    expect((await paymentLinkById(t.db.sql, link.id))!.active).toBe(false)
  })

  it("update, off/on, clone and delete; a deleted link leaves the list and its slug is not reused", async () => {
    const link = await createPaymentLink(t.db.sql, today, settings(), { slug: "to-change" })
    const updated = await updatePaymentLink(t.db.sql, today, "to-change", (l) => ({ ...l, name: "Changed", items: l.items.slice(0, 1) }))
    expect([updated.name, updated.items.length]).toEqual(["Changed", 1])
    expect((await switchPaymentLink(t.db.sql, today, String(link.id), false)).changed).toBe(true)
    expect((await switchPaymentLink(t.db.sql, today, String(link.id), false)).changed).toBe(false)
    expect((await paymentLinkById(t.db.sql, link.id))!.active).toBe(false)
    await switchPaymentLink(t.db.sql, today, "to-change", true)
    const copy = await clonePaymentLink(t.db.sql, today, "to-change")
    expect(copy).toMatchObject({ name: "Changed (copy)", items: updated.items, active: true })
    expect(copy.slug).not.toBe("to-change")
    await deletePaymentLink(t.db.sql, today, "to-change")
    const listed = await listPaymentLinks(t.db.sql, { limit: 100 })
    expect(listed.map((l) => l.slug)).not.toContain("to-change")
    expect(listed.map((l) => l.slug)).toContain(copy.slug)
    await expect(createPaymentLink(t.db.sql, today, settings(), { slug: "to-change" })).rejects.toMatchObject({ cause: { rule: "SlugTaken" } })
    await expect(switchPaymentLink(t.db.sql, today, "to-change", true)).rejects.toMatchObject({ cause: { _tag: "PaymentLinkNotFound" } })
  })

  it("lists page by id after a cursor", async () => {
    const all = await listPaymentLinks(t.db.sql, { limit: 1000 })
    const first = await listPaymentLinks(t.db.sql, { limit: 2 })
    const next = await listPaymentLinks(t.db.sql, { limit: 2, after: first[1]!.id })
    expect([...first, ...next].map((l) => l.id)).toEqual(all.slice(0, 4).map((l) => l.id))
  })

  it("preview: the summary of a stored link with the buyer's choices", async () => {
    const { summary } = await previewPaymentLink(t.db.sql, today, "coffee-club", { items: new Map([[1, { include: true }], [3, { unitPrice: 1000 }]]) })
    // Beans 22.50 + Mug 12.00 + Filters 2 × 3.00 + Tip 10.00 = 50.50 before tax, less 2.00 off the order, shared
    // out pro rata before tax: the Tip's share is 2.00 × 10.00 / 50.50 = 0.40, so its 25% tax is on 9.60 (2.40).
    expect(summary.subtotal.amount).toBe(5050)
    expect(summary.tax.amount).toBe(240)
    expect(summary.dueToday).toEqual({ amount: 5050 - 200 + 240, currency: "USD" })
    expect(summary.futurePayments.map((f) => [f.amount.amount, f.payments])).toEqual([[2250 + 1250, 11]])
    await expect(previewPaymentLink(t.db.sql, today, "coffee-club", { items: new Map([[2, { quantity: 11 }]]) })).rejects.toMatchObject({ cause: { _tag: "BuyerChoiceRefused", reason: "QuantityOutOfRange" } })
  })
})
