/**
 * A saved payment method is the gateway's token for it (`pm_ok`, `pm_bank_ok`, a real gateway's `pm_1Nx…`):
 * one word. A blank token is no payment method: saved, the next charge was declined and the buyer sent into
 * dunning for an integration's typo (found by an audit), so every door refuses it.
 */
const maxTokenLength = 255

/** Why a value is not a payment-method token, or undefined when it is one. */
export const paymentMethodProblem = (token: string): string | undefined => {
  if (token.trim() === "") return "a payment-method token cannot be empty"
  if (/\s/.test(token)) return `a payment-method token is one word, without spaces, got "${token}"`
  if (token.length > maxTokenLength) return `a payment-method token of ${token.length} characters; at most ${maxTokenLength}`
  return undefined
}

/**
 * The decline codes of the simulated gateway (payments/Gateway.ts) and the reason it records for each on the failed
 * attempt (`payment_attempts.failure_reason`, the `payment.failed` event's `reason`, webhooks): the reasons stay as
 * recorded, in English, for machines and logs. What a person reads is the code's label in the message catalogue
 * (`payment.decline.<code>` in templates/catalogs/*.json), in the reader's language: `declineReasonLabel`.
 */
export const declineReasons = {
  no_payment_method: "no payment method on file",
  bank_debit_returned: "bank debit returned (insufficient funds)",
  card_declined: "card declined"
} as const

export type DeclineCode = keyof typeof declineReasons

/**
 * The catalogue label of a failed payment's reason as the gateway gave it (a known decline code, or the reason the
 * simulated gateway records for it); undefined for a reason not known, which is shown as given (the raw code).
 */
export const declineReasonLabel = (reason: string): string | undefined => {
  const given = reason.trim()
  for (const [code, recorded] of Object.entries(declineReasons)) {
    if (given === code || given === recorded) return `payment.decline.${code}`
  }
  return undefined
}
