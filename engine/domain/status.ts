/**
 * The seven subscription statuses (DESIGN.md) and which transitions the
 * product allows. Canceled and expired are terminal.
 */
import { Schema } from "effect"

export const subscriptionStatuses = ["scheduled", "active", "past_due", "unpaid", "paused", "canceled", "expired"] as const
export const SubscriptionStatus = Schema.Literals(subscriptionStatuses)
export type SubscriptionStatus = typeof SubscriptionStatus.Type

export const terminalStatuses: ReadonlySet<SubscriptionStatus> = new Set(["canceled", "expired"])

export const isTerminal = (s: SubscriptionStatus): boolean => terminalStatuses.has(s)

/** Only canceled and expired subscriptions may be deleted (hidden from views; their invoices and journal stay). */
export const canDelete = (s: SubscriptionStatus): boolean => isTerminal(s)

export const canPause = (s: SubscriptionStatus): boolean => s === "active" || s === "past_due" || s === "unpaid"

export const canResume = (s: SubscriptionStatus): boolean => s === "paused"

export const canCancel = (s: SubscriptionStatus): boolean => !isTerminal(s)

export const invoiceStatuses = ["open", "paid", "void", "uncollectible"] as const
export const InvoiceStatus = Schema.Literals(invoiceStatuses)
export type InvoiceStatus = typeof InvoiceStatus.Type

export const paymentAttemptStatuses = ["pending", "succeeded", "failed", "unknown"] as const
export const PaymentAttemptStatus = Schema.Literals(paymentAttemptStatuses)
export type PaymentAttemptStatus = typeof PaymentAttemptStatus.Type

export const collectionMethods = ["charge", "invoice"] as const
export const CollectionMethod = Schema.Literals(collectionMethods)
export type CollectionMethod = typeof CollectionMethod.Type

/** Payment terms of send-invoice collection, as days until due. */
export const paymentTermsDays = { "due-on-receipt": 0, "net-15": 15, "net-30": 30, "net-60": 60 } as const
export type PaymentTerms = keyof typeof paymentTermsDays
export const PaymentTerms = Schema.Literals(["due-on-receipt", "net-15", "net-30", "net-60"])
