/**
 * The engine's lifecycle steps, each one set-based statement group in one
 * transaction: scheduled starts, cancellations at period end, resumes of
 * paused subscriptions, expiry of fixed terms, overdue invoices and payment
 * reminders. What is due comes from data (dates <= today), never from
 * counting ticks, so an engine that was down catches up in order.
 */
import { BillingSchedule, addDays } from "../billing/index.ts"
import type { CalendarDate, Frequency } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import { codeDiscountEndMoving, draftInvoices, languageOf, localeOf, reminderAnnounces } from "../invoicing/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import type { JournalEvent, OutboxMessage } from "../sql/index.ts"
import { enqueueMessages, statusChanged, writeJournal } from "../sql/index.ts"

interface PersonRow {
  id: number
  status: string
  contact_id: number
  email: string
  invoice_language: string | null
  invoice_locale: string | null
  contact_language: string | null
  contact_locale: string | null
}

const personColumns = (tx: TransactionSql) =>
  tx`s.id, s.status, s.contact_id, c.email, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale`

const email = (ctx: EngineContext, r: PersonRow, template: string, dedupeKey: string, payload: Record<string, unknown> = {}): OutboxMessage => ({
  kind: "email", template, dedupeKey, subscriptionId: r.id, recipient: r.email,
  language: languageOf(r, ctx.settings), locale: localeOf(r, ctx.settings), payload, createdOn: ctx.today
})

/** Scheduled subscriptions whose start date has come become active (billing follows in the same tick). */
export const activateScheduled = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<PersonRow & { start_date: string }>>`
      select ${personColumns(tx)}, s.start_date from subscriptions s join contacts c on c.id = s.contact_id
      where s.status = 'scheduled' and s.start_date <= ${ctx.today} and s.parked_at is null
      order by s.start_date, s.id limit ${limit} for update of s skip locked`
    if (rows.length === 0) return 0
    await tx`update subscriptions set status = 'active', updated_at = now() where id = any(${rows.map((r) => r.id)})`
    await writeJournal(tx, rows.map((r) => statusChanged(r.id, "scheduled", "active", r.start_date, { reason: "start_date_reached" })))
    return rows.length
  }) as Promise<number>

/** Cancellations requested at period end take effect on their date: no further charges, a cancellation email. */
export const applyPeriodEndCancellations = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<PersonRow & { cancel_at: string }>>`
      select ${personColumns(tx)}, s.cancel_at from subscriptions s join contacts c on c.id = s.contact_id
      where s.cancel_at <= ${ctx.today} and s.status not in ('canceled', 'expired')
      order by s.cancel_at, s.id limit ${limit} for update of s skip locked`
    if (rows.length === 0) return 0
    await tx`update subscriptions set status = 'canceled', canceled_on = cancel_at, next_billing_date = null, next_retry_on = null, updated_at = now()
      where id = any(${rows.map((r) => r.id)})`
    const events: Array<JournalEvent> = []
    for (const r of rows) {
      events.push({ type: "subscription.canceled", subscriptionId: r.id, contactId: r.contact_id, occurredOn: r.cancel_at, data: { at_period_end: true, effective_on: r.cancel_at } })
      events.push(statusChanged(r.id, r.status, "canceled", r.cancel_at, { reason: "canceled_at_period_end" }))
    }
    await writeJournal(tx, events)
    await enqueueMessages(tx, rows.map((r) => email(ctx, r, "cancellation", `email:cancellation:${r.id}`, { effective_on: r.cancel_at })))
    return rows.length
  }) as Promise<number>

/**
 * The status a subscription resumes in: unpaid while one of its invoices is open after a charge that failed (a
 * subscription paused when its retries ran out, `after-retries pause`): it is retried on the resume day, with the
 * payment method it has now, as a new card retries an unpaid one; past_due while one of its invoices is open and
 * overdue (the same rule that keeps it past due until paid); else active. A pause does not forgive a debt: resumed
 * active, the failed invoice was never charged again.
 */
export const resumedStatuses = async (tx: Sql | TransactionSql, ids: ReadonlyArray<number>): Promise<Map<number, "active" | "past_due" | "unpaid">> => {
  const owing = await tx<Array<{ id: number; failed: boolean; overdue: boolean }>>`
    select i.subscription_id as id, bool_or(i.overdue_on is not null) as overdue, bool_or(i.collection_method = 'charge' and exists (
             select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status = 'failed')
           and not exists (
             select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status in ('pending', 'unknown'))) as failed
    from invoices i
    where i.subscription_id = any(${ids as Array<number>}) and i.status = 'open' and (i.overdue_on is not null or i.collection_method = 'charge')
    group by i.subscription_id`
  const unpaid = new Set(owing.filter((r) => r.failed).map((r) => Number(r.id)))
  const overdue = new Set(owing.filter((r) => r.overdue).map((r) => Number(r.id)))
  return new Map(ids.map((id) => [id, unpaid.has(id) ? "unpaid" : overdue.has(id) ? "past_due" : "active"]))
}

/** What a resume reads of a paused subscription to place its billing. */
export interface PausedBilling {
  readonly billing_anchor: string | null
  readonly start_date: string
  readonly frequency_unit: Frequency["unit"]
  readonly frequency_count: number
  readonly terms_payments: number | null
  readonly end_date: string | null
}

/**
 * Where billing goes on after a resume on `on` (the resume command and the engine on the resume date alike):
 * the first anchor date on or after it, a pause never back-billed; fixed terms keep the payments not billed
 * yet, so their end date moves later by the periods the pause skipped (the rule of `skipUnpaidPeriods`).
 */
export const resumedBilling = (r: PausedBilling, periodsBilled: number, on: CalendarDate): { readonly next: CalendarDate; readonly endDate: string | null } => {
  const schedule = new BillingSchedule((r.billing_anchor ?? r.start_date) as CalendarDate, { unit: r.frequency_unit, count: r.frequency_count })
  const { next, endDate } = schedule.goingOnFrom(on, r.terms_payments === null ? undefined : r.terms_payments - periodsBilled)
  return { next, endDate: endDate ?? r.end_date }
}

/**
 * Paused subscriptions whose resume date has come become active again (past
 * due while an overdue invoice is open) and bill next on the first anchor
 * date on or after the resume day: a pause is never back-billed (`resumedBilling`).
 */
export const resumeDuePaused = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<PersonRow & PausedBilling & { resume_on: string; periods_billed: number }>>`
      select ${personColumns(tx)}, s.resume_on, s.billing_anchor, s.start_date, s.frequency_unit, s.frequency_count, s.terms_payments, s.periods_billed, s.end_date
      from subscriptions s join contacts c on c.id = s.contact_id
      where s.status = 'paused' and s.resume_on <= ${ctx.today}
      order by s.resume_on, s.id limit ${limit} for update of s skip locked`
    if (rows.length === 0) return 0
    const resumed = rows.map((r) => resumedBilling(r, r.periods_billed, r.resume_on as CalendarDate))
    const statuses = await resumedStatuses(tx, rows.map((r) => r.id))
    const status = rows.map((r) => statuses.get(r.id)!)
    await tx`
      update subscriptions s set status = u.st, next_billing_date = u.nbd, end_date = u.ed, paused_on = null, resume_on = null, updated_at = now(),
        ${codeDiscountEndMoving(tx, tx`u.nbd`)}, next_retry_on = case when u.st = 'unpaid' then ${ctx.today}::date else null end
      from unnest(${rows.map((r) => r.id)}::int8[], ${resumed.map((b) => b.next)}::date[], ${resumed.map((b) => b.endDate)}::date[], ${status}::text[]) as u(id, nbd, ed, st)
      where s.id = u.id`
    const events: Array<JournalEvent> = []
    rows.forEach((r, i) => {
      events.push({
        type: "subscription.resumed", subscriptionId: r.id, contactId: r.contact_id, occurredOn: r.resume_on,
        data: { next_billing_date: resumed[i]!.next, end_date: resumed[i]!.endDate, end_date_before: r.end_date }
      })
      events.push(statusChanged(r.id, "paused", status[i]!, r.resume_on, { reason: "resume_date_reached" }))
    })
    await writeJournal(tx, events)
    return rows.length
  }) as Promise<number>

/** Fixed terms whose payments are all made expire at the end of their last period. */
export const expireCompletedTerms = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<PersonRow & { next_billing_date: string }>>`
      select ${personColumns(tx)}, s.next_billing_date from subscriptions s join contacts c on c.id = s.contact_id
      where s.terms_payments is not null and s.payments_made >= s.terms_payments and s.status in ('active', 'past_due')
        and s.next_billing_date <= ${ctx.today}
      order by s.next_billing_date, s.id limit ${limit} for update of s skip locked`
    if (rows.length === 0) return 0
    await tx`update subscriptions set status = 'expired', end_date = next_billing_date, next_billing_date = null, updated_at = now()
      where id = any(${rows.map((r) => r.id)})`
    const events: Array<JournalEvent> = []
    for (const r of rows) {
      events.push({ type: "subscription.expired", subscriptionId: r.id, contactId: r.contact_id, occurredOn: r.next_billing_date, data: { end_date: r.next_billing_date } })
      events.push(statusChanged(r.id, r.status, "expired", r.next_billing_date, { reason: "terms_completed" }))
    }
    await writeJournal(tx, events)
    await enqueueMessages(tx, rows.map((r) => email(ctx, r, "expiry", `email:expiry:${r.id}`, { end_date: r.next_billing_date })))
    return rows.length
  }) as Promise<number>

/** A sent invoice past its due date makes its subscription past due, and the admins are told. */
export const markOverdueInvoices = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<PersonRow & { invoice_id: number; number: string; total: number; currency: string; due_date: string }>>`
      select ${personColumns(tx)}, i.id as invoice_id, i.number, i.total, i.currency, i.due_date
      from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id
      where i.status = 'open' and i.collection_method = 'invoice' and i.overdue_on is null and i.due_date < ${ctx.today}
      order by i.due_date, i.id limit ${limit} for update of i, s skip locked`
    if (rows.length === 0) return 0
    await tx`update invoices set overdue_on = ${ctx.today} where id = any(${rows.map((r) => r.invoice_id)})`
    const becomePastDue = [...new Set(rows.filter((r) => r.status === "active").map((r) => r.id))]
    if (becomePastDue.length > 0) await tx`update subscriptions set status = 'past_due', updated_at = now() where id = any(${becomePastDue})`
    const events: Array<JournalEvent> = rows.map((r) => ({
      type: "invoice.overdue", subscriptionId: r.id, contactId: r.contact_id, invoiceId: r.invoice_id, occurredOn: ctx.today,
      data: { invoice_id: r.invoice_id, number: r.number, total: r.total, currency: r.currency, due_date: r.due_date }
    }))
    for (const id of becomePastDue) events.push(statusChanged(id, "active", "past_due", ctx.today, { reason: "invoice_overdue" }))
    await writeJournal(tx, events)
    await enqueueMessages(tx, rows.map((r) => ({
      kind: "notification" as const, template: "internal_notification", dedupeKey: `notification:invoice_overdue:${r.invoice_id}`, subscriptionId: r.id, invoiceId: r.invoice_id,
      recipient: ctx.settings.adminEmail, language: ctx.settings.language, locale: ctx.settings.locale,
      // Worded by the template in the account's language (internal_notification.invoiceOverdue); `message` for a reader of the raw payload.
      payload: { event: "invoice_overdue", message: `Invoice ${r.number} is overdue (due ${r.due_date})` }, createdOn: ctx.today
    })))
    return rows.length
  }) as Promise<number>

/**
 * A reminder to the buyer N days (default 14) before the next payment, once
 * per billing date, of every subscription billed on it (active, scheduled:
 * its first payment, past due). It names the coming payment: the next period's invoice
 * draft (the items in force on that date, discounts, tax), the same draft
 * the billing run will invoice.
 */
export const sendDueReminders = (sql: Sql, ctx: EngineContext, limit: number): Promise<number> =>
  sql.begin(async (tx) => {
    const days = ctx.settings.reminderDays
    if (days <= 0) return 0
    const horizon = addDays(ctx.today, days)
    const all = await tx<Array<PersonRow & { next_billing_date: string; periods_billed: number; currency: string }>>`
      select ${personColumns(tx)}, s.next_billing_date, s.periods_billed, s.currency from subscriptions s join contacts c on c.id = s.contact_id
      where s.reminders and s.status in ('active', 'scheduled', 'past_due') and s.next_billing_date > ${ctx.today} and s.next_billing_date <= ${horizon}
        and s.reminder_sent_for is distinct from s.next_billing_date
        and (s.terms_payments is null or s.periods_billed < s.terms_payments)
        and (s.cancel_at is null or s.next_billing_date < s.cancel_at)
      order by s.next_billing_date, s.id limit ${limit} for update of s skip locked`
    if (all.length === 0) return 0
    const drafts = await draftInvoices(tx, all.map((r) => ({ subscriptionId: r.id, periodStart: r.next_billing_date, index: r.periods_billed })))
    await tx`update subscriptions set reminder_sent_for = next_billing_date where id = any(${all.map((r) => r.id)})`
    // No item version in force on that date, no amount to announce: none is sent (the billing run records the failure).
    const rows = all.filter((r) => drafts.has(r.id))
    await writeJournal(tx, rows.map((r) => ({
      type: "subscription.reminder_due", subscriptionId: r.id, contactId: r.contact_id, occurredOn: ctx.today,
      data: { next_billing_date: r.next_billing_date, amount: drafts.get(r.id)!.total, currency: r.currency }
    })))
    // A payment of nothing is not announced (`reminderAnnounces`). The journal still says the billing date is near, for rules.
    await enqueueMessages(tx, rows.filter((r) => reminderAnnounces(drafts.get(r.id)!.total)).map((r) => email(ctx, r, "reminder", `email:reminder:${r.id}:${r.next_billing_date}`, {
      next_billing_date: r.next_billing_date, amount: drafts.get(r.id)!.total, currency: r.currency
    })))
    // The rows claimed, sent or not: the engine repeats while a batch is full.
    return all.length
  }) as Promise<number>

/** Ids of subscriptions due for billing (no lock): for billing a failed batch one by one. */
export const dueSubscriptionIds = async (sql: Sql, ctx: EngineContext, limit: number): Promise<Array<number>> =>
  (await sql<Array<{ id: number }>>`
    select s.id from subscriptions s
    where s.status in ('active', 'past_due') and s.next_billing_date <= ${ctx.today} and s.parked_at is null and s.invoicing_enabled
      and (s.terms_payments is null or s.periods_billed < s.terms_payments)
      and (s.cancel_at is null or s.next_billing_date < s.cancel_at)
    order by s.next_billing_date, s.id limit ${limit}`).map((r) => r.id)

/** Parks a subscription after three failures in a row, with its error visible in the CLI; returns whether it is parked. */
export const recordSubscriptionFailure = async (sql: Sql, id: number, error: string, parkAfter = 3): Promise<boolean> => {
  const [row] = await sql<Array<{ parked: boolean }>>`
    update subscriptions set failure_count = failure_count + 1, last_error = ${error},
      parked_at = case when failure_count + 1 >= ${parkAfter} then now() else parked_at end
    where id = ${id} returning parked_at is not null as parked`
  return row?.parked ?? false
}

export interface DueWork {
  readonly unsettled: boolean
  readonly cancellations: boolean
  readonly resumes: boolean
  readonly starts: boolean
  readonly expiries: boolean
  readonly billing: boolean
  readonly retries: boolean
  readonly overdue: boolean
  readonly reminders: boolean
}

/**
 * One round trip that tells which steps have anything due today, so a quiet
 * day costs one query instead of a dozen (the simulator replays 365 of them).
 * A step it reports as idle may still be run: the steps re-check for themselves.
 *
 * Each check reads the front of one index (migrations 0004, 0024, 0027), so a
 * pass costs the same on 10,000 subscriptions as on 1,000,000: the earliest
 * date due (`min`, which PostgreSQL answers from the index's first entry) is
 * compared with today. Written as `exists`, the planner read the whole table
 * whenever its statistics said many rows matched and none did (a pass after
 * the day's billing).
 */
export const dueWork = async (sql: Sql, ctx: EngineContext): Promise<DueWork> => {
  const today = ctx.today
  const horizon = addDays(today, Math.max(0, ctx.settings.reminderDays))
  const [row] = await sql<Array<DueWork>>`
    select
      exists (select 1 from payment_attempts where status in ('pending', 'unknown')) as unsettled,
      coalesce((select min(cancel_at) from subscriptions where cancel_at is not null and status not in ('canceled', 'expired')) <= ${today}, false) as cancellations,
      coalesce((select min(resume_on) from subscriptions where status = 'paused') <= ${today}, false) as resumes,
      coalesce((select min(start_date) from subscriptions where status = 'scheduled') <= ${today}, false) as starts,
      (select next_billing_date from subscriptions where terms_payments is not null and next_billing_date <= ${today}
         and status in ('active', 'scheduled', 'unpaid', 'past_due') and parked_at is null and payments_made >= terms_payments
       order by next_billing_date limit 1) is not null as expiries,
      coalesce((select min(next_billing_date) from subscriptions where status in ('active', 'scheduled', 'unpaid', 'past_due') and parked_at is null) <= ${today}, false) as billing,
      coalesce((select min(next_retry_on) from subscriptions where next_retry_on is not null) <= ${today}, false) as retries,
      coalesce((select min(due_date) from invoices where status = 'open' and overdue_on is null and collection_method = 'invoice') < ${today}, false) as overdue,
      coalesce((select min(next_billing_date) from subscriptions where reminders and status in ('active', 'scheduled', 'past_due') and reminder_sent_for is distinct from next_billing_date
         and next_billing_date > ${today}) <= ${horizon}, false) as reminders`
  return row!
}
