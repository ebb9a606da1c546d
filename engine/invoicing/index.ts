/**
 * The invoicing room's door. The billing run (claim, draft, invoice, number, charge), invoice queries and closing, document data.
 * Named exports only: what other rooms use.
 */
export {
  attemptKey, billDue, billDueBatch, billingSlotWaitMs, billingSlots, claimAttemptsNow, claimUnsettledAttempts, createDueRetries, draftInvoices, reminderAnnounces,
  failInvoicesAtCheckout, invoiceOneTimeAtCheckout, languageOf, localeOf, payInvoicesAtCheckout, settleAttempts, takeBillingSlot,
  unsettledLeaseOwners
} from "./billingRun.ts"
export type { BilledBatch, CodeDiscount, DueKey, PaidAtCheckout, PendingCharge } from "./billingRun.ts"
export { codeDiscountEndMoving } from "./codeDiscountEnd.ts"
export {
  bankTransferOf, buyerLinksOf, loadEmailData, loadEmailDataBatch, loadEmailPreview, loadInvoiceDocument
} from "./documentData.ts"
export type { BuyerLinks } from "./documentData.ts"
export { closeInvoice } from "./invoiceClosing.ts"
export {
  awaitingCheckoutDebit, findInvoice, invoiceCurrency, invoiceJson, invoiceSummaryJson, invoiceSummarySelect, listInvoices, listMembers,
  listOutbox, listTasks, payInvoice, payInvoiceInMajorUnits, retryOutboxMessage
} from "./invoiceQueries.ts"
export type { InvoiceSummaryRow } from "./invoiceQueries.ts"
export { Invoices } from "./Invoices.ts"
export type { DocumentOptions, InvoiceFailure, InvoiceFound, PaymentRecorded } from "./Invoices.ts"
export type { ClosedInvoice, InvoiceClosing } from "./invoiceClosing.ts"
export { Outbox } from "./Outbox.ts"
export type { OutboxRow } from "./Outbox.ts"
export { invoiceRefusalWords } from "./refusals.ts"
