/**
 * The invoicing room's refusals (typed, engine/domain/errors.ts) in the words
 * both doors give them: the field first (`--amount: …` on the command line,
 * `amount: …` over HTTP; engine/domain/fieldNames.ts), and what to do.
 */
import type { InvoiceError, Words } from "../domain/index.ts"
import { describeInvoiceError, flagField, words } from "../domain/index.ts"

/** `notFound` prefixes an unknown invoice (`INVOICE_ID: ` where the command names its argument so). */
export const invoiceRefusalWords = (e: InvoiceError, options: { readonly notFound?: string } = {}): Words => {
  switch (e._tag) {
    case "InvoiceNotFound":
      return [`${options.notFound ?? ""}${describeInvoiceError(e)}`]
    case "PaymentAmountRefused":
      return words`${flagField("amount")}: ${describeInvoiceError(e)}`
    case "InvoicePartlyPaid":
      // The command line's way out; the API has no write-off route.
      return words`${describeInvoiceError(e)}${{ cli: ` (billcycle invoices write-off ${e.id})`, api: "" }}`
    default:
      return [describeInvoiceError(e)]
  }
}
