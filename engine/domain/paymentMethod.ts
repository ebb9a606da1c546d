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
