/**
 * Closing an invoice without a payment. An invoice is never deleted: it is
 * paid, voided (`invoices void`: issued by mistake, nothing is owed; it keeps
 * its number) or written off (`invoices write-off`: owed but given up as bad
 * debt, status `uncollectible`). Stripe's model: void from open or
 * uncollectible, uncollectible from open, a paid invoice is refunded instead.
 *
 * Each closing commits with its journal event. The subscription waiting on
 * the invoice is released as a payment would release it, without counting a
 * payment: unpaid becomes active (its retries stop) once no other open
 * charge invoice is left, past due becomes active once no other overdue
 * invoice is left open. Retries only ever charge an open invoice, so nothing
 * retries a closed one.
 */
import { InvoiceAlreadyClosed, InvoiceNotFound, InvoicePaid, InvoicePartlyPaid, InvoiceStatusRefused } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { RecoveredRow } from "./billingRun.ts"
import { skipUnpaidPeriods } from "./billingRun.ts"
import type { Sql } from "../sql/index.ts"
import { refuseInvoice, refuseWhileMoneyInFlight } from "./invoiceQueries.ts"
import { closedInvoiceEvent } from "./closedInvoiceEvent.ts"
import type { JournalEvent } from "../sql/index.ts"
import { statusChanged, writeJournal } from "../sql/index.ts"

export type InvoiceClosing = "void" | "write-off"

export interface ClosedInvoice {
  readonly id: number
  readonly number: string
  readonly subscriptionId: number
  readonly status: "void" | "uncollectible"
  readonly previousStatus: string
  /** What was still due and is no longer asked for (minor units). */
  readonly amount: number
  readonly currency: string
  /** The subscription's status change, when closing the invoice released it. */
  readonly subscriptionStatus: { readonly from: string; readonly to: string } | null
}

const verbs = { void: { done: "voided", status: "void", event: "invoice.voided" }, "write-off": { done: "written off", status: "uncollectible", event: "invoice.written_off" } } as const

export const closeInvoice = (sql: Sql, ctx: EngineContext, id: number, how: InvoiceClosing): Promise<ClosedInvoice> =>
  sql.begin(async (tx) => {
    const verb = verbs[how]
    const [inv] = await tx<Array<{ id: number; number: string; status: string; total: number; amount_paid: number; currency: string; subscription_id: number }>>`
      select id, number, status, total, amount_paid, currency, subscription_id from invoices where id = ${id} for update`
    if (inv === undefined) return refuseInvoice(new InvoiceNotFound({ id }))
    if (inv.status === "paid") refuseInvoice(new InvoicePaid({ number: inv.number, how }))
    if (inv.status === verb.status) refuseInvoice(new InvoiceAlreadyClosed({ number: inv.number, how }))
    if (inv.status !== "open" && !(how === "void" && inv.status === "uncollectible")) {
      refuseInvoice(new InvoiceStatusRefused({ number: inv.number, status: inv.status, action: how }))
    }
    // Money already received on it would be left unaccounted by a void; the rest can be written off.
    if (how === "void" && inv.amount_paid > 0) {
      refuseInvoice(new InvoicePartlyPaid({ id: inv.id, number: inv.number, paid: inv.amount_paid, due: inv.total - inv.amount_paid, currency: inv.currency }))
    }
    // A charge or a bank debit that may still complete: closing now could leave a paid charge on a void invoice.
    await refuseWhileMoneyInFlight(tx, inv)
    const [sub] = await tx<Array<{ id: number; status: string; contact_id: number }>>`
      select id, status, contact_id from subscriptions where id = ${inv.subscription_id} for update`
    await tx`update invoices set status = ${verb.status}, closed_on = ${ctx.today} where id = ${id}`
    // Released as a payment would release it (markInvoicesPaid), the closed invoice no longer counting as open.
    const [released] = await tx<Array<RecoveredRow>>`
      update subscriptions s set status = 'active', retry_count = 0, next_retry_on = null, unpaid_since = null, updated_at = now()
      where s.id = ${sub!.id} and (
        (s.status = 'unpaid' and not exists (select 1 from invoices i where i.subscription_id = s.id and i.status = 'open' and i.collection_method = 'charge'))
        or (s.status = 'past_due' and not exists (select 1 from invoices i where i.subscription_id = s.id and i.status = 'open' and i.overdue_on is not null)))
      returning s.id, coalesce(s.billing_anchor, s.start_date) as anchor, s.frequency_unit, s.frequency_count, s.next_billing_date,
                s.terms_payments, s.periods_billed, s.end_date`
    const amount = inv.total - inv.amount_paid
    const events: Array<JournalEvent> = [closedInvoiceEvent(verb.event, inv, inv.status, sub!.contact_id, ctx.today)]
    const reason = how === "void" ? "invoice_voided" : "invoice_written_off"
    if (released !== undefined) events.push(statusChanged(sub!.id, sub!.status, "active", ctx.today, { reason, invoice_id: id }))
    // Released from unpaid like a recovery by payment: the periods it missed are not billed either.
    if (released !== undefined && sub!.status === "unpaid" && !ctx.settings.unpaidCatchUp) events.push(...await skipUnpaidPeriods(tx, ctx.today, [released]))
    await writeJournal(tx, events, "cli")
    return {
      id, number: inv.number, subscriptionId: sub!.id, status: verb.status, previousStatus: inv.status, amount, currency: inv.currency,
      subscriptionStatus: released === undefined ? null : { from: sub!.status, to: "active" }
    }
  }) as Promise<ClosedInvoice>
