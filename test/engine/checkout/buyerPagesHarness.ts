/**
 * The buyer's pages under test: `billcycle serve`'s routes on a random
 * loopback port (apiHarness), subscriptions made and billed by the engine's
 * own tick, page tokens signed with the database's secret, and a form helper
 * that does what a browser does (GET the page, keep its cookie and CSRF
 * field, POST).
 */
import { Effect } from "effect"
import type { BuyerLinkPurpose } from "../../../engine/billing/index.ts"
import { addDays, signBuyerToken } from "../../../engine/billing/index.ts"
import type { CheckoutAttempt } from "../../../engine/checkout/index.ts"
import { recordCheckoutAttempt, showCheckout } from "../../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../../engine/domain/index.ts"
import { buyerSecret, dayTime } from "../../../engine/account/index.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { engineLayer } from "../runtime/engineHarness.ts"

/** A link of a monthly item and a one-time setup, billed from checkout (the checkout benchmark's, bench/checkout.ts). */
export const monthlyWithSetup: PaymentLinkSettings = {
  name: "Coffee club",
  currency: "USD",
  items: [
    { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
    { name: "Grinder setup", unitPrice: 1000, quantity: 1, frequency: undefined, optional: false }
  ],
  terms: { _tag: "AutoRenew" },
  start: { _tag: "AtCheckout" },
  language: "en",
  locale: "en-US",
  paymentTypes: ["card"],
  collectBillingAddress: false,
  collectShippingAddress: false,
  allowDiscountCodes: false,
  contactFields: []
}

/** Records an attempt on session `id` as its page does (the first half of payCheckout): the purchase frozen, committed. */
export const recordAttemptAsPage = (api: ApiUnderTest, today: CalendarDate, id: string, email: string): Promise<CheckoutAttempt> =>
  Effect.runPromise(Effect.gen(function*() {
    const view = yield* showCheckout(id, { items: new Map(), discountCode: "" })
    const recorded = yield* Effect.promise(() =>
      recordCheckoutAttempt(api.db.db.sql, view.session, {
        amount: view.summary.dueToday.amount, paymentMethod: "pm_ok", lease: dayTime(today).epochMillis + 120_000,
        purchase: { submittedOn: today, items: [], buyer: { email, name: "Ada", fields: [] } }
      }))
    if (recorded._tag !== "Recorded") throw new Error(recorded._tag)
    return recorded.attempt
  }).pipe(Effect.provide(engineLayer(api.db, today))) as Effect.Effect<CheckoutAttempt, never, never>)

export const tokenFor = async (api: ApiUnderTest, purpose: BuyerLinkPurpose, id: number, expiresOn = "2026-12-31") =>
  signBuyerToken(await buyerSecret(api.db.db.sql), { purpose, id, expiresOn: expiresOn as CalendarDate })

export const dayBefore = (date: string) => addDays(date as CalendarDate, -1)

export interface PageAnswer {
  readonly status: number
  readonly headers: Headers
  readonly html: string
}

const answer = async (r: Response): Promise<PageAnswer> => ({ status: r.status, headers: r.headers, html: await r.text() })

export const getPage = async (api: ApiUnderTest, path: string, cookie?: string): Promise<PageAnswer> =>
  answer(await fetch(api.url + path, { redirect: "manual", headers: cookie === undefined ? {} : { cookie } }))

/** The cookie and CSRF field a browser gets with the page. */
export const openForm = async (api: ApiUnderTest, path: string): Promise<{ cookie: string; csrf: string; page: PageAnswer }> => {
  const page = await getPage(api, path)
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.html)?.[1] ?? ""
  return { cookie, csrf, page }
}

export const postForm = async (api: ApiUnderTest, path: string, fields: Record<string, string>, cookie?: string): Promise<PageAnswer> =>
  answer(await fetch(api.url + path, {
    method: "POST", redirect: "manual", body: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie === undefined ? {} : { cookie }) }
  }))

/** Opens the page and submits its form with a payment method, as a browser would. */
export const submitPaymentMethod = async (api: ApiUnderTest, path: string, paymentMethod: string): Promise<PageAnswer> => {
  const form = await openForm(api, path)
  return postForm(api, path, { csrf: form.csrf, payment_method: paymentMethod }, form.cookie)
}

export const chargesOf = (api: ApiUnderTest, subscriptionId: number) =>
  api.db.db.sql<Array<{ status: string; initiated_by: string; payment_method: string; amount: number }>>`
    select a.status, a.initiated_by, a.payment_method, a.amount from payment_attempts a join invoices i on i.id = a.invoice_id
    where i.subscription_id = ${subscriptionId} and a.kind = 'charge' order by a.id`
