/**
 * The engine's billing steps, set-based: claim a batch of due subscriptions,
 * invoice their periods and record the charge attempts (one transaction);
 * after the gateway has answered, settle the attempts (another transaction).
 *
 * Once-only is enforced by the database: one invoice per (subscription,
 * period start), one in-flight charge per invoice, one payment attempt per
 * idempotency key, one message per dedupe key. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so several engines can share the database.
 */
import type { LineAmounts } from "../billing/index.ts"
import type { PaymentDiscount } from "../billing/index.ts"
import { BillingSchedule, addDays, afterFailedCharge, discountBeforeTax, languageOf, lineAmounts, localeOf, totalsOf } from "../billing/index.ts"
import type { CalendarDate, Frequency, LineItem, MinorUnits } from "../domain/index.ts"
import { paymentTermsDays } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import type { JournalEvent, OutboxMessage } from "../sql/index.ts"
import { awaitByCommit, enqueueMessages, lockNotGranted, statusChanged, writeJournal } from "../sql/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { ClosedInvoiceRow } from "./closedInvoiceEvent.ts"
import { closedInvoiceEvent } from "./closedInvoiceEvent.ts"
import { codeDiscountEndMoving } from "./codeDiscountEnd.ts"

interface DueRow {
  id: number
  contact_id: number
  currency: string
  frequency_unit: Frequency["unit"]
  frequency_count: number
  start_date: string
  next_billing_date: string
  periods_billed: number
  terms_payments: number | null
  collection_method: "charge" | "invoice"
  payment_terms: keyof typeof paymentTermsDays | null
  payment_method: string | null
  auto_email: boolean | null
  invoice_language: string | null
  invoice_locale: string | null
  email: string
  contact_language: string | null
  contact_locale: string | null
  name: string
}

interface LineRow {
  subscription_id: number
  line_no: number
  name: string
  unit_price: number
  quantity: number
  discount_ppm: number | null
  discount_amount: number | null
  tax_rate_ppm: number | null
  one_time: boolean
}

/** A charge attempt recorded and committed, ready to be sent to the gateway. */
export interface PendingCharge {
  readonly attemptId: number
  readonly invoiceId: number
  readonly subscriptionId: number
  readonly idempotencyKey: string
  readonly kind: "charge" | "refund"
  readonly amount: number
  readonly currency: string
  readonly paymentMethod: string | null
  readonly reference: string
}

// The fallback's one home is engine/billing/locale.ts; re-exported for the store's run files.
export { languageOf, localeOf }

const toLineItem = (l: LineRow): LineItem => ({
  name: l.name,
  unitPrice: l.unit_price as MinorUnits,
  quantity: l.quantity,
  oneTime: l.one_time,
  ...(l.discount_ppm !== null ? { discount: { _tag: "Percent" as const, ppm: l.discount_ppm } } : {}),
  ...(l.discount_amount !== null ? { discount: { _tag: "Amount" as const, amount: l.discount_amount as MinorUnits } } : {}),
  ...(l.tax_rate_ppm !== null ? { taxRate: l.tax_rate_ppm } : {})
})

export const attemptKey = (invoiceId: number, kind: "charge" | "refund", attemptNumber: number) =>
  `${kind === "charge" ? "ch" : "rf"}_${invoiceId}_${attemptNumber}`

/** A discount code on a subscription (migration 0022): off each payment whose period index is below `payments` (null: every payment). */
export interface CodeDiscount {
  readonly off: PaymentDiscount
  readonly payments: number | null
}

export interface InvoiceDraft {
  readonly amounts: ReadonlyArray<{ readonly line: LineRow; readonly a: LineAmounts }>
  readonly subtotal: number
  readonly discount: number
  readonly tax: number
  readonly total: number
  /** The period is the last its discount code covers: from the next one the payments are full (the reports' MRR goes up). */
  readonly lastCoveredByCode?: boolean
}

/** Whether a discount code covers the payment of period `index` (0: the first), and whether that payment is its last. */
const codeCovers = (code: CodeDiscount | undefined, index: number) => ({
  covers: code !== undefined && (code.payments === null || index < code.payments),
  last: code !== undefined && code.payments !== null && index === code.payments - 1
})

/**
 * Whether a reminder announces a coming payment of `total` (its draft's): a payment of nothing (a period a discount
 * makes free) is not announced, "$0.00 will be charged" being no news, and no receipt follows it either. The engine's
 * reminders and `render email reminder` both ask this.
 */
export const reminderAnnounces = (total: number): boolean => total > 0

/**
 * The invoice draft of one period per subscription: the item version in force
 * on the period's first day (`versionInForce`: the highest version effective
 * on or before it, as `versionInForceSql`), one-time lines on the first period
 * only, each line priced by `lineAmounts`. The billing run invoices exactly
 * this; a reminder announces exactly this. A period with no version in force
 * yet has no draft (it used to take the lowest version): the billing run
 * records it as the subscription's failure (`noVersionInForce`).
 */
export const draftInvoices = async (
  sql: Sql | TransactionSql,
  periods: ReadonlyArray<{ readonly subscriptionId: number; readonly periodStart: string; readonly index: number }>,
  options: { readonly withoutCodeDiscount?: boolean } = {}
): Promise<Map<number, InvoiceDraft>> => {
  const drafts = new Map<number, InvoiceDraft>()
  if (periods.length === 0) return drafts
  // Each line carries its subscription's discount code (read in the same statement: one round trip, not two).
  // Driven by the periods, each lookup by its primary key (the version in force, its lines, the code): joined as
  // tables, the planner hashed every subscription's lines (a scan of line_items for each batch, 17–40 ms for 330
  // periods of 10,000 subscriptions against 4.6 ms), whenever its statistics said the table was small.
  const lines = await sql<Array<LineRow & { code_discount: CodeDiscount | null }>>`
    select li.subscription_id, li.line_no, li.name, li.unit_price, li.quantity, li.discount_ppm, li.discount_amount, li.tax_rate_ppm, li.one_time,
           (select s.code_discount from subscriptions s where s.id = p.sid) as code_discount
    from unnest(${periods.map((p) => p.subscriptionId)}::int8[], ${periods.map((p) => p.periodStart)}::date[]) as p(sid, d)
    cross join lateral (select max(iv.version) as version from item_versions iv where iv.subscription_id = p.sid and iv.effective_from <= p.d) as v
    cross join lateral (select * from line_items li where li.subscription_id = p.sid and li.version = v.version order by li.line_no) as li
    order by li.subscription_id, li.line_no`
  // A checkout's first invoices take its code with its other discounts (`PaidAtCheckout`): it is not applied again.
  const codes = new Map<number, CodeDiscount>()
  if (options.withoutCodeDiscount !== true) for (const l of lines) if (l.code_discount !== null) codes.set(Number(l.subscription_id), l.code_discount)
  const linesBySub = new Map<number, Array<LineRow>>()
  for (const l of lines) {
    const list = linesBySub.get(Number(l.subscription_id))
    if (list === undefined) linesBySub.set(Number(l.subscription_id), [l])
    else list.push(l)
  }
  for (const p of periods) {
    // Every version has lines: none means none is in force on the period's first day.
    if (!linesBySub.has(p.subscriptionId)) continue
    const amounts = linesBySub.get(p.subscriptionId)!.filter((l) => p.index === 0 || !l.one_time).map((line) => ({ line, a: lineAmounts(toLineItem(line)) }))
    const totals = totalsOf(amounts.map(({ a }) => a))
    // A discount code redeemed at checkout for N payments (or all): off the payment as a whole, before tax, the checkout summary's rule.
    const code = codes.get(p.subscriptionId)
    const coverage = codeCovers(code, p.index)
    if (code === undefined || !coverage.covers) {
      drafts.set(p.subscriptionId, { amounts, subtotal: totals.subtotal, discount: totals.discount, tax: totals.tax, total: totals.total })
      continue
    }
    const discounted = discountedBeforeTax(amounts, [code.off])
    drafts.set(p.subscriptionId, {
      amounts: discounted.amounts, subtotal: totals.subtotal, discount: totals.discount + discounted.payment.discounts[0]!,
      tax: discounted.payment.tax, total: discounted.payment.total, lastCoveredByCode: coverage.last
    })
  }
  return drafts
}

/**
 * Drafted lines with whole-payment discounts taken off before tax (`discountBeforeTax`): each line keeps its
 * net (what it prints) and is taxed on what its share of the discounts leaves.
 */
const discountedBeforeTax = (amounts: InvoiceDraft["amounts"], offs: ReadonlyArray<PaymentDiscount | undefined>) => {
  const payment = discountBeforeTax(amounts.map(({ line, a }) => ({ net: a.net, taxRate: toLineItem(line).taxRate })), offs)
  return { payment, amounts: amounts.map(({ line, a }, i) => ({ line, a: { ...a, tax: payment.taxes[i]!, total: a.net + payment.taxes[i]! } })) }
}

/**
 * An invoice's number, from the numbering row `seq` (locked by its update) and a 1-based ordinal `n` among the
 * numbers it gives out: the account's prefix and the number, six digits at least (`INV-000042`, `INV-1000000`).
 */
const invoiceNumberOf = (n: string) => `seq.prefix || case when seq.first + ${n} - 1 < 1000000 then lpad((seq.first + ${n} - 1)::text, 6, '0') else (seq.first + ${n} - 1)::text end`

/**
 * The numbering row, moved on by `count`: gapless, it stays locked until the caller's commit, and a rollback
 * gives the numbers back. Take them last.
 */
const takeNumbers = (tx: TransactionSql, count: number) =>
  tx`seq as (update invoice_sequence set next_number = next_number + ${count} returning next_number - ${count} as first, prefix)`

/** The next `count` invoice numbers, in order (see `takeNumbers`). */
const takeInvoiceNumbers = async (tx: TransactionSql, count: number): Promise<Array<string>> =>
  (await tx<Array<{ number: string }>>`
    with ${takeNumbers(tx, count)}
    select ${tx.unsafe(invoiceNumberOf("g"))} as number from seq, generate_series(1, ${count}) as g order by g`).map((r) => r.number)

/**
 * Invoices one period of up to `limit` due subscriptions and records their
 * charge attempts, in one transaction. Returns the charges to send (leased
 * to this engine) and how many invoices were made.
 */
export const billDueBatch = async (
  sql: Sql, ctx: EngineContext, limit: number, onlyIds?: ReadonlyArray<number>, slot?: number, after?: DueKey
): Promise<BilledBatch & { readonly slotMissed: boolean }> =>
  sql.begin(async (tx) => {
    const slotMissed = slot !== undefined && !(await takeBillingSlot(tx, slot))
    return { ...await billDue(tx, ctx, limit, onlyIds, undefined, after), slotMissed }
  }) as Promise<BilledBatch & { readonly slotMissed: boolean }>

/**
 * Billing transactions at once on one database (one schema), whatever the number of engines: a batch's transaction
 * first takes its worker's slot (`slot` modulo this), an advisory lock held to its commit. Engines past the first
 * then add workers that wait for a slot before claiming anything, instead of transactions that claim, write, and
 * all wait on the invoice-numbering row to the commit (gapless numbers): on 2 cores, four engines of three workers
 * each billed 20–30% slower than one engine (bench/scale.ts). The gateway calls are outside the transactions, so
 * a worker waiting on the gateway holds no slot.
 */
export const billingSlots = 3

/**
 * How long a batch waits for its billing slot before it bills without one: several times a busy slot's turn (a
 * batch of 500 renewals holds it 0.1–0.5 s, and four engines queue four workers on each slot), and short of the
 * 30 s lock timeout.
 */
export const billingSlotWaitMs = 5_000

/**
 * Takes the billing slot `slot` (modulo `billingSlots`), held to the commit, and says whether it got it; taken before
 * any row lock, so it is in no deadlock. Awaited before the claim is sent: pipelined behind it, an engine stopped
 * mid-batch left its session `active` rather than idle in its transaction, out of reach of the idle-in-transaction
 * timeout (test/faults/zombie.test.ts).
 *
 * A slot only paces billing: once-only rests on the claim's row locks and the unique keys. So a batch waits for its
 * slot at most `billingSlotWaitMs`, then bills without it. A session can hold a slot and never end: an engine stopped
 * (SIGSTOP, a paused machine) between the two halves of a statement's first run on its connection (postgres.js sends
 * Parse and Describe, then Bind and Execute once it knows the parameter types) leaves its session `active`, waiting
 * for the rest, where no idle timeout reaches it. Waiting for that slot without a bound stopped every other engine.
 */
export const takeBillingSlot = async (tx: TransactionSql, slot: number): Promise<boolean> => {
  const key = `:billcycle:billing:${slot % billingSlots}`
  const [free] = await tx<Array<{ got: boolean }>>`select pg_try_advisory_xact_lock(hashtextextended(current_schema() || ${key}, 0)) as got`
  if (free!.got) return true
  // Busy: wait for it, a bounded time, in a savepoint that a timeout rolls back (its lock_timeout with it). postgres.js's
  // own savepoint: a statement of the transaction that fails fails the transaction, caught or not.
  const [before] = await tx<Array<{ timeout: string }>>`select current_setting('lock_timeout') as timeout`
  try {
    await tx.savepoint(async (sp) => {
      await sp`select set_config('lock_timeout', ${`${billingSlotWaitMs}ms`}, true)`
      await sp`select pg_advisory_xact_lock(hashtextextended(current_schema() || ${key}, 0))`
    })
  } catch (e) {
    if (lockNotGranted(e)) return false
    throw e
  }
  await tx`select set_config('lock_timeout', ${before!.timeout}, true)`
  return true
}

/**
 * A checkout's payment, taken before its subscriptions existed: it pays their first period.
 * `discounts` are the order discount and the discount code of the checkout, taken off all its first
 * invoices' lines together as the summary took them (`discountBeforeTax`, the lines in the order
 * `planPurchase` gave them); `amount` is what the gateway charged.
 */
export interface PaidAtCheckout {
  readonly key: string
  readonly gatewayRef: string
  readonly paymentMethod: string
  /** The order discount and the discount code, taken off today's lines before tax (the summary's `discountsToday`). */
  readonly discounts: ReadonlyArray<PaymentDiscount | undefined>
  readonly amount: number
  /** A bank debit not settled yet: the invoices stay open, paid (`payInvoicesAtCheckout`) or failed (`failInvoicesAtCheckout`) when it settles. */
  readonly awaiting?: boolean | undefined
}

/**
 * `billDueBatch` inside the caller's transaction. With `paid`, the periods are paid by a checkout's
 * payment: no charge is recorded to send; a succeeded attempt per invoice records the checkout's
 * charge and the invoices are marked paid (receipt, notification) in the same transaction.
 *
 * Its phases, in this order and in one transaction: claim the due subscriptions, draft their
 * periods' invoices (pure), persist (ids, next dates, journal, messages), insert the invoices' lines,
 * record the charges, then number and insert the invoices themselves, last.
 *
 * With `after`, only subscriptions due after that key are claimed (`DueKey`).
 */
export const billDue = async (
  tx: TransactionSql, ctx: EngineContext, limit: number, onlyIds?: ReadonlyArray<number>, paid?: PaidAtCheckout, after?: DueKey
): Promise<BilledBatch> => {
  const today = ctx.today
  const due = await claimDueSubscriptions(tx, today, limit, onlyIds, after)
  if (due.length === 0) return { invoices: 0, charges: [], ids: [], more: false }
  const ids = due.map((d) => d.id)
  const drafts = await draftInvoices(tx, due.map((d) => ({ subscriptionId: d.id, periodStart: d.next_billing_date, index: d.periods_billed })), { withoutCodeDiscount: paid !== undefined })
  const undrafted = due.filter((d) => !drafts.has(d.id))
  if (undrafted.length > 0) await noVersionInForce(tx, undrafted.map((d) => ({ id: d.id, periodStart: d.next_billing_date })))
  const invoices = await persistPeriods(tx, ctx, draftPeriodInvoices(ctx, due, drafts, paid))
  await insertInvoiceLines(tx, invoices)
  const toCharge = paid !== undefined ? [] : invoices.filter((r) => r.d.collection_method === "charge" && r.total > 0)
  const attempts = await recordFirstCharges(tx, ctx, toCharge)
  // Numbered last: the numbering row stays locked from here to the commit (migration 0028). A checkout's payment
  // of the invoices is sent right behind their numbering, without waiting for it (pipelined, run in the order sent:
  // `numberInvoices` sends its statement when called): one round trip under the lock instead of two.
  const numbering = numberInvoices(tx, ctx, invoices)
  const paying = paid !== undefined && paid.awaiting !== true ? payInvoicesAtCheckout(tx, ctx, invoices.map((r) => r.invoiceId), undefined, paid) : undefined
  const [numbers] = await Promise.all([numbering, paying])
  const numberByInvoice = new Map(invoices.map((r, i) => [r.invoiceId, numbers[i]!]))
  const charges = attempts.map((c) => ({ ...c, reference: numberByInvoice.get(c.invoiceId)! }))
  ctx.failpoint("before-billing-commit")
  const free = invoices.filter((r) => r.total === 0)
  if (paid === undefined && free.length > 0) {
    // A fully discounted period is paid as it is issued: there is nothing to charge.
    await markInvoicesPaid(tx, ctx, free.map((r) => r.invoiceId), "free")
  }
  // More may be due when the batch was full, or a subscription behind by several periods is still due.
  const behind = invoices.some((r) => r.periodEnd <= today)
  const more = due.length === limit || invoices.length < due.length || behind
  // A subscription still behind may now be due before the last one claimed: the next claim starts from the beginning.
  const lastDue = due[due.length - 1]!
  const last = behind ? undefined : { nextBillingDate: lastDue.next_billing_date, id: lastDue.id }
  return { invoices: invoices.length, charges, ids, more, invoiceIds: invoices.map((r) => r.invoiceId), last }
}

/**
 * Periods with no item version in force on their first day (a next billing date before the first version, which
 * `subscriptions update` now refuses) cannot be priced: an error naming each, which the engine records as the
 * subscription's failure (it bills the batch one by one, and parks what keeps failing) while the others are billed.
 */
const noVersionInForce = async (tx: TransactionSql, periods: ReadonlyArray<{ readonly id: number; readonly periodStart: string }>): Promise<never> => {
  const firsts = await tx<Array<{ subscription_id: number; version: number; effective_from: string }>>`
    select distinct on (subscription_id) subscription_id, version, effective_from from item_versions
    where subscription_id = any(${periods.map((p) => p.id)}::int8[]) order by subscription_id, effective_from, version`
  const firstOf = new Map(firsts.map((f) => [Number(f.subscription_id), f]))
  throw new Error(periods.map((p) => {
    const first = firstOf.get(p.id)
    return `subscription ${p.id}: no item version is in force on ${p.periodStart}, the first day of the period to bill` +
      (first === undefined ? " (it has no item versions)" : ` (version ${first.version} is effective from ${first.effective_from})`)
  }).join("; "))
}

/**
 * Where a claim of due subscriptions stopped: the last one it claimed, in the claims' order (next billing date, id).
 * A worker's next claim starts after it. A subscription billed leaves the old version of its row behind in the index
 * of due subscriptions, at its old date, until the server prunes it; every claim that started from the beginning read
 * all of the day's billed rows again, to skip them. While transactions wait (for a billing slot, the numbering row) they
 * hold back that pruning. A batch that billed a subscription still behind by a period or more has no key: its next
 * period may now be due before the batch's last, and the next claim starts from the beginning, as before. What a claim
 * from a key passes by (rows another engine held then and gave back) is claimed in the tick's next pass, from the
 * beginning (engine/runtime/Engine.ts).
 */
export interface DueKey {
  readonly nextBillingDate: string
  readonly id: number
}

/** Claims up to `limit` due subscriptions (after `after`), locked to this transaction; rows another engine holds are skipped, not waited for. */
const claimDueSubscriptions = async (
  tx: TransactionSql, today: CalendarDate, limit: number, onlyIds: ReadonlyArray<number> | undefined, after: DueKey | undefined
): Promise<Array<DueRow>> =>
  tx<Array<DueRow>>`
    select s.id, s.contact_id, s.currency, s.frequency_unit, s.frequency_count, coalesce(s.billing_anchor, s.start_date) as start_date, s.next_billing_date,
           s.periods_billed, s.terms_payments, s.collection_method, s.payment_terms,
           coalesce(s.payment_method, c.payment_method) as payment_method, s.auto_email,
           s.invoice_language, s.invoice_locale, c.email, c.language as contact_language, c.locale as contact_locale, s.name
    from subscriptions s join contacts c on c.id = s.contact_id
    where s.status in ('active', 'past_due') and s.next_billing_date <= ${today} and s.parked_at is null
      and s.invoicing_enabled
      and (s.terms_payments is null or s.periods_billed < s.terms_payments)
      and (s.cancel_at is null or s.next_billing_date < s.cancel_at)
      ${onlyIds === undefined ? tx`` : tx`and s.id = any(${onlyIds as Array<number>})`}
      ${after === undefined ? tx`` : tx`and (s.next_billing_date, s.id) > (${after.nextBillingDate}::date, ${after.id}::int8)`}
    order by s.next_billing_date, s.id
    limit ${limit}
    for update of s skip locked`

/** One due period's invoice, drafted: what it bills, for which dates, in which language. */
interface PeriodInvoice {
  readonly d: DueRow
  readonly periodStart: CalendarDate
  readonly periodEnd: CalendarDate
  readonly dueDate: CalendarDate
  readonly subtotal: number
  readonly discount: number
  readonly tax: number
  readonly total: number
  readonly amounts: InvoiceDraft["amounts"]
  readonly language: string
  readonly locale: string
  /** The last payment its subscription's discount code covers (`InvoiceDraft.lastCoveredByCode`). */
  readonly lastCoveredByCode: boolean
}

/** A period's invoice with its id, taken before it is inserted. */
interface IssuedInvoice extends PeriodInvoice {
  readonly invoiceId: number
}

/**
 * The claimed periods' invoices (pure). A checkout's discounts are taken off all their lines together, before tax, and
 * they must add up to what the checkout charged: else nothing is written.
 */
const draftPeriodInvoices = (
  ctx: EngineContext, due: ReadonlyArray<DueRow>, drafts: Map<number, InvoiceDraft>, paid: PaidAtCheckout | undefined
): Array<PeriodInvoice> => {
  const today = ctx.today
  const drafted = due.map((d) => drafts.get(d.id)!)
  // A checkout's discounts are taken off its first invoices' lines together, before tax, as its summary took them.
  const atCheckout = paid === undefined ? undefined : discountedBeforeTax(drafted.flatMap((draft) => draft.amounts), paid.discounts)
  let at = 0
  const invoiceRows = due.map((d, k) => {
    const schedule = new BillingSchedule(d.start_date as CalendarDate, { unit: d.frequency_unit, count: d.frequency_count })
    const periodStart = d.next_billing_date as CalendarDate
    const periodEnd = schedule.nextAfter(periodStart)
    const draft = drafted[k]!
    const { subtotal } = draft
    let { amounts, discount, tax, total } = draft
    if (atCheckout !== undefined) {
      const share = atCheckout.payment.shares.slice(at, at + amounts.length).reduce((sum, x) => sum + x, 0)
      amounts = atCheckout.amounts.slice(at, at + amounts.length)
      at += amounts.length
      discount += share
      tax = amounts.reduce((sum, { a }) => sum + a.tax, 0)
      total = amounts.reduce((sum, { a }) => sum + a.total, 0) - share
    }
    const dueDate = d.collection_method === "invoice" ? addDays(today, paymentTermsDays[d.payment_terms ?? "due-on-receipt"]) : today
    return {
      d,
      periodStart,
      periodEnd,
      dueDate,
      subtotal,
      discount,
      tax,
      total,
      amounts,
      language: languageOf(d, ctx.settings),
      locale: localeOf(d, ctx.settings),
      lastCoveredByCode: draft.lastCoveredByCode === true
    }
  })
  if (paid !== undefined && invoiceRows.reduce((sum, r) => sum + r.total, 0) !== paid.amount) {
    throw new Error(`a checkout's payment of ${paid.amount} does not pay its first invoices (${invoiceRows.map((r) => r.total).join(" + ")}); nothing was written`)
  }
  return invoiceRows
}

/**
 * Takes the invoices' ids, moves each subscription to its next period, and journals and queues what
 * the new invoices announce. The invoices' ids come first, from their identity sequence: the
 * subscriptions' next dates, the journal, the messages, the lines and the charge attempts are
 * written with them before the invoices themselves (the lines' and attempts' references to their
 * invoices are checked at the commit, migration 0028), so the numbering lock (`numberInvoices`) is
 * held only while the invoices are inserted, and to the commit. Concurrent engines serialise on that
 * last part, not on the whole batch.
 */
const persistPeriods = async (tx: TransactionSql, ctx: EngineContext, periods: ReadonlyArray<PeriodInvoice>): Promise<Array<IssuedInvoice>> => {
  const invoiceIds = (await tx<Array<{ id: number }>>`
    select nextval(pg_get_serial_sequence('invoices', 'id'))::int8 as id from generate_series(1, ${periods.length}) order by id`).map((r) => r.id)
  const invoices = periods.map((r, i) => ({ ...r, invoiceId: invoiceIds[i]! }))

  // Left to the commit: in a pipelined transaction (a checkout's purchase) it travels with the statements after it.
  await awaitByCommit(tx, [tx`
    update subscriptions s set next_billing_date = u.nbd, periods_billed = s.periods_billed + 1, updated_at = now(),
      code_discount_ends_on = case when u.code_ends = 1 then u.nbd else s.code_discount_ends_on end
    from unnest(${invoices.map((r) => r.d.id)}::int8[], ${invoices.map((r) => r.periodEnd)}::date[], ${invoices.map((r) => (r.lastCoveredByCode ? 1 : 0))}::int4[]) as u(id, nbd, code_ends)
    where s.id = u.id`.execute()])

  const { events, messages } = invoiceNotices(ctx, invoices)
  await writeJournal(tx, events)
  await enqueueMessages(tx, messages)
  return invoices
}

/** What new invoices journal (`invoice.created`) and send (an invoice to pay by transfer, when the account or subscription emails it). */
const invoiceNotices = (ctx: EngineContext, invoices: ReadonlyArray<IssuedInvoice>): { events: Array<JournalEvent>; messages: Array<OutboxMessage> } => {
  const today = ctx.today
  const events: Array<JournalEvent> = []
  const messages: Array<OutboxMessage> = []
  for (const r of invoices) {
    const invoiceId = r.invoiceId
    events.push({
      type: "invoice.created",
      subscriptionId: r.d.id,
      contactId: r.d.contact_id,
      invoiceId,
      occurredOn: today,
      data: { invoice_id: invoiceId, total: r.total, currency: r.d.currency, period_start: r.periodStart, period_end: r.periodEnd, due_date: r.dueDate, collection_method: r.d.collection_method }
    })
    if (r.d.collection_method === "invoice" && r.total > 0 && (r.d.auto_email ?? ctx.settings.autoEmailInvoices)) {
      messages.push({
        kind: "email", template: "invoice_sent", dedupeKey: `email:invoice_sent:${invoiceId}`, subscriptionId: r.d.id, invoiceId,
        recipient: r.d.email, language: r.language, locale: r.locale, payload: { invoice_id: invoiceId }, createdOn: today
      })
    }
  }
  return { events, messages }
}

/**
 * Numbers the invoices and inserts them, in one statement. Gapless numbering, at insert: the sequence row is
 * locked from here to the commit; a rollback returns the numbers. Returns the numbers in the invoices' order.
 */
const numberInvoices = async (tx: TransactionSql, ctx: EngineContext, invoices: ReadonlyArray<IssuedInvoice>): Promise<Array<string>> => {
  const today = ctx.today
  // Sent when called (`execute`), before the caller's next statement: billDue pipelines a checkout's payment behind it.
  const inserted = await tx<Array<{ id: number; number: string }>>`
    with ${takeNumbers(tx, invoices.length)}
    insert into invoices (id, number, subscription_id, period_index, period_start, period_end, issue_date, due_date, currency,
                          subtotal, discount, tax, fees, total, collection_method, status, language, locale)
    overriding system value
    select id, ${tx.unsafe(invoiceNumberOf("ord"))}, s, pi, ps, pe, ${today}::date, dd, cur, st, di, tx, 0, tot, cm, 'open', lang, loc from seq, unnest(
      ${invoices.map((r) => r.invoiceId)}::int8[], ${invoices.map((r) => r.d.id)}::int8[],
      ${invoices.map((r) => r.d.periods_billed)}::int[], ${invoices.map((r) => r.periodStart)}::date[],
      ${invoices.map((r) => r.periodEnd)}::date[], ${invoices.map((r) => r.dueDate)}::date[],
      ${invoices.map((r) => r.d.currency)}::text[], ${invoices.map((r) => r.subtotal)}::int8[],
      ${invoices.map((r) => r.discount)}::int8[], ${invoices.map((r) => r.tax)}::int8[],
      ${invoices.map((r) => r.total)}::int8[], ${invoices.map((r) => r.d.collection_method)}::text[],
      ${invoices.map((r) => r.language)}::text[], ${invoices.map((r) => r.locale)}::text[]
    ) with ordinality as u(id, s, pi, ps, pe, dd, cur, st, di, tx, tot, cm, lang, loc, ord)
    returning id, number`.execute()
  ctx.failpoint("after-numbering")
  ctx.failpoint("after-invoice-insert")
  const numberById = new Map(inserted.map((r) => [Number(r.id), r.number]))
  return invoices.map((r) => numberById.get(r.invoiceId)!)
}

/** The invoices' lines, numbered from 1 in each invoice, as drafted. */
const insertInvoiceLines = async (tx: TransactionSql, invoices: ReadonlyArray<IssuedInvoice>): Promise<void> => {
  const il = { inv: [] as Array<number>, no: [] as Array<number>, name: [] as Array<string>, qty: [] as Array<number>, price: [] as Array<number>, ud: [] as Array<number>, rate: [] as Array<number | null>, amount: [] as Array<number>, tax: [] as Array<number>, one: [] as Array<boolean> }
  for (const r of invoices) {
    const invoiceId = r.invoiceId
    r.amounts.forEach(({ line, a }, idx) => {
      il.inv.push(invoiceId)
      il.no.push(idx + 1)
      il.name.push(line.name)
      il.qty.push(line.quantity)
      il.price.push(line.unit_price)
      il.ud.push(a.unitDiscount)
      il.rate.push(line.tax_rate_ppm)
      il.amount.push(a.net)
      il.tax.push(a.tax)
      il.one.push(line.one_time)
    })
  }
  if (il.inv.length > 0) {
    // Left to the commit, like the periods' update (persistPeriods); the invoices they belong to are checked there (migration 0028).
    await awaitByCommit(tx, [tx`
      insert into invoice_lines (invoice_id, line_no, name, quantity, unit_price, unit_discount, tax_rate_ppm, amount, tax, one_time)
      select * from unnest(${il.inv}::int8[], ${il.no}::int[], ${il.name}::text[], ${il.qty}::int[], ${il.price}::int8[],
        ${il.ud}::int8[], ${il.rate}::int[], ${il.amount}::int8[], ${il.tax}::int8[], ${il.one.map((b) => (b ? "t" : "f"))}::text[]::bool[])`.execute()])
  }
}

/**
 * The first charge attempt of each invoice to charge, leased to this engine: the charges to send once
 * committed, their reference (the invoice's number) still to fill in (`billDue` numbers the invoices after).
 */
const recordFirstCharges = async (
  tx: TransactionSql, ctx: EngineContext, toCharge: ReadonlyArray<IssuedInvoice>
): Promise<Array<Omit<PendingCharge, "reference">>> => {
  if (toCharge.length === 0) return []
  const attempts = await tx<Array<{ id: number; invoice_id: number; idempotency_key: string; amount: number; currency: string; payment_method: string | null }>>`
    insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, lease_owner, lease_until, requested_on)
    select i, 'charge', 1, k, a, c, pm, 'pending', ${ctx.owner}, now() + interval '60 seconds', ${ctx.today}::date from unnest(
      ${toCharge.map((r) => r.invoiceId)}::int8[],
      ${toCharge.map((r) => attemptKey(r.invoiceId, "charge", 1))}::text[],
      ${toCharge.map((r) => r.total)}::int8[], ${toCharge.map((r) => r.d.currency)}::text[],
      ${toCharge.map((r) => r.d.payment_method)}::text[]) as u(i, k, a, c, pm)
    returning id, invoice_id, idempotency_key, amount, currency, payment_method`
  const byInvoice = new Map(toCharge.map((r) => [r.invoiceId, r]))
  return attempts.map((a) => ({
    attemptId: a.id,
    invoiceId: a.invoice_id,
    subscriptionId: byInvoice.get(a.invoice_id)!.d.id,
    idempotencyKey: a.idempotency_key,
    kind: "charge",
    amount: a.amount,
    currency: a.currency,
    paymentMethod: a.payment_method
  }))
}

/**
 * A checkout's charge, recorded against each invoice it paid (a succeeded attempt per invoice, under
 * the checkout's key and the invoice's id; refunds go through these rows), and the invoices marked
 * paid: the first periods by `markInvoicesPaid` (they are payments of their subscriptions), the
 * one-time invoice of a purchase billed later on its own (it is no payment of the subscription).
 */
export const payInvoicesAtCheckout = async (
  tx: TransactionSql, ctx: EngineContext, invoiceIds: ReadonlyArray<number>, oneTimeInvoiceId: number | undefined, paid: Pick<PaidAtCheckout, "key" | "gatewayRef" | "paymentMethod">
): Promise<void> => {
  const all = [...invoiceIds, ...(oneTimeInvoiceId === undefined ? [] : [oneTimeInvoiceId])]
  // The attempts are sent with the invoices' payment (pipelined, run in this order: they read the invoices while still open).
  const attempts = tx`
    insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, gateway_ref,
                                  requested_on, settled_at, initiated_by)
    select i.id, 'charge', coalesce((select max(attempt_number) from payment_attempts p where p.invoice_id = i.id and p.kind = 'charge'), 0) + 1,
      ${paid.key} || '_' || i.id, i.total, i.currency, ${paid.paymentMethod}, 'succeeded', ${paid.gatewayRef}, ${ctx.today}::date, now(), 'buyer'
    from invoices i where i.id = any(${all}::int8[]) and i.status = 'open' and i.total > 0`.execute()
  await Promise.all([attempts, markInvoicesPaid(tx, ctx, invoiceIds, "checkout")])
  if (oneTimeInvoiceId === undefined) return
  // The checkout's charge is the whole total: nothing is recorded by hand on an invoice its debit is for (awaitingCheckoutDebit).
  const [p] = await tx<Array<{ id: number; number: string; subscription_id: number; total: number; amount: number; currency: string }>>`
    update invoices set status = 'paid', amount_paid = total, paid_on = ${ctx.today} where id = ${oneTimeInvoiceId} and status = 'open'
    returning id, number, subscription_id, total, total as amount, currency`
  if (p === undefined) return
  const [s] = await tx<Array<Pick<PaidInvoiceRow, "contact_id" | "email" | "invoice_language" | "invoice_locale" | "contact_language" | "contact_locale">>>`
    select s.contact_id, c.email, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = ${p.subscription_id}`
  const events: Array<JournalEvent> = []
  const messages: Array<OutboxMessage> = []
  // The one-time invoice is no payment of the subscription: it counted none.
  paidNotices(ctx, p, s!, "checkout", null, events, messages)
  await writeJournal(tx, events, "buyer")
  await enqueueMessages(tx, messages)
}

/**
 * A checkout's bank debit that failed after the purchase was made: a failed attempt on each invoice it
 * was for, and the failure's consequences as for any failed charge (unpaid, retries on the account's
 * schedule, the payment-failed email).
 */
export const failInvoicesAtCheckout = async (
  tx: TransactionSql, ctx: EngineContext, invoiceIds: ReadonlyArray<number>, paid: Pick<PaidAtCheckout, "key" | "paymentMethod">, reason: string
): Promise<void> => {
  const failed = await tx<Array<{ id: number; invoice_id: number }>>`
    insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, failure_reason,
                                  requested_on, settled_at, initiated_by)
    select i.id, 'charge', coalesce((select max(attempt_number) from payment_attempts p where p.invoice_id = i.id and p.kind = 'charge'), 0) + 1,
      ${paid.key} || '_' || i.id, i.total, i.currency, ${paid.paymentMethod}, 'failed', ${reason}, ${ctx.today}::date, now(), 'engine'
    from invoices i where i.id = any(${invoiceIds as Array<number>}::int8[]) and i.status = 'open' and i.total > 0
    returning id, invoice_id`
  await recordChargeFailures(tx, ctx, failed)
}

export interface BilledBatch {
  readonly invoices: number
  readonly charges: Array<PendingCharge>
  readonly ids: Array<number>
  /** Whether another pass may find more due (false saves the empty pass that would confirm it). */
  readonly more: boolean
  /** The invoices made, in the order of their subscriptions. */
  readonly invoiceIds?: ReadonlyArray<number>
  /** The last subscription claimed (`DueKey`): where the worker's next claim starts. */
  readonly last?: DueKey
}

interface PaidInvoiceRow {
  id: number
  number: string
  subscription_id: number
  total: number
  /** What this payment brought: the total less what was recorded by hand before it. */
  amount: number
  currency: string
  contact_id: number
  email: string
  status: string
  payments_made: number
  invoice_language: string | null
  invoice_locale: string | null
  contact_language: string | null
  contact_locale: string | null
  collection_method: string
}

/**
 * Marks open invoices paid (only those still open: a late or repeated call
 * changes nothing), counts the payment on the subscription, brings an unpaid
 * or past-due subscription back to active (an unpaid one without billing the
 * periods it missed: `skipUnpaidPeriods`), and queues the receipt and the
 * admin notification. `source` is who paid, as the journal names it: the
 * engine for a charge, `cli` for a payment recorded by hand (which
 * `writeJournal` turns into `api:<key name>` for the HTTP API).
 */
export const markInvoicesPaid = async (
  tx: TransactionSql, ctx: EngineContext, invoiceIds: ReadonlyArray<number>, via: string, source = "engine"
): Promise<number> => {
  if (invoiceIds.length === 0) return 0
  const today = ctx.today
  // The invoices and their subscriptions in one statement: each paid invoice's row carries its subscription as updated.
  // `amount` is this payment, what was still due: payments recorded by hand before it journaled their own.
  // The rows are locked first, so the amount paid read is the one the update replaces.
  // Each subscription's paid invoices travel with its updated row as arrays, unnested at the end: a join of the two
  // CTEs is planned as a nested loop (a CTE's row count is not known: 1 row each, says the plan), and with 357
  // renewals paid in one call it compared 127,000 pairs, half of the statement's 18 ms.
  // The invoices are found by their primary key alone, their status checked once they are locked: a predicate on the
  // status in the scan let the planner pick the partial index of open invoices whenever the statistics said few were
  // open (the day's first renewals): each call then read every entry of it, the day's paid ones included until a
  // vacuum (200,000 renewals in one tick after a day of 20,000: 111 ms a call, 47 s of the tick's 64 s of PostgreSQL).
  const paid = await tx<Array<PaidInvoiceRow>>`
    with locked as materialized (
      select id, status, total - amount_paid as amount from invoices
      where id = any(${invoiceIds as Array<number>})
      order by id for update
    ), due as (
      select id, amount from locked where status = 'open'
    ), paid as (
      update invoices i set status = 'paid', amount_paid = i.total, paid_on = ${today}
      from due where i.id = due.id
      returning i.id, i.number, i.subscription_id, i.total, due.amount, i.currency
    ), subs as (
      update subscriptions s set payments_made = s.payments_made + u.n, retry_count = 0, next_retry_on = null, unpaid_since = null, updated_at = now()
      from (select subscription_id as sid, count(*)::int as n, array_agg(id) as ids, array_agg(number) as numbers, array_agg(total) as totals,
                   array_agg(amount) as amounts, array_agg(currency) as currencies
            from paid group by subscription_id) as u, contacts c
      where s.id = u.sid and c.id = s.contact_id
      returning s.id as subscription_id, s.status, s.payments_made, s.contact_id, c.email, s.invoice_language, s.invoice_locale,
                c.language as contact_language, c.locale as contact_locale, s.collection_method, u.ids, u.numbers, u.totals, u.amounts, u.currencies
    )
    select p.id, p.number, s.subscription_id, p.total, p.amount, p.currency, s.status, s.payments_made, s.contact_id, s.email, s.invoice_language,
           s.invoice_locale, s.contact_language, s.contact_locale, s.collection_method
    from subs s cross join lateral unnest(s.ids, s.numbers, s.totals, s.amounts, s.currencies) as p(id, number, total, amount, currency)
    order by p.id`
  if (paid.length === 0) return 0
  const subById = new Map(paid.map((r) => [r.subscription_id, r]))
  const subs = [...subById.values()]
  // Back to active: unpaid after a successful retry; past due once no overdue invoice is left open.
  // The rows are locked by the update above, so their status is as read: a batch of renewals of
  // active subscriptions (the common case) skips this statement.
  const behind = subs.filter((s) => s.status === "unpaid" || s.status === "past_due").map((s) => s.subscription_id)
  const recovered = behind.length === 0 ? [] : await tx<Array<RecoveredRow>>`
    update subscriptions s set status = 'active', updated_at = now()
    where s.id = any(${behind}) and (s.status = 'unpaid' or (s.status = 'past_due' and not exists (
      select 1 from invoices i where i.subscription_id = s.id and i.status = 'open' and i.overdue_on is not null)))
    returning s.id, coalesce(s.billing_anchor, s.start_date) as anchor, s.frequency_unit, s.frequency_count, s.next_billing_date,
              s.terms_payments, s.periods_billed, s.end_date`
  const events: Array<JournalEvent> = []
  const messages: Array<OutboxMessage> = []
  // Each payment's count: a subscription paying n invoices in this call counted them in id order, up to its new count.
  const left = new Map<number, number>()
  for (const p of paid) left.set(p.subscription_id, (left.get(p.subscription_id) ?? 0) + 1)
  // The journal tells it in order: the payment, then the recovery it caused (found by an audit: the other way round).
  for (const p of paid) {
    const s = subById.get(p.subscription_id)!
    const after = left.get(p.subscription_id)!
    left.set(p.subscription_id, after - 1)
    const count = s.payments_made - after + 1
    paidNotices(ctx, p, s, via, count, events, messages)
    // A renewal is this payment's, with its own count: the first payment of a subscription paid in the same call is none.
    if (count > 1) events.push({ type: "subscription.renewed", subscriptionId: p.subscription_id, contactId: s.contact_id, invoiceId: p.id, occurredOn: today, data: { payments_made: count, invoice_id: p.id } })
  }
  for (const r of recovered) events.push(statusChanged(r.id, subById.get(r.id)!.status, "active", today, { reason: "payment_recovered" }))
  if (!ctx.settings.unpaidCatchUp) {
    events.push(...await skipUnpaidPeriods(tx, today, recovered.filter((r) => subById.get(r.id)!.status === "unpaid")))
  }
  // Sent together (pipelined on the transaction's connection, run in this order), and left to the commit where it can be.
  await awaitByCommit(tx, [writeJournal(tx, events, source), enqueueMessages(tx, messages)])
  return paid.length
}

/**
 * What a paid invoice journals and sends: payment.succeeded and invoice.paid; the buyer's receipt and the admin's
 * notification. `paymentsMade` is the subscription's count of payments with this one, null when it counted none (a
 * checkout's one-time invoice): the rules read it, for the order payments are made in is not the order of their
 * invoices (a checkout's bank debit for the one-time lines may settle after the first recurring payment).
 */
const paidNotices = (
  ctx: EngineContext,
  p: { id: number; number: string; subscription_id: number; total: number; amount: number; currency: string },
  s: Pick<PaidInvoiceRow, "contact_id" | "email" | "invoice_language" | "invoice_locale" | "contact_language" | "contact_locale">,
  via: string, paymentsMade: number | null, events: Array<JournalEvent>, messages: Array<OutboxMessage>
) => {
  const today = ctx.today
  const language = languageOf(s, ctx.settings)
  const locale = localeOf(s, ctx.settings)
  events.push({ type: "payment.succeeded", subscriptionId: p.subscription_id, contactId: s.contact_id, invoiceId: p.id, occurredOn: today, data: { invoice_id: p.id, number: p.number, amount: p.amount, currency: p.currency, via, payments_made: paymentsMade } })
  events.push({ type: "invoice.paid", subscriptionId: p.subscription_id, contactId: s.contact_id, invoiceId: p.id, occurredOn: today, data: { invoice_id: p.id, number: p.number, total: p.total, currency: p.currency } })
  if (p.total > 0) {
    // The receipt thanks for this payment: what was still due, not the invoice's total when part was paid before.
    messages.push({ kind: "email", template: "receipt", dedupeKey: `email:receipt:${p.id}`, subscriptionId: p.subscription_id, invoiceId: p.id, recipient: s.email, language, locale, payload: { invoice_id: p.id, amount: p.amount }, createdOn: today })
    messages.push({ kind: "notification", template: "payment_notification", dedupeKey: `notification:payment_succeeded:${p.id}`, subscriptionId: p.subscription_id, invoiceId: p.id, recipient: ctx.settings.adminEmail, language: ctx.settings.language, locale: ctx.settings.locale, payload: { invoice_id: p.id, outcome: "succeeded", amount: p.amount }, createdOn: today })
  }
}

/**
 * What a checkout charged today when recurring billing starts later: the one-time lines, on an
 * invoice of the purchase's first subscription dated today (its own period, before billing starts),
 * paid by the checkout's charge. It is not one of the subscription's payments: payments_made and
 * periods_billed stay as they are, so fixed terms keep their N payments and the first recurring
 * invoice is period 0.
 */
export const invoiceOneTimeAtCheckout = async (
  tx: TransactionSql, ctx: EngineContext, subscriptionId: number,
  lines: ReadonlyArray<Pick<LineItem, "name" | "unitPrice" | "quantity" | "discount" | "taxRate">>, paid: PaidAtCheckout
): Promise<number> => {
  const today = ctx.today
  const [s] = await tx<Array<Pick<PaidInvoiceRow, "contact_id" | "email" | "invoice_language" | "invoice_locale" | "contact_language" | "contact_locale"> & { currency: string }>>`
    select s.contact_id, c.email, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale, s.currency
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = ${subscriptionId}`
  const amounts = lines.map((l) => lineAmounts(l))
  const totals = totalsOf(amounts)
  const payment = discountBeforeTax(lines.map((l, i) => ({ net: amounts[i]!.net, taxRate: l.taxRate })), paid.discounts)
  const total = payment.total
  if (total !== paid.amount) throw new Error(`a checkout's payment of ${paid.amount} does not pay its one-time lines (${total}); nothing was written`)
  const number = (await takeInvoiceNumbers(tx, 1))[0]!
  const [invoice] = await tx<Array<{ id: number }>>`
    insert into invoices (number, subscription_id, period_index, period_start, period_end, issue_date, due_date, currency,
                          subtotal, discount, tax, fees, total, collection_method, status, language, locale)
    values (${number}, ${subscriptionId}, 0, ${today}, ${today}, ${today}, ${today}, ${s!.currency}, ${totals.subtotal}, ${totals.discount + payment.discounts.reduce((sum, d) => sum + d, 0)},
            ${payment.tax}, 0, ${total}, 'charge', 'open', ${languageOf(s!, ctx.settings)}, ${localeOf(s!, ctx.settings)})
    returning id`
  await tx`
    insert into invoice_lines (invoice_id, line_no, name, quantity, unit_price, unit_discount, tax_rate_ppm, amount, tax, one_time)
    select ${invoice!.id}, n, nm, q, up, ud, tr, am, tx, true from unnest(${lines.map((_, i) => i + 1)}::int[], ${lines.map((l) => l.name)}::text[],
      ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.unitPrice)}::int8[], ${amounts.map((a) => a.unitDiscount)}::int8[],
      ${lines.map((l) => l.taxRate ?? null)}::int[], ${amounts.map((a) => a.net)}::int8[], ${payment.taxes}::int8[]) as u(n, nm, q, up, ud, tr, am, tx)`
  await writeJournal(tx, [{
    type: "invoice.created", subscriptionId, contactId: s!.contact_id, invoiceId: invoice!.id, occurredOn: today,
    data: { invoice_id: invoice!.id, total, currency: s!.currency, period_start: today, period_end: today, due_date: today, collection_method: "charge" }
  }], "buyer")
  if (paid.awaiting !== true) await payInvoicesAtCheckout(tx, ctx, [], invoice!.id, paid)
  return invoice!.id
}

export interface RecoveredRow {
  id: number
  anchor: string
  frequency_unit: Frequency["unit"]
  frequency_count: number
  next_billing_date: string | null
  terms_payments: number | null
  periods_billed: number
  end_date: string | null
}

/**
 * Unpaid does not back-bill (setting `unpaid-catch-up off`, the default): the
 * periods that began while the subscription was unpaid were not delivered, so
 * they are skipped, never invoiced. Billing goes on from the first anchor date
 * on or after the recovery day, as after a resume; a recovery on an anchor
 * date bills that date's period the same day. Fixed terms keep their number
 * of payments (skipped periods are not payments), so their end date moves
 * later by the periods skipped, as it does for a pause. Dates come from the
 * anchor, never from the previous date.
 */
export const skipUnpaidPeriods = async (tx: TransactionSql, today: CalendarDate, rows: ReadonlyArray<RecoveredRow>): Promise<Array<JournalEvent>> => {
  const moved = rows.flatMap((r) => {
    if (r.next_billing_date === null || r.next_billing_date >= today) return []
    const remaining = r.terms_payments === null ? undefined : r.terms_payments - r.periods_billed
    // All payments of fixed terms billed: nothing is skipped, the term ends (expires) on its date.
    if (remaining !== undefined && remaining <= 0) return []
    const { next, endDate } = new BillingSchedule(r.anchor as CalendarDate, { unit: r.frequency_unit, count: r.frequency_count }).goingOnFrom(today, remaining)
    return [{ r, next, endDate: endDate ?? r.end_date }]
  })
  if (moved.length === 0) return []
  await tx`
    update subscriptions s set next_billing_date = u.nbd, end_date = u.ed, updated_at = now(), ${codeDiscountEndMoving(tx, tx`u.nbd`)}
    from unnest(${moved.map((m) => m.r.id)}::int8[], ${moved.map((m) => m.next)}::date[], ${moved.map((m) => m.endDate)}::date[]) as u(id, nbd, ed)
    where s.id = u.id`
  return moved.map((m) => ({
    type: "subscription.property_changed", subscriptionId: m.r.id, occurredOn: today,
    data: { property: "next_billing_date", from: m.r.next_billing_date, to: m.next, reason: "unpaid_periods_skipped" }
  }))
}

export interface AttemptOutcome {
  readonly attemptId: number
  readonly result:
    | { readonly _tag: "Succeeded"; readonly gatewayRef: string }
    | { readonly _tag: "Declined"; readonly reason: string }
    | { readonly _tag: "Unknown"; readonly reason: string }
    | { readonly _tag: "Pending"; readonly reason: string }
}

/**
 * Records gateway outcomes, in one transaction. Only attempts still
 * unsettled and still leased to this engine are recorded: a late write from
 * an engine whose lease expired changes nothing.
 */
/**
 * What a call of `settleAttempts` recorded: charges (and refunds) that succeeded and failed, and of those left
 * unsettled only the ones answered for the first time: a lost reply (`unknown`) and a bank debit the bank has not
 * settled yet (`pending`). Asking again about one of them, until it settles, counts nothing.
 */
export interface SettledCounts {
  readonly succeeded: number
  readonly failed: number
  readonly unknown: number
  readonly pending: number
}

export const settleAttempts = async (sql: Sql, ctx: EngineContext, outcomes: ReadonlyArray<AttemptOutcome>): Promise<SettledCounts> =>
  sql.begin(async (tx) => {
    const today = ctx.today
    const ok = outcomes.filter((o) => o.result._tag === "Succeeded")
    const declined = outcomes.filter((o) => o.result._tag === "Declined")
    // A lost reply and a bank debit not settled yet alike: asked about again with the same key (a debit no sooner than the next day).
    const unknown = outcomes.filter((o) => o.result._tag === "Unknown" || o.result._tag === "Pending")

    // Each update reads its attempts by primary key alone, beside their outcomes, and checks their status and lease once
    // they are locked: with the status in the scan's predicate the planner could read the whole partial index of
    // unsettled attempts, settled ones included until a vacuum, whenever the statistics said few were unsettled (as in
    // markInvoicesPaid). `locked` is that read: `l`, the attempts (`u`, with their outcomes) locked in id order, beside
    // their status and lease as locked.
    const locked = (outcomes: ReturnType<typeof tx>) => tx`
      with l as materialized (
        select u.*, p.status, p.lease_owner from ${outcomes} join payment_attempts p on p.id = u.id
        order by p.id for update of p
      )`
    const settleable = () => tx`l.status in ('pending', 'unknown') and l.lease_owner = ${ctx.owner}`
    const okRows = ok.length === 0 ? [] : await tx<Array<{ id: number; invoice_id: number; kind: string }>>`
      ${locked(tx`unnest(${ok.map((o) => o.attemptId)}::int8[], ${ok.map((o) => (o.result as { gatewayRef: string }).gatewayRef)}::text[]) as u(id, ref)`)}
      update payment_attempts a set status = 'succeeded', gateway_ref = l.ref, settled_at = now(), lease_owner = null, lease_until = null
      from l where a.id = l.id and ${settleable()}
      returning a.id, a.invoice_id, a.kind`
    const unknownRows = unknown.length === 0 ? [] : await tx<Array<{ id: number; first: boolean; pending: boolean }>>`
      ${locked(tx`unnest(${unknown.map((o) => o.attemptId)}::int8[], ${unknown.map((o) => (o.result._tag === "Pending" ? o.result.reason : "gateway timeout"))}::text[],
        ${unknown.map((o) => (o.result._tag === "Pending" ? "t" : "f"))}::text[]::bool[]) as u(id, reason, pending)`)}
      update payment_attempts a set status = 'unknown', failure_reason = l.reason, check_count = a.check_count + 1,
        lease_owner = null, lease_until = null,
        check_after = ${new Date(ctx.now ?? Date.now())}::timestamptz + case when l.pending then interval '1 day' when a.check_count = 0 then interval '5 minutes'
          when a.check_count = 1 then interval '1 hour' when a.check_count = 2 then interval '6 hours' else interval '1 day' end
      from l where a.id = l.id and ${settleable()}
      returning a.id, l.status = 'pending' as first, l.pending`
    const failedRows = declined.length === 0 ? [] : await tx<Array<{ id: number; invoice_id: number; kind: string; attempt_number: number; failure_reason: string; initiated_by: string }>>`
      ${locked(tx`unnest(${declined.map((o) => o.attemptId)}::int8[], ${declined.map((o) => (o.result as { reason: string }).reason)}::text[]) as u(id, reason)`)}
      update payment_attempts a set status = 'failed', failure_reason = l.reason, settled_at = now(), lease_owner = null, lease_until = null
      from l where a.id = l.id and ${settleable()}
      returning a.id, a.invoice_id, a.kind, a.attempt_number, a.failure_reason, a.initiated_by`
    ctx.failpoint("after-attempt-settle")

    await markInvoicesPaid(tx, ctx, okRows.filter((r) => r.kind === "charge").map((r) => r.invoice_id), "gateway")
    await recordRefunds(tx, ctx, okRows.filter((r) => r.kind === "refund").map((r) => r.id))
    await recordChargeFailures(tx, ctx, failedRows.filter((r) => r.kind === "charge" && r.initiated_by === "engine"))
    await recordBuyerDeclines(tx, ctx, failedRows.filter((r) => r.kind === "charge" && r.initiated_by === "buyer").map((r) => r.id))
    ctx.failpoint("before-settle-commit")
    // An attempt is 'pending' until the gateway's first answer; one asked about again was left 'unknown' by it.
    const firstAnswers = unknownRows.filter((r) => r.first)
    return { succeeded: okRows.length, failed: failedRows.length, unknown: firstAnswers.filter((r) => !r.pending).length, pending: firstAnswers.filter((r) => r.pending).length }
  }) as Promise<SettledCounts>

const recordRefunds = async (tx: TransactionSql, ctx: EngineContext, attemptIds: ReadonlyArray<number>) => {
  if (attemptIds.length === 0) return
  const rows = await tx<Array<{ invoice_id: number; amount: number; subscription_id: number; currency: string }>>`
    update invoices i set amount_refunded = i.amount_refunded + a.amount
    from payment_attempts a where a.id = any(${attemptIds as Array<number>}) and a.invoice_id = i.id
    returning i.id as invoice_id, a.amount, i.subscription_id, i.currency`
  await writeJournal(tx, rows.map((r) => ({
    type: "payment.refunded", subscriptionId: r.subscription_id, invoiceId: r.invoice_id, occurredOn: ctx.today,
    data: { invoice_id: r.invoice_id, amount: r.amount, currency: r.currency }
  })))
}

/**
 * A card the buyer entered on a page (`/p`, `/i`) and the gateway declined:
 * the page shows the decline and the buyer may try another card, so it is
 * journaled (`payment.failed`, `initiated_by: buyer`) but neither makes the
 * subscription unpaid, nor uses a retry, nor emails the buyer who is looking
 * at the answer.
 */
const recordBuyerDeclines = async (tx: TransactionSql, ctx: EngineContext, attemptIds: ReadonlyArray<number>) => {
  if (attemptIds.length === 0) return
  const rows = await tx<Array<{ attempt_number: number; failure_reason: string; invoice_id: number; number: string; amount: number; currency: string; subscription_id: number; contact_id: number }>>`
    select a.attempt_number, a.failure_reason, i.id as invoice_id, i.number, a.amount, i.currency, s.id as subscription_id, s.contact_id
    from payment_attempts a join invoices i on i.id = a.invoice_id join subscriptions s on s.id = i.subscription_id
    where a.id = any(${attemptIds as Array<number>}) order by a.id`
  await writeJournal(tx, rows.map((r) => ({
    type: "payment.failed", subscriptionId: r.subscription_id, contactId: r.contact_id, invoiceId: r.invoice_id, occurredOn: ctx.today,
    data: { invoice_id: r.invoice_id, number: r.number, attempt: r.attempt_number, reason: r.failure_reason, amount: r.amount, currency: r.currency, next_retry_on: null, initiated_by: "buyer" }
  })))
}

interface FailureSubRow {
  id: number
  status: string
  retry_count: number
  unpaid_since: string | null
  contact_id: number
  email: string
  invoice_language: string | null
  invoice_locale: string | null
  contact_language: string | null
  contact_locale: string | null
  invoice_id: number
  attempt_id: number
  attempt_number: number
  failure_reason: string
  total: number
  /** What the attempt asked for: the rest still due, less than the total after a payment by hand. */
  amount: number
  currency: string
  number: string
}

/**
 * A failed charge makes the subscription unpaid and schedules retries on the
 * account's schedule (days after the first failure); when the retries run
 * out, the account's policy applies: keep unpaid, cancel, or pause.
 */
const recordChargeFailures = async (tx: TransactionSql, ctx: EngineContext, failed: ReadonlyArray<{ id: number; invoice_id: number }>) => {
  if (failed.length === 0) return
  const today = ctx.today
  const rows = await tx<Array<FailureSubRow>>`
    select s.id, s.status, s.retry_count, s.unpaid_since, s.contact_id, c.email, s.invoice_language, s.invoice_locale,
           c.language as contact_language, c.locale as contact_locale, i.id as invoice_id, a.id as attempt_id, a.attempt_number,
           a.failure_reason, i.total, a.amount, i.currency, i.number
    from unnest(${failed.map((f) => f.id)}::int8[]) as u(aid)
    join payment_attempts a on a.id = u.aid
    join invoices i on i.id = a.invoice_id
    join subscriptions s on s.id = i.subscription_id
    join contacts c on c.id = s.contact_id
    order by s.id
    for update of s`
  const updates = { id: [] as Array<number>, status: [] as Array<string>, retry: [] as Array<number>, since: [] as Array<string>, next: [] as Array<string | null>, nbdNull: [] as Array<boolean> }
  const events: Array<JournalEvent> = []
  const messages: Array<OutboxMessage> = []
  const uncollectible: Array<number> = []
  for (const r of rows) {
    // A subscription canceled, expired or paused while its charge was in flight (a bank debit takes days) stays so:
    // the failure is told (journal, buyer, admins) and the invoice stays open, but no dunning starts. Dunning made a
    // canceled subscription unpaid again and debited the buyer's account on every retry after the cancellation.
    const stays = r.status === "canceled" || r.status === "expired" || r.status === "paused"
    const dunning = afterFailedCharge({ status: r.status, retryCount: r.retry_count, unpaidSince: r.unpaid_since as CalendarDate | null }, today, ctx.settings.retryDays, ctx.settings.afterRetries)
    const { status, retriesMade, unpaidSince: since, nextRetryOn: next } = stays ? { ...dunning, status: r.status, nextRetryOn: null } : dunning
    const stopBilling = status === "canceled"
    events.push({
      type: "payment.failed", subscriptionId: r.id, contactId: r.contact_id, invoiceId: r.invoice_id, occurredOn: today,
      data: { invoice_id: r.invoice_id, number: r.number, attempt: r.attempt_number, reason: r.failure_reason, amount: r.amount, currency: r.currency, next_retry_on: next }
    })
    const language = languageOf(r, ctx.settings)
    const locale = localeOf(r, ctx.settings)
    const told: Array<OutboxMessage> = [{
      kind: "email", template: "payment_failed", dedupeKey: `email:payment_failed:${r.attempt_id}`, subscriptionId: r.id, invoiceId: r.invoice_id,
      recipient: r.email, language, locale, createdOn: today,
      // A subscription this failure ends (retries ran out, after-retries cancel) or that ended meanwhile: the email asks
      // for no new card (its page would charge nothing), and comes before the cancellation's.
      payload: { invoice_id: r.invoice_id, attempt: r.attempt_number, reason: r.failure_reason, next_retry_on: next, amount: r.amount, ...(status === "canceled" || status === "expired" ? { subscription_ended: true } : {}) }
    }, {
      kind: "notification", template: "payment_notification", dedupeKey: `notification:payment_failed:${r.attempt_id}`, subscriptionId: r.id, invoiceId: r.invoice_id,
      recipient: ctx.settings.adminEmail, language: ctx.settings.language, locale: ctx.settings.locale, payload: { invoice_id: r.invoice_id, outcome: "failed", reason: r.failure_reason, amount: r.amount }, createdOn: today
    }]
    messages.push(...told)
    if (stays) continue
    if (status === "canceled") {
      uncollectible.push(r.invoice_id)
      events.push({ type: "subscription.canceled", subscriptionId: r.id, contactId: r.contact_id, occurredOn: today, data: { reason: "retries_exhausted", effective_on: today } })
      messages.push({ kind: "email", template: "cancellation", dedupeKey: `email:cancellation:${r.id}`, subscriptionId: r.id, recipient: r.email, language: languageOf(r, ctx.settings), locale: localeOf(r, ctx.settings), payload: { reason: "retries_exhausted" }, createdOn: today })
    } else if (status === "paused") {
      events.push({ type: "subscription.paused", subscriptionId: r.id, contactId: r.contact_id, occurredOn: today, data: { reason: "retries_exhausted" } })
    }
    if (r.status !== status) events.push(statusChanged(r.id, r.status, status, today, { reason: "payment_failed" }))
    updates.id.push(r.id)
    updates.status.push(status)
    updates.retry.push(retriesMade)
    updates.since.push(since)
    updates.next.push(status === "unpaid" ? next : null)
    updates.nbdNull.push(stopBilling)
  }
  await tx`
    update subscriptions s set status = u.st, retry_count = u.rc, unpaid_since = case when u.st = 'unpaid' then u.since else null end,
      next_retry_on = u.nx, updated_at = now(),
      canceled_on = case when u.st = 'canceled' then ${today}::date else s.canceled_on end,
      paused_on = case when u.st = 'paused' then ${today}::date else s.paused_on end,
      next_billing_date = case when u.stop then null else s.next_billing_date end
    from unnest(${updates.id}::int8[], ${updates.status}::text[], ${updates.retry}::int[], ${updates.since}::date[], ${updates.next}::date[], ${updates.nbdNull.map((b) => (b ? "t" : "f"))}::text[]::bool[]) as u(id, st, rc, since, nx, stop)
    where s.id = u.id`
  if (uncollectible.length > 0) {
    // Bad debt, journaled as `invoices write-off` journals it: the journal, webhooks and the reports' copy see it.
    const written = await tx<Array<ClosedInvoiceRow & { contact_id: number }>>`
      update invoices i set status = 'uncollectible', closed_on = ${today}
      from subscriptions s where i.id = any(${uncollectible}) and i.status = 'open' and s.id = i.subscription_id
      returning i.id, i.number, i.total, i.amount_paid, i.currency, i.subscription_id, s.contact_id`
    for (const inv of written) events.push(closedInvoiceEvent("invoice.written_off", inv, "open", inv.contact_id, today, "retries_exhausted"))
  }
  await writeJournal(tx, events)
  await enqueueMessages(tx, messages)
}

/**
 * Takes over unsettled attempts: those whose lease expired (their engine
 * died or stalled) or that were left `unknown` by a lost reply and whose
 * backoff has passed. They are asked about again with the same idempotency key.
 */
export const claimUnsettledAttempts = async (sql: Sql, ctx: EngineContext, limit: number, deadOwners: ReadonlyArray<string>): Promise<Array<PendingCharge>> => {
  // A lost reply is asked about again once its backoff (business time) has passed: never twice at one instant.
  const now = new Date(ctx.now ?? Date.now())
  const rows = await sql<Array<{ id: number; invoice_id: number; subscription_id: number; idempotency_key: string; kind: "charge" | "refund"; amount: number; currency: string; payment_method: string | null; number: string }>>`
    update payment_attempts a set lease_owner = ${ctx.owner}, lease_until = now() + interval '60 seconds'
    from invoices i
    where a.id in (
      select id from payment_attempts
      where status in ('pending', 'unknown')
        and (lease_until is null or lease_until < now() or lease_owner = any(${deadOwners as Array<string>}))
        and (status = 'pending' or check_after is null or check_after <= ${now}::timestamptz)
      order by id limit ${limit} for update skip locked)
      and i.id = a.invoice_id
    returning a.id, a.invoice_id, i.subscription_id, a.idempotency_key, a.kind, a.amount, a.currency, a.payment_method, i.number`
  return rows.map((r) => ({
    attemptId: r.id, invoiceId: r.invoice_id, subscriptionId: r.subscription_id, idempotencyKey: r.idempotency_key,
    kind: r.kind, amount: r.amount, currency: r.currency, paymentMethod: r.payment_method, reference: r.number
  }))
}

/**
 * Claims a command's own attempts (the refund of `cancel --refund-unused`) to
 * settle them at once: only those still unsettled and not leased by a live
 * engine; the rest the engine's next tick settles with the same keys.
 */
export const claimAttemptsNow = async (sql: Sql, ctx: EngineContext, attemptIds: ReadonlyArray<number>): Promise<Array<PendingCharge>> => {
  const rows = await sql<Array<{ id: number; invoice_id: number; subscription_id: number; idempotency_key: string; kind: "charge" | "refund"; amount: number; currency: string; payment_method: string | null; number: string }>>`
    update payment_attempts a set lease_owner = ${ctx.owner}, lease_until = now() + interval '60 seconds'
    from invoices i
    where a.id = any(${attemptIds as Array<number>}) and a.status in ('pending', 'unknown') and (a.lease_until is null or a.lease_until < now())
      and i.id = a.invoice_id
    returning a.id, a.invoice_id, i.subscription_id, a.idempotency_key, a.kind, a.amount, a.currency, a.payment_method, i.number`
  return rows.map((r) => ({
    attemptId: r.id, invoiceId: r.invoice_id, subscriptionId: r.subscription_id, idempotencyKey: r.idempotency_key,
    kind: r.kind, amount: r.amount, currency: r.currency, paymentMethod: r.payment_method, reference: r.number
  }))
}

/** Lease owners of unsettled attempts, for the caller to tell which are dead. */
export const unsettledLeaseOwners = async (sql: Sql): Promise<Array<string>> =>
  (await sql<Array<{ lease_owner: string }>>`
    select distinct lease_owner from payment_attempts where status in ('pending', 'unknown') and lease_owner is not null`).map((r) => r.lease_owner)

/**
 * Creates the retry attempts that are due (unpaid subscriptions whose next
 * retry day has come): a new attempt, with a new key, on the same open
 * invoice — the previous attempt was settled as declined, so this charges
 * at most once more.
 */
export const createDueRetries = async (sql: Sql, ctx: EngineContext, limit: number): Promise<Array<PendingCharge>> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<{ subscription_id: number; invoice_id: number; number: string; total: number; amount_paid: number; currency: string; payment_method: string | null; next_attempt: number }>>`
      select s.id as subscription_id, i.id as invoice_id, i.number, i.total, i.amount_paid, i.currency,
             coalesce(s.payment_method, c.payment_method) as payment_method,
             (select coalesce(max(attempt_number), 0) + 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge') as next_attempt
      from subscriptions s
      join contacts c on c.id = s.contact_id
      join lateral (select * from invoices i where i.subscription_id = s.id and i.status = 'open' and i.collection_method = 'charge'
                    order by i.period_start desc limit 1) i on true
      where s.status = 'unpaid' and s.next_retry_on <= ${ctx.today} and s.parked_at is null
        -- One probe per attempt kind, each through an index on invoice_id: a probe on status alone walked
        -- payment_attempts_unsettled, which after a renewal day holds every settled attempt until vacuum
        -- (a 200,000-renewal day made the next day's retries take minutes).
        and not exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status in ('pending', 'unknown'))
        and not exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'refund' and a.status in ('pending', 'unknown'))
      order by s.id limit ${limit}
      for update of s skip locked`
    if (rows.length === 0) return []
    const attempts = await tx<Array<{ id: number; invoice_id: number; idempotency_key: string; amount: number; currency: string; payment_method: string | null }>>`
      insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, lease_owner, lease_until, requested_on)
      select i, 'charge', n, k, a, c, pm, 'pending', ${ctx.owner}, now() + interval '60 seconds', ${ctx.today}::date from unnest(
        ${rows.map((r) => r.invoice_id)}::int8[], ${rows.map((r) => r.next_attempt)}::int[],
        ${rows.map((r) => attemptKey(r.invoice_id, "charge", r.next_attempt))}::text[],
        ${rows.map((r) => r.total - r.amount_paid)}::int8[], ${rows.map((r) => r.currency)}::text[], ${rows.map((r) => r.payment_method)}::text[]
      ) as u(i, n, k, a, c, pm)
      returning id, invoice_id, idempotency_key, amount, currency, payment_method`
    // The retry day is used: the next one is set when this attempt is settled.
    await tx`update subscriptions set next_retry_on = null where id = any(${rows.map((r) => r.subscription_id)})`
    const byInvoice = new Map(rows.map((r) => [r.invoice_id, r]))
    return attempts.map((a) => ({
      attemptId: a.id, invoiceId: a.invoice_id, subscriptionId: byInvoice.get(a.invoice_id)!.subscription_id, idempotencyKey: a.idempotency_key,
      kind: "charge" as const, amount: a.amount, currency: a.currency, paymentMethod: a.payment_method, reference: byInvoice.get(a.invoice_id)!.number
    }))
  }) as Promise<Array<PendingCharge>>
