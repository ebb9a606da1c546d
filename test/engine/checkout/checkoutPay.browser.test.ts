/**
 * Paying a checkout in real headless Chromium (playwright-core), with
 * JavaScript off as a buyer may have it: the buyer opens the payment link,
 * fills the form through its labels, recomputes the summary with the "update"
 * button and pays; the page speaks the link's language and formats money in
 * its locale. Checked in the database: the contact, the subscriptions, their
 * first invoices paid, and the simulated gateway's ledger (one successful
 * charge per session, whatever the buyer clicks). Nothing on the pages asks
 * for an outside resource and the console stays clean.
 *
 * BILLCYCLE_SCREENSHOTS=1 writes the filled checkout pages (en, nb) to docs/;
 * otherwise they go to the temp directory.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer as createHttpsServer } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, insertDiscountCode, switchPaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../../engine/domain/index.ts"
import { launchBrowser } from "../../browser.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { tickAt } from "../runtime/engineHarness.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
let browser: Browser
beforeAll(async () => {
  api = await startApi(today)
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await api?.close()
})

const sql = () => api.db.db.sql

const screenshotPath = (language: string) =>
  process.env["BILLCYCLE_SCREENSHOTS"] === "1"
    ? fileURLToPath(new URL(`../../../docs/checkout-pay-${language}.png`, import.meta.url))
    : join(tmpdir(), `billcycle-checkout-pay-${language}-${backend}.png`)

/** A browser context with JavaScript off whose pages record console errors and any request leaving the server. */
const openContext = async (options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; newPage: () => Promise<Page>; problems: Array<string> }> => {
  const context = await browser.newContext({ javaScriptEnabled: false, ...options })
  const problems: Array<string> = []
  const newPage = async () => {
    const page = await context.newPage()
    // Chromium logs every 4xx document as a console error: a 422 (declined card) or a 410 (link off) is the page working.
    page.on("console", (m) => { if (m.type() === "error" && !/the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text()) })
    page.on("pageerror", (e) => problems.push(e.message))
    await page.route("**/*", (route) => (route.request().url().startsWith(api.url) ? route.continue() : (problems.push(`outside request: ${route.request().url()}`), route.abort())))
    return page
  }
  return { context, newPage, problems }
}

const openPage = async (options: BrowserContextOptions = {}) => {
  const { context, newPage, problems } = await openContext(options)
  return { context, page: await newPage(), newPage, problems }
}

/**
 * A seller's thank-you page at https://localhost:PORT (loopback, another origin than the server's), with a throwaway
 * self-signed certificate from openssl (the context ignores HTTPS errors). Chromium does not route the request a
 * redirect makes, so page.route cannot stand in for the seller's site.
 */
const startShop = async (): Promise<{ origin: string; close: () => Promise<void> }> => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-shop-"))
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-days", "1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" })
  const server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>Shop</title><h1>Thanks from the shop</h1>")
  })
  await new Promise<void>((resolve) => server.listen(0, "localhost", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    origin: `https://localhost:${port}`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); rmSync(dir, { recursive: true, force: true }) })
  }
}

let counter = 0
const linkOf = (over: Partial<PaymentLinkSettings> = {}) =>
  createPaymentLink(sql(), today, {
    name: "internal", currency: "USD", terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, language: "en", locale: "en-US",
    items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }],
    paymentTypes: ["card"], collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: [],
    ...over
  }, { slug: `paybrowser-${backend}-${++counter}` })

/** Opens the link as a buyer does: a new session, the browser at /c/ID. */
const openCheckout = async (page: Page, slug: string) => {
  await page.goto(`${api.url}/l/${slug}`)
  expect(page.url()).toMatch(/\/c\/[A-Za-z0-9_-]{22}$/)
  return new URL(page.url()).pathname.slice(3)
}

interface Words {
  readonly email: string
  readonly name: string
  readonly paymentMethod: string
}
const english: Words = { email: "Email", name: "Name", paymentMethod: "Payment method token" }

/** Fills the buyer's part of the form through its labels. */
const fillBuyer = async (page: Page, email: string, paymentMethod: string, words: Words = english) => {
  await page.getByLabel(words.email, { exact: true }).fill(email)
  await page.getByLabel(words.name, { exact: true }).fill("Ada Buyer")
  await page.getByLabel(words.paymentMethod, { exact: true }).fill(paymentMethod)
}

/** Reaches the pay button by keyboard focus and presses Enter on it; waits for the page it leads to. */
const pressPay = async (page: Page) => {
  await page.locator("#pay").focus()
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")])
}

const pressUpdate = async (page: Page, label = "Update the summary") => {
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: label }).click()])
}

const contactOf = async (email: string) =>
  (await sql()<Array<{ id: number; name: string; payment_method: string }>>`select id, name, payment_method from contacts where email = ${email}`)[0]

const subscriptionsOf = (contactId: number) =>
  sql()<Array<{ id: number; name: string; status: string; currency: string; frequency_unit: string; payments_made: number; invoice_language: string }>>`
    select id, name, status, currency, frequency_unit, payments_made, invoice_language from subscriptions where contact_id = ${contactId} order by id`

const invoicesOf = (subscriptionId: number) =>
  sql()<Array<{ status: string; total: number }>>`select status, total::int from invoices where subscription_id = ${subscriptionId} order by period_start`

const linesOf = (subscriptionId: number) =>
  sql()<Array<{ name: string; unit_price: number; quantity: number }>>`
    select name, unit_price::int, quantity from line_items where subscription_id = ${subscriptionId} order by version, line_no`

const gatewayCharges = (sessionId: string) =>
  sql()<Array<{ amount: number; outcome: string }>>`
    select amount::int, outcome from sim_gateway_ledger where merchant_reference = ${`checkout ${sessionId}`} order by created_at`

const succeeded = async (sessionId: string) => (await gatewayCharges(sessionId)).filter((c) => c.outcome === "succeeded").map((c) => c.amount)

/** The one subscription (and its one paid first invoice) a checkout by `email` made. */
const oneSubscriptionOf = async (email: string) => {
  const contact = await contactOf(email)
  expect(contact).toBeDefined()
  const subs = await subscriptionsOf(contact!.id)
  expect(subs).toHaveLength(1)
  return subs[0]!
}

describe(`paying a checkout in headless Chromium (${backend})`, () => {
  it.each([
    ["en", "en-US", "USD", "Checkout", { email: "Email", name: "Name", paymentMethod: "Payment method token" }, /^Pay \$1,234\.50$/, /^\$1,234\.50$/, "Thank you for your order"],
    ["nb", "nb-NO", "NOK", "Betaling", { email: "E-post", name: "Navn", paymentMethod: "Token for betalingsmetode" }, /^Betal 1\s234,50\skr$/, /^1\s234,50\skr$/, "Takk for bestillingen"],
    ["nl", "nl-NL", "EUR", "Afrekenen", { email: "E-mailadres", name: "Naam", paymentMethod: "Token van betaalmethode" }, /^Betaal €\s1\.234,50$/, /^€\s1\.234,50$/, "Bedankt voor uw bestelling"],
    ["fr", "fr-FR", "EUR", "Paiement", { email: "Adresse e-mail", name: "Nom", paymentMethod: "Jeton du moyen de paiement" }, /^Payer 1\s234,50\s€$/, /^1\s234,50\s€$/, "Merci pour votre commande"],
    ["sv", "sv-SE", "SEK", "Kassa", { email: "E-post", name: "Namn", paymentMethod: "Token för betalningsmetod" }, /^Betala 1\s234,50\skr$/, /^1\s234,50\skr$/, "Tack för din beställning"]
  ] as const)("a buyer completes a checkout in %s: the page in the link's language and locale, then the thank-you page; a contact and a subscription whose first invoice is paid", async (language, locale, currency, title, words, payLabel, due, thanks) => {
    const link = await linkOf({
      currency, language, locale,
      items: [
        { name: "Plan", unitPrice: 100_000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Setup", unitPrice: 23_450, quantity: 1, frequency: undefined, optional: false }
      ]
    })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    expect(await page.getAttribute("html", "lang")).toBe(language)
    expect(await page.innerText("h1")).toBe(title)
    expect(await page.innerText("#due_today")).toMatch(due)
    expect(await page.innerText("#pay")).toMatch(payLabel)
    const email = `lang-${language}-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok", words)
    if (language === "en" || language === "nb") await page.screenshot({ path: screenshotPath(language), fullPage: true })
    await pressPay(page)
    expect(new URL(page.url()).pathname).toBe(`/c/${id}`)
    expect(await page.getAttribute("html", "lang")).toBe(language)
    expect(await page.innerText("h1")).toBe(thanks)
    expect(await page.locator("form").count()).toBe(0)

    const contact = (await contactOf(email))!
    expect(contact).toMatchObject({ name: "Ada Buyer", payment_method: "pm_ok" })
    const s = await oneSubscriptionOf(email)
    expect(s).toMatchObject({ status: "active", currency, frequency_unit: "month", payments_made: 1, invoice_language: language })
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 123_450 }])
    expect(await gatewayCharges(id)).toEqual([{ amount: 123_450, outcome: "succeeded" }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("a link with a redirect: after paying, the browser lands on the seller's redirect URL (its origin allowed as a form-action, nothing more); a link without one keeps form-action 'self'", async () => {
    const shop = await startShop()
    try {
      const link = await linkOf({ redirectUrl: `${shop.origin}/thanks?from=billcycle` })
      const { context, page, problems } = await openPage({ ignoreHTTPSErrors: true })
      const opened = await page.goto(`${api.url}/l/${link.slug}`)
      const id = new URL(page.url()).pathname.slice(3)
      const email = `redirect-${backend}@example.com`
      await fillBuyer(page, email, "pm_ok")
      await pressPay(page)
      expect(page.url()).toBe(`${shop.origin}/thanks?from=billcycle`)
      expect(await page.innerText("h1")).toBe("Thanks from the shop")
      expect(await gatewayCharges(id)).toEqual([{ amount: 2500, outcome: "succeeded" }])
      await oneSubscriptionOf(email)
      expect(problems).toEqual([])
      expect(opened!.headers()["content-security-policy"]).toContain(`form-action 'self' ${shop.origin};`)

      const plain = await linkOf()
      const plainPage = await page.goto(`${api.url}/l/${plain.slug}`)
      expect(plainPage!.headers()["content-security-policy"]).toContain("form-action 'self';")
      await context.close()
    } finally {
      await shop.close()
    }
  })

  it("a declined card shows its error and keeps what was typed; a good card on the same page completes the order with one successful charge", async () => {
    const link = await linkOf()
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const email = `declined-${backend}@example.com`
    await fillBuyer(page, email, "pm_declined")
    await pressPay(page)
    expect(await page.innerText("#payment_method_error")).toBe("The payment was declined. Please try another payment method.")
    expect(await page.getByLabel("Email", { exact: true }).inputValue()).toBe(email)
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Ada Buyer")
    expect(await page.getByLabel("Payment method token", { exact: true }).inputValue()).toBe("pm_declined")
    expect(await contactOf(email)).toBeUndefined()

    await page.getByLabel("Payment method token", { exact: true }).fill("pm_ok")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect((await gatewayCharges(id)).map((c) => [c.outcome, c.amount])).toEqual([["declined", 2500], ["succeeded", 2500]])
    const s = await oneSubscriptionOf(email)
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 2500 }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("pm_timeout: the processing page until the engine's next tick settles the charge; a reload then thanks the buyer; one charge", async () => {
    const link = await linkOf()
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const email = `timeout-${backend}@example.com`
    await fillBuyer(page, email, "pm_timeout")
    await pressPay(page)
    expect(new URL(page.url()).pathname).toBe(`/c/${id}`)
    expect(await page.innerText("h1")).toBe("Your payment is being processed")
    expect(await page.locator("form").count()).toBe(0)
    const again = await Promise.all([page.waitForNavigation(), page.getByRole("link", { name: "Check again" }).click()])
    expect(again[0]!.status()).toBe(202)
    expect(await page.innerText("h1")).toBe("Your payment is being processed")
    expect(await contactOf(email)).toBeUndefined()

    await tickAt(api.db, "2026-04-03")
    const reload = await page.reload()
    expect(reload!.status()).toBe(200)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await succeeded(id)).toEqual([2500])
    const s = await oneSubscriptionOf(email)
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 2500 }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("an optional item ticked and a quantity edited, the summary updated, then paid: the charge is the updated amount due today", async () => {
    const link = await linkOf({
      items: [
        { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Mug", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true },
        { name: "Filters", unitPrice: 300, quantity: 2, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 10 } }
      ]
    })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    expect(await page.innerText("#due_today")).toBe("$31.00")
    await page.getByLabel("Add Mug").check()
    await page.getByLabel(/Quantity of Filters/).fill("5")
    await pressUpdate(page)
    // 25.00 + 12.00 + 5 × 3.00
    expect(await page.innerText("#due_today")).toBe("$52.00")
    expect(await page.innerText("#pay")).toBe("Pay $52.00")
    expect(await page.getByLabel("Add Mug").isChecked()).toBe(true)
    expect(await page.getByLabel(/Quantity of Filters/).inputValue()).toBe("5")
    const email = `choices-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await gatewayCharges(id)).toEqual([{ amount: 5200, outcome: "succeeded" }])
    const s = await oneSubscriptionOf(email)
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 5200 }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("a choice changed without pressing update: Pay shows the new amount and charges nothing; the next Pay charges the amount it said", async () => {
    const link = await linkOf({
      items: [
        { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Mug", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true }
      ]
    })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const email = `stale-${backend}@example.com`
    await page.getByLabel("Add Mug").check()
    await fillBuyer(page, email, "pm_ok")
    expect(await page.innerText("#pay")).toBe("Pay $25.00")
    await pressPay(page)
    expect(await page.innerText("#amount_changed")).toBe("Your choices changed the amount due today to $37.00. Nothing was charged: check the summary and pay again.")
    expect(await page.innerText("#due_today")).toBe("$37.00")
    expect(await page.innerText("#pay")).toBe("Pay $37.00")
    expect(await page.getByLabel("Add Mug").isChecked()).toBe(true)
    expect(await page.getByLabel("Email", { exact: true }).inputValue()).toBe(email)
    expect(await gatewayCharges(id)).toEqual([])
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await gatewayCharges(id)).toEqual([{ amount: 3700, outcome: "succeeded" }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("a discount code applied with the update button, then paid: the charge is discounted", async () => {
    const code = await insertDiscountCode(sql(), { code: `TENOFF${backend}`.toUpperCase(), off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const link = await linkOf({ allowDiscountCodes: true })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    await page.getByLabel("Discount code").fill(code.code.toLowerCase())
    await pressUpdate(page)
    expect(await page.locator("#choice_error").count()).toBe(0)
    expect(await page.innerText("main")).toMatch(/Discount code\s+-\$2\.50/)
    expect(await page.innerText("#due_today")).toBe("$22.50")
    expect(await page.innerText("#pay")).toBe("Pay $22.50")
    const email = `code-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await gatewayCharges(id)).toEqual([{ amount: 2250, outcome: "succeeded" }])
    const s = await oneSubscriptionOf(email)
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 2250 }])
    const [redeemed] = await sql()<Array<{ redemptions: number }>>`select redemptions from discount_codes where id = ${code.id}`
    expect(redeemed!.redemptions).toBe(1)
    expect(problems).toEqual([])
    await context.close()
  })

  it("pay what you want on a monthly donation: the entered price is charged and is the subscription's amount", async () => {
    const link = await linkOf({ items: [{ name: "Donation", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, ownPrice: { minimum: 500 } }] })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const price = page.getByLabel("Your price for Donation (at least $5.00)")
    expect(await price.inputValue()).toBe("10.00")
    await price.fill("17.50")
    await pressUpdate(page)
    expect(await page.innerText("#due_today")).toBe("$17.50")
    expect(await page.innerText("main")).toContain("Then $17.50 per month from")
    const email = `donation-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await gatewayCharges(id)).toEqual([{ amount: 1750, outcome: "succeeded" }])
    const s = await oneSubscriptionOf(email)
    expect(await linesOf(s.id)).toEqual([{ name: "Donation", unit_price: 1750, quantity: 1 }])
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 1750 }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("a monthly and a yearly item make two subscriptions, both first invoices paid by the one charge", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Support", unitPrice: 12_000, quantity: 1, frequency: { unit: "year", count: 1 }, optional: false }
      ]
    })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    expect(await page.innerText("#pay")).toBe("Pay $130.00")
    const email = `two-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    const subs = await subscriptionsOf((await contactOf(email))!.id)
    expect(subs.map((s) => [s.name, s.frequency_unit, s.payments_made])).toEqual([["Plan", "month", 1], ["Support", "year", 1]])
    expect(await Promise.all(subs.map((s) => invoicesOf(s.id)))).toEqual([[{ status: "paid", total: 1000 }], [{ status: "paid", total: 12_000 }]])
    expect(await gatewayCharges(id)).toEqual([{ amount: 13_000, outcome: "succeeded" }])
    expect(problems).toEqual([])
    await context.close()
  })

  it("a double click on Pay and a second tab on the same checkout: one charge, one set of subscriptions", async () => {
    const link = await linkOf({
      items: [
        { name: "Plan", unitPrice: 1000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Support", unitPrice: 12_000, quantity: 1, frequency: { unit: "year", count: 1 }, optional: false }
      ]
    })
    const { context, page, newPage, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const tab2 = await newPage()
    await tab2.goto(`${api.url}/c/${id}`)
    expect(await tab2.innerText("h1")).toBe("Checkout")
    const email = `double-${backend}@example.com`
    await fillBuyer(page, email, "pm_ok")
    await fillBuyer(tab2, email, "pm_ok")
    // Two submits from one tab: the browser follows the second one's answer, which may be "processing" while the first is at the gateway.
    await page.getByRole("button", { name: "Pay $130.00" }).dblclick()
    await page.waitForSelector("[role=status]")
    await Promise.all([tab2.waitForNavigation(), tab2.getByRole("button", { name: "Pay $130.00" }).click()])
    for (const p of [page, tab2]) {
      for (let i = 0; i < 10 && /being processed/.test(await p.innerText("h1")); i++) {
        await p.waitForTimeout(200)
        await Promise.all([p.waitForNavigation(), p.getByRole("link", { name: "Check again" }).click()])
      }
      expect(new URL(p.url()).pathname).toBe(`/c/${id}`)
      expect(await p.innerText("h1")).toBe("Thank you for your order")
    }
    expect(await gatewayCharges(id)).toEqual([{ amount: 13_000, outcome: "succeeded" }])
    const subs = await subscriptionsOf((await contactOf(email))!.id)
    expect(subs.map((s) => s.frequency_unit)).toEqual(["month", "year"])
    await page.reload()
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    expect(await gatewayCharges(id)).toHaveLength(1)
    expect(problems).toEqual([])
    await context.close()
  })

  it("a switched-off link shows its message in the link's language, both when opened and when paying a session opened before", async () => {
    const link = await linkOf({ language: "nb", locale: "nb-NO", currency: "NOK" })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    await switchPaymentLink(sql(), today, link.slug, false)

    await fillBuyer(page, `off-${backend}@example.com`, "pm_ok", { email: "E-post", name: "Navn", paymentMethod: "Token for betalingsmetode" })
    const [paid] = await Promise.all([page.waitForNavigation(), page.locator("#pay").click()])
    expect(paid!.status()).toBe(410)
    expect(await page.innerText("h1")).toBe("Denne lenken er slått av")
    expect(await page.innerText("main")).toContain("tar ikke lenger imot betalinger via denne lenken.")
    expect(await page.locator("form").count()).toBe(0)
    expect(await gatewayCharges(id)).toEqual([])

    const opened = await page.goto(`${api.url}/l/${link.slug}`)
    expect(opened!.status()).toBe(410)
    expect(await page.getAttribute("html", "lang")).toBe("nb")
    expect(await page.innerText("h1")).toBe("Denne lenken er slått av")
    expect(await page.locator("form").count()).toBe(0)
    expect(problems).toEqual([])
    await context.close()
  })

  it("a bank debit: the buyer is thanked at once, the subscription exists with its first invoice open, and the engine pays it when the debit settles three days later", async () => {
    const link = await linkOf({ paymentTypes: ["card", "bank-debit"] })
    const { context, page, problems } = await openPage()
    const id = await openCheckout(page, link.slug)
    const email = `bank-${backend}@example.com`
    await fillBuyer(page, email, "pm_bank_debit")
    await pressPay(page)
    expect(await page.innerText("h1")).toBe("Thank you for your order")
    const s = await oneSubscriptionOf(email)
    expect(s.status).toBe("active")
    expect(await invoicesOf(s.id)).toEqual([{ status: "open", total: 2500 }])
    await tickAt(api.db, "2026-04-04")
    expect(await invoicesOf(s.id)).toEqual([{ status: "open", total: 2500 }])
    await tickAt(api.db, "2026-04-05")
    expect(await invoicesOf(s.id)).toEqual([{ status: "paid", total: 2500 }])
    expect(await succeeded(id)).toEqual([2500])
    expect(problems).toEqual([])
    await context.close()
  })
})
