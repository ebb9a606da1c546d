/**
 * Paying a checkout session over real HTTP, on both databases, as the buyer
 * does it: open the link, fill the form, pay. One idempotent step keyed by
 * the session: the contact, the subscriptions grouped by cadence, their first
 * invoices paid by the one charge, `checkout.completed`, the receipt and the
 * admin notification, all in one transaction after the gateway answered. A
 * declined card leaves the session open; a lost reply is settled by the
 * engine; a double submit or a second tab charges once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, createSimpleLink, insertDiscountCode, switchPaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../../engine/domain/index.ts"
import { compileRules, parseRules } from "../../../dsl/index.ts"
import { buyerSecret, loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { closeInvoice, loadInvoiceDocument, payInvoice } from "../../../engine/invoicing/index.ts"
import { renderInvoice } from "../../../templates/index.ts"
import { enrollFromJournal, runDueEnrollments } from "../../../engine/enrollments/index.ts"
import { csrfTokenOf } from "../../../engine/billing/index.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { createSubscription, tickAt } from "../runtime/engineHarness.ts"
import { getPage, monthlyWithSetup, openForm, postForm, tokenFor } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi(today)
})
afterAll(async () => {
  await api?.close()
})

const settings = (over: Partial<PaymentLinkSettings> = {}): PaymentLinkSettings => ({
  ...monthlyWithSetup,
  name: "Coffee club (internal)",
  items: [
    { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
    { name: "Mug", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true },
    { name: "Filters", unitPrice: 300, quantity: 2, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 10 } }
  ],
  allowDiscountCodes: true,
  ...over
})

let counter = 0
const linkOf = (over: Partial<PaymentLinkSettings> = {}) => createPaymentLink(api.db.db.sql, today, settings(over), { slug: `pay-${backend}-${++counter}` })
const sql = () => api.db.db.sql

/** Opens the link as a browser does and reads the session's form (cookie, CSRF field). */
const checkout = async (slug: string) => {
  const opened = await getPage(api, `/l/${slug}`)
  expect(opened.status).toBe(303)
  const path = opened.headers.get("location")!
  const form = await openForm(api, path)
  return { path, id: path.slice(3), ...form }
}

const pay = (c: { path: string; csrf: string; cookie: string }, fields: Record<string, string>) =>
  postForm(api, c.path, { csrf: c.csrf, action: "pay", ...fields }, c.cookie)

/** The hidden fields of the form that tell what the page showed (a browser sends them back with Pay). */
const shownOf = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="(shown_[a-z_]+)" value="([^"]*)">/g)].map((m) => [m[1]!, unescapeHtml(m[2]!)]))

const unescapeHtml = (text: string) =>
  text.replace(/&(#x([0-9a-f]+)|#(\d+)|amp|lt|gt|quot);/gi, (_, name: string, hex?: string, dec?: string) =>
    hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : dec !== undefined ? String.fromCodePoint(Number(dec)) : ({ amp: "&", lt: "<", gt: ">", quot: '"' } as Record<string, string>)[name]!)

const buyer = (email: string, paymentMethod = "pm_ok") => ({ email, name: "Ada Buyer", payment_method: paymentMethod })

const contactOf = async (email: string) =>
  (await sql()<Array<{ id: number; payment_method: string; name: string; address: any }>>`select id, payment_method, name, address from contacts where email = ${email}`)[0]

const subscriptionsOf = (contactId: number) =>
  sql()<Array<{ id: number; name: string; status: string; frequency_unit: string; payments_made: number; next_billing_date: string; start_date: string; code_discount: any }>>`
    select id, name, status, frequency_unit, payments_made, next_billing_date::text, start_date::text, code_discount from subscriptions where contact_id = ${contactId} order by id`

const invoicesOf = (subscriptionId: number) =>
  sql()<Array<{ id: number; status: string; total: number; discount: number; period_start: string; period_index: number }>>`
    select id, status, total::int, discount::int, period_start::text, period_index from invoices where subscription_id = ${subscriptionId} order by period_start`

const redemptionsOf = async (codeId: number) =>
  (await sql()<Array<{ redemptions: number }>>`select redemptions from discount_codes where id = ${codeId}`)[0]!.redemptions

const gatewayCharges = (sessionId: string) =>
  sql()<Array<{ idempotency_key: string; amount: number; outcome: string }>>`
    select idempotency_key, amount::int, outcome from sim_gateway_ledger where merchant_reference = ${`checkout ${sessionId}`} order by created_at`

describe(`paying a checkout (${backend})`, () => {
  it("pm_ok: the contact, a subscription whose first invoice the charge paid, checkout.completed, a receipt and a notification; the page thanks the buyer", async () => {
    const link = await linkOf()
    const c = await checkout(link.slug)
    expect(c.page.html).toContain('id="pay"')
    expect(c.page.html).toContain("Pay $31.00")
    const r = await pay(c, { ...buyer(`ok-${backend}@example.com`), quantity_2: "2" })
    expect(r.status).toBe(303)
    expect(r.headers.get("location")).toBe(c.path)
    const done = await getPage(api, c.path)
    expect(done.status).toBe(200)
    expect(done.html).toContain("Thank you for your order")

    const contact = (await contactOf(`ok-${backend}@example.com`))!
    expect(contact.payment_method).toBe("pm_ok")
    expect(contact.name).toBe("Ada Buyer")
    const [s, ...more] = await subscriptionsOf(contact.id)
    expect(more).toEqual([])
    expect(s).toMatchObject({ name: "Beans", status: "active", payments_made: 1, next_billing_date: "2026-05-02", start_date: today })
    const [invoice] = await invoicesOf(s!.id)
    expect(invoice).toMatchObject({ status: "paid", total: 3100, period_start: today })
    expect(await gatewayCharges(c.id)).toEqual([{ idempotency_key: `co_${c.id}_1`, amount: 3100, outcome: "succeeded" }])
    // The invoice records the checkout's charge as its attempt (written with the invoice's payment, while it was open).
    const attempts = await sql()<Array<{ status: string; initiated_by: string; amount: number; payment_method: string }>>`
      select status, initiated_by, amount, payment_method from payment_attempts where invoice_id = ${invoice!.id}`
    expect(attempts).toEqual([{ status: "succeeded", initiated_by: "buyer", amount: 3100, payment_method: "pm_ok" }])
    const events = await sql()<Array<{ type: string; source: string; data: any }>>`select type, source, data from events where subscription_id = ${s!.id} order by id`
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["subscription.created", "invoice.created", "payment.succeeded", "invoice.paid", "checkout.completed"]))
    const completed = events.find((e) => e.type === "checkout.completed")!
    expect(completed.source).toBe("buyer")
    expect(completed.data).toMatchObject({ session_id: c.id, slug: link.slug, amount: 3100, currency: "USD", subscription_ids: [s!.id] })
    const outbox = await sql()<Array<{ template: string }>>`select template from outbox where invoice_id = ${invoice!.id} order by id`
    expect(outbox.map((m) => m.template)).toEqual(["receipt", "payment_notification"])
    const [l] = await sql()<Array<{ completed_payments: number }>>`select completed_payments from payment_links where id = ${link.id}`
    expect(l!.completed_payments).toBe(1)

    // The engine does not bill the period the checkout paid; it bills the next one on its date.
    expect((await tickAt(api.db, today)).invoiced).toBe(0)
    await tickAt(api.db, "2026-05-02")
    const after = await invoicesOf(s!.id)
    expect(after.map((i) => [i.period_start, i.total, i.status])).toEqual([[today, 3100, "paid"], ["2026-05-02", 2500, "paid"]])
  })

  it("a declined card shows the error on the page with what the buyer typed and writes no subscription; the next card completes the same session", async () => {
    const link = await linkOf()
    const c = await checkout(link.slug)
    const email = `declined-${backend}@example.com`
    const r = await pay(c, buyer(email, "pm_declined"))
    expect(r.status).toBe(422)
    expect(r.html).toContain("The payment was declined")
    expect(r.html).toContain(`value="${email}"`)
    expect(await contactOf(email)).toBeUndefined()
    const again = await pay(c, buyer(email, "pm_ok"))
    expect(again.status).toBe(303)
    const contact = (await contactOf(email))!
    expect(await subscriptionsOf(contact.id)).toHaveLength(1)
    expect((await gatewayCharges(c.id)).map((g) => [g.idempotency_key, g.outcome])).toEqual([[`co_${c.id}_1`, "declined"], [`co_${c.id}_2`, "succeeded"]])
  })

  it("a double submit, a second tab and a reload after paying: one charge, one set of subscriptions", async () => {
    const link = await linkOf()
    const c = await checkout(link.slug)
    const email = `double-${backend}@example.com`
    const tab2 = await openForm(api, c.path)
    const answers = await Promise.all([pay(c, buyer(email)), pay(c, buyer(email)), pay({ path: c.path, csrf: tab2.csrf, cookie: tab2.cookie }, buyer(email))])
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303])
    const reload = await pay(c, buyer(email))
    expect(reload.status).toBe(303)
    const contact = (await contactOf(email))!
    expect(await subscriptionsOf(contact.id)).toHaveLength(1)
    expect(await gatewayCharges(c.id)).toHaveLength(1)
  })

  it("a returning buyer (the email in another case) is the contact already there: its payment method and name kept, the new card on the new subscription, no second contact", async () => {
    const email = `returning-${backend}@example.com`
    const first = await checkout((await linkOf()).slug)
    expect((await pay(first, { email, name: "Ada First", payment_method: "pm_ok" })).status).toBe(303)
    const contact = (await contactOf(email))!
    const again = await checkout((await linkOf()).slug)
    expect((await pay(again, { email: email.toUpperCase(), name: "Someone Else", payment_method: "pm_fail_once" })).status).toBe(422)
    expect((await pay(again, { email: email.toUpperCase(), name: "Someone Else", payment_method: "pm_fail_once" })).status).toBe(303)
    const [n] = await sql()<Array<{ n: number }>>`select count(*)::int as n from contacts where lower(email) = ${email}`
    expect(n!.n).toBe(1)
    expect(await contactOf(email)).toMatchObject({ id: contact.id, name: "Ada First", payment_method: "pm_ok" })
    const methods = await sql()<Array<{ payment_method: string }>>`select payment_method from subscriptions where contact_id = ${contact.id} order by id`
    expect(methods.map((m) => m.payment_method)).toEqual(["pm_ok", "pm_fail_once"])
    const created = await sql()<Array<{ n: number }>>`select count(*)::int as n from events where type = 'contact.created' and contact_id = ${contact.id}`
    expect(created[0]!.n).toBe(1)
  })

  it("a buyer paying with the email of a contact already there (any case) changes nothing of that contact: its card, name and addresses stay, its own renewal still charges its card; the buyer's card rides on the subscriptions the checkout made", async () => {
    // The contact's subscription has no payment method of its own: it is charged with the contact's saved one.
    const email = `victim-${backend}@example.com`
    const theirs = await createSubscription(sql(), { email, start: today, items: [{ price: 2500 }] })
    // No name saved: the buyer's must not fill it in either.
    await sql()`update contacts set name = null, language = 'nb', locale = 'nb-NO', address = ${sql().json({ line1: "Storgata 1", postalCode: "0155", city: "Oslo", country: "NO" })}
      where email = ${email}`
    await tickAt(api.db, today)
    const contactRow = async () => (await sql()<Array<Record<string, unknown>>>`select * from contacts where email = ${email}`)[0]!
    const before = await contactRow()
    expect(before["payment_method"]).toBe("pm_ok")
    // A code that takes today's payment off whole: the buyer's card is only verified today (pm_fail_once passes the
    // check; its first charge of each invoice is declined).
    const code = await insertDiscountCode(sql(), { code: `FREE${backend}`, off: { _tag: "Percent", ppm: 1_000_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const link = await linkOf({
      items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }],
      collectBillingAddress: true, collectShippingAddress: true, contactFields: [{ label: "Company", required: false, order: 1 }]
    })
    const c = await checkout(link.slug)
    const r = await pay(c, {
      email: email.toUpperCase(), name: "Mallory", payment_method: "pm_fail_once", discount_code: code.code, field_0: "Evil Corp",
      billing_line1: "Elm Street 13", billing_postal_code: "12345", billing_city: "Springfield", billing_country: "us",
      shipping_line1: "Dock 9", shipping_postal_code: "54321", shipping_city: "Shelbyville", shipping_country: "us"
    })
    expect(r.status).toBe(303)
    expect(await contactRow()).toEqual(before)
    const made = (await sql()<Array<{ id: number; payment_method: string | null }>>`
      select id, payment_method from subscriptions where contact_id = ${before["id"] as number} and id <> ${theirs} order by id`)
    expect(made.map((s) => s.payment_method)).toEqual(["pm_fail_once"])
    // What the buyer typed is kept with the purchase and its event, as before.
    const [attempt] = await sql()<Array<{ purchase: any }>>`select purchase from checkout_payments where session_id = ${c.id}`
    expect(attempt!.purchase.buyer).toMatchObject({
      name: "Mallory", fields: [{ label: "Company", value: "Evil Corp" }],
      billingAddress: { line1: "Elm Street 13", postalCode: "12345", city: "Springfield", country: "US" },
      shippingAddress: { line1: "Dock 9", postalCode: "54321", city: "Shelbyville", country: "US" }
    })
    const [e] = await sql()<Array<{ data: any }>>`select data from events where type = 'checkout.completed' and data->>'session_id' = ${c.id}`
    expect(e!.data).toMatchObject({ payment_method: "pm_fail_once", fields: { Company: "Evil Corp" }, shipping_address: { line1: "Dock 9" } })
    // A month later the contact's own subscription is charged with its own card and paid; the buyer's fails on the buyer's card.
    await tickAt(api.db, "2026-05-02")
    expect((await invoicesOf(theirs)).map((i) => [i.period_start, i.status])).toEqual([[today, "paid"], ["2026-05-02", "paid"]])
    expect((await invoicesOf(made[0]!.id)).map((i) => [i.period_start, i.status])).toEqual([[today, "paid"], ["2026-05-02", "open"]])
  })

  it("pm_timeout: the page says processing, the engine asks again with the same key and completes the purchase once", async () => {
    const link = await linkOf()
    const c = await checkout(link.slug)
    const email = `timeout-${backend}@example.com`
    const r = await pay(c, buyer(email, "pm_timeout"))
    expect(r.status).toBe(303)
    const processing = await getPage(api, c.path)
    expect(processing.status).toBe(202)
    expect(processing.html).toContain("Your payment is being processed")
    expect(await contactOf(email)).toBeUndefined()
    // Another submit while the reply is unknown charges nothing new.
    expect((await pay(c, buyer(email, "pm_ok"))).status).toBe(303)
    // The backoff is business time: the engine's tick at the session's day + 1 asks again.
    await tickAt(api.db, "2026-04-03")
    const contact = (await contactOf(email))!
    const subs = await subscriptionsOf(contact.id)
    expect(subs).toHaveLength(1)
    expect(subs[0]).toMatchObject({ start_date: today, payments_made: 1 })
    expect(await gatewayCharges(c.id)).toHaveLength(1)
    expect((await getPage(api, c.path)).html).toContain("Thank you for your order")
  })

  it("a monthly and a yearly item make two subscriptions, each with its first invoice paid by the one charge", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Support", unitPrice: 12000, quantity: 1, frequency: { unit: "year", count: 1 }, optional: false }
      ]
    })
    const c = await checkout(link.slug)
    const email = `two-${backend}@example.com`
    expect((await pay(c, buyer(email))).status).toBe(303)
    const contact = (await contactOf(email))!
    const subs = await subscriptionsOf(contact.id)
    expect(subs.map((s) => [s.name, s.frequency_unit, s.payments_made])).toEqual([["Plan", "month", 1], ["Support", "year", 1]])
    const totals = await Promise.all(subs.map(async (s) => (await invoicesOf(s.id)).map((i) => [i.total, i.status])))
    expect(totals).toEqual([[[1000, "paid"]], [[12000, "paid"]]])
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([13000])
  })

  it("an order discount and a code for 2 payments: today's invoice is what was charged, the next payment is discounted, the third is not", async () => {
    const code = await insertDiscountCode(sql(), {
      code: `TWO${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Payments", payments: 2 }, expiresOn: undefined, maxRedemptions: 5
    }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }], orderDiscount: { _tag: "Amount", amount: 500 } })
    const c = await checkout(link.slug)
    const email = `code-${backend}@example.com`
    const r = await pay(c, { ...buyer(email), discount_code: code.code.toLowerCase() })
    expect(r.status).toBe(303)
    // 25.00 − 5.00 order discount = 20.00, − 10% = 18.00 today; then 22.50 once (payment 2), then 25.00.
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([1800])
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    await tickAt(api.db, "2026-05-02")
    await tickAt(api.db, "2026-06-02")
    expect((await invoicesOf(s!.id)).map((i) => i.total)).toEqual([1800, 2250, 2500])
    const [redeemed] = await sql()<Array<{ redemptions: number }>>`select redemptions from discount_codes where id = ${code.id}`
    expect(redeemed!.redemptions).toBe(1)
  })

  it("taxed items with an order discount and a code: both come off before tax, shared between the two first invoices pro rata, each taxed on what is left; the renewal the code discounts is taxed so too", async () => {
    const code = await insertDiscountCode(sql(), {
      code: `TAX${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Payments", payments: 2 }, expiresOn: undefined, maxRedemptions: 5
    }, today)
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, taxRate: 250_000 },
        { name: "Support", unitPrice: 12000, quantity: 1, frequency: { unit: "year", count: 1 }, optional: false, taxRate: 250_000 }
      ],
      orderDiscount: { _tag: "Amount", amount: 1300 }
    })
    const c = await checkout(link.slug)
    const email = `taxed-${backend}@example.com`
    expect((await pay(c, { ...buyer(email), discount_code: code.code })).status).toBe(303)
    // 130.00 before tax; 13.00 off the order, then 10% of the 117.00 left (11.70): 24.70 in all, shared 10.00 : 120.00
    // (1.90 and 22.80). Plan: 8.10 + 25% tax 2.03 (2.025 rounded half up) = 10.13; Support: 97.20 + 24.30 = 121.50.
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([1013 + 12150])
    const contact = (await contactOf(email))!
    const [plan, support] = await subscriptionsOf(contact.id)
    const invoiceFigures = (id: number) =>
      sql()<Array<{ total: number; discount: number; tax: number; status: string }>>`
        select total::int, discount::int, tax::int, status from invoices where subscription_id = ${id} order by period_start`
    expect(await invoiceFigures(plan!.id)).toEqual([{ total: 1013, discount: 190, tax: 203, status: "paid" }])
    expect(await invoiceFigures(support!.id)).toEqual([{ total: 12150, discount: 2280, tax: 2430, status: "paid" }])
    // Each invoice line's tax is the line's share of the invoice's tax.
    const lineTaxes = await sql()<Array<{ tax: number }>>`
      select l.tax::int from invoice_lines l join invoices i on i.id = l.invoice_id where i.subscription_id in (${plan!.id}, ${support!.id}) order by i.subscription_id`
    expect(lineTaxes.map((l) => l.tax)).toEqual([203, 2430])
    // Payment 2 of the Plan: 10% off 10.00 before tax, 25% on 9.00: 11.25 (tax 2.25, not 2.50); payment 3: 12.50.
    await tickAt(api.db, "2026-05-02")
    await tickAt(api.db, "2026-06-02")
    expect((await invoiceFigures(plan!.id)).map((i) => [i.total, i.discount, i.tax])).toEqual([[1013, 190, 203], [1125, 100, 225], [1250, 0, 250]])
  })

  it("a code that takes all of today's payment: the card is still verified (a zero-amount check at the gateway); a declined card makes nothing and frees the code, the next card completes", async () => {
    const code = await insertDiscountCode(sql(), {
      code: `FREEV${backend}`, off: { _tag: "Percent", ppm: 1_000_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 5
    }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    const email = `free-${backend}@example.com`
    const declined = await pay(c, { ...buyer(email, "pm_declined"), discount_code: code.code })
    expect(declined.status).toBe(422)
    expect(declined.html).toContain("The payment was declined")
    expect(await contactOf(email)).toBeUndefined()
    expect(await redemptionsOf(code.id)).toBe(0)
    const paid = await pay(c, { ...buyer(email), discount_code: code.code })
    expect(paid.status).toBe(303)
    const ledger = await sql()<Array<{ kind: string; amount: number; outcome: string }>>`
      select kind, amount::int, outcome from sim_gateway_ledger where merchant_reference = ${`checkout ${c.id}`} order by created_at`
    expect(ledger).toEqual([{ kind: "verify", amount: 0, outcome: "declined" }, { kind: "verify", amount: 0, outcome: "succeeded" }])
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    expect((await invoicesOf(s!.id)).map((i) => [i.total, i.status])).toEqual([[0, "paid"]])
    expect(await redemptionsOf(code.id)).toBe(1)
    // The next payment is charged in full to the verified card.
    await tickAt(api.db, "2026-05-02")
    expect((await invoicesOf(s!.id)).map((i) => [i.total, i.status])).toEqual([[0, "paid"], [2500, "paid"]])
  })

  it("three buyers paying at once with a code that has one redemption: one discounted charge; the others are shown the code used up and the full amount, and charged nothing", async () => {
    const code = await insertDiscountCode(sql(), { code: `RACE${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 1 }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const sessions = [await checkout(link.slug), await checkout(link.slug), await checkout(link.slug)]
    const answers = await Promise.all(sessions.map((c, i) => pay(c, { ...buyer(`race${i}-${backend}@example.com`), discount_code: code.code })))
    expect(answers.map((a) => a.status).sort()).toEqual([303, 422, 422])
    for (const refused of answers.filter((a) => a.status === 422)) {
      expect(refused.html).toContain(`the code ${code.code} has been used up`)
      expect(refused.html).toContain("Pay $25.00")
    }
    const charges = (await Promise.all(sessions.map((c) => gatewayCharges(c.id)))).flat()
    expect(charges.map((g) => [g.amount, g.outcome])).toEqual([[2250, "succeeded"]])
    expect((await redemptionsOf(code.id))).toBe(1)
    // A refused buyer pays the amount now shown, without the code.
    const again = sessions[answers.findIndex((a) => a.status === 422)]!
    expect((await pay(again, { ...buyer(`race-again-${backend}@example.com`), shown_due: "2500" })).status).toBe(303)
    expect((await gatewayCharges(again.id)).map((g) => g.amount)).toEqual([2500])
    expect((await redemptionsOf(code.id))).toBe(1)
  })

  it("a payment in flight holds the code's last redemption: the next buyer is refused it; once the engine settles it, it is redeemed once", async () => {
    const code = await insertDiscountCode(sql(), { code: `HELD${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 1 }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const a = await checkout(link.slug)
    const b = await checkout(link.slug)
    expect((await pay(a, { ...buyer(`held-a-${backend}@example.com`, "pm_timeout"), discount_code: code.code })).status).toBe(303)
    expect(await redemptionsOf(code.id)).toBe(1)
    const refused = await pay(b, { ...buyer(`held-b-${backend}@example.com`), discount_code: code.code })
    expect(refused.status).toBe(422)
    expect(refused.html).toContain(`the code ${code.code} has been used up`)
    expect(await gatewayCharges(b.id)).toEqual([])
    await tickAt(api.db, "2026-04-03")
    expect((await getPage(api, a.path)).html).toContain("Thank you for your order")
    expect((await gatewayCharges(a.id)).map((g) => g.amount)).toEqual([2250])
    expect(await redemptionsOf(code.id)).toBe(1)
  })

  it("a declined card frees the code's redemption for the next buyer; the declined buyer trying again finds it used up", async () => {
    const code = await insertDiscountCode(sql(), { code: `FREED${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 1 }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const declined = await checkout(link.slug)
    const next = await checkout(link.slug)
    const r = await pay(declined, { ...buyer(`freed-a-${backend}@example.com`, "pm_declined"), discount_code: code.code })
    expect(r.status).toBe(422)
    expect(r.html).toContain("The payment was declined")
    expect(await redemptionsOf(code.id)).toBe(0)
    expect((await pay(next, { ...buyer(`freed-b-${backend}@example.com`), discount_code: code.code })).status).toBe(303)
    expect((await gatewayCharges(next.id)).map((g) => g.amount)).toEqual([2250])
    expect(await redemptionsOf(code.id)).toBe(1)
    const retry = await pay(declined, { ...buyer(`freed-a-${backend}@example.com`), discount_code: code.code })
    expect(retry.status).toBe(422)
    expect(retry.html).toContain(`the code ${code.code} has been used up`)
    expect((await gatewayCharges(declined.id)).map((g) => g.outcome)).toEqual(["declined"])
    expect(await redemptionsOf(code.id)).toBe(1)
  })

  it("a bank debit holds the code's redemption while pending, and keeps it when it fails after the purchase was made (the subscription keeps the code, in dunning)", async () => {
    const code = await insertDiscountCode(sql(), { code: `DEBIT${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Payments", payments: 3 }, expiresOn: undefined, maxRedemptions: 1 }, today)
    const link = await linkOf({ paymentTypes: ["card", "bank-debit"], items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    const email = `debitcode-${backend}@example.com`
    expect((await pay(c, { ...buyer(email, "pm_bank_debit_fail"), discount_code: code.code })).status).toBe(303)
    expect(await redemptionsOf(code.id)).toBe(1)
    await tickAt(api.db, "2026-04-05")
    const [s] = await subscriptionsOf((await contactOf(email))!.id)
    expect(s).toMatchObject({ status: "unpaid", code_discount: { payments: 3 } })
    expect(await redemptionsOf(code.id)).toBe(1)
  })

  it("an attempt recorded before redemptions were taken when recording counts its redemption when it completes, once", async () => {
    const code = await insertDiscountCode(sql(), { code: `OLD${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 5 }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    expect((await pay(c, { ...buyer(`old-${backend}@example.com`, "pm_timeout"), discount_code: code.code })).status).toBe(303)
    // As such an attempt was stored: its purchase holds the code, no redemption was taken.
    await sql()`update checkout_payments set purchase = purchase - 'codeReserved' where session_id = ${c.id}`
    await sql()`update discount_codes set redemptions = 0 where id = ${code.id}`
    await tickAt(api.db, "2026-04-03")
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([2250])
    expect(await redemptionsOf(code.id)).toBe(1)
  })

  it("a double submit and a second tab of one session with a code take one redemption", async () => {
    const code = await insertDiscountCode(sql(), { code: `ONCE${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: 2 }, today)
    const link = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    const tab2 = await openForm(api, c.path)
    const form = { ...buyer(`once-${backend}@example.com`), discount_code: code.code }
    const answers = await Promise.all([pay(c, form), pay(c, form), pay({ path: c.path, csrf: tab2.csrf, cookie: tab2.cookie }, form)])
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303])
    expect((await pay(c, form)).status).toBe(303)
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([2250])
    expect(await redemptionsOf(code.id)).toBe(1)
    // The second redemption is still there for another buyer.
    expect((await pay(await checkout(link.slug), { ...buyer(`once2-${backend}@example.com`), discount_code: code.code })).status).toBe(303)
    expect(await redemptionsOf(code.id)).toBe(2)
  })

  it("billing that starts 14 days later: today's one-time item is invoiced today on its own; the first recurring invoice does not bill it again", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false }
      ],
      terms: { _tag: "Fixed", payments: 2 },
      start: { _tag: "DelayDays", days: 14 }
    })
    const c = await checkout(link.slug)
    const email = `later-${backend}@example.com`
    expect((await pay(c, buyer(email))).status).toBe(303)
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    expect(s).toMatchObject({ status: "scheduled", start_date: "2026-04-16", payments_made: 0 })
    expect((await invoicesOf(s!.id)).map((i) => [i.period_start, i.total, i.status])).toEqual([[today, 5000, "paid"]])
    await tickAt(api.db, "2026-04-16")
    await tickAt(api.db, "2026-05-16")
    await tickAt(api.db, "2026-06-16")
    expect((await invoicesOf(s!.id)).map((i) => [i.period_start, i.total])).toEqual([[today, 5000], ["2026-04-16", 1000], ["2026-05-16", 1000]])
    const [after] = await subscriptionsOf(contact.id)
    expect(after).toMatchObject({ payments_made: 2, status: "expired" })
  })

  it("billing that starts later: today's one-time invoice covers the checkout day, and its document shows that day alone, not a range ending before it starts", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "DelayDays", days: 14 }
    })
    const c = await checkout(link.slug)
    const email = `one-day-${backend}@example.com`
    expect((await pay(c, buyer(email))).status).toBe(303)
    const [s] = await subscriptionsOf((await contactOf(email))!.id)
    const [invoice] = await sql()<Array<{ id: number; period_start: string; period_end: string }>>`
      select id, period_start::text, period_end::text from invoices where subscription_id = ${s!.id}`
    // Stored as a period of one day: start = end (the API, events and the export give it so).
    expect(invoice).toMatchObject({ period_start: today, period_end: today })
    const settings = await loadSettings(sql())
    const doc = await loadInvoiceDocument(sql(), invoice!.id, settings)
    expect([doc.data.periodStart, doc.data.periodEnd]).toEqual([today, today])
    expect(renderInvoice(doc.data, { language: "en", locale: "en-US" })).toContain("<dt>Billing period</dt><dd>April 2, 2026</dd>")
    expect(renderInvoice(doc.data, { language: "nb", locale: "nb-NO" })).toContain("<dt>Faktureringsperiode</dt><dd>2. april 2026</dd>")
  })

  it("a quantity changed without updating the summary on a link that bills later: today's amount is the same, but the future payments and the total are not what was shown, so nothing is charged and the page shows them; paying what it shows then charges once", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 123_450, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, editableQuantity: { min: 1, max: 3 } },
        { name: "Setup", unitPrice: 500, quantity: 1, frequency: undefined, optional: false }
      ],
      terms: { _tag: "Fixed", payments: 4 },
      start: { _tag: "DelayDays", days: 18 }
    })
    const c = await checkout(link.slug)
    expect(c.page.html).toContain("Then $1,234.50 per month from April 20, 2026 (4 payments)")
    expect(c.page.html).toMatch(/id="total">\$4,943\.00</)
    const email = `later-qty-${backend}@example.com`
    const stale = await pay(c, { ...shownOf(c.page.html), ...buyer(email), quantity_0: "2" })
    expect(stale.status).toBe(422)
    expect(stale.html).toContain("Your choices changed the payments after today. Nothing was charged: check the summary and pay again.")
    expect(stale.html).toContain("Then $2,469.00 per month from April 20, 2026 (4 payments)")
    expect(stale.html).toMatch(/id="total">\$9,881\.00</)
    expect(stale.html).toContain("Pay $5.00")
    expect(stale.html).toContain(`value="${email}"`)
    expect(await gatewayCharges(c.id)).toEqual([])
    expect(await contactOf(email)).toBeUndefined()

    const paid = await pay(c, { ...shownOf(stale.html), ...buyer(email), quantity_0: "2" })
    expect(paid.status).toBe(303)
    expect((await gatewayCharges(c.id)).map((g) => [g.amount, g.outcome])).toEqual([[500, "succeeded"]])
    const [s] = await subscriptionsOf((await contactOf(email))!.id)
    await tickAt(api.db, "2026-04-20")
    expect((await invoicesOf(s!.id)).map((i) => [i.period_start, i.total])).toEqual([[today, 500], ["2026-04-20", 246_900]])
  })

  it("an optional monthly item ticked without updating the summary on a link that bills later: nothing is charged and the page shows the new payments; an unchanged form is paid", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Extra", unitPrice: 700, quantity: 1, frequency: { unit: "month", count: 1 }, optional: true },
        { name: "Setup", unitPrice: 500, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "DelayDays", days: 14 }
    })
    const c = await checkout(link.slug)
    const email = `later-optional-${backend}@example.com`
    const stale = await pay(c, { ...shownOf(c.page.html), ...buyer(email), include_1: "1" })
    expect(stale.status).toBe(422)
    expect(stale.html).toContain('id="amount_changed"')
    expect(stale.html).toContain("Then $17.00 per month from April 16, 2026 (until canceled)")
    expect(await gatewayCharges(c.id)).toEqual([])

    const paid = await pay(c, { ...shownOf(stale.html), ...buyer(email), include_1: "1" })
    expect(paid.status).toBe(303)
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([500])
  })

  it("billing 14 days later with a taxed one-time item and an order discount: today's invoice is the one-time item less the discount, taxed on what is left; the recurring invoices are whole", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, taxRate: 250_000 },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false, taxRate: 250_000 }
      ],
      terms: { _tag: "Fixed", payments: 2 },
      start: { _tag: "DelayDays", days: 14 },
      orderDiscount: { _tag: "Amount", amount: 500 }
    })
    const c = await checkout(link.slug)
    const email = `later-taxed-${backend}@example.com`
    expect((await pay(c, buyer(email))).status).toBe(303)
    // Setup 50.00 less 5.00 before tax = 45.00, + 25% = 11.25 tax: 56.25 (not 62.50 − 5.00 = 57.50).
    expect((await gatewayCharges(c.id)).map((g) => g.amount)).toEqual([5625])
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    await tickAt(api.db, "2026-04-16")
    const figures = await sql()<Array<{ total: number; discount: number; tax: number }>>`
      select total::int, discount::int, tax::int from invoices where subscription_id = ${s!.id} order by period_start`
    expect(figures).toEqual([{ total: 5625, discount: 500, tax: 1125 }, { total: 1250, discount: 0, tax: 250 }])
  })

  it("a link whose billing start date has passed bills from checkout day: the first payment today, never the periods since that date", async () => {
    // Made in January to start billing on Feb 1; bought on Apr 2, two months after.
    const link = await createPaymentLink(sql(), "2026-01-15" as CalendarDate, settings({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 500, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "Date", date: "2026-02-01" as CalendarDate }
    }), { slug: `pay-${backend}-${++counter}` })
    const c = await checkout(link.slug)
    expect(c.page.html).toContain("Pay $15.00")
    const email = `passed-${backend}@example.com`
    expect((await pay(c, buyer(email))).status).toBe(303)
    const [s, ...more] = await subscriptionsOf((await contactOf(email))!.id)
    expect(more).toEqual([])
    expect(s).toMatchObject({ status: "active", start_date: today, next_billing_date: "2026-05-02", payments_made: 1 })
    expect((await invoicesOf(s!.id)).map((i) => [i.period_start, i.total, i.status])).toEqual([[today, 1500, "paid"]])
    await tickAt(api.db, today)
    expect((await invoicesOf(s!.id)).map((i) => i.period_start)).toEqual([today])
  })

  it("a malformed payment method is told in the words of the field's label, as the update and pay pages tell it (found by an audit of what buyers receive: \"betalmetodstoken\" under \"Token för betalningsmetod\")", async () => {
    const expected: Record<string, [string, string]> = {
      nb: ["Token for betalingsmetode", "Skriv inn et token for betalingsmetode, for eksempel pm_ok."],
      sv: ["Token för betalningsmetod", "Ange en token för betalningsmetod, till exempel pm_ok."]
    }
    for (const [language, locale] of [["nb", "nb-NO"], ["sv", "sv-SE"]] as const) {
      const c = await checkout((await linkOf({ language, locale })).slug)
      const r = await pay(c, { email: `token-${language}-${backend}@example.com`, name: "Ada", payment_method: "ok" })
      expect(r.status).toBe(422)
      expect(r.html).toContain(`<label for="payment_method">${expected[language]![0]}</label>`)
      expect(r.html).toContain(`<p class="error" id="payment_method_problem">${expected[language]![1]}</p>`)
    }
  })

  it("missing or malformed buyer fields answer 422 naming each field, and nothing is charged or written", async () => {
    const link = await linkOf({
      contactFields: [{ label: "Company", required: true, order: 1 }],
      collectBillingAddress: true
    })
    const c = await checkout(link.slug)
    const r = await pay(c, { email: "not-an-email", name: "", payment_method: "ok", field_0: "", billing_line1: "Storgata 1", billing_postal_code: "0155", billing_city: "", billing_country: "Norway" })
    expect(r.status).toBe(422)
    for (const field of ["email", "name", "field_0", "billing_city", "billing_country", "payment_method"]) {
      expect(r.html).toMatch(new RegExp(`id="${field}"[^>]*aria-invalid="true"`))
    }
    expect(r.html).toContain('value="Storgata 1"')
    expect(await gatewayCharges(c.id)).toEqual([])
    const ok = await pay(c, { ...buyer(`fields-${backend}@example.com`), field_0: "Acme AS", billing_line1: "Storgata 1", billing_postal_code: "0155", billing_city: "Oslo", billing_country: "no" })
    expect(ok.status).toBe(303)
    const contact = (await contactOf(`fields-${backend}@example.com`))!
    expect(contact.address).toEqual({ line1: "Storgata 1", postalCode: "0155", city: "Oslo", country: "NO" })
    const [e] = await sql()<Array<{ data: any }>>`select data from events where type = 'checkout.completed' and data->>'session_id' = ${c.id}`
    expect(e!.data.fields).toEqual({ Company: "Acme AS" })
  })

  it("a link switched off after the session opened takes no payment; a link with a limit of 1 switches itself off after its payment", async () => {
    const off = await linkOf()
    const c = await checkout(off.slug)
    await switchPaymentLink(sql(), today, off.slug, false)
    const r = await pay(c, buyer(`off-${backend}@example.com`))
    expect(r.status).toBe(410)
    expect(await gatewayCharges(c.id)).toEqual([])

    const limited = await linkOf({ completedPaymentsLimit: 1 })
    const first = await checkout(limited.slug)
    const second = await checkout(limited.slug)
    expect((await pay(first, buyer(`limit-${backend}@example.com`))).status).toBe(303)
    expect((await pay(second, buyer(`limit2-${backend}@example.com`))).status).toBe(410)
    expect((await getPage(api, `/l/${limited.slug}`)).status).toBe(410)
  })

  it("a bank debit makes the subscriptions while pending: the first invoice stays open until the debit settles 3 days later, then is paid", async () => {
    const link = await linkOf({ paymentTypes: ["card", "bank-debit"], items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    const email = `bank-${backend}@example.com`
    expect((await pay(c, buyer(email, "pm_bank_ok"))).status).toBe(303)
    const pending = (await getPage(api, c.path)).html
    expect(pending).toContain("Thank you for your order")
    expect(pending).toContain("Your bank debit is being processed")
    expect(pending).not.toContain("Your payment went through")
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    expect(s).toMatchObject({ status: "active", next_billing_date: "2026-05-02" })
    expect((await invoicesOf(s!.id)).map((i) => i.status)).toEqual(["open"])
    // The debit will pay that invoice: its pay page says processing and takes no card meanwhile.
    const [first] = await invoicesOf(s!.id)
    const token = await tokenFor(api, "pay-invoice", first!.id)
    const payPage = await getPage(api, `/i/${token}`)
    expect(payPage.html).toContain("Your payment is being processed")
    expect(payPage.html).not.toContain('name="payment_method"')
    // A tab opened before (its form and CSRF token still valid) submits a card anyway: nothing is charged.
    const nonce = "AAAAAAAAAAAAAAAAAAAAAA"
    const csrf = csrfTokenOf(await buyerSecret(sql()), nonce, token)
    expect((await postForm(api, `/i/${token}`, { csrf, payment_method: "pm_ok" }, `billcycle_csrf=${nonce}`)).status).toBe(303)
    const cardCharges = await sql()<Array<{ n: number }>>`select count(*)::int as n from payment_attempts where invoice_id = ${first!.id}`
    expect(cardCharges[0]!.n).toBe(0)
    // Nor may ops record it paid by hand meanwhile (the bank would take the money as well).
    const ctx = makeEngineContext(await loadSettings(sql()), today, { owner: "test", failpoint: () => {} })
    await expect(payInvoice(sql(), ctx, first!.id, undefined)).rejects.toThrow(/being paid by the buyer's bank debit from checkout/)
    await expect(closeInvoice(sql(), ctx, first!.id, "void")).rejects.toThrow(/being paid by the buyer's bank debit from checkout/)
    expect((await invoicesOf(s!.id)).map((i) => i.status)).toEqual(["open"])
    await tickAt(api.db, "2026-04-03")
    await tickAt(api.db, "2026-04-04")
    expect((await invoicesOf(s!.id)).map((i) => i.status)).toEqual(["open"])
    await tickAt(api.db, "2026-04-05")
    expect((await invoicesOf(s!.id)).map((i) => [i.status, i.total])).toEqual([["paid", 2500]])
    expect((await getPage(api, c.path)).html).toContain("Your payment went through")
    expect(await gatewayCharges(c.id)).toEqual([{ idempotency_key: `co_${c.id}_1`, amount: 2500, outcome: "succeeded" }])
    const [after] = await subscriptionsOf(contact.id)
    expect(after).toMatchObject({ status: "active", payments_made: 1 })
  })

  it("a link that takes only debit cards is paid with a card token (the simulated gateway does not tell debit from credit), not a bank debit", async () => {
    const link = await linkOf({ paymentTypes: ["debit-card"] })
    const bank = await checkout(link.slug)
    expect((await pay(bank, buyer(`debitonly-bank-${backend}@example.com`, "pm_bank_ok"))).status).toBe(422)
    const card = await checkout(link.slug)
    expect((await pay(card, buyer(`debitonly-${backend}@example.com`, "pm_ok"))).status).toBe(303)
    expect((await gatewayCharges(card.id)).map((c) => c.outcome)).toEqual(["succeeded"])
  })

  it("a bank debit that fails after 3 days sends the subscription into dunning like any failed charge; a link without bank debit refuses the token", async () => {
    const cardOnly = await linkOf()
    const refused = await checkout(cardOnly.slug)
    const r = await pay(refused, buyer(`bankrefused-${backend}@example.com`, "pm_bank_debit"))
    expect(r.status).toBe(422)
    expect(r.html).toContain("does not take this kind of payment")
    expect(await gatewayCharges(refused.id)).toEqual([])

    const link = await linkOf({ paymentTypes: ["bank-debit"], items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const c = await checkout(link.slug)
    const email = `bankfail-${backend}@example.com`
    expect((await pay(c, buyer(email, "pm_bank_fail"))).status).toBe(303)
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    await tickAt(api.db, "2026-04-05")
    const [after] = await subscriptionsOf(contact.id)
    expect(after!.status).toBe("unpaid")
    expect((await getPage(api, c.path)).html).toContain("the bank debit could not be collected")
    expect((await invoicesOf(s!.id)).map((i) => i.status)).toEqual(["open"])
    const failed = await sql()<Array<{ type: string }>>`select type from events where subscription_id = ${s!.id} and type = 'payment.failed'`
    expect(failed).toHaveLength(1)
    const mail = await sql()<Array<{ template: string }>>`select template from outbox where subscription_id = ${s!.id} and template = 'payment_failed'`
    expect(mail).toHaveLength(1)
  })

  it("a simple link made from a contact (one one-time item): an order of one invoice, paid and closed the same day, no MRR; the link switches off after it", async () => {
    await sql()`insert into contacts (email, name) values (${`simple-${backend}@example.com`}, 'Sam')`
    const link = await createSimpleLink(sql(), today, { contactEmail: `simple-${backend}@example.com`, name: "Consulting for Sam", itemName: "Two hours of advice", price: "300.00", currency: "USD", slug: `simple-${backend}` })
    const c = await checkout(link.slug)
    expect(c.page.html).toContain("Pay $300.00")
    expect((await pay(c, buyer(`simple-${backend}@example.com`))).status).toBe(303)
    const contact = (await contactOf(`simple-${backend}@example.com`))!
    const [order, ...more] = await subscriptionsOf(contact.id)
    expect(more).toEqual([])
    expect(order).toMatchObject({ name: "Two hours of advice", status: "expired", payments_made: 1, next_billing_date: null })
    expect((await invoicesOf(order!.id)).map((i) => [i.status, i.total])).toEqual([["paid", 30000]])
    const mail = await sql()<Array<{ template: string }>>`select template from outbox where subscription_id = ${order!.id} order by id`
    expect(mail.map((m) => m.template)).toEqual(["receipt", "payment_notification"])
    const events = await sql()<Array<{ type: string }>>`select type from events where subscription_id = ${order!.id} order by id`
    expect(events.map((e) => e.type)).not.toContain("subscription.expired")
    // Its one line is one-time: nothing recurring, so no MRR.
    const [lines] = await sql()<Array<{ recurring: number }>>`select count(*) filter (where not one_time)::int as recurring from line_items where subscription_id = ${order!.id}`
    expect(lines!.recurring).toBe(0)
    expect((await getPage(api, `/l/${link.slug}`)).status).toBe(410)
    // The engine leaves it alone on the following days.
    await tickAt(api.db, "2026-05-02")
    expect((await invoicesOf(order!.id))).toHaveLength(1)
  })

  it("rules can trigger on checkout.completed and read its amount: a rule adds link buyers paying at least 30.00 to a list", async () => {
    const rules = compileRules(parseRules(`rule link_buyers
  when event checkout.completed
  where event.amount >= 30.00
then
  add contact to list "link-buyers"
end`).file.rules)
    const small = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const big = await linkOf()
    for (const [link, email] of [[small, `rule-small-${backend}@example.com`], [big, `rule-big-${backend}@example.com`]] as const) {
      expect((await pay(await checkout(link.slug), buyer(email))).status).toBe(303)
    }
    const ctx = makeEngineContext(await loadSettings(sql()), today, { owner: "test", failpoint: () => {} })
    await enrollFromJournal(sql(), ctx, rules, 1000)
    await runDueEnrollments(sql(), ctx, 1000, ctx.failpoint)
    const members = await sql()<Array<{ email: string }>>`
      select c.email from list_members m join contacts c on c.id = m.contact_id where m.list_name = 'link-buyers' and c.email like 'rule-%' order by 1`
    expect(members.map((m) => m.email)).toEqual([`rule-big-${backend}@example.com`])
  })

  it("a rule on subscription.payments_made becomes 1 enrolls on the first payment once: the one the checkout's charge paid; on a link billing later, the first recurring payment, not today's one-time item", async () => {
    const rules = compileRules(parseRules(`rule first_payment
  when subscription.payments_made becomes 1
  reenroll
then
  add contact to list "paid-once"
end`).file.rules)
    const now = await linkOf({ items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    const later = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "DelayDays", days: 14 }
    })
    const subs: Array<number> = []
    for (const [link, email] of [[now, `first-now-${backend}@example.com`], [later, `first-later-${backend}@example.com`]] as const) {
      expect((await pay(await checkout(link.slug), buyer(email))).status).toBe(303)
      subs.push((await subscriptionsOf((await contactOf(email))!.id))[0]!.id)
    }
    const enrollAt = async (day: string) => {
      const ctx = makeEngineContext(await loadSettings(sql()), day as CalendarDate, { owner: "test", failpoint: () => {} })
      while ((await enrollFromJournal(sql(), ctx, rules, 1000)).events > 0) { /* the whole journal */ }
    }
    await enrollAt(today)
    for (const day of ["2026-04-16", "2026-05-02", "2026-05-16"]) {
      await tickAt(api.db, day)
      await enrollAt(day)
    }
    const payments = await sql()<Array<{ id: number; subscription_id: number; invoice_id: number }>>`
      select id::int, subscription_id::int, (data->>'invoice_id')::int as invoice_id from events where type = 'payment.succeeded' and subscription_id = any(${subs}) order by id`
    expect(payments.map((p) => p.subscription_id)).toEqual([subs[0], subs[1], subs[1], subs[0], subs[1]])
    const enrolled = await sql()<Array<{ subscription_id: number; trigger_event_id: number }>>`
      select subscription_id::int, trigger_event_id::int from enrollments where rule_id = 'first_payment' and subscription_id = any(${subs}) order by subscription_id`
    expect(enrolled).toEqual([{ subscription_id: subs[0], trigger_event_id: payments[0]!.id }, { subscription_id: subs[1], trigger_event_id: payments[2]!.id }])
  })

  it("a rule on subscription.payments_made becomes 1 enrolls once, on the first recurring payment, when the checkout's bank debit for the one-time item settles after it (it enrolled again on the late debit)", async () => {
    const rules = compileRules(parseRules(`rule first_payment
  when subscription.payments_made becomes 1
  reenroll
then
  add contact to list "paid-once"
end`).file.rules)
    const link = await linkOf({
      paymentTypes: ["card", "bank-debit"],
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "DelayDays", days: 1 }
    })
    const email = `late-debit-${backend}@example.com`
    // The setup is paid by a bank debit, settled 3 days later (April 5); billing starts April 3, charged to a card the
    // buyer gave meanwhile: the first recurring payment is made before the one-time invoice's.
    expect((await pay(await checkout(link.slug), buyer(email, "pm_bank_ok"))).status).toBe(303)
    const contact = (await contactOf(email))!
    const [s] = await subscriptionsOf(contact.id)
    await sql()`update contacts set payment_method = 'pm_ok' where id = ${contact.id}`
    await sql()`update subscriptions set payment_method = null where id = ${s!.id}`
    const enrollAt = async (day: string) => {
      const ctx = makeEngineContext(await loadSettings(sql()), day as CalendarDate, { owner: "test", failpoint: () => {} })
      while ((await enrollFromJournal(sql(), ctx, rules, 1000)).events > 0) { /* the whole journal */ }
      // Each enrollment done on its day: a running one would hide a second enrollment of the re-enrolling rule.
      await runDueEnrollments(sql(), ctx, 1000, ctx.failpoint)
    }
    await enrollAt(today)
    for (const day of ["2026-04-03", "2026-04-04", "2026-04-05", "2026-04-06"]) {
      await tickAt(api.db, day)
      await enrollAt(day)
    }
    const invoices = await invoicesOf(s!.id)
    expect(invoices.map((i) => [i.period_start, i.total, i.status])).toEqual([[today, 5000, "paid"], ["2026-04-03", 1000, "paid"]])
    const payments = await sql()<Array<{ id: number; invoice_id: number; payments_made: number | null }>>`
      select id::int, (data->>'invoice_id')::int as invoice_id, (data->>'payments_made')::int as payments_made from events where type = 'payment.succeeded' and subscription_id = ${s!.id} order by id`
    // The recurring invoice's payment first (the first of the subscription's payments), then the setup's (none counted).
    expect(payments.map((p) => [p.invoice_id, p.payments_made])).toEqual([[invoices[1]!.id, 1], [invoices[0]!.id, null]])
    const enrolled = await sql()<Array<{ trigger_event_id: number }>>`
      select trigger_event_id::int from enrollments where rule_id = 'first_payment' and subscription_id = ${s!.id}`
    expect(enrolled).toEqual([{ trigger_event_id: payments[0]!.id }])
  })

  it("a payment journaled before payment.succeeded carried payments_made is still read as before: becomes 1 enrolls on the first recurring payment of a link billing later, not on the one-time item's", async () => {
    const rules = compileRules(parseRules(`rule first_payment
  when subscription.payments_made becomes 1
  reenroll
then
  add contact to list "paid-once"
end`).file.rules)
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 5000, quantity: 1, frequency: undefined, optional: false }
      ],
      start: { _tag: "DelayDays", days: 14 }
    })
    const email = `old-events-${backend}@example.com`
    expect((await pay(await checkout(link.slug), buyer(email))).status).toBe(303)
    const [s] = await subscriptionsOf((await contactOf(email))!.id)
    const enrollAt = async (day: string) => {
      // As an older version journaled them: without payments_made.
      await sql()`update events set data = data - 'payments_made' where type = 'payment.succeeded' and subscription_id = ${s!.id}`
      const ctx = makeEngineContext(await loadSettings(sql()), day as CalendarDate, { owner: "test", failpoint: () => {} })
      while ((await enrollFromJournal(sql(), ctx, rules, 1000)).events > 0) { /* the whole journal */ }
      await runDueEnrollments(sql(), ctx, 1000, ctx.failpoint)
    }
    await enrollAt(today)
    for (const day of ["2026-04-16", "2026-05-16"]) {
      await tickAt(api.db, day)
      await enrollAt(day)
    }
    const payments = await sql()<Array<{ id: number; old: boolean }>>`
      select id::int, not (data ? 'payments_made') as old from events where type = 'payment.succeeded' and subscription_id = ${s!.id} order by id`
    expect(payments.map((p) => p.old)).toEqual([true, true, true])
    const enrolled = await sql()<Array<{ trigger_event_id: number }>>`
      select trigger_event_id::int from enrollments where rule_id = 'first_payment' and subscription_id = ${s!.id}`
    expect(enrolled).toEqual([{ trigger_event_id: payments[1]!.id }])
  })

  it("a code for N payments discounts N charges in all, today's checkout charge the first: on a link billed a month later (setup today) once is the setup only, 2 payments the setup and the first plan payment, forever every payment; on a link billed from checkout 2 is today's and the next", async () => {
    const codes = await Promise.all(([["ONCE", { _tag: "Once" }], ["TWO", { _tag: "Payments", payments: 2 }], ["FOREVER", { _tag: "Forever" }]] as const).map(([name, duration]) =>
      insertDiscountCode(sql(), { code: `N${name}${backend}`, off: { _tag: "Percent", ppm: 500_000 }, duration, expiresOn: undefined, maxRedemptions: undefined }, today)))
    const plan = { name: "Plan", unitPrice: 3000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false } as const
    const delayed = await linkOf({ items: [plan, { name: "Setup", unitPrice: 1000, quantity: 1, frequency: undefined, optional: false }], start: { _tag: "DelayMonths", months: 1 } })
    const immediate = await linkOf({ items: [plan] })
    const purchases = [[delayed, codes[0]!], [delayed, codes[1]!], [delayed, codes[2]!], [immediate, codes[1]!]] as const
    const bought: Array<{ summary: Array<string>; subscription: number }> = []
    for (const [i, [link, code]] of purchases.entries()) {
      const c = await checkout(link.slug)
      // The summary the buyer is shown with the code, then the payment with it.
      const shown = await postForm(api, c.path, { csrf: c.csrf, discount_code: code.code.toLowerCase() }, c.cookie)
      expect(shown.status).toBe(200)
      // Due today, then each run of future payments with its count (the catalog's "N payments" has no singular yet).
      const cells = [...shown.html.matchAll(/id="due_today">([^<]*)<|class="future">([^<]*)</g)]
        .map((m) => (m[1] ?? m[2]!).replace(/\s+/g, " ").replace(/ \((\d+) payments?\)$/, " ($1)"))
      const email = `n-payments-${i}-${backend}@example.com`
      expect((await pay(c, { ...buyer(email), discount_code: code.code })).status).toBe(303)
      const [s] = await subscriptionsOf((await contactOf(email))!.id)
      bought.push({ summary: cells, subscription: s!.id })
    }
    for (const day of ["2026-05-02", "2026-06-02", "2026-07-02", "2026-08-02"]) await tickAt(api.db, day)
    const totals = await Promise.all(bought.map(async (b) => (await invoicesOf(b.subscription)).map((i) => i.total)))
    expect(bought.map((b) => b.summary)).toEqual([
      ["$5.00", "Then $30.00 per month from May 2, 2026 (until canceled)"],
      ["$5.00", "Then $15.00 per month from May 2, 2026 (1)", "Then $30.00 per month from June 2, 2026 (until canceled)"],
      ["$5.00", "Then $15.00 per month from May 2, 2026 (until canceled)"],
      ["$15.00", "Then $15.00 per month from May 2, 2026 (1)", "Then $30.00 per month from June 2, 2026 (until canceled)"]
    ])
    expect(totals).toEqual([
      [500, 3000, 3000, 3000, 3000],
      [500, 1500, 3000, 3000, 3000],
      [500, 1500, 1500, 1500, 1500],
      [1500, 1500, 3000, 3000, 3000]
    ])
  })
})
