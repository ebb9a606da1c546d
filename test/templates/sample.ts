/** A known invoice and known email data, the same every run. */
import type { EmailData, InvoiceDocumentData } from "../../templates/index.ts"
import { formatAddress } from "../../templates/index.ts"

export const sampleInvoice = (locale: string): InvoiceDocumentData => ({
  number: "BT-000042",
  currency: "NOK",
  issueDate: "2026-03-01",
  dueDate: "2026-03-31",
  periodStart: "2026-03-01",
  periodEnd: "2026-03-31",
  paymentTermsKey: "terms.net-30",
  seller: { name: "Bean There Coffee Co.", email: "hello@beanthere.example", taxId: "NO 912 345 678 MVA", addressLines: ["Kaffegata 12", "0150 Oslo", "Norge"] },
  buyer: { name: "Ingrid Hansen <& Co>", email: "ingrid@example.no", taxId: "", addressLines: formatAddress({ line1: "Storgata 1", postalCode: "0155", city: "Oslo", country: "NO" }, locale) },
  taxIds: ["NO 987 654 321 MVA"],
  lines: [
    { name: "Just one more cup – 1 kg", quantity: 2, unitPrice: 25000, discount: 5000, unitDiscount: 2500, taxRatePpm: 150_000, amount: 45000 },
    { name: "Coffee casual – 250 g", quantity: 1, unitPrice: 12500, discount: 0, unitDiscount: 0, taxRatePpm: 150_000, amount: 12500 },
    { name: "Grinder setup", quantity: 1, unitPrice: 15000, discount: 0, unitDiscount: 0, taxRatePpm: null, amount: 15000 }
  ],
  subtotal: 72500,
  discount: 0,
  tax: 8625,
  fees: 0,
  total: 81125,
  amountPaid: 0,
  amountDue: 81125,
  paid: false,
  payUrl: "https://pay.example/BT-000042",
  comments: "Thank you for brewing with us."
})

export const sampleEmail: EmailData = {
  recipientName: "Ingrid",
  seller: "Bean There Coffee Co.",
  subscription: "Just one more cup – 1 kg",
  currency: "EUR",
  amount: 2500,
  number: "BT-000042",
  email: "ingrid@example.no",
  reason: "card declined",
  link: "https://billing.example/update?s=1",
  message: "Subscription 7 is unpaid",
  succeeded: true,
  outcome: "succeeded",
  refund: 1200,
  nextDate: "2026-04-01",
  retryDate: "2026-03-04",
  dueDate: "2026-03-31",
  effectiveDate: "2026-03-11",
  endDate: "2026-09-01"
}
