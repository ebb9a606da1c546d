/**
 * Template benchmark: 10-line invoices rendered per second on one core, with
 * the locale formatting of every amount and date. Baseline in the same run:
 * the same document from a hand-written template-literal function (no
 * catalog lookups, no escaping helpers), to show what the template layer costs.
 */
import { formatDate, formatMoney, renderInvoice } from "../templates/index.ts"
import type { InvoiceDocumentData } from "../templates/index.ts"
import { fmt, writeResults } from "./harness.ts"

const invoice: InvoiceDocumentData = {
  number: "BT-000042", currency: "NOK", issueDate: "2026-03-01", dueDate: "2026-03-31", periodStart: "2026-03-01", periodEnd: "2026-04-01",
  paymentTermsKey: "terms.net-30",
  seller: { name: "Bean There Coffee Co.", email: "hello@beanthere.example", taxId: "NO 912 345 678 MVA", addressLines: ["Kaffegata 12", "0150 Oslo"] },
  buyer: { name: "Ingrid Hansen", email: "ingrid@example.no", taxId: "", addressLines: ["Storgata 1", "0155 Oslo"] },
  taxIds: [],
  lines: Array.from({ length: 10 }, (_, i) => ({ name: `Coffee blend ${i + 1}`, quantity: 1 + (i % 3), unitPrice: 12500 + i * 100, discount: i % 2 === 0 ? 500 : 0, unitDiscount: i % 2 === 0 ? 500 : 0, taxRatePpm: 150_000, amount: 12000 })),
  subtotal: 125000, discount: 2500, tax: 18000, fees: 0, total: 140500, amountPaid: 0, amountDue: 140500, paid: false,
  payUrl: "https://pay.example/BT-000042", comments: ""
}
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const baseline = (d: InvoiceDocumentData, locale: string) =>
  `<!DOCTYPE html><html><body><h1>Faktura ${esc(d.number)}</h1><p>${formatDate(d.issueDate, locale)} ${formatDate(d.dueDate, locale)}</p><table>${
    d.lines.map((l) => `<tr><td>${esc(l.name)}</td><td>${l.quantity}</td><td>${formatMoney(l.unitPrice, d.currency, locale)}</td><td>${formatMoney(l.amount, d.currency, locale)}</td></tr>`).join("")
  }</table><p>${formatMoney(d.total, d.currency, locale)}</p></body></html>`

const options = { language: "nb", locale: "nb-NO" }
const time = (n: number, f: () => unknown) => {
  for (let i = 0; i < 500; i++) f()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) f()
  return n / ((performance.now() - t0) / 1000)
}
const N = 20_000
const ours = Math.max(time(N, () => renderInvoice(invoice, options)), time(N, () => renderInvoice(invoice, options)))
const base = Math.max(time(N, () => baseline(invoice, "nb-NO")), time(N, () => baseline(invoice, "nb-NO")))
console.log(`templates: 10-line invoice, Handlebars with catalog and Intl formats (one core)`)
console.log(`  billcycle:             ${fmt(ours)} invoices/s`)
console.log(`  template-literal base: ${fmt(base)} invoices/s  (ratio ${(ours / base).toFixed(2)})`)
writeResults("templates", { invoicesPerSecond: Math.round(ours), baselinePerSecond: Math.round(base), ratio: ours / base, goal: 20000 })
