/**
 * Buyers paying at the same time on a server: their answers are recorded
 * together (checkout/checkoutPayments.ts `settleBatcher`), each purchase as it
 * would be alone: one contact per email, one subscription and one paid
 * invoice per buyer with gapless numbers, one receipt, the link's count, the
 * journal of each checkout; in one or two transactions, not one each. A payment of the batch that fails rolls the batch back,
 * and each is then recorded on its own: the others complete, the failed one
 * is left for the engine, which completes it once. Two buyers of one email
 * paying at the same moment in transactions of their own both complete, with
 * one contact (the second insert stands back and finds the first).
 */
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { createPaymentLink, settleCheckoutAttempts } from "../../../engine/checkout/index.ts"
import type { CheckoutAttempt } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { dayTime, loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { useApi } from "../api/apiHarness.ts"
import { engineLayer, tickAt } from "../runtime/engineHarness.ts"
import { getPage, monthlyWithSetup, recordAttemptAsPage } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
const apiOf = useApi(today)
const sql = () => apiOf().db.db.sql

const newLink = (slug: string) => createPaymentLink(sql(), today, monthlyWithSetup, { slug })

const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(effect.pipe(Effect.provide(engineLayer(apiOf().db, today))) as Effect.Effect<A, E, never>)

/**
 * A gateway that answers at once (the simulated one answers from the database, each call in its own time): the
 * buyers' answers then reach the recording together, as those of buyers paying in the same instant do.
 */
const answeringAtOnce = Layer.succeed(Gateway, { submit: (requests) => Effect.succeed(requests.map((r) => ({ _tag: "Succeeded" as const, gatewayRef: `ch_${r.idempotencyKey}` }))) })
const runAnsweringAtOnce = <A, E>(effect: Effect.Effect<A, E, any>) =>
  Effect.runPromise(effect.pipe(Effect.provide(Layer.merge(engineLayer(apiOf().db, today), answeringAtOnce))) as Effect.Effect<A, E, never>)

/** A session opened on the link and its attempt recorded as the page does (the first half of payCheckout). */
const recordAttempt = async (slug: string, email: string): Promise<CheckoutAttempt> => {
  const opened = await getPage(apiOf(), `/l/${slug}`)
  return recordAttemptAsPage(apiOf(), today, opened.headers.get("location")!.slice(3), email)
}

const contextOf = async (failpoint?: string): Promise<EngineContext> =>
  makeEngineContext(await loadSettings(sql()), today, {
    now: dayTime(today).epochMillis,
    failpoint: (name) => {
      if (name === failpoint) throw new Error(`killed at ${name}`)
    }
  })

/** Settles each attempt as its own pay request does (`together`: recorded with the others, or each in its own transaction), all at once. */
const settleAtOnce = (ctxs: ReadonlyArray<EngineContext>, attempts: ReadonlyArray<CheckoutAttempt>, together = true, runner = run) =>
  Promise.allSettled(attempts.map((a, i) => runner(settleCheckoutAttempts(ctxs[i]!, [a], together)).then(([s]) => s!)))

/** The transactions `work` commits on the test's pool (its COMMIT statements). */
const commits = async <A>(work: () => Promise<A>): Promise<{ readonly n: number; readonly value: A }> => {
  let n = 0
  const options = (sql() as unknown as { options: { debug: unknown } }).options
  options.debug = (_connection: number, text: string) => {
    if (text.trim() === "commit") n++
  }
  try {
    const value = await work()
    return { n, value }
  } finally {
    options.debug = false
  }
}

const factsOf = async (attempts: ReadonlyArray<CheckoutAttempt>) => {
  const sessions = attempts.map((a) => a.sessionId)
  const [row] = await sql()<Array<{ completed: number; subscriptions: number; contacts: number; paid: number; receipts: number; events: number; pending: number }>>`
    select (select count(*) from checkout_sessions where id = any(${sessions}) and completed_on is not null)::int as completed,
           (select count(*) from subscriptions s join checkout_sessions c on s.id = any(c.subscription_ids) where c.id = any(${sessions}))::int as subscriptions,
           (select count(distinct contact_id) from checkout_sessions where id = any(${sessions}))::int as contacts,
           (select count(*) from invoices i join checkout_sessions c on i.subscription_id = any(c.subscription_ids) where c.id = any(${sessions}) and i.status = 'paid')::int as paid,
           (select count(*) from outbox o join checkout_sessions c on o.subscription_id = any(c.subscription_ids) where c.id = any(${sessions}) and o.template = 'receipt')::int as receipts,
           (select count(*) from events where type = 'checkout.completed' and data ->> 'session_id' = any(${sessions}))::int as events,
           (select count(*) from checkout_payments where session_id = any(${sessions}) and status = 'pending')::int as pending`
  return row!
}

describe("buyers paying at the same time on a server", () => {
  it("are recorded together, each purchase as alone, in one or two transactions instead of one each", async () => {
    const link = await newLink("together")
    const ctx = await contextOf()
    const first = await recordAttempt(link.slug, "first@example.com")
    expect((await settleAtOnce([ctx], [first])).map((s) => s.status === "fulfilled" && s.value._tag)).toEqual(["Completed"])
    // Nine more at once, two of them with one email (one contact), as a page sends them.
    const emails = ["a", "b", "c", "d", "e", "f", "g", "shared", "shared"].map((e) => `${e}@example.com`)
    const attempts = await Promise.all(emails.map((e) => recordAttempt(link.slug, e)))
    const together = await commits(() => settleAtOnce(emails.map(() => ctx), attempts, true, runAnsweringAtOnce))
    expect(together.value.map((s) => s.status === "fulfilled" && s.value._tag)).toEqual(emails.map(() => "Completed"))
    expect(await factsOf(attempts)).toEqual({ completed: 9, subscriptions: 9, contacts: 8, paid: 9, receipts: 9, events: 9, pending: 0 })
    // Each checkout's event names its own session and subscription.
    const events = await sql()<Array<{ session: string; subscription_id: number; subs: Array<number> }>>`
      select e.data ->> 'session_id' as session, e.subscription_id, c.subscription_ids as subs
      from events e join checkout_sessions c on c.id = e.data ->> 'session_id' where e.type = 'checkout.completed'`
    expect(events.every((e) => e.subs.map(Number).includes(Number(e.subscription_id)))).toBe(true)
    // Gapless numbers, one invoice each, and the link counted every payment.
    const numbers = (await sql()<Array<{ number: string }>>`select number from invoices order by number`).map((r) => Number(r.number.replace(/\D/g, "")))
    expect(numbers.length).toBe(10)
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true)
    const [counted] = await sql()<Array<{ n: number }>>`select completed_payments as n from payment_links where id = ${link.id}`
    expect(counted!.n).toBe(10)
    // One transaction for the first answer to arrive, one for those that arrived while it was being recorded (nine alone: nine).
    expect(together.n).toBeLessThanOrEqual(2)
  })

  it("two buyers of one email paying at the same moment, each in a transaction of its own, both complete with one contact", async () => {
    const link = await newLink("one-email")
    const ctx = await contextOf()
    const attempts = await Promise.all([0, 1, 2].map(() => recordAttempt(link.slug, "twice@example.com")))
    const settled = await settleAtOnce([ctx, ctx, ctx], attempts, false)
    expect(settled.map((s) => s.status === "fulfilled" ? s.value._tag : String(s.reason))).toEqual(["Completed", "Completed", "Completed"])
    expect(await factsOf(attempts)).toEqual({ completed: 3, subscriptions: 3, contacts: 1, paid: 3, receipts: 3, events: 3, pending: 0 })
  })

  it("a payment of the batch that fails leaves the others recorded; the engine completes it once", async () => {
    const link = await newLink("together-failing")
    const good = await contextOf()
    const dying = await contextOf("before-billing-commit")
    const attempts = await Promise.all(["h", "i", "dies", "j"].map((e) => recordAttempt(link.slug, `${e}@example.com`)))
    const settled = await settleAtOnce([good, good, dying, good], attempts)
    expect(settled.map((s) => s.status === "fulfilled" ? s.value._tag : /killed at before-billing-commit/.test(String(s.reason)) ? "killed" : String(s.reason)))
      .toEqual(["Completed", "Completed", "killed", "Completed"])
    expect(await factsOf(attempts)).toEqual({ completed: 3, subscriptions: 3, contacts: 3, paid: 3, receipts: 3, events: 3, pending: 1 })
    // The engine asks the gateway again (its lease has passed the next day) and completes it, with the one charge.
    await tickAt(apiOf().db, "2026-04-03")
    expect(await factsOf(attempts)).toEqual({ completed: 4, subscriptions: 4, contacts: 4, paid: 4, receipts: 4, events: 4, pending: 0 })
    const [charges] = await sql()<Array<{ n: number }>>`
      select count(*)::int as n from sim_gateway_ledger where merchant_reference = ${`checkout ${attempts[2]!.sessionId}`} and kind = 'charge'`
    expect(charges!.n).toBe(1)
  })
})
