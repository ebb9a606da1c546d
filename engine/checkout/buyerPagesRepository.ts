/**
 * The SQL of the buyer's pages (`/p/TOKEN`, `/i/TOKEN`): what a page shows,
 * and the one write a page makes before the gateway is called — the new
 * payment method and the buyer's charge attempt, committed together. The
 * schema's one-in-flight-charge-per-invoice key makes a second submit (double
 * click, reload, another tab) find the first attempt instead of making a
 * second: one charge.
 */
import { languageOf, localeOf, shownLine, shownTotals } from "../billing/index.ts"
import type { JournalEvent, Sql } from "../sql/index.ts"
import type { AccountSettings, EngineContext } from "../account/index.ts"
import { writeJournal } from "../sql/index.ts"
import { attemptKey, awaitingCheckoutDebit as awaitingDebit } from "../invoicing/index.ts"

export interface OpenInvoice {
  readonly id: number
  readonly number: string
  readonly currency: string
  readonly amountDue: number
  readonly dueDate: string
}

/** A charge of the buyer's in flight or settled: what the page tells after the submit. */
export type AttemptState = "pending" | "unknown" | "succeeded" | "failed"

export interface PaymentUpdateView {
  readonly subscriptionId: number
  readonly name: string
  readonly status: string
  readonly contactName: string
  readonly language: string
  readonly locale: string
  /** The invoice the next card pays at once: the subscription's latest open charged invoice. */
  readonly openInvoice: OpenInvoice | undefined
  readonly inFlight: boolean
}

export interface InvoicePayView {
  readonly invoiceId: number
  readonly number: string
  readonly status: string
  readonly currency: string
  readonly total: number
  /** The totals the invoice document shows, so the page adds up as it does: lines, discounts, tax, fees, total, paid. */
  readonly subtotal: number
  readonly discount: number
  readonly tax: number
  readonly fees: number
  readonly amountPaid: number
  readonly amountDue: number
  readonly issueDate: string
  readonly dueDate: string
  readonly subscriptionName: string
  readonly contactName: string
  readonly language: string
  readonly locale: string
  readonly lines: ReadonlyArray<{ readonly name: string; readonly quantity: number; readonly amount: number }>
  readonly inFlight: boolean
}

const openChargeInvoice = (sql: Sql, subscriptionId: number) =>
  sql<Array<{ id: number; number: string; currency: string; total: number; amount_paid: number; due_date: string; in_flight: boolean }>>`
    select i.id, i.number, i.currency, i.total, i.amount_paid, i.due_date,
           (exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status in ('pending', 'unknown'))
             or ${awaitingDebit(sql, sql`i.id`)}) as in_flight
    from invoices i
    where i.subscription_id = ${subscriptionId} and i.status = 'open' and i.collection_method = 'charge' and i.total > i.amount_paid
    order by i.period_start desc limit 1`

export const loadPaymentUpdateView = async (sql: Sql, settings: AccountSettings, subscriptionId: number): Promise<PaymentUpdateView | undefined> => {
  const [s] = await sql<Array<{ id: number; name: string; status: string; contact_name: string | null; email: string; invoice_language: string | null; invoice_locale: string | null; contact_language: string | null; contact_locale: string | null }>>`
    select s.id, s.name, s.status, c.name as contact_name, c.email, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = ${subscriptionId}`
  if (s === undefined) return undefined
  const [i] = await openChargeInvoice(sql, subscriptionId)
  return {
    subscriptionId: s.id, name: s.name, status: s.status, contactName: s.contact_name ?? s.email,
    language: languageOf(s, settings), locale: localeOf(s, settings),
    openInvoice: i === undefined ? undefined : { id: i.id, number: i.number, currency: i.currency, amountDue: i.total - i.amount_paid, dueDate: i.due_date },
    inFlight: i?.in_flight ?? false
  }
}

export const loadInvoicePayView = async (sql: Sql, settings: AccountSettings, invoiceId: number): Promise<InvoicePayView | undefined> => {
  const [i] = await sql<Array<{ id: number; number: string; status: string; currency: string; subtotal: number; discount: number; tax: number; fees: number; total: number; amount_paid: number; issue_date: string; due_date: string; name: string; contact_name: string | null; email: string; language: string | null; locale: string | null; invoice_language: string | null; invoice_locale: string | null; contact_language: string | null; contact_locale: string | null; in_flight: boolean }>>`
    select i.id, i.number, i.status, i.currency, i.subtotal, i.discount, i.tax, i.fees, i.total, i.amount_paid, i.issue_date, i.due_date, s.name, c.name as contact_name, c.email,
           i.language, i.locale, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale,
           (exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status in ('pending', 'unknown'))
             or ${awaitingDebit(sql, sql`i.id`)}) as in_flight
    from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id where i.id = ${invoiceId}`
  if (i === undefined) return undefined
  const lines = await sql<Array<{ name: string; quantity: number; unit_price: number; amount: number }>>`
    select name, quantity, unit_price, amount from invoice_lines where invoice_id = ${invoiceId} order by line_no`
  // The totals as the invoice document shows them (billing/pricing.ts shownTotals): the lines' amounts add up to the subtotal.
  const totals = shownTotals(lines.map((l) => shownLine({ unitPrice: Number(l.unit_price), quantity: l.quantity, net: Number(l.amount) })), { subtotal: Number(i.subtotal), discount: Number(i.discount) })
  // The invoice's own language and locale (as it was issued), else the subscription's, the contact's, the account's.
  return {
    invoiceId: i.id, number: i.number, status: i.status, currency: i.currency, total: i.total, amountDue: i.total - i.amount_paid,
    subtotal: totals.subtotal, discount: totals.discount, tax: Number(i.tax), fees: Number(i.fees), amountPaid: Number(i.amount_paid),
    issueDate: i.issue_date, dueDate: i.due_date, subscriptionName: i.name, contactName: i.contact_name ?? i.email,
    language: i.language ?? languageOf(i, settings), locale: i.locale ?? localeOf(i, settings),
    lines: lines.map((l) => ({ name: l.name, quantity: l.quantity, amount: l.amount })), inFlight: i.in_flight
  }
}

export type ChargeRequestOutcome =
  /** Nothing to charge: the payment method was saved. */
  | { readonly _tag: "NothingDue" }
  /** The charge of this (or an earlier, still unsettled) submit: settle it. */
  | { readonly _tag: "Charge"; readonly attemptId: number; readonly invoiceId: number }
  | { readonly _tag: "AlreadyPaid" }
  /** A checkout's bank debit will pay it: nothing charged here. */
  | { readonly _tag: "AwaitingDebit" }
  | { readonly _tag: "Closed"; readonly status: string }

/**
 * The buyer's charge of an open invoice: one new attempt (initiated by the
 * buyer, unleased, so this request's settleAttemptsNow or else the engine
 * settles it), unless one is in flight already, which is returned instead.
 * Called inside the caller's transaction, the invoice row locked first so two
 * submits queue behind each other.
 */
const chargeOpenInvoice = async (tx: Sql, ctx: EngineContext, invoiceId: number, paymentMethod: string): Promise<ChargeRequestOutcome> => {
  const [i] = await tx<Array<{ id: number; status: string; total: number; amount_paid: number; currency: string }>>`
    select id, status, total, amount_paid, currency from invoices where id = ${invoiceId} for update`
  if (i === undefined || i.status === "void" || i.status === "uncollectible") return { _tag: "Closed", status: i?.status ?? "void" }
  if (i.status === "paid" || i.total <= i.amount_paid) return { _tag: "AlreadyPaid" }
  const [debit] = await tx<Array<{ awaiting: boolean }>>`select ${awaitingDebit(tx, tx`${invoiceId}::int8`)} as awaiting`
  if (debit!.awaiting) return { _tag: "AwaitingDebit" }
  const [inFlight] = await tx<Array<{ id: number }>>`
    select id from payment_attempts where invoice_id = ${invoiceId} and kind = 'charge' and status in ('pending', 'unknown')`
  if (inFlight !== undefined) return { _tag: "Charge", attemptId: inFlight.id, invoiceId }
  const [next] = await tx<Array<{ n: number }>>`
    select coalesce(max(attempt_number), 0) + 1 as n from payment_attempts where invoice_id = ${invoiceId} and kind = 'charge'`
  // key = invoice and attempt number: a lost reply is asked about again under the same key, never charged anew.
  const [a] = await tx<Array<{ id: number }>>`
    insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, requested_on, initiated_by)
    values (${invoiceId}, 'charge', ${next!.n}, ${attemptKey(invoiceId, "charge", next!.n)}, ${i.total - i.amount_paid}, ${i.currency}, ${paymentMethod}, 'pending', ${ctx.today}, 'buyer')
    returning id`
  return { _tag: "Charge", attemptId: a!.id, invoiceId }
}

/**
 * `/p/TOKEN`'s submit: the subscription's new payment method (journaled as
 * the buyer's change) and, when its latest charged invoice is unpaid, a
 * charge of it with the new method, in one transaction.
 */
export const savePaymentMethodAndCharge = async (
  sql: Sql, ctx: EngineContext, subscriptionId: number, paymentMethod: string
): Promise<ChargeRequestOutcome> =>
  sql.begin(async (tx) => {
    // Locks in the order settling a charge takes them (its attempt, its invoice, then the subscription):
    // a second submit while the first one's charge is being recorded waits instead of deadlocking.
    const [candidate] = await openChargeInvoice(tx as unknown as Sql, subscriptionId)
    if (candidate !== undefined) await tx`select id from invoices where id = ${candidate.id} for update`
    const [s] = await tx<Array<{ id: number; status: string; contact_id: number; payment_method: string | null }>>`
      select s.id, s.status, s.contact_id, coalesce(s.payment_method, c.payment_method) as payment_method
      from subscriptions s join contacts c on c.id = s.contact_id where s.id = ${subscriptionId} for update of s`
    if (s === undefined || s.status === "canceled" || s.status === "expired") return { _tag: "Closed", status: s?.status ?? "deleted" } as const
    const events: Array<JournalEvent> = []
    if (s.payment_method !== paymentMethod) {
      await tx`update subscriptions set payment_method = ${paymentMethod}, updated_at = now() where id = ${subscriptionId}`
      events.push({ type: "subscription.property_changed", subscriptionId, contactId: s.contact_id, occurredOn: ctx.today, data: { property: "payment_method", from: s.payment_method, to: paymentMethod } })
    }
    await writeJournal(tx, events, "buyer")
    const [open] = await openChargeInvoice(tx as unknown as Sql, subscriptionId)
    if (open === undefined) return { _tag: "NothingDue" } as const
    return chargeOpenInvoice(tx as unknown as Sql, ctx, open.id, paymentMethod)
  }) as Promise<ChargeRequestOutcome>

/** `/i/TOKEN`'s submit: a charge of the invoice with the method the buyer gave (not saved on the subscription). */
export const chargeInvoiceFromPage = async (sql: Sql, ctx: EngineContext, invoiceId: number, paymentMethod: string): Promise<ChargeRequestOutcome> =>
  sql.begin((tx) => chargeOpenInvoice(tx as unknown as Sql, ctx, invoiceId, paymentMethod)) as Promise<ChargeRequestOutcome>

export const attemptState = async (sql: Sql, attemptId: number): Promise<{ status: AttemptState; reason: string | null }> => {
  const [a] = await sql<Array<{ status: AttemptState; failure_reason: string | null }>>`select status, failure_reason from payment_attempts where id = ${attemptId}`
  return { status: a!.status, reason: a!.failure_reason }
}
