import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { Effect } from "effect"
import fc from "fast-check"
import { runTick } from "../../../engine/runtime/index.ts"
import { contextAt, createSubscription, engineLayer, eventTypes, invoicesOf, ledgerOf, outboxOf, runDays, subscriptionRow, tickAt } from "./engineHarness.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { namedFrequencies } from "../../../engine/domain/index.ts"
import { addDays } from "../../../engine/billing/index.ts"
import { loadEmailDataBatch, payInvoice } from "../../../engine/invoicing/index.ts"
import { recordUnusedDaysRefund, unusedDaysRefund, settleAttemptsNow } from "../../../engine/payments/index.ts"
import { cancelSubscription } from "../../../engine/subscriptions/index.ts"
import { loadSettings, saveSetting } from "../../../engine/account/index.ts"
import type { ClaimedMessage } from "../../../engine/sql/index.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

describe(`engine lifecycle (${backend})`, () => {
  it("a monthly pm_ok subscription over 13 months has 13 paid invoices dated from the anchor", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-31", paymentMethod: "pm_ok" })
    // Ticks on each billing day only, 13 months: Jan 31 .. Jan 31 next year.
    const days = ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31"]
    for (const d of days) await tickAt(t, d)
    const invoices = await invoicesOf(t.db.sql, id)
    expect(invoices.map((i) => i.period_start)).toEqual(days)
    expect(invoices.every((i) => i.status === "paid" && i.total === 2500)).toBe(true)
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["payments_made"]).toBe(13)
    expect(sub["next_billing_date"]).toBe("2027-02-28")
    expect(sub["status"]).toBe("active")
    expect((await ledgerOf(t.db.sql, id)).length).toBe(13)
    const outbox = await outboxOf(t.db.sql, id)
    expect(outbox.filter((m) => m.template === "receipt")).toHaveLength(13)
    expect((await eventTypes(t.db.sql, id)).filter((e) => e === "subscription.renewed")).toHaveLength(12)
  })

  if (backend === "embedded") it("the embedded database, which has no autovacuum, is vacuumed and analyzed as changes pile up", async () => {
    const id = await createSubscription(t.db.sql, { start: "2027-05-01", paymentMethod: "pm_ok" })
    const stats = async () => {
      const [r] = await t.db.sql<Array<{ reltuples: number; n: number }>>`
        select c.reltuples::float8 as reltuples, (select count(*)::int from invoices) as n
        from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'invoices' and n.nspname = current_schema()`
      return r!
    }
    await tickAt(t, "2027-05-01")
    const before = await stats()
    expect(before.reltuples).toBeLessThan(before.n) // never analyzed: the planner is blind
    await Effect.runPromise(runTick({ batch: 100, vacuumEvery: 1 }).pipe(Effect.provide(engineLayer(t, "2027-06-01"))))
    const after = await stats()
    expect(after.reltuples).toBe(after.n)
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.status)).toEqual(["paid", "paid"])
  })

  it("an engine that was down for 40 days bills each missed period once, in order", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-03-01", frequency: namedFrequencies.weekly })
    await tickAt(t, "2026-04-10")
    const invoices = await invoicesOf(t.db.sql, id)
    expect(invoices.map((i) => i.period_start)).toEqual(["2026-03-01", "2026-03-08", "2026-03-15", "2026-03-22", "2026-03-29", "2026-04-05"])
    await tickAt(t, "2026-04-10")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(6)
  })

  it("pm_declined: unpaid, retries 1/3/5/7 days after the failure, then the policy (keep unpaid)", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01", paymentMethod: "pm_declined" })
    const ticks = await runDays(t, "2026-05-01", "2026-05-20")
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("unpaid")
    expect(sub["next_retry_on"]).toBeNull()
    const attempts = await t.db.sql<Array<{ requested_on: string; status: string }>>`
      select a.requested_on, a.status from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id} order by a.attempt_number`
    expect(attempts.map((a) => a.requested_on)).toEqual(["2026-05-01", "2026-05-02", "2026-05-04", "2026-05-06", "2026-05-08"])
    expect(attempts.every((a) => a.status === "failed")).toBe(true)
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
    const emails = (await outboxOf(t.db.sql, id)).filter((m) => m.template === "payment_failed")
    expect(emails).toHaveLength(5)
    expect(ticks.reduce((s, x) => s + x.failed, 0)).toBeGreaterThanOrEqual(5)
  })

  for (const policy of ["cancel", "pause"] as const) {
    it(`pm_declined with after-retries ${policy}: the last failed retry ${policy === "cancel" ? "cancels (invoice uncollectible, billing stops, a cancellation email)" : "pauses"} the subscription`, async () => {
      await saveSetting(t.db.sql, "retry-days", "2")
      await saveSetting(t.db.sql, "after-retries", policy)
      try {
        const start = policy === "cancel" ? "2026-05-03" : "2026-05-05"
        const id = await createSubscription(t.db.sql, { start, paymentMethod: "pm_declined" })
        await tickAt(t, start)
        expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "unpaid", retry_count: 0, next_retry_on: addDays(start as CalendarDate, 2) })
        await runDays(t, addDays(start as CalendarDate, 1), addDays(start as CalendarDate, 40))
        const sub = await subscriptionRow(t.db.sql, id)
        const types = await eventTypes(t.db.sql, id)
        const invoices = await invoicesOf(t.db.sql, id)
        expect(invoices).toHaveLength(1)
        expect(sub["next_retry_on"]).toBeNull()
        expect(types.filter((x) => x === "payment.failed")).toHaveLength(2)
        if (policy === "cancel") {
          expect(sub).toMatchObject({ status: "canceled", next_billing_date: null, canceled_on: addDays(start as CalendarDate, 2) })
          expect(invoices[0]!.status).toBe("uncollectible")
          expect(types).toContain("subscription.canceled")
          // The bad debt is in the journal as `invoices write-off` puts it there (found by an audit: only the status changed).
          const [writtenOff] = await t.db.sql<Array<{ occurred_on: string; data: Record<string, unknown> }>>`
            select occurred_on::text, data from events where subscription_id = ${id} and type = 'invoice.written_off'`
          expect(writtenOff).toMatchObject({
            occurred_on: addDays(start as CalendarDate, 2),
            data: { invoice_id: invoices[0]!.id, total: invoices[0]!.total, amount: invoices[0]!.total, previous_status: "open", reason: "retries_exhausted" }
          })
          const [closed] = await t.db.sql<Array<{ closed_on: string }>>`select closed_on::text from invoices where id = ${invoices[0]!.id}`
          expect(closed!.closed_on).toBe(addDays(start as CalendarDate, 2))
          expect((await outboxOf(t.db.sql, id)).filter((m) => m.template === "cancellation")).toHaveLength(1)
          // The buyer hears of the last failed charge, then of the cancellation (found by an audit: the other way round),
          // and that last email asks for no new card: nothing is charged again (the first one did ask).
          expect((await outboxOf(t.db.sql, id)).filter((m) => m.kind === "email").map((m) => m.template)).toEqual(["payment_failed", "payment_failed", "cancellation"])
          const failedEmails = await t.db.sql<Array<ClaimedMessage>>`
            select id, kind, template, dedupe_key, subscription_id, invoice_id, recipient, language, locale, payload, attempts, created_on::text
            from outbox where subscription_id = ${id} and template = 'payment_failed' order by id`
          const [first, last] = await loadEmailDataBatch(t.db.sql, failedEmails, { ...await loadSettings(t.db.sql), baseUrl: "https://pay.example.com" })
          expect(first!.link).toMatch(/\/p\//)
          expect(last!.link).toBe("")
        } else {
          expect(sub).toMatchObject({ status: "paused", paused_on: addDays(start as CalendarDate, 2) })
          expect(invoices[0]!.status).toBe("open")
          expect(types).toContain("subscription.paused")
        }
      } finally {
        await saveSetting(t.db.sql, "retry-days", "1,3,5,7")
        await saveSetting(t.db.sql, "after-retries", "keep-unpaid")
      }
    })
  }

  it("paused when its retries ran out, then given a new card and resumed: the failed invoice is charged on the resume day", async () => {
    // Found by an audit: resumed active, the failed invoice stayed open for ever while later periods were billed.
    const { resumeSubscription, updateSubscription } = await import("../../../engine/subscriptions/index.ts")
    await saveSetting(t.db.sql, "retry-days", "2")
    await saveSetting(t.db.sql, "after-retries", "pause")
    try {
      const id = await createSubscription(t.db.sql, { start: "2026-07-05", paymentMethod: "pm_declined" })
      await runDays(t, "2026-07-05", "2026-07-20")
      expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("paused")
      await updateSubscription(t.db.sql, await contextAt(t, "2026-07-21"), id, { paymentMethod: "pm_ok" })
      await resumeSubscription(t.db.sql, await contextAt(t, "2026-07-21"), id)
      expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "unpaid", next_retry_on: "2026-07-21" })
      await runDays(t, "2026-07-21", "2026-08-06")
      expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
      expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.status])).toEqual([["2026-07-05", "paid"], ["2026-08-05", "paid"]])
    } finally {
      await saveSetting(t.db.sql, "retry-days", "1,3,5,7")
      await saveSetting(t.db.sql, "after-retries", "keep-unpaid")
    }
  })

  it("pm_fail_once: unpaid, then active after the first retry", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-06-01", paymentMethod: "pm_fail_once" })
    await tickAt(t, "2026-06-01")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("unpaid")
    await tickAt(t, "2026-06-02")
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("active")
    expect(sub["payments_made"]).toBe(1)
    expect((await invoicesOf(t.db.sql, id))[0]!.status).toBe("paid")
    const types = await eventTypes(t.db.sql, id)
    expect(types).toContain("payment.failed")
    expect(types.filter((x) => x === "subscription.status_changed")).toHaveLength(2)
  })

  it("pm_timeout: the lost reply leaves the attempt unknown, settled later with exactly one charge", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-07-01", paymentMethod: "pm_timeout" })
    await tickAt(t, "2026-07-01")
    const [attempt] = await t.db.sql<Array<{ status: string }>>`select a.status from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id}`
    expect(attempt!.status).toBe("unknown")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    await tickAt(t, "2026-07-02")
    const ledger = await ledgerOf(t.db.sql, id)
    expect(ledger).toHaveLength(1)
    expect((await invoicesOf(t.db.sql, id))[0]!.status).toBe("paid")
    expect((await subscriptionRow(t.db.sql, id))["payments_made"]).toBe(1)
  })

  it("fixed 3 payments: expired after the third at its end date, no fourth invoice", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-15", payments: 3 })
    for (const d of ["2026-01-15", "2026-02-15", "2026-03-15", "2026-04-15", "2026-05-15"]) await tickAt(t, d)
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(3)
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("expired")
    expect(sub["end_date"]).toBe("2026-04-15")
    expect((await outboxOf(t.db.sql, id)).some((m) => m.template === "expiry")).toBe(true)
  })

  it("a scheduled start becomes active and is billed on its start date", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-09-10", createdOn: "2026-09-01" })
    await tickAt(t, "2026-09-09")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("scheduled")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(0)
    await tickAt(t, "2026-09-10")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
  })

  it("invoice collection: overdue makes it past due; a payment makes it active", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-02-01", collection: "invoice", paymentTerms: "net-15" })
    await tickAt(t, "2026-02-01")
    const [inv] = await invoicesOf(t.db.sql, id)
    expect(inv!.due_date).toBe("2026-02-16")
    expect((await outboxOf(t.db.sql, id)).some((m) => m.template === "invoice_sent")).toBe(true)
    await tickAt(t, "2026-02-16")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    await tickAt(t, "2026-02-17")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("past_due")
    expect(await eventTypes(t.db.sql, id)).toContain("invoice.overdue")
  })

  it("a reminder goes out 14 days before the next payment, once", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-03-20", reminders: true })
    await tickAt(t, "2026-03-20")
    await tickAt(t, "2026-04-05")
    expect((await outboxOf(t.db.sql, id)).filter((m) => m.template === "reminder")).toHaveLength(0)
    await tickAt(t, "2026-04-06")
    await tickAt(t, "2026-04-07")
    const reminders = (await outboxOf(t.db.sql, id)).filter((m) => m.template === "reminder")
    expect(reminders.map((m) => m.dedupe_key)).toEqual([`email:reminder:${id}:2026-04-20`])
  })

  it("no reminder announces a payment of nothing: a period free in full sends none (found by an audit of what buyers receive: \"$0.00 will be charged on April 20\")", async () => {
    const free = await createSubscription(t.db.sql, { start: "2026-03-20", reminders: true, items: [{ price: 2500, discountPpm: 1_000_000 }] })
    const paid = await createSubscription(t.db.sql, { start: "2026-03-20", reminders: true })
    await tickAt(t, "2026-03-20")
    await tickAt(t, "2026-04-06")
    expect((await outboxOf(t.db.sql, free)).filter((m) => m.template === "reminder")).toEqual([])
    expect((await outboxOf(t.db.sql, paid)).filter((m) => m.template === "reminder").map((m) => m.dedupe_key)).toEqual([`email:reminder:${paid}:2026-04-20`])
  })

  it("a reminder goes out before the first payment of a later start, and before the next one of a past-due subscription", async () => {
    // Created on May 1, starting (and first charged) on May 20: scheduled until then.
    const later = await createSubscription(t.db.sql, { start: "2026-05-20", createdOn: "2026-05-01", reminders: true })
    expect((await subscriptionRow(t.db.sql, later))["status"]).toBe("scheduled")
    await tickAt(t, "2026-05-06")
    expect((await outboxOf(t.db.sql, later)).filter((m) => m.template === "reminder").map((m) => m.dedupe_key)).toEqual([`email:reminder:${later}:2026-05-20`])
    const overdue = await createSubscription(t.db.sql, { start: "2026-05-01", reminders: true })
    await tickAt(t, "2026-05-01")
    await t.db.sql`update subscriptions set status = 'past_due' where id = ${overdue}`
    await tickAt(t, "2026-05-18")
    expect((await outboxOf(t.db.sql, overdue)).filter((m) => m.template === "reminder").map((m) => m.dedupe_key)).toEqual([`email:reminder:${overdue}:2026-06-01`])
  })

  it("cancel at period end stays active until the next billing date, then cancels without billing it", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-10" })
    await tickAt(t, "2026-01-10")
    await t.db.sql`update subscriptions set cancel_at = next_billing_date where id = ${id}`
    await tickAt(t, "2026-02-09")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    await tickAt(t, "2026-02-10")
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("canceled")
    expect(sub["canceled_on"]).toBe("2026-02-10")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
    expect((await outboxOf(t.db.sql, id)).some((m) => m.template === "cancellation")).toBe(true)
  })

  it("cancel at period end asked while the engine is behind ends the period holding today, after the missed one is billed", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-10" })
    await tickAt(t, "2026-01-10")
    // The engine has not run since: Feb 10 is due but not billed, and the buyer, on Feb 20, is in the Feb 10 - Mar 10 period.
    const end = await cancelSubscription(t.db.sql, await contextAt(t, "2026-02-20"), id, { atPeriodEnd: true, refundUnused: false })
    expect(end).toMatchObject({ status: "active", effectiveOn: "2026-03-10" })
    await tickAt(t, "2026-02-20")
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.period_start)).toEqual(["2026-01-10", "2026-02-10"])
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    await tickAt(t, "2026-03-10")
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub).toMatchObject({ status: "canceled", canceled_on: "2026-03-10" })
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(2)
  })

  it("pause then resume on a date bills next on the first anchor date on or after the resume day", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-05" })
    await tickAt(t, "2026-01-05")
    await t.db.sql`update subscriptions set status = 'paused', paused_on = '2026-01-20', resume_on = '2026-03-10' where id = ${id}`
    await runDays(t, "2026-02-01", "2026-03-09")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
    await tickAt(t, "2026-03-10")
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("active")
    expect(sub["next_billing_date"]).toBe("2026-04-05")
    await tickAt(t, "2026-04-05")
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.period_start)).toEqual(["2026-01-05", "2026-04-05"])
  })

  // Found by an audit: resumed, a fixed term kept its old end date (shown, listed, exported) until it expired.
  for (const how of ["the resume command", "the engine on --resume-on"] as const) {
    it(`fixed 3 payments paused and resumed by ${how}: the end date moves later by the periods skipped, in the resume's event`, async () => {
      const { pauseSubscription, resumeSubscription } = await import("../../../engine/subscriptions/index.ts")
      const id = await createSubscription(t.db.sql, { start: "2026-03-26", payments: 3 })
      await tickAt(t, "2026-03-26")
      await pauseSubscription(t.db.sql, await contextAt(t, "2026-04-01"), id, how === "the resume command" ? undefined : "2026-05-10" as CalendarDate)
      if (how === "the resume command") expect(await resumeSubscription(t.db.sql, await contextAt(t, "2026-05-10"), id)).toBe("2026-05-26")
      else await tickAt(t, "2026-05-10")
      // One payment made, two to go (May 26 and June 26): the term ends July 26, not June 26.
      expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "active", next_billing_date: "2026-05-26", end_date: "2026-07-26" })
      const [resumed] = await t.db.sql<Array<{ data: Record<string, unknown> }>>`select data from events where subscription_id = ${id} and type = 'subscription.resumed'`
      expect(resumed!.data).toEqual({ next_billing_date: "2026-05-26", end_date: "2026-07-26", end_date_before: "2026-06-26" })
      for (const d of ["2026-05-26", "2026-06-26", "2026-07-26"]) await tickAt(t, d)
      expect((await invoicesOf(t.db.sql, id)).map((i) => i.period_start)).toEqual(["2026-03-26", "2026-05-26", "2026-06-26"])
      expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "expired", end_date: "2026-07-26" })
    })
  }

  it("an auto-renewing subscription resumed keeps no end date", async () => {
    const { pauseSubscription, resumeSubscription } = await import("../../../engine/subscriptions/index.ts")
    const id = await createSubscription(t.db.sql, { start: "2026-03-27" })
    await tickAt(t, "2026-03-27")
    await pauseSubscription(t.db.sql, await contextAt(t, "2026-04-01"), id, undefined)
    await resumeSubscription(t.db.sql, await contextAt(t, "2026-05-10"), id)
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ next_billing_date: "2026-05-27", end_date: null })
    const [resumed] = await t.db.sql<Array<{ data: Record<string, unknown> }>>`select data from events where subscription_id = ${id} and type = 'subscription.resumed'`
    expect(resumed!.data).toEqual({ next_billing_date: "2026-05-27", end_date: null, end_date_before: null })
  })

  it("one-time lines are billed with the first payment only; discounts and tax per line", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-05", items: [{ price: 2500, qty: 2, discountPpm: 100_000, taxPpm: 250_000 }, { price: 1000, oneTime: true }] })
    await tickAt(t, "2026-05-05")
    await tickAt(t, "2026-06-05")
    const invoices = await invoicesOf(t.db.sql, id)
    // 2 × 25.00 − 10% = 45.00, tax 25% = 11.25 → 56.25; first invoice + 10.00 one-time
    expect(invoices.map((i) => i.total)).toEqual([6625, 5625])
  })
})

describe(`payments outside the gateway and refunds (${backend})`, () => {
  it("invoices pay records a partial payment, then the rest makes the past-due subscription active", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-02-01", collection: "invoice", paymentTerms: "due-on-receipt" })
    await tickAt(t, "2026-02-01")
    await tickAt(t, "2026-02-02")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("past_due")
    const [inv] = await invoicesOf(t.db.sql, id)
    const ctx = await contextAt(t, "2026-02-03")
    const partial = await payInvoice(t.db.sql, ctx, inv!.id, 1000)
    expect(partial).toMatchObject({ paid: false, remaining: 1500 })
    await expect(payInvoice(t.db.sql, ctx, inv!.id, 5000)).rejects.toThrow(/more than/)
    const rest = await payInvoice(t.db.sql, ctx, inv!.id, undefined)
    expect(rest).toMatchObject({ paid: true, amount: 1500 })
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub["status"]).toBe("active")
    expect(sub["payments_made"]).toBe(1)
    await expect(payInvoice(t.db.sql, ctx, inv!.id, undefined)).rejects.toThrow(/only an open invoice/)
  })

  it("cancel now with a refund of the unused days, prorated by day, charged back once through the gateway", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-04-01", items: [{ price: 3000 }] })
    await tickAt(t, "2026-04-01")
    const ctx = await contextAt(t, "2026-04-11")
    const request = await t.db.sql.begin((tx) => recordUnusedDaysRefund(tx, ctx, id))
    // April has 30 days; canceled on the 11th, the 11th..30th are unused: 20/30 of 30.00 = 20.00
    expect(request).toMatchObject({ amount: 2000, unusedDays: 20, periodDays: 30 })
    const outcome = await Effect.runPromise(settleAttemptsNow(ctx, [request!.attemptId]).pipe(Effect.provide(engineLayer(t, "2026-04-11"))))
    expect(outcome.succeeded).toBe(1)
    const again = await Effect.runPromise(settleAttemptsNow(ctx, [request!.attemptId]).pipe(Effect.provide(engineLayer(t, "2026-04-11"))))
    expect(again.succeeded).toBe(0)
    const ledger = await ledgerOf(t.db.sql, id)
    expect(ledger.filter((l) => l.kind === "refund").map((l) => l.amount)).toEqual([2000])
    expect((await invoicesOf(t.db.sql, id))[0]!.amount_refunded).toBe(2000)
    expect(await eventTypes(t.db.sql, id)).toContain("payment.refunded")
  })
})

describe("refund proration", () => {
  it("never refunds more than the total and refunds less the later the cancel", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 40 }), (total, offset) => {
      const start = "2026-01-15" as CalendarDate
      const end = "2026-02-15" as CalendarDate
      const a = unusedDaysRefund(total, start, end, addDays(start, offset))
      const b = unusedDaysRefund(total, start, end, addDays(start, offset + 1))
      expect(a.amount).toBeLessThanOrEqual(total)
      expect(a.amount).toBeGreaterThanOrEqual(0)
      expect(b.amount).toBeLessThanOrEqual(a.amount)
    }))
    expect(unusedDaysRefund(3100, "2026-01-01" as CalendarDate, "2026-02-01" as CalendarDate, "2026-01-01" as CalendarDate).amount).toBe(3100)
  })
})
