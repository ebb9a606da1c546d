/**
 * Paying a checkout when the process dies, on both databases: after the
 * attempt was recorded and the gateway charged but before its answer was
 * recorded, and in the middle of the transaction that makes the purchase.
 * After a restart the engine asks the gateway again with the same key and
 * completes the purchase: one charge, one set of subscriptions, one invoice,
 * one receipt.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, settleCheckoutAttempts } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { loadSettings, dayTime, makeEngineContext } from "../../../engine/account/index.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { engineLayer, tickAt } from "../runtime/engineHarness.ts"
import { getPage, recordAttemptAsPage } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi(today)
})
afterAll(async () => {
  await api?.close()
})
const sql = () => api.db.db.sql

let counter = 0
const newSession = async () => {
  const link = await createPaymentLink(sql(), today, {
    name: "internal", currency: "USD", terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, language: "en", locale: "en-US",
    items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }],
    paymentTypes: ["card"], collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: []
  }, { slug: `crash-${backend}-${++counter}` })
  const opened = await getPage(api, `/l/${link.slug}`)
  return opened.headers.get("location")!.slice(3)
}

const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(effect.pipe(Effect.provide(engineLayer(api.db, today))) as Effect.Effect<A, E, never>)

const recordAttempt = (id: string, email: string) => recordAttemptAsPage(api, today, id, email)

const facts = async (id: string, email: string) => {
  const [row] = await sql()<Array<{ subs: number; invoices: number; receipts: number; charges: number }>>`
    select (select count(*) from subscriptions s join contacts c on c.id = s.contact_id where c.email = ${email})::int as subs,
           (select count(*) from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id where c.email = ${email})::int as invoices,
           (select count(*) from outbox where template = 'receipt' and recipient = ${email})::int as receipts,
           (select count(*) from sim_gateway_ledger where merchant_reference = ${`checkout ${id}`})::int as charges`
  return row!
}

describe(`paying a checkout survives a crash (${backend})`, () => {
  it("dies after the gateway charged, before the answer was recorded: the page says processing, the engine completes it once", async () => {
    const id = await newSession()
    const email = `crash-a-${backend}@example.com`
    const attempt = await recordAttempt(id, email)
    // The gateway charges; the process dies before anything is recorded.
    await run(Effect.gen(function*() {
      return yield* (yield* Gateway).submit([{ idempotencyKey: attempt.idempotencyKey, kind: "charge", amount: attempt.amount, currency: "USD", paymentMethod: "pm_ok", reference: `checkout ${id}` }])
    }))
    expect(await facts(id, email)).toEqual({ subs: 0, invoices: 0, receipts: 0, charges: 1 })
    expect((await getPage(api, `/c/${id}`)).status).toBe(202)
    // The attempt's lease (2 minutes) has not passed in today's tick; it has in the next day's.
    await tickAt(api.db, today)
    expect((await facts(id, email)).subs).toBe(0)
    await tickAt(api.db, "2026-04-03")
    expect(await facts(id, email)).toEqual({ subs: 1, invoices: 1, receipts: 1, charges: 1 })
    await tickAt(api.db, "2026-04-04")
    expect(await facts(id, email)).toEqual({ subs: 1, invoices: 1, receipts: 1, charges: 1 })
    expect((await getPage(api, `/c/${id}`)).status).toBe(200)
  })

  it("dies inside the transaction that makes the purchase: nothing of it is written; the engine makes it once, with the one charge", async () => {
    const id = await newSession()
    const email = `crash-b-${backend}@example.com`
    const attempt = await recordAttempt(id, email)
    const settings = await loadSettings(sql())
    const dying = makeEngineContext(settings, today, { now: dayTime(today).epochMillis, failpoint: (name) => { if (name === "before-billing-commit") throw new Error("killed at before-billing-commit") } })
    await expect(run(settleCheckoutAttempts(dying, [attempt]))).rejects.toThrow(/killed at before-billing-commit/)
    expect(await facts(id, email)).toEqual({ subs: 0, invoices: 0, receipts: 0, charges: 1 })
    const [a] = await sql()<Array<{ status: string }>>`select status from checkout_payments where id = ${attempt.id}`
    expect(a!.status).toBe("pending")
    await tickAt(api.db, "2026-04-05")
    expect(await facts(id, email)).toEqual({ subs: 1, invoices: 1, receipts: 1, charges: 1 })
  })
})
