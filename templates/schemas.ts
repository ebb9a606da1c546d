/**
 * The data each template is rendered with, as Effect schemas: `templates
 * check` verifies every variable a template uses exists here, and callers
 * build exactly these shapes. Money is integer minor units with the
 * document's `currency`; dates are `YYYY-MM-DD`.
 */
import { Schema } from "effect"

/** An amount in minor units of the document's currency: what `money` formats (`templates check` knows it by its identifier). */
const Minor = Schema.Number.annotate({ identifier: "Minor" })
/** A calendar date, `YYYY-MM-DD`: what `date` and `dateRange` format. */
const Day = Schema.String.annotate({ identifier: "Day" })

export const InvoiceLineData = Schema.Struct({
  name: Schema.String,
  quantity: Schema.Number,
  unitPrice: Minor,
  /** The line's discount, one amount (`shownLine`, billing/pricing.ts): quantity × unitPrice − discount = amount. */
  discount: Minor,
  /** The discount per unit as recorded, rounded on its own: it does not add up to the line (kept for an account's own templates; ours show `discount`). */
  unitDiscount: Minor,
  taxRatePpm: Schema.NullOr(Schema.Number),
  /** What the line charges before tax. */
  amount: Minor
})

export const PartyData = Schema.Struct({
  name: Schema.String,
  email: Schema.String,
  taxId: Schema.String,
  addressLines: Schema.Array(Schema.String)
})

export const InvoiceDocumentData = Schema.Struct({
  number: Schema.String,
  currency: Schema.String,
  issueDate: Day,
  dueDate: Day,
  /**
   * The days the invoice covers, both included: `periodEnd` is the last day covered, the day before the stored
   * `period_end` (the next billing date), as `coveredDays` (engine/billing/calendar.ts) gives it. Equal for a period
   * of one day (a checkout's one-time items); `dateRange` prints that day alone.
   */
  periodStart: Day,
  periodEnd: Day,
  paymentTermsKey: Schema.String,
  seller: PartyData,
  buyer: PartyData,
  taxIds: Schema.Array(Schema.String),
  lines: Schema.Array(InvoiceLineData),
  /** What the lines' amounts add up to (`shownTotals`): after their own discounts. */
  subtotal: Minor,
  /** The discounts off the whole invoice (an order discount, a code): subtotal − discount + tax + fees = total. */
  discount: Minor,
  tax: Minor,
  fees: Minor,
  total: Minor,
  amountPaid: Minor,
  /** Paid back to the buyer (a cancellation's refund of unused days): shown apart, it does not make the invoice owed again. */
  amountRefunded: Schema.optional(Minor),
  amountDue: Minor,
  paid: Schema.Boolean,
  payUrl: Schema.String,
  comments: Schema.String,
  /** How to pay by bank transfer: the seller's account and this invoice's payment reference (absent when neither is set). */
  bankTransfer: Schema.optional(Schema.Struct({
    account: Schema.String,
    bic: Schema.String,
    reference: Schema.String,
    /** The catalog key naming the reference in its scheme (KID, OCR, …). */
    referenceKey: Schema.String
  }))
})
export type InvoiceDocumentData = typeof InvoiceDocumentData.Type

/** What every email can use; each template uses what it needs. */
export const EmailData = Schema.Struct({
  recipientName: Schema.String,
  seller: Schema.String,
  subscription: Schema.String,
  currency: Schema.String,
  amount: Minor,
  number: Schema.String,
  email: Schema.String,
  reason: Schema.String,
  /** The catalogue label of `reason` when it is a known decline code (`declineReasonLabel`); empty: `reason` is shown as given. */
  reasonLabel: Schema.String,
  link: Schema.String,
  message: Schema.String,
  succeeded: Schema.Boolean,
  outcome: Schema.String,
  refund: Minor,
  nextDate: Day,
  retryDate: Day,
  dueDate: Day,
  effectiveDate: Day,
  endDate: Day,
  /** internal_notification: the admins' notice that an invoice is past its due date (its number and due date). */
  overdue: Schema.Boolean,
  /** The subscription is paid by invoice, not charged: a reminder says an invoice is coming. */
  invoiced: Schema.Boolean,
  /** invoice_sent: the seller's account and the invoice's payment reference, when it is paid by transfer. */
  bankAccount: Schema.String,
  paymentReference: Schema.String,
  referenceKey: Schema.String
})
export type EmailData = Partial<typeof EmailData.Type>

export const emailTemplates = ["receipt", "payment_notification", "payment_failed", "reminder", "invoice_sent", "cancellation", "expiry", "welcome", "renewal_offer", "internal_notification"] as const
export type EmailTemplate = (typeof emailTemplates)[number]

/** The fields a schema declares, with the element fields of its arrays: what `templates check` accepts. */
export const fieldsOf = (schema: Schema.Top): Map<string, Set<string> | undefined> => {
  const out = new Map<string, Set<string> | undefined>()
  const ast = schema.ast as unknown as { propertySignatures?: ReadonlyArray<{ name: PropertyKey; type: unknown }> }
  for (const p of ast.propertySignatures ?? []) out.set(String(p.name), nestedFields(p.type))
  return out
}

const nestedFields = (type: unknown): Set<string> | undefined => {
  const t = type as { _tag?: string; propertySignatures?: ReadonlyArray<{ name: PropertyKey }>; rest?: ReadonlyArray<unknown>; elements?: ReadonlyArray<unknown> }
  if (t.propertySignatures !== undefined) return new Set(t.propertySignatures.map((p) => String(p.name)))
  const element = t.rest?.[0]
  if (element !== undefined) return nestedFields(element)
  return undefined
}

/** What a field holds, as `templates check` tells a helper's argument: `date` wants a date, `money` an amount. */
export type FieldKind = "amount" | "date" | "number" | "text" | "yes or no" | "list" | "group of fields"

const kindOf = (type: unknown): FieldKind | undefined => {
  const t = type as { _tag?: string; annotations?: { identifier?: unknown }; types?: ReadonlyArray<unknown>; propertySignatures?: unknown }
  if (t.annotations?.identifier === "Minor") return "amount"
  if (t.annotations?.identifier === "Day") return "date"
  // Optional or nullable: what it holds when it is there.
  if (t._tag === "Union") return t.types?.map(kindOf).find((k) => k !== undefined)
  if (t._tag === "Number") return "number"
  if (t._tag === "String") return "text"
  if (t._tag === "Boolean") return "yes or no"
  if (t._tag === "Arrays") return "list"
  if (t.propertySignatures !== undefined) return "group of fields"
  return undefined
}

/**
 * The kind of every field a schema declares, by path: `issueDate`, `seller.name`, and for the elements of an array
 * `lines.amount` (a template iterating `lines` names it `amount`).
 */
export const fieldKindsOf = (schema: Schema.Top): Map<string, FieldKind> => {
  const out = new Map<string, FieldKind>()
  const visit = (type: unknown, prefix: string) => {
    const t = type as { _tag?: string; types?: ReadonlyArray<unknown>; propertySignatures?: ReadonlyArray<{ name: PropertyKey; type: unknown }>; rest?: ReadonlyArray<unknown> }
    if (t._tag === "Union") return t.types?.forEach((m) => visit(m, prefix))
    if (t.rest?.[0] !== undefined) return visit(t.rest[0], prefix)
    for (const p of t.propertySignatures ?? []) {
      const path = prefix === "" ? String(p.name) : `${prefix}.${String(p.name)}`
      const kind = kindOf(p.type)
      if (kind !== undefined) out.set(path, kind)
      visit(p.type, path)
    }
  }
  visit(schema.ast, "")
  return out
}
