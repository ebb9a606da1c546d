/**
 * Issue #13, finding 3: deleting a subscription keeps the books. Its
 * invoices (open ones included), payment attempts and journal outlive it,
 * invoice numbers stay gapless, and an invoice is closed by paying, voiding
 * or writing it off, never by deleting it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { autoRenew, parseItemSpec } from "../../../engine/domain/index.ts"
import type { ItemSpec } from "../../../engine/domain/index.ts"
import { buildReports } from "../../../reports/index.ts"
import { addContact, addProduct } from "../../../engine/catalogue/index.ts"
import { closeInvoice, listInvoices, payInvoice } from "../../../engine/invoicing/index.ts"
import {
  cancelSubscription, createSubscriptions, deleteSubscription, getSubscription, listEvents, listSubscriptions,
  updateSubscription
} from "../../../engine/subscriptions/index.ts"
import { exportSubscriptions } from "../../../engine/imports/index.ts"
import { contextAt, createSubscription, eventTypes, invoicesOf, subscriptionRow, tickAt } from "../runtime/engineHarness.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const allNumbers = async () => (await t.db.sql<Array<{ number: string }>>`select number from invoices order by number`).map((r) => r.number)
const consecutive = (numbers: ReadonlyArray<string>) => numbers.map((n) => Number(n.replace(/^\D+/, "")))

describe(`deleting a subscription keeps the books (${backend})`, () => {
  it("a deleted canceled subscription keeps its invoices, open ones included, its payments and its journal; invoice numbers stay gapless", async () => {
    // Three subscriptions billed together, so their invoice numbers interleave.
    const kept1 = await createSubscription(t.db.sql, { start: "2026-01-01" })
    const gone = await createSubscription(t.db.sql, { start: "2026-01-01", collection: "invoice", paymentTerms: "net-15" })
    const kept2 = await createSubscription(t.db.sql, { start: "2026-01-01" })
    for (const d of ["2026-01-01", "2026-02-01", "2026-03-01"]) await tickAt(t, d)
    const ctx = await contextAt(t, "2026-03-05")
    // One of its invoices paid by transfer, the latest left open.
    const goneInvoices = await invoicesOf(t.db.sql, gone)
    expect(goneInvoices).toHaveLength(3)
    await payInvoice(t.db.sql, ctx, goneInvoices[0]!.id, undefined)
    const numbersBefore = await allNumbers()
    expect(numbersBefore).toHaveLength(9)
    const attemptsBefore = await t.db.sql`select * from payment_attempts order by id`
    const eventsBefore = await listEvents(t.db.sql, { subscriptionId: gone })

    await cancelSubscription(t.db.sql, ctx, gone, { atPeriodEnd: false, refundUnused: false })
    const kept = await deleteSubscription(t.db.sql, ctx, gone)
    expect(kept).toEqual({ invoices: 3, openInvoices: 2 })

    // Every invoice number is still there and they run 1..9 without a gap.
    const numbersAfter = await allNumbers()
    expect(numbersAfter).toEqual(numbersBefore)
    expect(consecutive(numbersAfter)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Its invoices, open ones included, are still listed and unchanged in status.
    const after = await listInvoices(t.db.sql, { subscriptionId: gone })
    expect(after.map((i) => [i.number, i.status])).toEqual(goneInvoices.map((i, n) => [i.number, n === 0 ? "paid" : "open"]))
    expect(await t.db.sql`select * from payment_attempts order by id`).toEqual(attemptsBefore)
    // The journal keeps every event and adds the deletion.
    const eventsAfter = await listEvents(t.db.sql, { subscriptionId: gone })
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore)
    expect(eventsAfter.at(-1)).toMatchObject({ type: "subscription.deleted", data: { status: "canceled", invoices: 3, open_invoices: 2 } })

    // Gone from lists, views and the export; show and every change name the deletion.
    expect((await listSubscriptions(t.db.sql, {})).map((s) => s.id)).toEqual([kept1, kept2])
    expect((await listSubscriptions(t.db.sql, { status: "canceled" })).map((s) => s.id)).toEqual([])
    expect(await exportSubscriptions(t.db.sql, "view", "en", ctx.today)).not.toMatch(new RegExp(`^${gone},`, "m"))
    await expect(getSubscription(t.db.sql, gone)).rejects.toThrow(`subscription ${gone} was deleted on 2026-03-05`)
    await expect(deleteSubscription(t.db.sql, ctx, gone)).rejects.toThrow(/was deleted on 2026-03-05/)

    // The open invoice is still owed: it can be paid, and the engine keeps numbering after it with no gap.
    await payInvoice(t.db.sql, ctx, goneInvoices[1]!.id, undefined)
    await tickAt(t, "2026-04-01")
    expect(consecutive(await allNumbers())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect((await invoicesOf(t.db.sql, gone))).toHaveLength(3)
  })

  it("every report is byte-identical before and after a delete", async () => {
    const stays = await createSubscription(t.db.sql, { start: "2025-01-01", items: [{ price: 4000 }] })
    const gone = await createSubscription(t.db.sql, { start: "2025-01-15", items: [{ price: 2500, qty: 2 }] })
    for (const d of ["2025-01-01", "2025-01-15", "2025-02-15", "2025-03-15"]) await tickAt(t, d)
    await cancelSubscription(t.db.sql, await contextAt(t, "2025-03-20"), gone, { atPeriodEnd: false, refundUnused: false })
    const reports = async () => {
      const { timings: _timings, ...rows } = await buildReports(t.db.sql, { from: "2025-01", to: "2025-06", currency: "USD" })
      return JSON.stringify(rows)
    }
    const before = await reports()
    // The deleted subscription's MRR is in the report: were it dropped with the row, the comparison would see it.
    expect(JSON.parse(before).mrr.find((r: { month: string }) => r.month === "2025-02")).toMatchObject({ mrr: 90, subscribers: 2 })
    await deleteSubscription(t.db.sql, await contextAt(t, "2025-04-01"), gone)
    expect(await reports()).toBe(before)
    expect((await listSubscriptions(t.db.sql, {})).map((s) => s.id)).toContain(stays)
  })

  it("the database refuses to delete an invoice, or a subscription row that has invoices", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-01" })
    await tickAt(t, "2026-01-01")
    const [inv] = await invoicesOf(t.db.sql, id)
    await expect(t.db.sql`delete from invoices where id = ${inv!.id}`).rejects.toThrow(/never deleted/)
    await expect(t.db.sql`delete from subscriptions where id = ${id}`).rejects.toThrow(/foreign key/)
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
  })
})

describe(`voiding and writing off invoices (${backend})`, () => {
  it("void: the unpaid subscription's failed invoice is void, its retries stop and the subscription is active again", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", paymentMethod: "pm_declined" })
    await tickAt(t, "2026-05-01")
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "unpaid", next_retry_on: "2026-05-02" })
    const [inv] = await invoicesOf(t.db.sql, id)
    const closed = await closeInvoice(t.db.sql, await contextAt(t, "2026-05-01"), inv!.id, "void")
    expect(closed).toMatchObject({ status: "void", previousStatus: "open", amount: 2500, subscriptionStatus: { from: "unpaid", to: "active" } })
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "active", next_retry_on: null, retry_count: 0, unpaid_since: null })
    const attempts = async () => (await t.db.sql`select count(*)::int as n from payment_attempts where invoice_id = ${inv!.id}`)[0]!["n"]
    const before = await attempts()
    // The retry days come and go: nothing charges the void invoice again.
    for (const d of ["2026-05-02", "2026-05-04", "2026-05-06", "2026-05-08"]) await tickAt(t, d)
    expect(await attempts()).toBe(before)
    expect((await invoicesOf(t.db.sql, id))[0]!.status).toBe("void")
    const types = await eventTypes(t.db.sql, id)
    expect(types).toContain("invoice.voided")
    const [changed] = await t.db.sql`select data from events where subscription_id = ${id} and type = 'subscription.status_changed' order by id desc limit 1`
    expect(changed!["data"]).toMatchObject({ from: "unpaid", to: "active", reason: "invoice_voided" })
  })

  it("writing off the invoice of a subscription unpaid for months does not bill the months it missed", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-10", paymentMethod: "pm_declined" })
    for (const d of ["2026-01-10", "2026-02-10", "2026-03-10"]) await tickAt(t, d)
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "unpaid" })
    const [inv] = await invoicesOf(t.db.sql, id)
    await closeInvoice(t.db.sql, await contextAt(t, "2026-03-20"), inv!.id, "write-off")
    // Released like a recovery by payment: billing goes on from the first anchor date on or after today.
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "active", next_billing_date: "2026-04-10" })
    await tickAt(t, "2026-03-20")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
    const [moved] = await t.db.sql`select data from events where subscription_id = ${id} and type = 'subscription.property_changed' order by id desc limit 1`
    expect(moved!["data"]).toMatchObject({ property: "next_billing_date", from: "2026-02-10", to: "2026-04-10", reason: "unpaid_periods_skipped" })
  })

  it("write-off: an overdue sent invoice becomes uncollectible and the past-due subscription active", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-02-01", collection: "invoice", paymentTerms: "net-15" })
    await tickAt(t, "2026-02-01")
    await tickAt(t, "2026-02-17")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("past_due")
    const [inv] = await invoicesOf(t.db.sql, id)
    const ctx = await contextAt(t, "2026-02-20")
    // A partial payment first: the rest is what is written off.
    await payInvoice(t.db.sql, ctx, inv!.id, 1000)
    const closed = await closeInvoice(t.db.sql, ctx, inv!.id, "write-off")
    expect(closed).toMatchObject({ status: "uncollectible", amount: 1500, subscriptionStatus: { from: "past_due", to: "active" } })
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    const [event] = await t.db.sql`select data, invoice_id from events where type = 'invoice.written_off' and subscription_id = ${id}`
    expect(event).toMatchObject({ invoice_id: inv!.id, data: { number: inv!.number, total: 2500, amount: 1500, currency: "USD", previous_status: "open" } })
    // A written-off invoice may still be voided? Not once money was received on it.
    await expect(closeInvoice(t.db.sql, ctx, inv!.id, "void")).rejects.toThrow(/has 10.00 USD paid: it cannot be voided/)
  })

  it("refuses a paid, unknown, already closed or in-flight invoice, naming it, and changes nothing", async () => {
    const paid = await createSubscription(t.db.sql, { start: "2026-07-01" })
    const timeout = await createSubscription(t.db.sql, { start: "2026-07-01", paymentMethod: "pm_timeout" })
    const open = await createSubscription(t.db.sql, { start: "2026-07-01", collection: "invoice" })
    await tickAt(t, "2026-07-01")
    const ctx = await contextAt(t, "2026-07-02")
    const [p] = await invoicesOf(t.db.sql, paid)
    const [u] = await invoicesOf(t.db.sql, timeout)
    const [o] = await invoicesOf(t.db.sql, open)
    const snapshot = async () => JSON.stringify([await t.db.sql`select * from invoices order by id`, await t.db.sql`select count(*) from events`, await t.db.sql`select * from subscriptions order by id`])
    const before = await snapshot()
    for (const how of ["void", "write-off"] as const) {
      await expect(closeInvoice(t.db.sql, ctx, p!.id, how)).rejects.toThrow(`invoice ${p!.number} is paid: a paid invoice is refunded`)
      await expect(closeInvoice(t.db.sql, ctx, 999_999, how)).rejects.toThrow("invoice 999999 does not exist")
      await expect(closeInvoice(t.db.sql, ctx, u!.id, how)).rejects.toThrow(`invoice ${u!.number} has a charge in flight`)
    }
    expect(await snapshot()).toBe(before)
    await closeInvoice(t.db.sql, ctx, o!.id, "write-off")
    await expect(closeInvoice(t.db.sql, ctx, o!.id, "write-off")).rejects.toThrow(`invoice ${o!.number} is already written off`)
    // Written off, then found to be a mistake: it can still be voided (Stripe's rule), and then nothing more.
    expect(await closeInvoice(t.db.sql, ctx, o!.id, "void")).toMatchObject({ status: "void", previousStatus: "uncollectible", subscriptionStatus: null })
    await expect(closeInvoice(t.db.sql, ctx, o!.id, "void")).rejects.toThrow(`invoice ${o!.number} is already voided`)
    await expect(closeInvoice(t.db.sql, ctx, o!.id, "write-off")).rejects.toThrow(`invoice ${o!.number} is void: only an open invoice can be written off`)
    await expect(payInvoice(t.db.sql, ctx, o!.id, undefined)).rejects.toThrow(/only an open invoice can be paid/)
  })
})


describe(`subscriptions update --item keeps what it does not name (${backend})`, () => {
  it("qty=3 on an item with a 10% discount keeps the discount, and the engine bills it from the next billing date", async () => {
    const ctx = await contextAt(t, "2026-09-01")
    await addProduct(t.db.sql, { name: "Just one more cup – 1 kg", sku: "COFFEE-1KG", price: "25.00", currency: "USD", frequency: "monthly" })
    await addContact(t.db.sql, { email: "ana@example.com", name: "Ana", paymentMethod: "pm_ok" }, "2026-09-01")
    const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
    const [sub] = await createSubscriptions(t.db.sql, ctx, {
      contactEmail: "ana@example.com", items: items("sku=COFFEE-1KG,qty=2,discount=10%,tax=25%", "name=Mug,price=8.00,discount=1.00"), start: { _tag: "Today" },
      terms: autoRenew, collection: "charge", paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false
    })
    await tickAt(t, "2026-09-01")
    // The catalogue price rises; the item on the subscription keeps its price too, as the spec does not name one.
    await t.db.sql`update products set unit_price = 3000 where sku = 'COFFEE-1KG'`
    const result = await updateSubscription(t.db.sql, await contextAt(t, "2026-09-05"), sub!.id, { items: items("sku=COFFEE-1KG,qty=3", "name=Mug,price=9.00") })
    // Before: 2 × 22.50 = 45.00 + 25% = 56.25, mug 7.00: 63.25. After: 67.50 + 16.88 = 84.38, mug 9.00 − 1.00 = 8.00: 92.38.
    expect(result.items).toEqual({ version: 2, effectiveFrom: "2026-10-01", currency: "USD", amountPerPaymentBefore: 6325, amountPerPaymentAfter: 9238 })
    expect(result.changes[0]).toBe("items (version 2, effective 2026-10-01): per payment 63.25 USD → 92.38 USD")
    const [event] = await t.db.sql`select data from events where subscription_id = ${sub!.id} and type = 'subscription.items_changed'`
    expect(event!["data"]).toMatchObject({ amount_before: 6325, amount: 9238, currency: "USD" })
    await tickAt(t, "2026-10-01")
    const invoices = await invoicesOf(t.db.sql, sub!.id)
    expect(invoices.map((i) => i.total)).toEqual([6325, 9238])
    // A new item and a removed one are the new set: what is not given leaves.
    const swapped = await updateSubscription(t.db.sql, await contextAt(t, "2026-10-05"), sub!.id, { items: items("sku=COFFEE-1KG") })
    expect(swapped.items).toMatchObject({ amountPerPaymentBefore: 9238, amountPerPaymentAfter: 8438 })
  })
})
