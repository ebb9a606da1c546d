/**
 * `subscriptions cancel --refund-unused` as one use case (the CLI and the
 * HTTP API call it): the cancel and its refund attempt commit first, then the
 * gateway is asked, then its answer is recorded. A gateway that cannot be
 * reached leaves the subscription canceled and the refund pending, for the
 * engine's next tick to settle with the same key.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { BusinessClock, dayTime } from "../../../engine/account/index.ts"
import { Gateway, GatewayUnavailable } from "../../../engine/payments/index.ts"
import { cancelWithRefund } from "../../../engine/subscriptions/index.ts"
import { loadSettings } from "../../../engine/account/index.ts"
import { loadInvoiceDocument } from "../../../engine/invoicing/index.ts"
import { renderInvoice } from "../../../templates/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { createSubscription, invoicesOf, ledgerOf, subscriptionRow, tickAt } from "./engineHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const at = (date: string) => Layer.mergeAll(t.layer, BusinessClock.fixed(dayTime(date as CalendarDate)))
const refundsOf = (id: number) =>
  t.db.sql<Array<{ status: string; amount: number }>>`
    select a.status, a.amount from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id} and a.kind = 'refund'`
const unreachable = Layer.succeed(Gateway, { submit: () => Effect.fail(new GatewayUnavailable({ message: "gateway unavailable: down", cause: new Error("down") })) })

describe(`cancel with a refund of the unused days, as one use case (${backend})`, () => {
  it("cancels, refunds the unused days through the gateway and records the refund as succeeded", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-04-01", items: [{ price: 3000 }] })
    await tickAt(t, "2026-04-01")
    const result = await Effect.runPromise(cancelWithRefund(id, { atPeriodEnd: false, refundUnused: true }).pipe(
      Effect.provide(Gateway.simulated.pipe(Layer.provideMerge(at("2026-04-11"))))
    ))
    expect(result.status).toBe("canceled")
    expect(result.refund?.amount).toBe(2000)
    expect(result.refundSettled).toEqual({ succeeded: 1, failed: 0, unknown: 0, pending: 0 })
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("canceled")
    expect(await refundsOf(id)).toEqual([{ status: "succeeded", amount: 2000 }])
    expect((await ledgerOf(t.db.sql, id)).filter((l) => l.kind === "refund").map((l) => l.amount)).toEqual([2000])
    expect((await invoicesOf(t.db.sql, id))[0]!.amount_refunded).toBe(2000)
    // The buyer's invoice shows the refund beside what was paid (found by an audit: it showed only "Paid −30.00").
    const [invoice] = await invoicesOf(t.db.sql, id)
    const doc = await loadInvoiceDocument(t.db.sql, invoice!.id, await loadSettings(t.db.sql))
    const html = renderInvoice(doc.data, { language: "en", locale: "en-US" })
    expect(html).toMatch(/<tr class="refunded"><td>Refunded<\/td><td class="num">\$20\.00<\/td><\/tr>/)
    expect(html).toMatch(/Paid<\/td><td class="num">-\$30\.00/)
    expect(renderInvoice(doc.data, { language: "nb", locale: "nb-NO" })).toMatch(/Refundert<\/td><td class="num">20,00\sUSD/)
  })

  it("is refused while the period's charge is not settled (a lost reply, a bank debit in flight): nothing changes, nothing is refunded", async () => {
    // Found by an audit: the cancel went through with nothing refunded, and the charge then settled in full.
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", items: [{ price: 3000 }], paymentMethod: "pm_timeout" })
    await tickAt(t, "2026-05-01")
    const exit = await Effect.runPromiseExit(cancelWithRefund(id, { atPeriodEnd: false, refundUnused: true }).pipe(
      Effect.provide(Gateway.simulated.pipe(Layer.provideMerge(at("2026-05-01"))))
    ))
    expect(String(exit)).toContain("--refund-unused: the charge of INV-")
    expect(String(exit)).toContain("(30.00 USD) is not settled yet")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    expect(await refundsOf(id)).toEqual([])
  })

  it("a gateway that cannot be reached leaves the cancel committed and the refund pending; the engine settles it later", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-04-01", items: [{ price: 3000 }] })
    await tickAt(t, "2026-04-01")
    const exit = await Effect.runPromiseExit(cancelWithRefund(id, { atPeriodEnd: false, refundUnused: true }).pipe(
      Effect.provide(Layer.mergeAll(unreachable, at("2026-04-11")))
    ))
    expect(exit._tag).toBe("Failure")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("canceled")
    expect(await refundsOf(id)).toEqual([{ status: "pending", amount: 2000 }])
    // Its lease (60 s) must lapse before the engine takes it over.
    await t.db.sql`update payment_attempts set lease_until = now() - interval '1 second' where kind = 'refund'`
    await tickAt(t, "2026-04-12")
    expect(await refundsOf(id)).toEqual([{ status: "succeeded", amount: 2000 }])
  })

  it("without --refund-unused nothing goes to the gateway", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-04-01" })
    await tickAt(t, "2026-04-01")
    const result = await Effect.runPromise(cancelWithRefund(id, { atPeriodEnd: true, refundUnused: false }).pipe(
      Effect.provide(Layer.mergeAll(unreachable, at("2026-04-11")))
    ))
    expect(result.status).not.toBe("canceled")
    expect(result.refundSettled).toBeUndefined()
    expect(await refundsOf(id)).toEqual([])
    // Asked again: the same day, nothing journaled (found by an audit: a no-op cancel_at change went out to webhooks).
    const journaled = async () => (await t.db.sql`select count(*)::int as n from events where subscription_id = ${id}`)[0]!["n"]
    const before = await journaled()
    const again = await Effect.runPromise(cancelWithRefund(id, { atPeriodEnd: true, refundUnused: false }).pipe(Effect.provide(Layer.mergeAll(unreachable, at("2026-04-12")))))
    expect(again.effectiveOn).toBe(result.effectiveOn)
    expect(await journaled()).toBe(before)
  })
})
