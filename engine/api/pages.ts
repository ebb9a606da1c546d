/**
 * The buyer's pages of `billcycle serve`, beside the /v1 API: `/p/TOKEN`
 * (update the payment method; an unpaid invoice is charged with it at once)
 * and `/i/TOKEN` (pay an open invoice). Server-rendered HTML that works
 * without JavaScript, in the buyer's language and locale (templates/pages).
 * This door parses, checks the form, calls one use case
 * (engine/checkout/buyerPages.ts) and renders; it decides no billing rule.
 *
 * Every POST carries a CSRF token: an HMAC of the browser's cookie nonce
 * (HttpOnly, SameSite=Strict) and the page's token; a POST without both, or
 * with a token of another page, is refused (403) before anything is read.
 * POSTs are limited per page token (10 a minute, this process). Every answer
 * forbids framing, outside resources and sending the token on as a referrer,
 * and lets forms post only to this server (the checkout page of a link with a
 * redirect also to that redirect's origin, where its Pay lands);
 * a failure answers a plain page and its cause stays in the server's log.
 */
import { Cause, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { randomBytes } from "node:crypto"
import { csrfTokenMatches, csrfTokenOf, resolveLanguage } from "../billing/index.ts"
import {
  type BuyerAddress, BuyerLinkExpired, BuyerLinkInvalid, type BuyerProblem, type CheckoutForm, checkoutView, payCheckout, type PayForm, CheckoutLinkOff, CheckoutLinkUnknown, CheckoutSessionExpired, CheckoutSessionUnknown, type CheckoutView,
  InvalidPaymentMethod, linkLocale, openCheckoutSession, pageSecret, payInvoiceOnline, type PaymentAnswer, readCheckoutSession, showInvoicePayPage, showPaymentUpdatePage,
  updatePaymentMethod
} from "../checkout/index.ts"
import type { ItemChoice } from "../domain/index.ts"
import { formatMajorAmount, readMajorAmount } from "../domain/index.ts"
import type { MajorAmountProblem } from "../domain/index.ts"
import { Gateway } from "../payments/index.ts"
import type { Database } from "../sql/index.ts"
import type { AccountSettings, BusinessClock } from "../account/index.ts"
import { defaultSettings, doorContext } from "../account/index.ts"
import { catalog, decimalSeparator, fillLabel, formatDate, formatMoney, renderPage } from "../../templates/index.ts"

type PageServices = Gateway | Database | BusinessClock

const maxFormBytes = 16 * 1024
const postsPerMinute = 10
const cookieName = "billcycle_csrf"

const contentSecurityPolicy = (formAction: string) =>
  `default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy("'self'"),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

/**
 * The checkout page's policy: Chromium applies `form-action` to the redirects that follow a form's POST too, so the page
 * of a link with a redirect (https, checked when the link was saved) also allows that URL's origin, and nothing more.
 */
const checkoutFormHeaders = (redirectUrl: string | undefined): Record<string, string> =>
  redirectUrl === undefined ? {} : { "content-security-policy": contentSecurityPolicy(`'self' ${new URL(redirectUrl).origin}`) }

const html = (status: number, body: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8", headers: { ...securityHeaders, ...headers } })

const templatesDir = (s: AccountSettings) => (s.templatesDir === "" ? undefined : s.templatesDir)

/** A page that only tells something (not found, expired, refused, failed), in the account's language. */
const messagePage = (
  status: number, settings: AccountSettings, key: "notFound" | "expired" | "forbidden" | "tooMany" | "error" | "linkOff" | "sessionExpired", date = "",
  lang?: { readonly language: string; readonly locale: string }
) =>
  html(status, renderPage("message", { title: `page.${key}.title`, text: `page.${key}.body`, date }, {
    language: lang?.language ?? settings.language, locale: lang?.locale ?? settings.locale, templatesDir: templatesDir(settings), title: `page.${key}.title`, seller: settings.sellerName
  }))

/** POSTs per page token in the last minute (this process): a script hammering a link gets 429 pages, not gateway calls. */
const makeRateLimit = () => {
  const seen = new Map<string, Array<number>>()
  return (token: string): boolean => {
    const now = Date.now()
    if (seen.size > 10_000) seen.clear()
    const recent = (seen.get(token) ?? []).filter((t) => now - t < 60_000)
    recent.push(now)
    seen.set(token, recent)
    return recent.length <= postsPerMinute
  }
}

const tokenShape = /^[A-Za-z0-9_-]{1,100}$/
const nonceShape = /^[A-Za-z0-9_-]{22}$/

/** The browser's CSRF nonce, or a new one to set (the Set-Cookie header, Secure when buyers come over https). */
const nonceOf = (req: HttpServerRequest.HttpServerRequest, settings: AccountSettings): { nonce: string; headers: Record<string, string> } => {
  const given = req.cookies[cookieName]
  if (given !== undefined && nonceShape.test(given)) return { nonce: given, headers: {} }
  const nonce = randomBytes(16).toString("base64url")
  const secure = settings.baseUrl.startsWith("https:") ? "; Secure" : ""
  return { nonce, headers: { "set-cookie": `${cookieName}=${nonce}; Path=/; HttpOnly; SameSite=Strict${secure}` } }
}

type Form = { readonly _tag: "Form"; readonly fields: URLSearchParams } | { readonly _tag: "Refused"; readonly status: number; readonly key: "forbidden" | "tooMany" }

/** A POST's form, refused unless its CSRF token matches the cookie and the page, and under the rate limit. */
const readForm = (req: HttpServerRequest.HttpServerRequest, token: string, allowed: (token: string) => boolean) =>
  Effect.gen(function*() {
    if (!allowed(token)) return { _tag: "Refused", status: 429, key: "tooMany" } as Form
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    const length = Number(req.headers["content-length"] ?? 0)
    if (type !== "application/x-www-form-urlencoded" || length > maxFormBytes) return { _tag: "Refused", status: 403, key: "forbidden" } as Form
    const text = yield* req.text.pipe(Effect.orDie)
    if (text.length > maxFormBytes) return { _tag: "Refused", status: 403, key: "forbidden" } as Form
    const fields = new URLSearchParams(text)
    const nonce = req.cookies[cookieName]
    const csrf = fields.get("csrf")
    const secret = yield* pageSecret
    if (nonce === undefined || !nonceShape.test(nonce) || csrf === null || !csrfTokenMatches(secret, nonce, token, csrf)) {
      return { _tag: "Refused", status: 403, key: "forbidden" } as Form
    }
    return { _tag: "Form", fields } as Form
  })

const errorKeyOf = (answer: PaymentAnswer | "invalid"): string | undefined =>
  answer === "invalid" ? "page.invalidPaymentMethod" : answer._tag === "Declined" ? "page.declined" : undefined

const updatePage = (token: string, req: HttpServerRequest.HttpServerRequest, status: number, extra: { error?: string | undefined; paymentMethod?: string; done?: string | undefined }) =>
  Effect.gen(function*() {
    const { view, settings } = yield* showPaymentUpdatePage(token)
    const { nonce, headers } = nonceOf(req, settings)
    const closed = view.status === "canceled" || view.status === "expired"
    const i = view.openInvoice
    const body = renderPage("update_payment", {
      name: view.name, closed, hasInvoice: i !== undefined && !closed, number: i?.number ?? "", amountDue: i?.amountDue ?? 0, currency: i?.currency ?? "USD",
      saved: extra.done === "saved" && i === undefined, paid: extra.done === "paid" && i === undefined, processing: view.inFlight,
      error: extra.error ?? "", showForm: !closed && !view.inFlight, action: `/p/${token}`, csrf: csrfTokenOf(yield* pageSecret, nonce, token),
      paymentMethod: extra.paymentMethod ?? ""
    }, { language: view.language, locale: view.locale, templatesDir: templatesDir(settings), title: "page.update.title", seller: settings.sellerName })
    return html(status, body, headers)
  })

const payPage = (token: string, req: HttpServerRequest.HttpServerRequest, status: number, extra: { error?: string | undefined; paymentMethod?: string; done?: string | undefined }) =>
  Effect.gen(function*() {
    const { view, settings } = yield* showInvoicePayPage(token)
    const { nonce, headers } = nonceOf(req, settings)
    const closed = view.status === "void" || view.status === "uncollectible"
    const paid = view.status === "paid" || view.amountDue <= 0
    const body = renderPage("pay_invoice", {
      number: view.number, subscriptionName: view.subscriptionName, issueDate: view.issueDate, dueDate: view.dueDate, currency: view.currency,
      total: view.total, amountDue: view.amountDue, lines: view.lines,
      subtotal: view.subtotal, discount: view.discount, tax: view.tax, fees: view.fees, amountPaid: view.amountPaid,
      paid: paid && extra.done === "paid", alreadyPaid: paid && extra.done !== "paid", closed, processing: view.inFlight && !paid,
      error: extra.error ?? "", showForm: !closed && !paid && !view.inFlight, action: `/i/${token}`, csrf: csrfTokenOf(yield* pageSecret, nonce, token),
      paymentMethod: extra.paymentMethod ?? ""
    }, { language: view.language, locale: view.locale, templatesDir: templatesDir(settings), title: "page.pay.title", titleValues: { number: view.number }, seller: settings.sellerName })
    return html(status, body, headers)
  })

/** Where the buyer goes after a submit that changed something: a GET of the page (a reload asks nothing again). */
const afterSubmit = (path: string, answer: PaymentAnswer) =>
  HttpServerResponse.redirect(answer._tag === "Paid" ? `${path}?done=paid` : answer._tag === "Saved" ? `${path}?done=saved` : path, { status: 303, headers: securityHeaders })

/** A link's refusals as pages; any other failure a 500 page whose cause is logged here, never sent. */
const answered = <R>(effect: Effect.Effect<HttpServerResponse.HttpServerResponse, BuyerLinkInvalid | BuyerLinkExpired, R>) =>
  Effect.gen(function*() {
    return yield* effect.pipe(
      Effect.catchTag("BuyerLinkInvalid", () => Effect.map(settingsOrDefault, (s) => messagePage(404, s, "notFound"))),
      Effect.catchTag("BuyerLinkExpired", (e) => Effect.map(settingsOrDefault, (s) =>
        messagePage(410, s, "expired", e.expiresOn, e.language === undefined ? undefined : { language: e.language, locale: e.locale ?? s.locale })))
    )
  }).pipe(
    Effect.catchCause((cause) =>
      Effect.logError("buyer page failed", Cause.pretty(cause)).pipe(Effect.andThen(Effect.map(settingsOrDefault, (s) => messagePage(500, s, "error"))))
    )
  )

/** What the pay part of the checkout page shows again after a submit: what the buyer typed, and what to fix. */
interface PayState {
  readonly form?: PayForm | undefined
  readonly problems?: ReadonlyArray<BuyerProblem>
  readonly declined?: boolean
  /** The choices changed what the summary said since the page was shown (today's amount, or only the payments after it): nothing was charged, the new summary is shown. */
  readonly changed?: SummaryChange | undefined
}

/**
 * What the summary showed the buyer, as the form carries it back (`shown_summary`): due today, then each run of future
 * payments (amount, cadence, first date, how many or until canceled) and the total, in minor units. The currency is the
 * session's and cannot change.
 */
const shownSummaryOf = (summary: CheckoutView["summary"]): string =>
  [
    String(summary.dueToday.amount),
    ...summary.futurePayments.map((f) => `${f.amount.amount}/${f.frequency.count}${f.frequency.unit}/${f.firstDate}/${f.payments ?? "renew"}`),
    `total:${summary.total?.amount ?? "none"}`
  ].join(" ")

/** How the summary for the choices sent differs from what the page showed: today's amount, or only the payments after today. */
type SummaryChange = "dueToday" | "later"

/**
 * The summary the choices sent make, against the one their page showed. A page served before `shown_summary` existed
 * (its session open up to 24 hours) sent only today's amount as `shown_due`; a POST with neither is not compared.
 */
const changedSinceShown = (fields: URLSearchParams, summary: CheckoutView["summary"]): SummaryChange | undefined => {
  const dueToday = String(summary.dueToday.amount)
  const shown = fields.get("shown_summary")
  if (shown === null) {
    const shownDue = fields.get("shown_due")
    return shownDue !== null && shownDue !== dueToday ? "dueToday" : undefined
  }
  if (shown === shownSummaryOf(summary)) return undefined
  return shown.split(" ")[0] !== dueToday ? "dueToday" : "later"
}

const addressPart = (a: BuyerAddress | undefined, part: keyof BuyerAddress) => (a === undefined ? "" : a[part])

/** The checkout page of a session for the buyer's choices (the summary is the links room's linkSummary). */
const checkoutPage = (view: CheckoutView, req: HttpServerRequest.HttpServerRequest, form: CheckoutForm | undefined, pay: PayState = {}) =>
  Effect.gen(function*() {
    const { session, summary, refusal, settings } = view
    const link = session.link
    const { nonce, headers } = nonceOf(req, settings)
    const chosen = new Map(summary.items.map((i) => [i.index, i.line]))
    // Each bought item as the summary shows it (billing/pricing.ts shownLine): quantity × unit price − its discount = its amount.
    const shown = new Map(summary.lines.map((l) => [l.index, l]))
    const perOf = (f: { unit: string; count: number } | undefined) => (f === undefined ? "" : f.count === 1 ? `page.checkout.per.${f.unit}` : `page.checkout.every.${f.unit}`)
    const items = link.items.map((item, index) => {
      const asked = form?.items.get(index)
      const line = chosen.get(index)
      const unitPrice = line?.unitPrice ?? asked?.unitPrice ?? item.unitPrice
      return {
        index, name: item.name, description: item.description ?? "", optional: item.optional, included: line !== undefined && item.optional,
        editable: item.editableQuantity !== undefined, min: item.editableQuantity?.min ?? 1, max: item.editableQuantity?.max ?? 1,
        quantity: line?.quantity ?? asked?.quantity ?? item.quantity, ownPrice: item.ownPrice !== undefined, minimum: item.ownPrice?.minimum ?? 0,
        unitPrice, priceText: formatMajorAmount(unitPrice, link.currency).replace(".", decimalSeparator(linkLocale(link, settings))), per: perOf(item.frequency), count: item.frequency?.count ?? 1,
        discount: shown.get(index)?.discount ?? 0, amount: shown.get(index)?.amount ?? 0
      }
    })
    const body = renderPage("checkout", {
      checkoutText: link.checkoutText ?? "", refusal: refusalText(refusal, link.currency, link.language, linkLocale(link, settings), templatesDir(settings)), codeRefused: refusal?.field === "discount_code", items, currency: summary.currency,
      allowDiscountCodes: link.allowDiscountCodes, discountCode: form?.discountCode ?? "",
      subtotal: summary.subtotal.amount, showSubtotal: summary.tax.amount > 0 || summary.orderDiscount.amount + summary.codeDiscount.amount > 0,
      orderDiscount: summary.orderDiscount.amount, codeDiscount: summary.codeDiscount.amount, tax: summary.tax.amount, dueToday: summary.dueToday.amount,
      future: summary.futurePayments.map((f) => ({ amount: f.amount.amount, per: perOf(f.frequency), count: f.frequency.count, firstDate: f.firstDate, payments: f.payments ?? 0 })),
      hasTotal: summary.total !== undefined, total: summary.total?.amount ?? 0, shownSummary: shownSummaryOf(summary),
      action: `/c/${session.id}`, csrf: csrfTokenOf(yield* pageSecret, nonce, session.id),
      ...payFields(view, pay)
    }, { language: link.language, locale: linkLocale(link, settings), templatesDir: templatesDir(settings), title: "page.checkout.title", seller: settings.sellerName })
    const failed = refusal !== undefined || (pay.problems?.length ?? 0) > 0 || pay.declined === true || pay.changed !== undefined
    return html(failed ? 422 : 200, body, { ...headers, ...checkoutFormHeaders(link.redirectUrl) })
  })

/** The buyer's part of the checkout page: email, name, the link's fields, its addresses, the payment method, each with its problem. */
const payFields = (view: CheckoutView, pay: PayState) => {
  const link = view.session.link
  const b = pay.form?.buyer
  const problemOf = (field: string) => {
    const p = pay.problems?.find((x) => x.field === field)
    return p === undefined ? "" : `page.checkout.problem.${p.problem}`
  }
  const buyerFields = [
    { name: "email", labelKey: "page.checkout.email", type: "email", autocomplete: "email", required: true, value: b?.email ?? "", help: "", problem: problemOf("email") },
    { name: "name", labelKey: "page.checkout.name", type: "text", autocomplete: "name", required: true, value: b?.name ?? "", help: "", problem: problemOf("name") },
    ...link.contactFields.map((f, i) => ({
      name: `field_${i}`, labelKey: "", label: f.label, type: "text", autocomplete: "", required: f.required, value: b?.fields[i]?.value ?? "",
      help: f.helpText ?? "", problem: problemOf(`field_${i}`)
    }))
  ]
  const address = (prefix: "billing" | "shipping", legend: string, a: BuyerAddress | undefined) => ({
    legend,
    parts: ([["line1", "page.checkout.line1", "address-line1"], ["postal_code", "page.checkout.postalCode", "postal-code"], ["city", "page.checkout.city", "address-level2"],
      ["country", "page.checkout.country", "country"]] as const).map(([part, labelKey, autocomplete]) => ({
        name: `${prefix}_${part}`, labelKey, autocomplete: `${prefix} ${autocomplete}`, problem: problemOf(`${prefix}_${part}`),
        value: addressPart(a, part === "postal_code" ? "postalCode" : part)
      }))
  })
  return {
    buyerFields,
    addresses: [
      ...(link.collectBillingAddress ? [address("billing", "page.checkout.billingAddress", b?.billingAddress)] : []),
      ...(link.collectShippingAddress ? [address("shipping", "page.checkout.shippingAddress", b?.shippingAddress)] : [])
    ],
    problems: (pay.problems?.length ?? 0) > 0,
    paymentProblem: problemOf("payment_method"),
    declined: pay.declined === true,
    amountChanged: pay.changed === "dueToday",
    laterChanged: pay.changed === "later",
    paymentMethod: (pay.form?.paymentMethod ?? "").slice(0, 100)
  }
}

/** The buyer's details from the checkout form (each field cut to a sane length; the use case checks them). */
const payFormOf = (view: CheckoutView, choices: CheckoutForm, fields: URLSearchParams): PayForm => {
  const text = (name: string, max = 500) => (fields.get(name) ?? "").slice(0, max)
  const address = (prefix: string): BuyerAddress => ({
    line1: text(`${prefix}_line1`, 300), postalCode: text(`${prefix}_postal_code`, 300), city: text(`${prefix}_city`, 300), country: text(`${prefix}_country`, 10)
  })
  const link = view.session.link
  return {
    ...choices,
    buyer: {
      email: text("email", 300), name: text("name", 300),
      fields: link.contactFields.map((f, i) => ({ label: f.label, value: text(`field_${i}`, 600) })),
      billingAddress: link.collectBillingAddress ? address("billing") : undefined,
      shippingAddress: link.collectShippingAddress ? address("shipping") : undefined
    },
    paymentMethod: text("payment_method", 200).trim()
  }
}

/** The page of a completed session (its confirmation text) or of one whose payment is being processed. */
const checkoutDonePage = (view: CheckoutView, processing: boolean, debit?: string) =>
  Effect.gen(function*() {
    const link = view.session.link
    const body = renderPage("checkout_done", {
      title: processing ? "page.checkout.processing.title" : "page.checkout.done.title", processing, action: `/c/${view.session.id}`,
      confirmationText: link.confirmationText ?? "", debit: debit ?? ""
    }, {
      language: link.language, locale: linkLocale(link, view.settings), templatesDir: templatesDir(view.settings),
      title: processing ? "page.checkout.processing.title" : "page.checkout.done.title", seller: view.settings.sellerName
    })
    return html(processing ? 202 : 200, body)
  })

/**
 * Why the buyer's choice or code is refused, in the link's language and formats (`page.checkout.problem.REASON`,
 * the minimum as money, the date as a date); a reason without a label in its words (the CLI's and the API's).
 */
const refusalText = (refusal: CheckoutView["refusal"], currency: string, language: string, locale: string, dir: string | undefined): string => {
  if (refusal === undefined) return ""
  const label = refusal.reason === undefined ? undefined : catalog(resolveLanguage(language), dir)[`page.checkout.problem.${refusal.reason}`]
  if (label === undefined) return refusal.problem
  const v = refusal.values ?? {}
  const shown: Record<string, string> = {
    ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])),
    minimum: typeof v["minimum"] === "number" ? formatMoney(v["minimum"], currency, locale) : "",
    maximum: typeof v["maximum"] === "number" ? formatMoney(v["maximum"], currency, locale) : "",
    date: typeof v["date"] === "string" && v["date"] !== "" ? formatDate(v["date"], locale) : ""
  }
  return fillLabel(label, shown)
}

/**
 * An amount a buyer typed, as `readMajorAmount` reads it ("1234.50"), in the page's locale: spaces dropped; of a comma
 * and a dot both typed, the last is the decimal one and the others group thousands (1.234,50; 1,234.50). One kind
 * typed once is the decimal one when it is the locale's ("12,50" on an nb page, "12.500" on an en page: 12.500 KWD)
 * or when not three digits follow it ("12.5" anywhere); the locale's other one before three digits groups thousands
 * ("12,500" on an en page: 12500). Typed more than once, it groups thousands (1.234.567). What is left is no number
 * (or has too many decimals for the currency) and `readMajorAmount` says so.
 */
export const buyerAmountText = (typed: string, locale: string): string => {
  const t = typed.replace(/[\s\u00a0\u202f'’]/g, "")
  const separators = t.match(/[.,]/g) ?? []
  if (separators.length === 0) return t
  const groups = (whole: string) => (/^\d{1,3}([.,]\d{3})*$/.test(whole) ? whole.replace(/[.,]/g, "") : whole)
  const last = t.lastIndexOf(separators[separators.length - 1]!)
  const sep = t[last]!
  const whole = t.slice(0, last)
  const fraction = t.slice(last + 1)
  const mixed = separators.some((s) => s !== sep)
  if (mixed) return whole.includes(sep) ? t : `${groups(whole)}.${fraction}`
  if (separators.length > 1) return groups(t)
  return sep === decimalSeparator(locale) || !/^\d{3}$/.test(fraction) ? `${whole}.${fraction}` : groups(t)
}

/** The buyer's choices from the checkout form: ticked optional items, quantities, own prices (major units), the code. */
const checkoutFormOf = (view: CheckoutView, fields: URLSearchParams): CheckoutForm => {
  const items = new Map<number, ItemChoice>()
  const unreadPrices = new Map<number, MajorAmountProblem>()
  const link = view.session.link
  link.items.forEach((item, index) => {
    const quantityText = fields.get(`quantity_${index}`)
    const priceText = fields.get(`price_${index}`)
    const price = priceText === null || item.ownPrice === undefined ? undefined : readMajorAmount(buyerAmountText(priceText, linkLocale(link, view.settings)), link.currency)
    if (price !== undefined && typeof price !== "number") unreadPrices.set(index, price)
    items.set(index, {
      ...(item.optional ? { include: fields.get(`include_${index}`) === "1" } : {}),
      // Not a whole number: NaN, which the links room refuses naming the item and its bounds.
      ...(quantityText === null || item.editableQuantity === undefined ? {} : { quantity: /^\d{1,9}$/.test(quantityText.trim()) ? Number(quantityText.trim()) : NaN }),
      // Not an amount of the link's currency: refused naming why (unreadPrices), and NaN should anything else read it.
      ...(price === undefined ? {} : { unitPrice: typeof price === "number" ? price : NaN })
    })
  })
  return { items, discountCode: (fields.get("discount_code") ?? "").slice(0, 60), unreadPrices }
}

type CheckoutRefusal = CheckoutLinkUnknown | CheckoutLinkOff | CheckoutSessionUnknown | CheckoutSessionExpired

const checkoutAnswered = <R>(effect: Effect.Effect<HttpServerResponse.HttpServerResponse, CheckoutRefusal, R>) =>
  effect.pipe(
    Effect.catchTags({
      CheckoutLinkUnknown: () => Effect.map(settingsOrDefault, (s) => messagePage(404, s, "notFound")),
      CheckoutSessionUnknown: () => Effect.map(settingsOrDefault, (s) => messagePage(404, s, "notFound")),
      CheckoutLinkOff: (e) => Effect.map(settingsOrDefault, (s) => messagePage(410, s, "linkOff", "", e)),
      CheckoutSessionExpired: (e) => Effect.map(settingsOrDefault, (s) => messagePage(410, s, "sessionExpired", "", e))
    }),
    Effect.catchCause((cause) =>
      Effect.logError("checkout page failed", Cause.pretty(cause)).pipe(Effect.andThen(Effect.map(settingsOrDefault, (s) => messagePage(500, s, "error"))))
    )
  )

const settingsOrDefault = doorContext.pipe(Effect.map((c) => c.settings), Effect.orElseSucceed(defaultSettings))

/**
 * A refused POST of a checkout session (403, 429) in its link's language: the session is read only to word the page,
 * after the refusal, and nothing of the form is used. An unknown session keeps the refusal, in the account's language.
 */
const sessionRefusalPage = (id: string, refused: Extract<Form, { _tag: "Refused" }>) =>
  readCheckoutSession(id).pipe(
    Effect.map(({ session, settings }) =>
      messagePage(refused.status, settings, refused.key, "", { language: session.link.language, locale: linkLocale(session.link, settings) })),
    Effect.catchTag("CheckoutSessionUnknown", () => Effect.map(settingsOrDefault, (s) => messagePage(refused.status, s, refused.key)))
  )

type PageShow = (token: string) => Effect.Effect<{ readonly view: { readonly language: string; readonly locale: string }; readonly settings: AccountSettings }, BuyerLinkInvalid | BuyerLinkExpired, PageServices>

/**
 * A refused POST of a `/p` or `/i` page (403, 429) in the language and formats its page speaks (the subscription's or
 * the invoice's), as a checkout session's is: what the link is for is read only to word the page, after the refusal,
 * and nothing of the form is used. A token that opens nothing keeps the refusal, in the account's language.
 */
const linkRefusalPage = (token: string, refused: Extract<Form, { _tag: "Refused" }>, show: PageShow) =>
  show(token).pipe(
    Effect.map(({ settings, view }) => messagePage(refused.status, settings, refused.key, "", { language: view.language, locale: view.locale })),
    Effect.catchTags({
      BuyerLinkInvalid: () => Effect.map(settingsOrDefault, (s) => messagePage(refused.status, s, refused.key)),
      BuyerLinkExpired: () => Effect.map(settingsOrDefault, (s) => messagePage(refused.status, s, refused.key))
    })
  )

const doneOf = (req: HttpServerRequest.HttpServerRequest) => new URL(req.url, "http://page").searchParams.get("done") ?? undefined

/** The pages' routes, registered on the server's router (server.ts): the database, business clock and gateway come with them. */
export const buyerPageRoutes = HttpRouter.use((router) =>
  Effect.gen(function*() {
    const services = yield* Effect.context<PageServices>()
    const allowed = makeRateLimit()
    const route = (method: "GET" | "POST", path: HttpRouter.PathInput, handle: (token: string, req: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse, BuyerLinkInvalid | BuyerLinkExpired, PageServices>) =>
      router.add(method, path, (req) =>
        Effect.gen(function*() {
          const token = (yield* HttpRouter.params)["token"] ?? ""
          if (!tokenShape.test(token)) return yield* new BuyerLinkInvalid()
          return yield* handle(token, req)
        }).pipe(answered, Effect.provideContext(services)))

    const submit = (path: string, token: string, req: HttpServerRequest.HttpServerRequest, pay: (token: string, pm: string) => Effect.Effect<PaymentAnswer, BuyerLinkInvalid | BuyerLinkExpired | InvalidPaymentMethod, PageServices>, page: typeof updatePage, show: PageShow) =>
      Effect.gen(function*() {
        const form = yield* readForm(req, token, allowed)
        if (form._tag === "Refused") return yield* linkRefusalPage(token, form, show)
        const pm = (form.fields.get("payment_method") ?? "").trim()
        const answer = yield* pay(token, pm).pipe(Effect.catchTag("InvalidPaymentMethod", () => Effect.succeed("invalid" as const)))
        const error = errorKeyOf(answer)
        if (error !== undefined) return yield* page(token, req, 422, { error, paymentMethod: pm.slice(0, 100) })
        return afterSubmit(path, answer as PaymentAnswer)
      })

    yield* route("GET", "/p/:token", (token, req) => updatePage(token, req, 200, { done: doneOf(req) }))
    yield* route("POST", "/p/:token", (token, req) => submit(`/p/${token}`, token, req, updatePaymentMethod, updatePage, showPaymentUpdatePage))
    yield* route("GET", "/i/:token", (token, req) => payPage(token, req, 200, { done: doneOf(req) }))
    const checkoutRoute = (method: "GET" | "POST", path: HttpRouter.PathInput, handle: (param: string, req: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse, CheckoutRefusal, PageServices>) =>
      router.add(method, path, (req) =>
        Effect.gen(function*() {
          const params = yield* HttpRouter.params
          const param = params["slug"] ?? params["session"] ?? ""
          if (!tokenShape.test(param)) return yield* new CheckoutSessionUnknown()
          return yield* handle(param, req)
        }).pipe(checkoutAnswered, Effect.provideContext(services)))
    // A new session for every GET of the link: its own frozen prices and 24 hours, then the page at /c/ID.
    yield* checkoutRoute("GET", "/l/:slug", (slug) =>
      Effect.map(openCheckoutSession(slug), (id) => HttpServerResponse.redirect(`/c/${id}`, { status: 303, headers: securityHeaders })))
    yield* checkoutRoute("GET", "/c/:session", (id, req) =>
      Effect.gen(function*() {
        const read = yield* readCheckoutSession(id)
        const progress = read.state
        const view = yield* checkoutView(read, undefined, { evenWhenExpired: progress.completedOn !== undefined || progress.inFlight })
        if (progress.completedOn !== undefined || progress.inFlight) {
          // Completed with its payment still in flight or failed afterwards: a bank debit, which settles days later.
          const debit = progress.completedOn === undefined ? undefined : progress.inFlight ? "page.checkout.done.debit" : progress.lastFailure !== undefined ? "page.checkout.done.debitFailed" : undefined
          return yield* checkoutDonePage(view, progress.completedOn === undefined, debit)
        }
        return yield* checkoutPage(view, req, undefined)
      }))
    yield* checkoutRoute("POST", "/c/:session", (id, req) =>
      Effect.gen(function*() {
        const formRead = yield* readForm(req, id, allowed)
        if (formRead._tag === "Refused") return yield* sessionRefusalPage(id, formRead)
        // The session, where it stands and the settings, read once for the whole request.
        const read = yield* readCheckoutSession(id)
        const first = yield* checkoutView(read)
        const form = checkoutFormOf(first, formRead.fields)
        const current = yield* checkoutView(read, form)
        if (formRead.fields.get("action") !== "pay") return yield* checkoutPage(current, req, form)
        const payForm = payFormOf(first, form, formRead.fields)
        // The buyer pays what the page's summary said: today's amount and what they commit to after it. Without JavaScript
        // nothing recomputes it when a choice changes, so choices changed since the page was shown (no "update") show the
        // new summary first and charge nothing.
        const progress = read.state
        if (progress.completedOn === undefined && !progress.inFlight && current.refusal === undefined) {
          const changed = changedSinceShown(formRead.fields, current.summary)
          if (changed !== undefined) return yield* checkoutPage(current, req, form, { form: payForm, changed })
        }
        const answer = yield* payCheckout(id, payForm, { view: current, state: read.state })
        switch (answer._tag) {
          case "Completed": {
            // The link's redirect (https, checked when saved) or the session's own confirmation page; a reload asks nothing again.
            const target = first.session.link.redirectUrl ?? `/c/${id}`
            return HttpServerResponse.redirect(target, { status: 303, headers: securityHeaders })
          }
          case "Processing":
            return HttpServerResponse.redirect(`/c/${id}`, { status: 303, headers: securityHeaders })
          case "LinkOff":
            return messagePage(410, first.settings, "linkOff", "", { language: first.session.link.language, locale: linkLocale(first.session.link, first.settings) })
          case "Refused":
            return yield* checkoutPage(answer.view, req, form, { form: payForm })
          case "Invalid":
            return yield* checkoutPage(answer.view, req, form, { form: payForm, problems: answer.problems })
          case "Declined":
            return yield* checkoutPage(answer.view, req, form, { form: payForm, declined: true })
        }
      }))
    yield* route("POST", "/i/:token", (token, req) => submit(`/i/${token}`, token, req, payInvoiceOnline, payPage, showInvoicePayPage))
  })
)
