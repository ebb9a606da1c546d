/**
 * The subscriptions' refusals (typed, engine/domain/errors.ts) in the words the command line and the HTTP API give
 * them: the field first, as its flag (`--contact: no contact with email …`; the API derives its problem's `field` and
 * code from it, as README says: "the message the CLI would print"), and what to do.
 */
import type { SubscriptionError } from "../domain/index.ts"
import { describeSubscriptionError } from "../domain/index.ts"

/** A refusal of the store in the CLI's words: the flag it is about, and what to do. */
export const subscriptionErrorMessage = (e: SubscriptionError): string => {
  switch (e._tag) {
    case "ContactNotFound":
      return `--contact: no contact with email ${e.email} (add it with: billcycle contacts add --email ${e.email})`
    case "NoPaymentMethod":
      return `--payment-method: charging automatically needs a saved payment method (give --payment-method, or save one on contact ${e.contact}, or use --collection invoice)`
    case "PurchaseRefused":
    case "ItemDoesNotFit":
      return `--item: ${describeSubscriptionError(e)}`
    case "SubscriptionDeleted":
      return `subscription ${e.id} was deleted on ${e.deletedOn} (its invoices remain: billcycle invoices list --subscription ${e.id})`
    case "NextBillingDateRefused":
      return `--next-billing-date: ${describeSubscriptionError(e)}`
    case "StartBeforeToday":
      return `--start: ${describeSubscriptionError(e)}`
    case "NothingToUpdate":
      return "nothing to update: give --item, --next-billing-date or --payment-method"
    case "RefundAtPeriodEnd":
      return `--refund-unused: ${describeSubscriptionError(e)}`
    case "ResumeDateNotAfterToday":
      return `--resume-on: ${e.resumeOn} must be after today (${e.today})`
    case "SubscriptionNotFound":
    case "TransitionRefused":
      return describeSubscriptionError(e)
  }
}

