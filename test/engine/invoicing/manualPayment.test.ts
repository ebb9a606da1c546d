/**
 * A payment recorded by hand (`billcycle invoices pay`, `POST /v1/invoices/:id/pay`)
 * is journaled as the person who recorded it made it, each payment event
 * with that payment's amount: summing the payment events of an invoice
 * gives what was received, never more.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Layer } from "effect"
import { InvoiceId } from "../../../engine/domain/index.ts"
import { Invoices, loadEmailDataBatch } from "../../../engine/invoicing/index.ts"
import { loadSettings } from "../../../engine/account/index.ts"
import type { ClaimedMessage } from "../../../engine/sql/index.ts"
import { renderEmail } from "../../../templates/index.ts"
import { CurrentJournalSource } from "../../../engine/sql/index.ts"
import { contextAt, createSubscription, invoicesOf, subscriptionRow, tickAt } from "../runtime/engineHarness.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

/** `invoices pay ID [--amount A]` as both doors call it; `source` is the door's journal source (none: the CLI). */
const pay = async (date: string, id: number, amount: string | undefined, source?: string) => {
  const ctx = await contextAt(t, date)
  const work = Effect.flatMap(Effect.service(Invoices), (invoices) => invoices.pay(ctx, InvoiceId.make(id), amount))
  return Effect.runPromise((source === undefined ? work : work.pipe(Effect.provideService(CurrentJournalSource, source))).pipe(
    Effect.provide(Invoices.layer.pipe(Layer.provide(t.layer)))
  ))
}

const eventsAfter = (subscriptionId: number, after: number) =>
  t.db.sql<Array<{ id: number; type: string; source: string; data: Record<string, any> }>>`
    select id::int as id, type, source, data from events where subscription_id = ${subscriptionId} and id > ${after} order by id`

const lastEventId = async () => Number((await t.db.sql<Array<{ id: number }>>`select coalesce(max(id), 0) as id from events`)[0]!.id)

/** A 12.50 invoice sent on 2026-02-01, due on receipt: overdue the next day, its subscription past due. */
const overdueInvoice = async () => {
  const id = await createSubscription(t.db.sql, { start: "2026-02-01", collection: "invoice", paymentTerms: "due-on-receipt", items: [{ price: 1250 }] })
  await tickAt(t, "2026-02-01")
  await tickAt(t, "2026-02-02")
  expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("past_due")
  const [inv] = await invoicesOf(t.db.sql, id)
  expect(inv!.total).toBe(1250)
  return { subscriptionId: id, invoiceId: inv!.id }
}

/** What the payment events of an invoice say was received. */
const received = (events: ReadonlyArray<{ type: string; data: Record<string, any> }>) =>
  events.filter((e) => e.type === "invoice.payment_recorded" || e.type === "payment.succeeded").reduce((sum, e) => sum + Number(e.data["amount"]), 0)

describe(`a payment recorded by hand is journaled as its own payment, by whoever recorded it (${backend})`, () => {
  for (const rest of [undefined, "7.50"]) {
    it(`invoices pay --amount 5.00 then ${rest === undefined ? "pay" : `--amount ${rest}`} on a 12.50 invoice: every event source cli, the closing payment 7.50, 12.50 received`, async () => {
      const { subscriptionId, invoiceId } = await overdueInvoice()
      const before = await lastEventId()
      expect(await pay("2026-02-03", invoiceId, "5.00")).toMatchObject({ paid: false, amount: 500, remaining: 750 })
      expect(await pay("2026-02-04", invoiceId, rest)).toMatchObject({ paid: true, amount: 750, remaining: 0 })
      const events = await eventsAfter(subscriptionId, before)
      expect(events.map((e) => [e.type, e.source])).toEqual([
        ["invoice.payment_recorded", "cli"],
        // The payment, then the recovery it caused (found by an audit: the recovery came first).
        ["payment.succeeded", "cli"],
        ["invoice.paid", "cli"],
        ["subscription.status_changed", "cli"]
      ])
      expect(events[0]!.data).toMatchObject({ invoice_id: invoiceId, amount: 500, currency: "USD", remaining: 750 })
      expect(events[1]!.data).toMatchObject({ invoice_id: invoiceId, amount: 750, currency: "USD", via: "manual" })
      expect(events[2]!.data).toMatchObject({ invoice_id: invoiceId, total: 1250, currency: "USD" })
      expect(events[3]!.data).toMatchObject({ from: "past_due", to: "active", reason: "payment_recovered" })
      expect(received(events)).toBe(1250)
    })
  }

  it("one payment by hand of the whole invoice: payment.succeeded 12.50 and invoice.paid, source cli", async () => {
    const { subscriptionId, invoiceId } = await overdueInvoice()
    const before = await lastEventId()
    await pay("2026-02-03", invoiceId, undefined)
    const events = await eventsAfter(subscriptionId, before)
    expect(events.map((e) => [e.type, e.source, e.data["amount"] ?? e.data["total"] ?? null])).toEqual([
      ["payment.succeeded", "cli", 1250],
      ["invoice.paid", "cli", 1250],
      ["subscription.status_changed", "cli", null]
    ])
  })

  it("through the HTTP API's use case, every event of a partial and a closing payment carries api:<key name>", async () => {
    const { subscriptionId, invoiceId } = await overdueInvoice()
    const before = await lastEventId()
    await pay("2026-02-03", invoiceId, "5.00", "api:shop")
    await pay("2026-02-04", invoiceId, undefined, "api:shop")
    const events = await eventsAfter(subscriptionId, before)
    expect(events.map((e) => e.type)).toEqual(["invoice.payment_recorded", "payment.succeeded", "invoice.paid", "subscription.status_changed"])
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(["api:shop"]))
    expect(received(events)).toBe(1250)
  })

  it("a charge the gateway takes after a payment by hand journals what it charged, not the invoice's total, as the engine", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", paymentMethod: "pm_declined", items: [{ price: 1250 }] })
    await tickAt(t, "2026-05-01")
    const [inv] = await invoicesOf(t.db.sql, id)
    await pay("2026-05-01", inv!.id, "5.00")
    await t.db.sql`update contacts set payment_method = 'pm_ok' where id = (select contact_id from subscriptions where id = ${id})`
    const before = await lastEventId()
    await tickAt(t, "2026-05-02")
    const events = await eventsAfter(id, before)
    const succeeded = events.filter((e) => e.type === "payment.succeeded")
    expect(succeeded.map((e) => [e.source, e.data["amount"], e.data["via"]])).toEqual([["engine", 750, "gateway"]])
    expect(events.find((e) => e.type === "invoice.paid")).toMatchObject({ source: "engine", data: { total: 1250 } })
    // The buyer's receipt thanks for what the card paid, not the invoice's total (found by an audit of what buyers receive).
    const receipts = await t.db.sql<Array<ClaimedMessage>>`select * from outbox where invoice_id = ${inv!.id} and template = 'receipt'`
    expect(receipts).toHaveLength(1)
    const [data] = await loadEmailDataBatch(t.db.sql, receipts, await loadSettings(t.db.sql))
    expect(data!.amount).toBe(750)
    const mail = renderEmail("receipt", data!, { language: "en", locale: "en-US" })
    expect(mail.text).toContain("$7.50")
    expect(mail.text).not.toContain("12.50")
    // The admins' notification says the same payment (it said the invoice's total, 12.50).
    const notices = await t.db.sql<Array<ClaimedMessage>>`select * from outbox where invoice_id = ${inv!.id} and template = 'payment_notification' and payload->>'outcome' = 'succeeded'`
    expect(notices).toHaveLength(1)
    const [notice] = await loadEmailDataBatch(t.db.sql, notices, await loadSettings(t.db.sql))
    const noticeMail = renderEmail("payment_notification", notice!, { language: "en", locale: "en-US" })
    expect(noticeMail.text).toContain("A payment of $7.50")
    expect(noticeMail.text).not.toContain("12.50")
  })

  it("a retry declined after a payment by hand journals and tells the amount it tried, the rest still due, not the invoice's total", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-06-01", paymentMethod: "pm_declined", items: [{ price: 1250 }] })
    await tickAt(t, "2026-06-01")
    const [inv] = await invoicesOf(t.db.sql, id)
    await pay("2026-06-01", inv!.id, "5.00")
    const before = await lastEventId()
    await tickAt(t, "2026-06-02")
    const failed = (await eventsAfter(id, before)).filter((e) => e.type === "payment.failed")
    expect(failed.map((e) => [e.data["attempt"], e.data["amount"]])).toEqual([[2, 750]])
    const told = await t.db.sql<Array<ClaimedMessage>>`
      select * from outbox where invoice_id = ${inv!.id} and created_on = '2026-06-02' and template in ('payment_failed', 'payment_notification') order by template`
    expect(told.map((m) => m.template)).toEqual(["payment_failed", "payment_notification"])
    const data = await loadEmailDataBatch(t.db.sql, told, await loadSettings(t.db.sql))
    for (const d of data) {
      const mail = renderEmail(d.template, d, { language: "en", locale: "en-US" })
      expect(mail.text).toContain("$7.50")
      expect(mail.text).not.toContain("12.50")
    }
  })
})
