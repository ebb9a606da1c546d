/**
 * The data documents are rendered with, read from the store: an invoice as
 * `InvoiceDocumentData`, a queued message as `EmailData`. Language and locale
 * resolve as the reference says: the subscription's invoice settings, then
 * the contact's, then the account's.
 */
import type { EmailData, EmailTemplate, InvoiceDocumentData } from "../../templates/index.ts"
import { formatAddress } from "../../templates/index.ts"
import { buyerLinkUrl, coveredDays, languageOf, localeOf, payLinkExpiresOn, shownLine, shownTotals, signBuyerToken, updateLinkExpiresOn } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import { declineReasonLabel, InvoiceNotFound } from "../domain/index.ts"
import { buyerSecret } from "../account/index.ts"
import { draftInvoices, reminderAnnounces } from "./billingRun.ts"
import { formatIban, paymentReference, schemeForCountry } from "../billing/index.ts"
import type { ClaimedMessage } from "../sql/index.ts"
import type { Sql } from "../sql/index.ts"
import { InputError } from "../sql/index.ts"
import type { AccountSettings } from "../account/index.ts"

/** A queued message as its documents need it (which store claimed it does not matter to them). */
type MessageFields = Omit<ClaimedMessage, "store_id">

export interface DocumentContext {
  readonly language: string
  readonly locale: string
}

const sellerParty = (s: AccountSettings) => ({
  name: s.sellerName,
  email: s.sellerEmail,
  taxId: s.sellerTaxId,
  addressLines: s.sellerAddress === "" ? [] : s.sellerAddress.split(";").map((l) => l.trim()).filter((l) => l !== "")
})

/**
 * How a buyer pays an invoice by bank transfer: the seller's account and the
 * invoice's payment reference, in the scheme `payment-reference` names (by
 * `seller-country` under auto). Only invoices sent for payment have one, and
 * only when the seller has an account to pay into.
 */
export const bankTransferOf = (s: AccountSettings, invoice: { readonly number: string; readonly id: number; readonly collectionMethod: string }) => {
  if (invoice.collectionMethod !== "invoice" || (s.sellerIban === "" && s.sellerAccount === "")) return undefined
  const scheme = s.paymentReference === "auto" ? schemeForCountry(s.sellerCountry) : s.paymentReference
  return {
    account: s.sellerIban !== "" ? formatIban(s.sellerIban) : s.sellerAccount,
    bic: s.sellerBic.toUpperCase(),
    reference: paymentReference(scheme, invoice.number, invoice.id),
    referenceKey: `invoice.reference.${scheme.startsWith("kid") ? "kid" : scheme}`
  }
}

/** The buyer's links of documents: signed with the database's secret when `base-url` is set; none otherwise. */
export interface BuyerLinks {
  readonly payInvoice: (invoiceId: number, dueDate: string, issuedOn?: string) => string
  readonly updatePayment: (subscriptionId: number, sentOn: string) => string
}

const noLinks: BuyerLinks = { payInvoice: () => "", updatePayment: () => "" }

export const buyerLinksOf = async (sql: Sql, settings: AccountSettings): Promise<BuyerLinks> => {
  if (settings.baseUrl === "") return noLinks
  const secret = await buyerSecret(sql)
  return {
    payInvoice: (id, dueDate, issuedOn) => buyerLinkUrl(settings.baseUrl, "pay-invoice", signBuyerToken(secret, { purpose: "pay-invoice", id, expiresOn: payLinkExpiresOn(dueDate as CalendarDate, issuedOn as CalendarDate | undefined) })),
    updatePayment: (id, sentOn) => buyerLinkUrl(settings.baseUrl, "update-payment", signBuyerToken(secret, { purpose: "update-payment", id, expiresOn: updateLinkExpiresOn(sentOn as CalendarDate) }))
  }
}

/** `issuedOn`: the day the document is made (rendered, sent), from which its pay link lives at least 90 days. */
export const loadInvoiceDocument = async (sql: Sql, invoiceId: number, settings: AccountSettings, issuedOn?: string): Promise<{ data: InvoiceDocumentData } & DocumentContext> => {
  const [inv] = await sql<Array<Record<string, any>>>`
    select i.*, s.payment_terms, s.invoice_language, s.invoice_locale, s.invoice_comments, s.invoice_tax_ids,
           c.email, c.name as contact_name, c.language as contact_language, c.locale as contact_locale, c.address
    from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id
    where i.id = ${invoiceId}`
  if (inv === undefined) throw new InputError(`invoice ${invoiceId} does not exist`, { cause: new InvoiceNotFound({ id: invoiceId }) })
  const lines = await sql<Array<Record<string, any>>>`select * from invoice_lines where invoice_id = ${invoiceId} order by line_no`
  const language = languageOf(inv, settings)
  const locale = localeOf(inv, settings)
  // Each line as a reader adds it up (quantity × unit price − its discount = its amount), and totals from the lines' amounts.
  const shown = lines.map((l) => shownLine({ unitPrice: Number(l["unit_price"]), quantity: Number(l["quantity"]), net: Number(l["amount"]) }))
  const totals = shownTotals(shown, { subtotal: Number(inv["subtotal"]), discount: Number(inv["discount"]) })
  const period = coveredDays(inv["period_start"], inv["period_end"])
  const data: InvoiceDocumentData = {
    number: inv["number"], currency: inv["currency"], issueDate: inv["issue_date"], dueDate: inv["due_date"],
    // The days the invoice covers as a reader counts them: the stored end is the next billing date, the first day not covered.
    periodStart: period.first, periodEnd: period.last,
    paymentTermsKey: inv["collection_method"] === "charge" ? "terms.charge" : `terms.${inv["payment_terms"] ?? "due-on-receipt"}`,
    seller: sellerParty(settings),
    buyer: { name: inv["contact_name"] ?? inv["email"], email: inv["email"], taxId: "", addressLines: inv["address"] === null ? [] : formatAddress(inv["address"], locale) },
    taxIds: inv["invoice_tax_ids"] ?? [],
    lines: lines.map((l, i) => ({ name: l["name"], quantity: l["quantity"], unitPrice: l["unit_price"], discount: shown[i]!.discount, unitDiscount: l["unit_discount"], taxRatePpm: l["tax_rate_ppm"], amount: l["amount"] })),
    subtotal: totals.subtotal, discount: totals.discount, tax: inv["tax"], fees: inv["fees"], total: inv["total"],
    amountPaid: inv["amount_paid"], amountRefunded: inv["amount_refunded"], amountDue: inv["total"] - inv["amount_paid"], paid: inv["status"] === "paid",
    payUrl: inv["collection_method"] === "invoice" ? (await buyerLinksOf(sql, settings)).payInvoice(Number(inv["id"]), inv["due_date"], issuedOn) : "",
    comments: inv["invoice_comments"] ?? ""
  }
  const bankTransfer = bankTransferOf(settings, { number: inv["number"], id: Number(inv["id"]), collectionMethod: inv["collection_method"] })
  return { data: bankTransfer === undefined ? data : { ...data, bankTransfer }, language, locale }
}

/** What a queued message's template is rendered with, from the rows it points at and its payload. */
export const loadEmailData = async (sql: Sql, m: MessageFields, settings: AccountSettings): Promise<EmailData & { template: EmailTemplate }> =>
  (await loadEmailDataBatch(sql, [m], settings))[0]!

/** The data of many messages' emails, in two queries (their subscriptions and their invoices), in order. */
export const loadEmailDataBatch = async (sql: Sql, messages: ReadonlyArray<MessageFields>, settings: AccountSettings): Promise<Array<EmailData & { template: EmailTemplate }>> => {
  const subIds = [...new Set(messages.flatMap((m) => (m.subscription_id === null ? [] : [m.subscription_id])))]
  const invoiceIds = [...new Set(messages.flatMap((m) => (m.invoice_id === null ? [] : [m.invoice_id])))]
  const subs = subIds.length === 0 ? [] : await sql<Array<Record<string, any>>>`
    select s.id, s.name, s.currency, s.next_billing_date, s.end_date, s.collection_method, c.name as contact_name, c.email
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = any(${subIds})`
  const invoices = invoiceIds.length === 0 ? [] : await sql<Array<Record<string, any>>>`
    select id, number, total, currency, due_date, collection_method from invoices where id = any(${invoiceIds})`
  const subById = new Map(subs.map((r) => [Number(r["id"]), r]))
  const invoiceById = new Map(invoices.map((r) => [Number(r["id"]), r]))
  const upcoming = await upcomingAmounts(sql, messages.filter((m) => m.template === "reminder" && typeof (m.payload as Record<string, unknown>)["amount"] !== "number"))
  const links = messages.some((m) => m.template === "payment_failed" || m.template === "invoice_sent") ? await buyerLinksOf(sql, settings) : noLinks
  return messages.map((m) => {
    const data = emailDataOf(m, m.subscription_id === null ? undefined : subById.get(m.subscription_id), m.invoice_id === null ? undefined : invoiceById.get(m.invoice_id), settings, links)
    const coming = m.subscription_id === null ? undefined : upcoming.get(m.subscription_id)
    return coming === undefined ? data : { ...data, amount: coming.amount, currency: coming.currency, nextDate: data.nextDate === "" ? coming.date : data.nextDate }
  })
}

/**
 * The coming payment of reminders queued without one (a preview with
 * `render email reminder`, or one queued before reminders carried their
 * amount): the draft of the period starting on the reminder's billing date,
 * else on the subscription's next billing date.
 */
const upcomingAmounts = async (sql: Sql, reminders: ReadonlyArray<MessageFields>): Promise<Map<number, { amount: number; currency: string; date: string }>> => {
  const subIds = [...new Set(reminders.flatMap((m) => (m.subscription_id === null ? [] : [m.subscription_id])))]
  const out = new Map<number, { amount: number; currency: string; date: string }>()
  if (subIds.length === 0) return out
  const rows = await sql<Array<{ id: number; next_billing_date: string | null; periods_billed: number; currency: string }>>`
    select id, next_billing_date, periods_billed, currency from subscriptions where id = any(${subIds})`
  const asked = new Map(reminders.map((m) => [m.subscription_id, (m.payload as Record<string, unknown>)["next_billing_date"]]))
  const periods = rows.flatMap((r) => {
    const date = typeof asked.get(r.id) === "string" ? asked.get(r.id) as string : r.next_billing_date
    return date === null ? [] : [{ subscriptionId: r.id, periodStart: date, index: r.periods_billed, currency: r.currency }]
  })
  const drafts = await draftInvoices(sql, periods)
  for (const p of periods) {
    const draft = drafts.get(p.subscriptionId)
    if (draft !== undefined) out.set(p.subscriptionId, { amount: draft.total, currency: p.currency, date: p.periodStart })
  }
  return out
}

/** The emails about one payment (or the coming one), whose payload names its amount. */
const paymentAmountTemplates: ReadonlySet<EmailTemplate> = new Set<EmailTemplate>(["reminder", "receipt", "payment_failed", "payment_notification"])

const emailDataOf = (m: MessageFields, row: Record<string, any> | undefined, inv: Record<string, any> | undefined, settings: AccountSettings, links: BuyerLinks): EmailData & { template: EmailTemplate } => {
  const p = m.payload as Record<string, any>
  const template = (m.template ?? "internal_notification") as EmailTemplate
  return {
    template,
    recipientName: row?.["contact_name"] ?? row?.["email"] ?? m.recipient,
    seller: settings.sellerName,
    subscription: row?.["name"] ?? "",
    currency: inv?.["currency"] ?? row?.["currency"] ?? settings.currency,
    // A reminder comes before its invoice: it carries the coming payment's amount (its draft's total). A receipt, a
    // failed charge's email and the admins' notification carry the payment's (the rest of an invoice paid in part
    // before); one queued before they did, the total.
    amount: paymentAmountTemplates.has(template) && typeof p["amount"] === "number" ? p["amount"] : inv?.["total"] ?? 0,
    ...(template === "reminder" && typeof p["currency"] === "string" ? { currency: p["currency"] } : {}),
    number: inv?.["number"] ?? "",
    email: row?.["email"] ?? "",
    reason: p["reason"] ?? "",
    reasonLabel: declineReasonLabel(String(p["reason"] ?? "")) ?? "",
    // The payment-failed email links to the page that updates the card (and retries at once); an invoice to its pay page.
    link: template === "payment_failed" && m.subscription_id !== null && p["subscription_ended"] !== true ? links.updatePayment(m.subscription_id, m.created_on)
      : template === "invoice_sent" && inv !== undefined ? links.payInvoice(Number(inv["id"]), inv["due_date"], m.created_on) : "",
    message: p["message"] ?? "",
    overdue: p["event"] === "invoice_overdue",
    succeeded: p["outcome"] === "succeeded",
    outcome: p["outcome"] ?? "",
    refund: p["refund_amount"] ?? 0,
    nextDate: p["next_billing_date"] ?? row?.["next_billing_date"] ?? "",
    retryDate: p["next_retry_on"] ?? "",
    dueDate: inv?.["due_date"] ?? "",
    effectiveDate: p["effective_on"] ?? m.created_on,
    endDate: p["end_date"] ?? row?.["end_date"] ?? "",
    invoiced: row?.["collection_method"] === "invoice",
    ...transferOf(template, inv, settings)
  }
}

/** An invoice email tells how to pay by bank transfer, as the invoice does. */
const transferOf = (template: EmailTemplate, inv: Record<string, any> | undefined, settings: AccountSettings) => {
  if (template !== "invoice_sent" || inv === undefined) return {}
  const t = bankTransferOf(settings, { number: inv["number"], id: Number(inv["id"]), collectionMethod: inv["collection_method"] })
  return t === undefined ? {} : { bankAccount: t.account, paymentReference: t.reference, referenceKey: t.referenceKey }
}

/**
 * What an email previewed for a subscription needs of it: an invoice (the emails about one), a coming payment (the
 * reminder), an end date (the emails about the end of fixed terms). Previewed without it, the email said "$0.00",
 * "due on ." or "ended on  after its last payment".
 */
const previewNeeds: Partial<Record<EmailTemplate, "invoice" | "comingPayment" | "endDate">> = {
  receipt: "invoice", payment_failed: "invoice", payment_notification: "invoice", invoice_sent: "invoice",
  reminder: "comingPayment", expiry: "endDate", renewal_offer: "endDate"
}

/**
 * The data of an email previewed for a subscription (`render email`): the last
 * one of its kind queued for it, as it was queued; else as if queued on
 * `createdOn` (the command's business day), with the language and locale it would be sent in:
 * its last invoice, the outcome and reason of that invoice's last payment
 * attempt, its next retry. A subscription that lacks what the email is about
 * (`previewNeeds`) is refused, naming what it lacks.
 */
export const loadEmailPreview = async (
  sql: Sql, subscriptionId: number, template: EmailTemplate, createdOn: string, settings: AccountSettings
): Promise<{ data: EmailData & { template: EmailTemplate } } & DocumentContext> => {
  const [sub] = await sql<Array<{
    email: string; invoice_language: string | null; contact_language: string | null; invoice_locale: string | null; contact_locale: string | null; invoice_id: number | null
    status: string; next_billing_date: string | null; end_date: string | null; next_retry_on: string | null
  }>>`
    select c.email, s.invoice_language, c.language as contact_language, s.invoice_locale, c.locale as contact_locale,
           (select max(id) from invoices i where i.subscription_id = s.id) as invoice_id, s.status, s.next_billing_date, s.end_date, s.next_retry_on
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = ${subscriptionId}`
  if (sub === undefined) throw new InputError(`--subscription: subscription ${subscriptionId} does not exist`)
  // An email of this kind already queued or sent for it: previewed as the buyer got it (its day, its payload: a
  // cancellation's refund line), not rebuilt as of today.
  const [queued] = await sql<Array<ClaimedMessage>>`
    select id, kind, template, dedupe_key, subscription_id, invoice_id, recipient, language, locale, payload, attempts, created_on::text
    from outbox where kind in ('email', 'notification') and template = ${template} and subscription_id = ${subscriptionId} order by id desc limit 1`
  if (queued !== undefined) {
    const data = await loadEmailData(sql, queued, settings)
    return { data, language: queued.language ?? languageOf(sub, settings), locale: queued.locale ?? localeOf(sub, settings) }
  }
  switch (previewNeeds[template]) {
    case "invoice":
      if (sub.invoice_id === null) {
        throw new InputError(`--subscription: subscription ${subscriptionId} has no invoice yet, and the ${template} email is about one (preview it once the subscription is invoiced)`)
      }
      break
    case "comingPayment":
      if (sub.next_billing_date === null) throw new InputError(`--subscription: subscription ${subscriptionId} is ${sub.status.replace("_", " ")}: it has no coming payment for a reminder to announce`)
      break
    case "endDate":
      if (sub.end_date === null) throw new InputError(`--subscription: subscription ${subscriptionId} has no end date, and the ${template} email is about one (fixed terms have one)`)
      break
  }
  const [attempt] = sub.invoice_id === null ? [] : await sql<Array<{ status: string; failure_reason: string | null; attempt_number: number }>>`
    select status, failure_reason, attempt_number from payment_attempts where invoice_id = ${sub.invoice_id} and kind = 'charge' order by id desc limit 1`
  const language = languageOf(sub, settings)
  const locale = localeOf(sub, settings)
  const data = await loadEmailData(sql, {
    id: 0, kind: "email", template, dedupe_key: "preview", subscription_id: subscriptionId, invoice_id: sub.invoice_id, recipient: sub.email,
    language, locale, payload: attempt === undefined ? {} : {
      outcome: attempt.status === "succeeded" ? "succeeded" : "failed", reason: attempt.failure_reason ?? "", attempt: attempt.attempt_number,
      next_retry_on: sub.next_retry_on
    }, attempts: 0, created_on: createdOn
  }, settings)
  // The engine sends no reminder of a payment of nothing: previewing one would show an email nobody gets.
  if (template === "reminder" && !reminderAnnounces(data.amount ?? 0)) {
    throw new InputError(`--subscription: subscription ${subscriptionId}'s coming payment on ${data.nextDate} is of nothing: no reminder is sent for a payment of nothing (a discount makes the period free)`)
  }
  return { data, language, locale }
}
