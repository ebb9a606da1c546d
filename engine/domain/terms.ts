/** Billing terms: auto-renew until canceled, or a fixed number of payments. */
import { Schema } from "effect"

export const BillingTerms = Schema.Union([
  Schema.TaggedStruct("AutoRenew", {}),
  Schema.TaggedStruct("Fixed", { payments: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))) })
])
export type BillingTerms = typeof BillingTerms.Type

export const autoRenew: BillingTerms = { _tag: "AutoRenew" }
export const fixedPayments = (payments: number): BillingTerms => ({ _tag: "Fixed", payments })

/** Parses `auto-renew`, `fixed:N` or `fixed N`. */
export const maxFixedPayments = 1000

export const parseBillingTerms = (text: string): BillingTerms | undefined => {
  const t = text.trim().toLowerCase()
  if (t === "auto-renew" || t === "autorenew" || t === "auto") return autoRenew
  const m = /^fixed[:\s]+(\d+)$/.exec(t)
  if (m === null) return undefined
  const n = Number(m[1])
  // At most 1000 payments: the last billing date must stay a date the calendar holds (1000 years of annual payments).
  return Number.isSafeInteger(n) && n > 0 && n <= maxFixedPayments ? fixedPayments(n) : undefined
}

export const formatBillingTerms = (terms: BillingTerms): string =>
  terms._tag === "AutoRenew" ? "auto-renew" : `fixed:${terms.payments}`
