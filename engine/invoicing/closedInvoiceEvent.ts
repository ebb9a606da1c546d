/**
 * The one shape of the journal event of an invoice closed without a payment (`invoice.voided`,
 * `invoice.written_off`; engine/sql/EVENTS.md): by `invoices void` / `write-off`, or by the engine when a
 * subscription is canceled because its retries ran out and its open invoice becomes bad debt.
 */
import type { CalendarDate } from "../domain/index.ts"
import type { JournalEvent } from "../sql/index.ts"

export interface ClosedInvoiceRow {
  readonly id: number
  readonly number: string
  readonly total: number
  readonly amount_paid: number
  readonly currency: string
  readonly subscription_id: number
}

export const closedInvoiceEvent = (
  type: "invoice.voided" | "invoice.written_off",
  inv: ClosedInvoiceRow,
  previousStatus: string,
  contactId: number,
  today: CalendarDate,
  reason?: string
): JournalEvent => ({
  type, subscriptionId: inv.subscription_id, contactId, invoiceId: inv.id, occurredOn: today,
  // amount: what was still due and is no longer asked for.
  data: {
    invoice_id: inv.id, number: inv.number, total: inv.total, amount: inv.total - inv.amount_paid, currency: inv.currency, previous_status: previousStatus,
    ...(reason === undefined ? {} : { reason })
  }
})
