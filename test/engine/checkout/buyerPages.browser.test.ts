/**
 * The buyer's pages in real headless Chromium (playwright-core), with
 * JavaScript off as a buyer may have it: the form is reached and sent by
 * keyboard through its labels, the page is in the buyer's language, a
 * declined card shows its error, a good one pays, and a double click charges
 * once. Nothing on the page asks for an outside resource.
 */
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchBrowser } from "../../browser.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { createSubscription, ledgerOf, subscriptionRow, tickAt } from "../runtime/engineHarness.ts"
import { createPaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { tokenFor } from "./buyerPagesHarness.ts"

let api: ApiUnderTest
let browser: Browser
beforeAll(async () => {
  api = await startApi("2026-04-02")
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await api?.close()
})

/** A page with JavaScript off that records console errors and any request leaving the server. */
const openPage = async (): Promise<{ page: Page; problems: Array<string> }> => {
  const context = await browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  const problems: Array<string> = []
  // Chromium logs every 4xx document as a console error: a 422 (declined card re-rendered) is the page working, not a problem.
  page.on("console", (m) => { if (m.type() === "error" && !/the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text()) })
  await page.route("**/*", (route) => (route.request().url().startsWith(api.url) ? route.continue() : (problems.push(`outside request: ${route.request().url()}`), route.abort())))
  return { page, problems }
}

const unpaid = async (language?: "fr" | "sv") => {
  const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", paymentMethod: "pm_declined", items: [{ price: 2500 }], currency: "EUR" })
  if (language !== undefined) await api.db.db.sql`update subscriptions set invoice_language = ${language}, invoice_locale = ${language === "fr" ? "fr-FR" : "sv-SE"} where id = ${id}`
  await tickAt(api.db, "2026-04-01")
  return { id, url: `${api.url}/p/${await tokenFor(api, "update-payment", id)}` }
}

describe(`the buyer's pages in headless Chromium (${backend})`, () => {
  it("update payment method, in French, by keyboard: a declined card shows its error, then a good card pays the invoice", async () => {
    const { id, url } = await unpaid("fr")
    const { page, problems } = await openPage()
    await page.goto(url)
    expect(await page.getAttribute("html", "lang")).toBe("fr")
    expect(await page.innerText("h1")).toBe("Mettre à jour votre moyen de paiement")
    expect(await page.innerText("main")).toMatch(/25,00\s€/)
    // Keyboard only: Tab reaches the labelled field, Enter sends the form.
    await page.keyboard.press("Tab")
    expect(await page.locator("#payment_method").evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true)
    await page.keyboard.type("pm_declined")
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")])
    expect(await page.innerText("[role=alert]")).toBe("Le paiement a été refusé. Veuillez essayer un autre moyen de paiement.")
    expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("unpaid")
    await page.getByLabel("Jeton du moyen de paiement").fill("pm_ok")
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: /Enregistrer et payer/ }).click()])
    expect(await page.innerText("[role=status]")).toBe("Merci\u00a0: le paiement a été accepté.")
    expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("active")
    expect((await ledgerOf(api.db.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(1)
    expect(problems).toEqual([])
    await page.context().close()
  })

  it("pay an invoice, in Swedish: a double click on the button charges once", async () => {
    const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", collection: "invoice", items: [{ price: 4000, qty: 2 }], paymentMethod: null, currency: "SEK" })
    await api.db.db.sql`update subscriptions set invoice_language = 'sv', invoice_locale = 'sv-SE' where id = ${id}`
    await tickAt(api.db, "2026-04-01")
    const [invoice] = await api.db.db.sql<Array<{ id: number; number: string }>>`select id, number from invoices where subscription_id = ${id}`
    const { page, problems } = await openPage()
    await page.goto(`${api.url}/i/${await tokenFor(api, "pay-invoice", invoice!.id)}`)
    expect(await page.getAttribute("html", "lang")).toBe("sv")
    expect(await page.innerText("h1")).toBe(`Faktura ${invoice!.number}`)
    expect(await page.innerText("tfoot")).toMatch(/80,00\skr/)
    await page.getByLabel("Token för betalningsmetod").fill("pm_ok")
    // Two submits: the browser follows the second one's answer, which may be "processing" while the first is at the gateway.
    await page.getByRole("button", { name: /Betala/ }).dblclick()
    await page.waitForSelector("[role=status]")
    for (let i = 0; i < 10 && /behandlas/.test(await page.innerText("main")); i++) {
      await page.waitForTimeout(200)
      await page.getByRole("link", { name: "Kontrollera igen" }).click()
    }
    expect(await page.innerText("main")).toMatch(/Den här fakturan är betald|Tack: betalningen gick igenom/)
    expect(await page.locator("form").count()).toBe(0)
    expect((await ledgerOf(api.db.db.sql, id)).map((l) => [l.outcome, l.amount])).toEqual([["succeeded", 8000]])
    await page.reload()
    expect((await ledgerOf(api.db.db.sql, id))).toHaveLength(1)
    expect(problems).toEqual([])
    await page.context().close()
  })

  it("an expired link says so in a page, not a stack trace", async () => {
    const { id } = await unpaid()
    const { page } = await openPage()
    const response = await page.goto(`${api.url}/p/${await tokenFor(api, "update-payment", id, "2026-03-01")}`)
    expect(response!.status()).toBe(410)
    expect(await page.innerText("h1")).toBe("Link expired")
    expect(await page.locator("form").count()).toBe(0)
    await page.context().close()
  })

  it.each([
    ["nl", "nl-NL", "Afrekenen", "Mok toevoegen", "Vandaag te betalen", /€\s52,00/],
    ["sv", "sv-SE", "Kassa", "Lägg till Mok", "Att betala i dag", /52,00\s€/]
  ] as const)("a checkout in %s: the link opens a session page; ticking an item and a quantity updates the summary without JavaScript", async (language, locale, title, add, due, after) => {
    const link = await createPaymentLink(api.db.db.sql, "2026-04-02" as CalendarDate, {
      name: "internal", currency: "EUR", terms: { _tag: "Fixed", payments: 12 }, start: { _tag: "AtCheckout" }, language, locale,
      items: [
        { name: "Bonen", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
        { name: "Mok", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true },
        { name: "Filters", unitPrice: 300, quantity: 2, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 10 } }
      ],
      paymentTypes: ["card"], collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: []
    }, { slug: `browser-${language}-${backend}` })
    const { page, problems } = await openPage()
    await page.goto(`${api.url}/l/${link.slug}`)
    expect(page.url()).toMatch(/\/c\/[A-Za-z0-9_-]{22}$/)
    expect(await page.getAttribute("html", "lang")).toBe(language)
    expect(await page.innerText("h1")).toBe(title)
    await page.getByLabel(add).check()
    await page.getByLabel(/Filters/).fill("5")
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")])
    expect(await page.innerText("main")).toContain(due)
    expect(await page.innerText("#due_today")).toMatch(after)
    expect(await page.getByLabel(add).isChecked()).toBe(true)
    await page.screenshot({ path: join(tmpdir(), `billcycle-checkout-${language}.png`), fullPage: true })
    expect(problems).toEqual([])
    await page.context().close()
  })
})
