/**
 * The subscriptions' refusals (typed, engine/domain/errors.ts) in the words the command line and the HTTP API give
 * them: the field first (`--contact: no contact with email …` on the command line, `contact: …` over HTTP: the
 * words carry the field, each door names it, engine/domain/fieldNames.ts), and what to do.
 */
import type { SubscriptionError, Words } from "../domain/index.ts"
import { describeSubscriptionError, flagField, inFlags, itemField, itemsField, words } from "../domain/index.ts"

const contact = flagField("contact")
const paymentMethod = flagField("payment-method")

/** A refusal of the store: the field it is about, and what to do. */
export const subscriptionRefusalWords = (e: SubscriptionError): Words => {
  switch (e._tag) {
    case "ContactNotFound":
      return words`${contact}: no contact with email ${e.email} (add it with: ${{ cli: `billcycle contacts add --email ${e.email}`, api: `POST /v1/contacts {"email": "${e.email}"}` }})`
    case "NoPaymentMethod":
      return words`${paymentMethod}: charging automatically needs a saved payment method (give ${paymentMethod}, or save one on contact ${e.contact}, or use ${{ cli: "--collection invoice", api: `"collection": "invoice"` }})`
    case "PurchaseRefused":
      return words`${itemsField}: ${describeSubscriptionError(e)}`
    case "ItemDoesNotFit":
      // The command line names no item here (`--item: …`); the API names the element the client sent.
      return words`${e.index === undefined ? itemsField : itemField(e.index, "--item")}: ${describeSubscriptionError(e)}`
    case "SubscriptionDeleted":
      return words`subscription ${e.id} was deleted on ${e.deletedOn} (its invoices remain: ${{ cli: `billcycle invoices list --subscription ${e.id}`, api: `GET /v1/invoices?subscription=${e.id}` }})`
    case "NextBillingDateRefused":
      return words`${flagField("next-billing-date")}: ${describeSubscriptionError(e)}`
    case "StartBeforeToday":
      return words`${flagField("start")}: ${describeSubscriptionError(e)}`
    case "NothingToUpdate":
      return words`nothing to update: give ${itemsField}, ${flagField("next-billing-date")} or ${paymentMethod}`
    case "RefundAtPeriodEnd":
      return words`${flagField("refund-unused")}: ${describeSubscriptionError(e)}`
    case "ResumeDateNotAfterToday":
      return words`${flagField("resume-on")}: ${e.resumeOn} must be after today (${e.today})`
    case "SubscriptionNotFound":
    case "TransitionRefused":
      return [describeSubscriptionError(e)]
  }
}

/** A refusal of the store in the CLI's words: the flag it is about, and what to do. */
export const subscriptionErrorMessage = (e: SubscriptionError): string => inFlags(subscriptionRefusalWords(e))
