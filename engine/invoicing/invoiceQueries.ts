/**
 * Invoices as the CLI sees them: listing, one invoice with its lines and
 * payment attempts, and recording a payment received outside the gateway.
 */
import type { InvoiceError } from "../domain/index.ts"
import {
  describeInvoiceError, InvoiceNotFound, InvoiceStatusRefused, MoneyInFlight, moneyJson, OutboxMessageNotFound, OutboxRetryRefused,
  parseMajorAmount, PaymentAmountRefused
} from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import { shownLine } from "../billing/index.ts"
import { markInvoicesPaid } from "./billingRun.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError } from "../sql/index.ts"
import { writeJournal } from "../sql/index.ts"

/** A rule refused: the typed error travels as the `cause` of an InputError (rolled back; the doors word it). */
export const refuseInvoice = (error: InvoiceError): never => {
  throw new InputError(describeInvoiceError(error), { cause: error })
}

export interface InvoiceSummaryRow {
  id: number
  number: string
  subscription_id: number
  period_start: string
  /** Exclusive: the next billing date, the first day not covered (EVENTS.md); what a person reads is `coveredDays`' last day. */
  period_end: string
  issue_date: string
  due_date: string
  currency: string
  total: number
  amount_paid: number
  amount_refunded: number
  status: string
  overdue_on: string | null
  collection_method: string
}

/** The columns of an `InvoiceSummaryRow`, as a statement's text (one home: `listInvoices`, and a subscription's invoices in `subscriptionWithRows`). */
export const invoiceSummarySelect = `
    select id, number, subscription_id, period_start, period_end, issue_date, due_date, currency, total, amount_paid, amount_refunded,
           status, overdue_on, collection_method
    from invoices`

export const listInvoices = (sql: Sql, filter: { subscriptionId?: number | undefined; status?: string | undefined }) =>
  sql<Array<InvoiceSummaryRow>>`
    ${sql.unsafe(invoiceSummarySelect)}
    where true
      ${filter.subscriptionId === undefined ? sql`` : sql`and subscription_id = ${filter.subscriptionId}`}
      ${filter.status === undefined ? sql`` : sql`and status = ${filter.status}`}
    order by id`

/** The currency of an invoice, or undefined when there is none with that id. */
export const invoiceCurrency = async (sql: Sql, id: number): Promise<string | undefined> => {
  const [inv] = await sql<Array<{ currency: string }>>`select currency from invoices where id = ${id}`
  return inv?.currency
}

/**
 * An invoice as JSON, for both doors (`invoices list|show --json`, `/v1/invoices`):
 * every amount in the one money shape `{ amount, currency, formatted }`, so a
 * list row and the shown invoice agree field for field.
 */
export const invoiceSummaryJson = <I extends InvoiceSummaryRow>(i: I) => ({
  ...i, total: moneyJson(i.total, i.currency), amount_paid: moneyJson(i.amount_paid, i.currency), amount_refunded: moneyJson(i.amount_refunded, i.currency)
})

export const invoiceJson = ({ invoice, lines, attempts }: Awaited<ReturnType<typeof findInvoice>>) => {
  const c = invoice.currency
  // The row's timestamps (created_at, …) as the ISO text JSON would make of them, for a door that checks its JSON.
  const row = Object.fromEntries(Object.entries(invoice).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as typeof invoice
  return {
    ...invoiceSummaryJson(row),
    subtotal: moneyJson(invoice.subtotal, c), discount: moneyJson(invoice.discount, c), tax: moneyJson(invoice.tax, c), fees: moneyJson(invoice.fees, c),
    // `discount`: the line's discount as documents show it (shownLine: quantity × unit_price − discount = amount); `unit_discount` is as recorded.
    lines: lines.map((l) => ({ ...l, unit_price: moneyJson(l.unit_price, c), unit_discount: moneyJson(l.unit_discount, c), discount: moneyJson(shownLine({ unitPrice: l.unit_price, quantity: l.quantity, net: l.amount }).discount, c), amount: moneyJson(l.amount, c), tax: moneyJson(l.tax, c) })),
    attempts: attempts.map((a) => ({ ...a, amount: moneyJson(a.amount, c) }))
  }
}

/** The id of the invoice numbered `number` (as printed: INV-000001), or undefined. */
export const invoiceIdByNumber = async (sql: Sql, number: string): Promise<number | undefined> => {
  const [row] = await sql<Array<{ id: number }>>`select id from invoices where number = ${number}`
  return row?.id
}

export const findInvoice = async (sql: Sql, id: number) => {
  const [invoice] = await sql<Array<InvoiceSummaryRow & { subtotal: number; discount: number; tax: number; fees: number; paid_on: string | null; language: string | null; locale: string | null }>>`
    select * from invoices where id = ${id}`
  if (invoice === undefined) refuseInvoice(new InvoiceNotFound({ id }))
  const lines = await sql<Array<{ line_no: number; name: string; quantity: number; unit_price: number; unit_discount: number; tax_rate_ppm: number | null; amount: number; tax: number }>>`
    select line_no, name, quantity, unit_price, unit_discount, tax_rate_ppm, amount, tax from invoice_lines where invoice_id = ${id} order by line_no`
  const attempts = await sql<Array<{ id: number; kind: string; attempt_number: number; idempotency_key: string; amount: number; status: string; failure_reason: string | null; requested_on: string | null }>>`
    select id, kind, attempt_number, idempotency_key, amount, status, failure_reason, requested_on from payment_attempts where invoice_id = ${id} order by id`
  return { invoice: invoice!, lines, attempts }
}

/**
 * An invoice a checkout's bank debit is for, while the debit is pending (migration 0022): the debit
 * will pay it, so nothing else may pay it meanwhile, neither a card on the buyer's pages (they say
 * "processing" until it settles) nor a payment recorded by hand.
 */
export const awaitingCheckoutDebit = (sql: Sql | TransactionSql, invoiceId: ReturnType<Sql>) =>
  sql`exists (select 1 from checkout_payments p where p.status in ('pending', 'unknown')
    and (${invoiceId} = any(p.invoice_ids) or p.one_time_invoice_id = ${invoiceId}))`

/**
 * Money that may still arrive on an invoice: a charge the gateway may still complete, or a checkout's
 * pending bank debit. Paying it by hand, voiding or writing it off meanwhile could take the money
 * twice or leave a paid charge on a closed invoice, so these wait until it settles.
 */
export const refuseWhileMoneyInFlight = async (tx: TransactionSql, inv: { readonly id: number; readonly number: string }): Promise<void> => {
  const [r] = await tx<Array<{ charge: boolean; debit: boolean }>>`
    select exists (select 1 from payment_attempts where invoice_id = ${inv.id} and kind = 'charge' and status in ('pending', 'unknown')) as charge,
           ${awaitingCheckoutDebit(tx, tx`${inv.id}::int8`)} as debit`
  if (r!.charge) refuseInvoice(new MoneyInFlight({ number: inv.number, kind: "charge" }))
  if (r!.debit) refuseInvoice(new MoneyInFlight({ number: inv.number, kind: "debit" }))
}

/**
 * Records a payment received outside the gateway (a bank transfer for a
 * sent invoice). A partial payment is recorded; the invoice is paid, and
 * its subscription active again, once the whole total is in.
 */
export const payInvoice = (sql: Sql, ctx: EngineContext, id: number, amount: number | undefined) =>
  sql.begin(async (tx) => {
    const [inv] = await tx<Array<{ id: number; status: string; total: number; amount_paid: number; currency: string; subscription_id: number; number: string }>>`
      select id, status, total, amount_paid, currency, subscription_id, number from invoices where id = ${id} for update`
    if (inv === undefined) return refuseInvoice(new InvoiceNotFound({ id }))
    if (inv.status !== "open") refuseInvoice(new InvoiceStatusRefused({ number: inv.number, status: inv.status, action: "pay" }))
    const remaining = inv.total - inv.amount_paid
    const pay = amount ?? remaining
    if (pay <= 0) refuseInvoice(new PaymentAmountRefused({ reason: { _tag: "NotPositive" } }))
    if (pay > remaining) refuseInvoice(new PaymentAmountRefused({ reason: { _tag: "MoreThanDue", number: inv.number, amount: pay, due: remaining, currency: inv.currency } }))
    await refuseWhileMoneyInFlight(tx, inv)
    if (pay < remaining) {
      await tx`update invoices set amount_paid = amount_paid + ${pay} where id = ${id}`
      await writeJournal(tx, [{
        type: "invoice.payment_recorded", subscriptionId: inv.subscription_id, invoiceId: id, occurredOn: ctx.today,
        data: { invoice_id: id, number: inv.number, amount: pay, currency: inv.currency, remaining: remaining - pay }
      }], "cli")
      return { number: inv.number, paid: false, amount: pay, remaining: remaining - pay, currency: inv.currency }
    }
    // Paid by whoever recorded it, as the partial payment above: `cli`, or the API key through the HTTP API.
    await markInvoicesPaid(tx, ctx, [id], "manual", "cli")
    return { number: inv.number, paid: true, amount: pay, remaining: 0, currency: inv.currency }
  })

export const listOutbox = (sql: Sql, filter: { status?: string | undefined; kind?: string | undefined }) =>
  sql<Array<{ id: number; kind: string; template: string | null; recipient: string; status: string; attempts: number; subscription_id: number | null; invoice_id: number | null; created_on: string; last_error: string | null; dedupe_key: string }>>`
    select id, kind, template, recipient, status, attempts, subscription_id, invoice_id, created_on, last_error, dedupe_key from outbox
    where true
      ${filter.status === undefined ? sql`` : sql`and status = ${filter.status}`}
      ${filter.kind === undefined ? sql`` : sql`and kind = ${filter.kind}`}
    order by id`

/** Puts a failed message back in the queue, to be delivered again under the same delivery key (a webhook with a new retry window from its next try). */
export const retryOutboxMessage = async (sql: Sql, id: number) => {
  const [row] = await sql<Array<{ status: string }>>`select status from outbox where id = ${id}`
  if (row === undefined) return refuseInvoice(new OutboxMessageNotFound({ id }))
  if (row.status !== "failed") refuseInvoice(new OutboxRetryRefused({ id, status: row.status }))
  await sql`update outbox set status = 'queued', attempts = 0, next_attempt_at = now(), first_tried_at = null, last_error = null where id = ${id}`
}

export const listTasks = (sql: Sql) =>
  sql<Array<{ id: number; title: string; assignee: string | null; team: string | null; due_on: string | null; subscription_id: number | null; status: string }>>`
    select id, title, assignee, team, due_on, subscription_id, status from tasks order by id`

/** A list's members; a list no rule has added anyone to yet is empty, not an error (rules create lists on first use). */
export const listMembers = (sql: Sql, list: string) =>
  sql<Array<{ contact_id: number; email: string; name: string | null; added_on: string }>>`
    select m.contact_id, c.email, c.name, m.added_on from list_members m join contacts c on c.id = m.contact_id
    where m.list_name = ${list} order by m.added_on, c.email`

/**
 * `invoices pay` as both doors call it: the amount in major units of the
 * invoice's currency (e.g. "25.00"; default all that is due), parsed here so
 * the CLI and the HTTP API read it the same way.
 */
export const payInvoiceInMajorUnits = async (sql: Sql, ctx: EngineContext, id: number, amount: string | undefined) => {
  let minor: number | undefined
  if (amount !== undefined) {
    const parsed = parseMajorAmount(amount, (await invoiceCurrency(sql, id)) ?? "USD")
    if (typeof parsed === "string") return refuseInvoice(new PaymentAmountRefused({ reason: { _tag: "Unreadable", problem: parsed } }))
    minor = parsed
  }
  return payInvoice(sql, ctx, id, minor)
}
