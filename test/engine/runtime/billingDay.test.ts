/**
 * Issue #13 (findings 2, 4, 5, 6): what one business day of the engine must
 * do. Reminders name the coming payment's amount; a subscription that
 * recovers from unpaid is not back-billed for the periods it missed (unless
 * `unpaid-catch-up on`); a resume keeps past_due while an overdue invoice is
 * open; one tick does everything due that day, so a second one on the same
 * day finds nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import fc from "fast-check"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { addDays } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { namedFrequencies } from "../../../engine/domain/index.ts"
import type { ClaimedMessage, Sql } from "../../../engine/sql/index.ts"
import { loadSettings, saveSetting } from "../../../engine/account/index.ts"
import { loadEmailData, payInvoice } from "../../../engine/invoicing/index.ts"
import { updateSubscription } from "../../../engine/subscriptions/index.ts"
import { contextAt, createSubscription, eventTypes, invoicesOf, ledgerOf, runDays, subscriptionRow, tickAt } from "./engineHarness.ts"

// Each test has its own schema (settings are per schema); the embedded backend serves one connection, so one at a time.
let t: TestDatabase
const freshSchemaEach = () => {
  beforeEach(async () => {
    t = await openTestDatabase()
  })
  afterEach(async () => {
    await t.close()
  })
}

const reminderMessages = (sql: Sql, id: number) =>
  sql<Array<ClaimedMessage>>`
    select id, kind, template, dedupe_key, subscription_id, invoice_id, recipient, language, locale, payload, attempts, created_on
    from outbox where subscription_id = ${id} and template = 'reminder' order by id`

describe(`reminders carry the coming payment's amount (${backend})`, () => {
  freshSchemaEach()
  it("the reminder's amount is the next period's invoice draft: items in force on that date, discounts and tax", async () => {
    const id = await createSubscription(t.db.sql, {
      start: "2026-03-20", reminders: true,
      items: [{ price: 2500, qty: 2, discountPpm: 100_000, taxPpm: 250_000 }, { price: 1000, oneTime: true }]
    })
    await tickAt(t, "2026-03-20")
    // A new version of the items takes effect on the coming billing date: 3 × 20.00, 10% tax = 66.00.
    await t.db.sql`insert into item_versions (subscription_id, version, effective_from) values (${id}, 2, '2026-04-20')`
    await t.db.sql`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, tax_rate_ppm, one_time)
      values (${id}, 2, 1, 'Beans', 2000, 3, 100000, false)`
    await tickAt(t, "2026-04-06")
    const [reminder] = await reminderMessages(t.db.sql, id)
    expect(reminder).toBeDefined()
    const settings = await loadSettings(t.db.sql)
    const data = await loadEmailData(t.db.sql, reminder!, settings)
    expect(data).toMatchObject({ template: "reminder", amount: 6600, currency: "USD", nextDate: "2026-04-20" })
    // And the invoice that follows charges exactly what the reminder said.
    await tickAt(t, "2026-04-20")
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.total)).toEqual([6625, 6600])
  })

  it("a reminder previewed for a subscription (render email reminder) shows the coming amount, not 0 or the last invoice", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-03", items: [{ price: 1200, qty: 2, taxPpm: 250_000 }] })
    const settings = await loadSettings(t.db.sql)
    const preview = (invoiceId: number | null) => loadEmailData(t.db.sql, {
      id: 0, kind: "email", template: "reminder", dedupe_key: "preview", subscription_id: id, invoice_id: invoiceId, recipient: "x@example.com",
      language: null, locale: null, payload: {}, attempts: 0, created_on: "2026-05-01"
    }, settings)
    expect((await preview(null)).amount).toBe(3000)
    await tickAt(t, "2026-05-03")
    const [inv] = await invoicesOf(t.db.sql, id)
    await t.db.sql`insert into item_versions (subscription_id, version, effective_from) values (${id}, 2, '2026-06-03')`
    await t.db.sql`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, one_time) values (${id}, 2, 1, 'Beans', 1500, 1, false)`
    expect((await preview(inv!.id)).amount).toBe(1500)
  })
})

describe(`unpaid does not back-bill (${backend})`, () => {
  freshSchemaEach()
  it("declined in December, a new card in April: the December invoice is paid and billing goes on from April's anchor date, nothing in between", async () => {
    const id = await createSubscription(t.db.sql, { start: "2025-12-10", paymentMethod: "pm_declined", payments: 6 })
    await runDays(t, "2025-12-10", "2026-04-14")
    expect(await invoicesOf(t.db.sql, id)).toHaveLength(1)
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("unpaid")
    const ctx = await contextAt(t, "2026-04-15")
    await updateSubscription(t.db.sql, ctx, id, { paymentMethod: "pm_ok" })
    await tickAt(t, "2026-04-15")
    const invoices = await invoicesOf(t.db.sql, id)
    expect(invoices.map((i) => [i.period_start, i.status])).toEqual([["2025-12-10", "paid"]])
    const sub = await subscriptionRow(t.db.sql, id)
    expect(sub).toMatchObject({ status: "active", next_billing_date: "2026-05-10" })
    // Fixed terms: the skipped periods are not payments; the five left follow from May 10, so the term ends on Oct 10.
    expect(sub["end_date"]).toBe("2026-10-10")
    expect((await ledgerOf(t.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(1)
    await runDays(t, "2026-04-16", "2026-10-10")
    const all = await invoicesOf(t.db.sql, id)
    expect(all.map((i) => i.period_start)).toEqual(["2025-12-10", "2026-05-10", "2026-06-10", "2026-07-10", "2026-08-10", "2026-09-10"])
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "expired", end_date: "2026-10-10", payments_made: 6 })
  })

  it("recovering on an anchor date bills that date's period the same day; invoices pay recovers the same way", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-07", paymentMethod: "pm_declined" })
    await runDays(t, "2026-01-07", "2026-03-06")
    const [inv] = await invoicesOf(t.db.sql, id)
    await payInvoice(t.db.sql, await contextAt(t, "2026-03-07"), inv!.id, undefined)
    expect(await subscriptionRow(t.db.sql, id)).toMatchObject({ status: "active", next_billing_date: "2026-03-07" })
    expect(await eventTypes(t.db.sql, id)).toContain("subscription.property_changed")
  })

  it("unpaid-catch-up on keeps the old behaviour: every missed period is billed on recovery", async () => {
    await saveSetting(t.db.sql, "unpaid-catch-up", "on")
    const id = await createSubscription(t.db.sql, { start: "2025-12-10", paymentMethod: "pm_declined" })
    await runDays(t, "2025-12-10", "2026-01-20")
    await updateSubscription(t.db.sql, await contextAt(t, "2026-04-15"), id, { paymentMethod: "pm_ok" })
    await tickAt(t, "2026-04-15")
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.period_start)).toEqual(["2025-12-10", "2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10"])
  })

  it("unpaid-catch-up takes on or off, and nothing else", async () => {
    const { validateSetting } = await import("../../../engine/account/index.ts")
    expect(validateSetting("unpaid-catch-up", "on")).toBeUndefined()
    expect(validateSetting("unpaid-catch-up", "off")).toBeUndefined()
    expect(validateSetting("unpaid-catch-up", "yes")).toMatch(/unpaid-catch-up/)
  })
})

describe(`a resume does not hide an overdue invoice (${backend})`, () => {
  freshSchemaEach()
  for (const via of ["resume_on reached", "resumed early"] as const) {
    it(`${via}: the subscription is past_due while its overdue invoice is open, active once it is paid`, async () => {
      const id = await createSubscription(t.db.sql, { start: "2026-02-01", collection: "invoice", paymentTerms: "net-15" })
      await tickAt(t, "2026-02-01")
      await t.db.sql`update subscriptions set status = 'paused', paused_on = '2026-02-05', resume_on = '2026-03-01' where id = ${id}`
      await runDays(t, "2026-02-16", "2026-02-20")
      const [inv] = await invoicesOf(t.db.sql, id)
      expect((await t.db.sql`select overdue_on from invoices where id = ${inv!.id}`)[0]!["overdue_on"]).toBe("2026-02-17")
      if (via === "resumed early") {
        const { resumeSubscription } = await import("../../../engine/subscriptions/index.ts")
        await resumeSubscription(t.db.sql, await contextAt(t, "2026-02-25"), id)
      } else {
        await tickAt(t, "2026-03-01")
      }
      expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("past_due")
      await payInvoice(t.db.sql, await contextAt(t, "2026-03-02"), inv!.id, undefined)
      expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
    })
  }
})

describe(`one tick does everything due that day (${backend})`, () => {
  describe("after a retry", () => {
  freshSchemaEach()
  it("a retry that succeeds on a billing date is followed by that date's invoice in the same tick", async () => {
    await saveSetting(t.db.sql, "retry-days", "7")
    const id = await createSubscription(t.db.sql, { start: "2026-06-01", frequency: namedFrequencies.weekly, paymentMethod: "pm_fail_once" })
    await tickAt(t, "2026-06-01")
    expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("unpaid")
    const first = await tickAt(t, "2026-06-08")
    expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.status])).toEqual([["2026-06-01", "paid"], ["2026-06-08", "open"]])
    expect(first.invoiced).toBe(1)
    const second = await tickAt(t, "2026-06-08")
    expect(second.invoiced + second.retried + second.charged + second.failed).toBe(0)
  })
  })

  it("running the engine twice on the same day never does anything the first run did not", async () => {
    const tokens = ["pm_ok", "pm_declined", "pm_fail_once", "pm_timeout"] as const
    const frequencies = [namedFrequencies.weekly, namedFrequencies.monthly, { unit: "day" as const, count: 10 }]
    const subscriptionArb = fc.record({
      token: fc.constantFrom(...tokens),
      frequency: fc.constantFrom(...frequencies),
      collection: fc.constantFrom("charge" as const, "invoice" as const),
      startOffset: fc.integer({ min: 0, max: 40 }),
      payments: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      reminders: fc.boolean(),
      newCardOn: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined })
    })
    const scenarioArb = fc.record({
      subscriptions: fc.array(subscriptionArb, { minLength: 1, maxLength: 4 }),
      days: fc.uniqueArray(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 6 }).map((d) => d.sort((a, b) => a - b)),
      catchUp: fc.boolean(),
      retryDays: fc.constantFrom("1,3,5,7", "7", "2,30")
    })
    const base = "2026-01-01" as CalendarDate
    const snapshot = async (sql: Sql) => ({
      invoices: await sql`select id, number, status, total, amount_paid, period_start, overdue_on, paid_on from invoices order by id`,
      attempts: await sql`select id, invoice_id, status, attempt_number, check_count, gateway_ref from payment_attempts order by id`,
      events: await sql`select id, type from events order by id`,
      outbox: await sql`select id, dedupe_key, status from outbox order by id`,
      subscriptions: await sql`select id, status, next_billing_date, periods_billed, payments_made, retry_count, next_retry_on, end_date, reminder_sent_for, paused_on from subscriptions order by id`
    })
    await fc.assert(fc.asyncProperty(scenarioArb, async (scenario) => {
      // Each scenario on a schema of its own (the shared one is closed meanwhile: the embedded backend serves one connection).
      const db = await openTestDatabase()
      try {
        await saveSetting(db.db.sql, "unpaid-catch-up", scenario.catchUp ? "on" : "off")
        await saveSetting(db.db.sql, "retry-days", scenario.retryDays)
        const ids: Array<{ id: number; newCardOn: number | undefined }> = []
        for (const s of scenario.subscriptions) {
          ids.push({
            newCardOn: s.newCardOn,
            id: await createSubscription(db.db.sql, {
              start: addDays(base, s.startOffset), createdOn: base, paymentMethod: s.token, frequency: s.frequency, collection: s.collection,
              ...(s.payments === undefined ? {} : { payments: s.payments }), reminders: s.reminders
            })
          })
        }
        for (const offset of scenario.days) {
          const day = addDays(base, offset)
          for (const s of ids) {
            if (s.newCardOn !== undefined && s.newCardOn <= offset && (await subscriptionRow(db.db.sql, s.id))["status"] === "unpaid") {
              await updateSubscription(db.db.sql, await contextAt(db, day), s.id, { paymentMethod: "pm_ok" })
            }
          }
          await tickAt(db, day)
          const before = await snapshot(db.db.sql)
          const again = await tickAt(db, day)
          expect(await snapshot(db.db.sql)).toEqual(before)
          expect(again.invoiced + again.charged + again.failed + again.retried + again.reminders + again.resumed).toBe(0)
        }
      } finally {
        await db.close()
      }
    }), { numRuns: 15 })
  }, 600_000)
})
