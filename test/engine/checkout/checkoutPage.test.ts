/**
 * Checkout sessions over real HTTP, on both databases: `GET /l/SLUG` opens a
 * new session (an opaque 128-bit id, the link frozen, 24 hours) and sends the
 * buyer to `/c/ID`, whose page shows the links room's summary for the
 * buyer's choices: due today, future payments, a total only for a fixed
 * number of payments. A switched-off link shows its message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPaymentLink, insertDiscountCode, switchPaymentLink, updatePaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../../../engine/domain/index.ts"
import { DiscountCodeUnusable } from "../../../engine/domain/index.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { getPage, openForm, postForm } from "./buyerPagesHarness.ts"
import { buyerAmountText } from "../../../engine/api/pages.ts"
import { saveSetting, settingsTtlMs } from "../../../engine/account/index.ts"
import { catalog } from "../../../templates/index.ts"

const today = "2026-04-02" as CalendarDate
let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi(today)
})
afterAll(async () => {
  await api?.close()
})

const settings = (over: Partial<PaymentLinkSettings> = {}): PaymentLinkSettings => ({
  name: "Coffee club (internal)",
  currency: "USD",
  items: [
    { name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false },
    { name: "Mug <b>", description: "Stoneware", unitPrice: 1200, quantity: 1, frequency: undefined, optional: true },
    { name: "Filters", unitPrice: 300, quantity: 2, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 10 } }
  ],
  terms: { _tag: "Fixed", payments: 12 },
  start: { _tag: "AtCheckout" },
  checkoutText: "Fresh <em>every</em> month",
  language: "en",
  locale: "en-US",
  paymentTypes: ["card"],
  collectBillingAddress: false,
  collectShippingAddress: false,
  allowDiscountCodes: true,
  contactFields: [],
  ...over
})

let slugCounter = 0
const linkOf = (over: Partial<PaymentLinkSettings> = {}) => createPaymentLink(api.db.db.sql, today, settings(over), { slug: `coffee-${backend}-${++slugCounter}` })

/** Opens the link as a browser does: the redirect's location is the session's page. */
const openLink = async (slug: string) => {
  const r = await getPage(api, `/l/${slug}`)
  expect(r.status).toBe(303)
  const location = r.headers.get("location") ?? ""
  expect(location).toMatch(/^\/c\/[A-Za-z0-9_-]{22}$/)
  return location
}

describe(`checkout sessions and the checkout page (${backend})`, () => {
  it("each open of a link is a new 128-bit session whose page shows due today, the future payments and, for fixed terms, the total", async () => {
    const link = await linkOf()
    const a = await openLink(link.slug)
    const b = await openLink(link.slug)
    expect(a).not.toBe(b)
    const page = await getPage(api, a)
    expect(page.status).toBe(200)
    expect(page.html).toContain("Fresh &lt;em&gt;every&lt;/em&gt; month")
    expect(page.html).not.toContain("Coffee club (internal)")
    // Beans 25.00 + filters 2 × 3.00 today; then 25.00 a month, 12 payments in all: 6.00 + 12 × 25.00.
    expect(page.html).toMatch(/id="due_today">\$31\.00</)
    expect(page.html).toContain("Then $25.00 per month from May 2, 2026 (11 payments)")
    expect(page.html).toMatch(/id="total">\$306\.00</)
    expect(page.html).toContain("Add Mug &lt;b&gt;")
  })

  it("one payment after today is one payment, not \"1 payments\", in every language (found by an audit of what buyers receive)", async () => {
    const expected: Record<string, [string, string]> = {
      en: ["(1 payment)", "(2 payments)"], nb: ["(1 betaling)", "(2 betalinger)"], nl: ["(1 betaling)", "(2 betalingen)"],
      fr: ["(1 paiement)", "(2 paiements)"], sv: ["(1 betalning)", "(2 betalningar)"]
    }
    for (const [language, locale] of [["en", "en-US"], ["nb", "nb-NO"], ["nl", "nl-NL"], ["fr", "fr-FR"], ["sv", "sv-SE"]] as const) {
      for (const [payments, words] of [[2, expected[language]![0]], [3, expected[language]![1]]] as const) {
        const link = await linkOf({ language, locale, terms: { _tag: "Fixed", payments }, items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
        const page = await getPage(api, await openLink(link.slug))
        expect(page.html, `${language} ${payments}`).toContain(words)
      }
    }
  })

  it("the server remembers the account's settings for a second: opening checkouts reads them at most once a second, and a changed setting shows after it", async () => {
    const link = await linkOf({ terms: { _tag: "AutoRenew" } })
    const sql = api.db.db.sql
    await saveSetting(sql, "seller-name", "First Roastery")
    await new Promise((r) => setTimeout(r, settingsTtlMs + 50))
    const statements: Array<string> = []
    const options = (sql as unknown as { options: { debug: unknown } }).options
    options.debug = (_conn: number, text: string) => { statements.push(text) }
    const t0 = Date.now()
    const pages: Array<string> = []
    try {
      for (let i = 0; i < 3; i++) pages.push((await getPage(api, await openLink(link.slug))).html)
    } finally {
      options.debug = false
    }
    const reads = statements.filter((s) => /from settings/.test(s)).length
    // Three checkouts opened (six requests), the settings read once, or twice if a second went by meanwhile.
    expect(reads).toBeLessThanOrEqual(Date.now() - t0 < settingsTtlMs ? 1 : 2)
    expect(pages.every((p) => p.includes("<header>First Roastery</header>"))).toBe(true)
    await saveSetting(sql, "seller-name", "Second Roastery")
    await new Promise((r) => setTimeout(r, settingsTtlMs + 50))
    expect((await getPage(api, await openLink(link.slug))).html).toContain("<header>Second Roastery</header>")
  })

  it("auto-renewing terms show no total", async () => {
    const link = await linkOf({ terms: { _tag: "AutoRenew" } })
    const page = await getPage(api, await openLink(link.slug))
    expect(page.html).toMatch(/id="due_today">\$31\.00</)
    expect(page.html).toContain("(until canceled)")
    expect(page.html).not.toContain('id="total"')
  })

  it("an optional item ticked and a quantity within bounds change the summary; out of bounds is refused naming the item", async () => {
    const link = await linkOf()
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const r = await postForm(api, path, { csrf: form.csrf, include_1: "1", quantity_2: "5", action: "update" }, form.cookie)
    expect(r.status).toBe(200)
    // 25.00 + 12.00 + 5 × 3.00 today.
    expect(r.html).toMatch(/id="due_today">\$52\.00</)
    expect(r.html).toMatch(/id="include_1" name="include_1" value="1" checked/)
    const out = await postForm(api, path, { csrf: form.csrf, quantity_2: "11" }, form.cookie)
    expect(out.status).toBe(422)
    expect(out.html).toContain("the quantity of Filters must be a whole number from 1 to 10.")
    expect(out.html).toMatch(/id="due_today">\$31\.00</)
  })

  it("a buyer types an amount the way the link's locale writes it; a refusal is in the link's language and formats, never NaN or minor units", async () => {
    // Found by an audit of what buyers receive: 7,50 on a French page was refused with "…at least 500 minor units, got NaN".
    const link = await linkOf({
      language: "fr", locale: "fr-FR", currency: "EUR", terms: { _tag: "AutoRenew" },
      items: [
        { name: "Club café", unitPrice: 500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, ownPrice: { minimum: 500 } },
        { name: "Filtres", unitPrice: 300, quantity: 1, frequency: undefined, optional: false, editableQuantity: { min: 1, max: 5 } }
      ]
    })
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const comma = await postForm(api, path, { csrf: form.csrf, price_0: "7,50", action: "update" }, form.cookie)
    expect(comma.status).toBe(200)
    expect(comma.html).toMatch(/id="due_today">10,50\s€</)
    const low = await postForm(api, path, { csrf: form.csrf, price_0: "3,00", action: "update" }, form.cookie)
    expect(low.status).toBe(422)
    expect(low.html).toMatch(/Ce choix n’est pas possible\u00a0: le prix de Club café doit être d’au moins 5,00\s€\./)
    const half = await postForm(api, path, { csrf: form.csrf, price_0: "7,50", quantity_1: "1,5", action: "update" }, form.cookie)
    expect(half.status).toBe(422)
    expect(half.html).toContain("la quantité de Filtres doit être un nombre entier de 1 à 5.")
    const code = await postForm(api, path, { csrf: form.csrf, price_0: "7,50", discount_code: "NOPE" }, form.cookie)
    expect(code.html).toContain("le code NOPE n’existe pas.")
    // More than one line can hold: refused in the buyer's words (it was a 500 page).
    const huge = await postForm(api, path, { csrf: form.csrf, price_0: "9999999999999,00", action: "update" }, form.cookie)
    expect(huge.status).toBe(422)
    expect(huge.html).toMatch(/Ce choix n’est pas possible\u00a0: le prix de Club café doit être d’au plus 1[\s\u202f]000[\s\u202f]000[\s\u202f]000[\s\u202f]000,00\s€\./)
    for (const page of [low, half, code, huge]) {
      expect(page.html).not.toMatch(/NaN|minor units|must be|does not exist/)
    }
  })

  it("a typed own price is read by the currency's decimals in the page's locale; more decimals than the currency has, or no number, is refused saying so", async () => {
    // Found by a colleague: "12.500" on a KWD page was read as 12500 dinars (12,500,000 fils); after "Update the summary" the buyer saw it.
    const ownLink = (currency: string, minimum: number, language: string, locale: string) =>
      linkOf({
        language, locale, currency, terms: { _tag: "AutoRenew" },
        items: [{ name: "Gift", unitPrice: minimum, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, ownPrice: { minimum } }]
      })
    const typeIn = async (slug: string, typed: string) => {
      const path = await openLink(slug)
      const form = await openForm(api, path)
      return postForm(api, path, { csrf: form.csrf, price_0: typed, action: "update" }, form.cookie)
    }
    const due = (html: string) => (/id="due_today">([^<]*)</.exec(html)?.[1] ?? "").replace(/[\s\u00a0\u202f]/g, " ")
    const shown = (amount: number, currency: string, locale: string) => new Intl.NumberFormat(locale, { style: "currency", currency }).format(amount).replace(/[\s\u00a0\u202f]/g, " ")

    const kwd = await ownLink("KWD", 5_000, "en", "en-US")
    for (const [typed, fils] of [["12.500", 12_500], ["12.5", 12_500], ["12,500", 12_500_000]] as const) {
      const r = await typeIn(kwd.slug, typed)
      expect(r.status, typed).toBe(200)
      expect(due(r.html), typed).toBe(shown(fils / 1000, "KWD", "en-US"))
    }
    const kwdFine = await typeIn(kwd.slug, "12.5005")
    expect(kwdFine.status).toBe(422)
    expect(kwdFine.html).toContain(`the price of Gift has more decimals than its currency: write it like ${new Intl.NumberFormat("en-US", { style: "currency", currency: "KWD" }).format(5)}.`)

    const jpy = await ownLink("JPY", 500, "en", "en-US")
    const yen = await typeIn(jpy.slug, "1500")
    expect(yen.status).toBe(200)
    expect(due(yen.html)).toBe("¥1,500")
    const halfYen = await typeIn(jpy.slug, "1500.5")
    expect(halfYen.status).toBe(422)
    expect(halfYen.html).toContain("the price of Gift has more decimals than its currency: write it like ¥500.")
    expect(due(halfYen.html)).toBe("¥500")

    const eur = await ownLink("EUR", 500, "nb", "nb-NO")
    const comma = await typeIn(eur.slug, "12,50")
    expect(comma.status).toBe(200)
    expect(due(comma.html)).toBe(shown(12.5, "EUR", "nb-NO"))
    const kwdNb = await ownLink("KWD", 5_000, "nb", "nb-NO")
    const kwdPage = await getPage(api, await openLink(kwdNb.slug))
    expect(kwdPage.html).toContain('name="price_0" value="5,000"')
    const kept = await typeIn(kwdNb.slug, "5,000")
    expect(due(kept.html)).toBe(shown(5, "KWD", "nb-NO"))
    const tooFine = await typeIn(eur.slug, "12,505")
    expect(tooFine.status).toBe(422)
    expect(tooFine.html).toContain("prisen for Gift har flere desimaler enn valutaen")
  })

  it("a typed own price that is no number or too large to read says what is wrong, in the page's language, never 'at least'", async () => {
    const link = await linkOf({
      language: "sv", locale: "sv-SE", currency: "SEK", terms: { _tag: "AutoRenew" },
      items: [{ name: "Gåva", unitPrice: 500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, ownPrice: { minimum: 500 } }]
    })
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const word = await postForm(api, path, { csrf: form.csrf, price_0: "tio", action: "update" }, form.cookie)
    expect(word.status).toBe(422)
    expect(word.html).toMatch(/priset för Gåva måste vara ett belopp, till exempel 5,00\skr\./)
    const huge = await postForm(api, path, { csrf: form.csrf, price_0: "9".repeat(40), action: "update" }, form.cookie)
    expect(huge.status).toBe(422)
    expect(huge.html).toContain("priset för Gåva får vara högst")
    for (const page of [word, huge]) expect(page.html).not.toMatch(/måste vara minst|NaN|minor units|expected an amount/)
  })

  it("a discount code applies; an unknown one is refused on the page", async () => {
    const link = await linkOf()
    await insertDiscountCode(api.db.db.sql, { code: `TENOFF${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const r = await postForm(api, path, { csrf: form.csrf, discount_code: `tenoff${backend}` }, form.cookie)
    expect(r.status).toBe(200)
    expect(r.html).toMatch(/id="due_today">\$27\.90</)
    const bad = await postForm(api, path, { csrf: form.csrf, discount_code: "NOPE" }, form.cookie)
    expect(bad.status).toBe(422)
    expect(bad.html).toContain("the code NOPE does not exist")
  })

  it("a buyer who types a code's id gets no code: a code is found by its text alone (typing 1, 2, 3… found every code by its id)", async () => {
    const link = await linkOf()
    const staff = await insertDiscountCode(api.db.db.sql, { code: `STAFF${backend}`, off: { _tag: "Percent", ppm: 500_000 }, duration: { _tag: "Forever" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const byId = await postForm(api, path, { csrf: form.csrf, discount_code: String(staff.id) }, form.cookie)
    expect(byId.status).toBe(422)
    expect(byId.html).toContain(`the code ${staff.id} does not exist`)
    expect(byId.html).not.toContain(`STAFF${backend}`)
    // Its text still works.
    const byText = await postForm(api, path, { csrf: form.csrf, discount_code: `staff${backend}` }, form.cookie)
    expect(byText.status).toBe(200)
  })

  it("a code typed the day after its last day is refused as valid until that day, in every language (it said the code \"expired on\" its last valid day)", async () => {
    // The code's expiry is its last day: it works on April 1 and is refused on April 2 (today).
    await insertDiscountCode(api.db.db.sql, { code: `LASTDAY${backend}`, off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: "2026-04-01" as CalendarDate, maxRedemptions: undefined }, "2026-03-01" as CalendarDate)
    const expected: Record<string, [string, string]> = {
      en: ["en-US", `the code LASTDAY${backend} was valid until April 1, 2026.`],
      nb: ["nb-NO", `koden LASTDAY${backend} var gyldig til og med 1. april 2026.`],
      nl: ["nl-NL", `de code LASTDAY${backend} was geldig tot en met 1 april 2026.`],
      fr: ["fr-FR", `le code LASTDAY${backend} était valable jusqu’au 1er avril 2026 inclus.`],
      sv: ["sv-SE", `koden LASTDAY${backend} gällde till och med den 1 april 2026.`]
    }
    for (const [language, [locale, words]] of Object.entries(expected)) {
      const link = await linkOf({ language, locale, terms: { _tag: "AutoRenew" } })
      const path = await openLink(link.slug)
      const form = await openForm(api, path)
      const r = await postForm(api, path, { csrf: form.csrf, discount_code: `lastday${backend}`, action: "update" }, form.cookie)
      expect(r.status).toBe(422)
      expect(r.html.replace(/\s/g, " "), language).toContain(words)
      expect(r.html, language).not.toMatch(/expired on|verlopen op|a expiré le|gikk ut|gick ut/)
    }
  })

  it("a taxed item with a discount code: the summary shows the subtotal, the code, the tax on what is left, and due today adds up", async () => {
    const link = await linkOf({
      items: [{ name: "Beans", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, taxRate: 250_000 }],
      terms: { _tag: "AutoRenew" }, language: "nb", locale: "nb-NO"
    })
    await insertDiscountCode(api.db.db.sql, { code: `FIVE${backend}`, off: { _tag: "Amount", amount: 500, currency: "USD" }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const r = await postForm(api, path, { csrf: form.csrf, discount_code: `five${backend}` }, form.cookie)
    expect(r.status).toBe(200)
    // 25.00 less 5.00 off before tax = 20.00, MVA 25% = 5.00: 25.00 due today (not 31.25 − 5.00).
    const cell = (id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(r.html)?.[1]?.replace(/\s/g, " ")
    expect(r.html).toContain("Delsum")
    expect(cell("subtotal")).toBe("25,00 USD")
    expect(r.html).toContain("MVA")
    expect(cell("tax")).toBe("5,00 USD")
    expect(cell("due_today")).toBe("25,00 USD")
  })

  it("a unit discount in percent shows as the line's discount and amount, so the page adds up: 3 × ¥999 − ¥989 = ¥2,008 due today (found by an audit: 3 × ¥999 and ¥2,008, with no discount shown)", async () => {
    for (const [currency, unitPrice, parts] of [
      ["JPY", 999, ["3 × ¥999 per month", "Discount -¥989", "¥2,008 per month", "¥2,008"]],
      ["EUR", 999, ["3 × €9.99 per month", "Discount -€9.89", "€20.08 per month", "€20.08"]]
    ] as const) {
      const link = await linkOf({
        currency, items: [{ name: "Widget", unitPrice, quantity: 3, frequency: { unit: "month", count: 1 }, optional: false, discount: { _tag: "Percent", ppm: 330_000 } }],
        terms: { _tag: "Fixed", payments: 3 }
      })
      const page = await getPage(api, await openLink(link.slug))
      const text = page.html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ")
      const [line, discount, amount, due] = parts
      expect(text).toContain(`${line} ${discount} ${amount}`)
      expect(new RegExp(`id="due_today">([^<]*)<`).exec(page.html)?.[1]).toBe(due)
    }
  })

  it("a link given a language but no locale (links create --language nb) shows that language's own formats, not the account's en-US", async () => {
    const link = await linkOf({ language: "nb", locale: undefined, terms: { _tag: "AutoRenew" } })
    const page = await getPage(api, await openLink(link.slug))
    expect(page.status).toBe(200)
    const cell = (id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(page.html)?.[1]?.replace(/\s/g, " ")
    // It said "$31.00" and "Deretter $25.00 per måned fra May 2, 2026": Norwegian words around American formats.
    expect(cell("due_today")).toBe("31,00 USD")
    expect(page.html.replace(/\s/g, " ")).toContain("Deretter 25,00 USD per måned fra 2. mai 2026")
    expect(page.html).not.toContain("May 2, 2026")
  })

  it("an amount code in another currency is refused in the link's language (it said 'Det valget er ikke mulig: the code … is in USD, the link in NOK')", async () => {
    const link = await linkOf({ language: "nb", locale: "nb-NO", currency: "NOK", terms: { _tag: "AutoRenew" }, items: [{ name: "Kaffe", unitPrice: 25000, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false }] })
    await insertDiscountCode(api.db.db.sql, { code: `USD5${backend}`, off: { _tag: "Amount", amount: 500, currency: "USD" }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined }, today)
    const path = await openLink(link.slug)
    const form = await openForm(api, path)
    const r = await postForm(api, path, { csrf: form.csrf, discount_code: `usd5${backend}`, action: "update" }, form.cookie)
    expect(r.status).toBe(422)
    expect(r.html).toContain(`koden USD5${backend} gjelder ikke i denne valutaen.`)
    expect(r.html).not.toContain("the link in")
    // Every reason a buyer's code or typed amount can be refused for has words in every language.
    for (const language of ["en", "nb", "nl", "fr", "sv"] as const) {
      for (const reason of [...DiscountCodeUnusable.fields.reason.literals, "CodeUnknown", "QuantityOutOfRange", "PriceBelowMinimum", "PriceAboveMaximum"]) {
        expect(catalog(language)[`page.checkout.problem.${reason}`], `${language} ${reason}`).toBeTruthy()
      }
    }
  })

  it("the session keeps the prices it was opened with, and expires after 24 hours", async () => {
    const link = await linkOf()
    const path = await openLink(link.slug)
    await updatePaymentLink(api.db.db.sql, today, link.slug, (l) => ({ ...l, items: l.items.map((i) => (i.name === "Beans" ? { ...i, unitPrice: 9900 } : i)) }))
    expect((await getPage(api, path)).html).toMatch(/id="due_today">\$31\.00</)
    expect((await getPage(api, await openLink(link.slug))).html).toMatch(/id="due_today">\$105\.00</)
    await api.db.db.sql`update checkout_sessions set expires_at = '2026-04-02T11:59:59Z' where id = ${path.slice(3)}`
    const expired = await getPage(api, path)
    expect(expired.status).toBe(410)
    expect(expired.html).toContain("This checkout has expired")
  })

  it("a switched-off link shows its message in the link's language; an unknown link or session is 404; a POST without CSRF is 403", async () => {
    const link = await linkOf({ language: "nb", locale: "nb-NO" })
    const path = await openLink(link.slug)
    await switchPaymentLink(api.db.db.sql, today, link.slug, false)
    const off = await getPage(api, `/l/${link.slug}`)
    expect(off.status).toBe(410)
    expect(off.html).toContain('<html lang="nb">')
    expect(off.html).toContain("Denne lenken er slått av")
    expect((await getPage(api, "/l/no-such-link")).status).toBe(404)
    expect((await getPage(api, "/c/AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404)
    expect((await postForm(api, path, { include_1: "1" })).status).toBe(403)
  })

  it("a session of a Swedish link answers its refused form (403) and its expiry (410) in Swedish, whether the expired session is opened or paid", async () => {
    const sv = catalog("sv")
    const link = await linkOf({ language: "sv", locale: "sv-SE" })
    const path = await openLink(link.slug)
    const { cookie, csrf } = await openForm(api, path)
    const swedish = (page: { html: string }, key: string) => {
      expect(page.html).toContain('<html lang="sv">')
      expect(page.html).toContain(`<h1>${sv[`page.${key}.title`]}</h1>`)
      expect(page.html).toContain(sv[`page.${key}.body`])
    }
    const forged = await postForm(api, path, { csrf: "forged", action: "pay", email: "c@example.com", name: "C", payment_method: "pm_ok" }, cookie)
    expect(forged.status).toBe(403)
    swedish(forged, "forbidden")

    await api.db.db.sql`update checkout_sessions set expires_at = '2026-04-02T11:59:59Z' where id = ${path.slice(3)}`
    const expired = await getPage(api, path)
    expect(expired.status).toBe(410)
    swedish(expired, "sessionExpired")
    const paidLate = await postForm(api, path, { csrf, action: "pay", email: "c@example.com", name: "C", payment_method: "pm_ok" }, cookie)
    expect(paidLate.status).toBe(410)
    swedish(paidLate, "sessionExpired")
  })
})

describe("an amount typed by a buyer (buyerAmountText)", () => {
  it("reads a decimal comma, thousands' separators and spaces the way the buyer meant them in the page's locale", () => {
    for (const [typed, read] of [["7,50", "7.50"], ["7.50", "7.50"], ["7,5", "7.5"], ["1.234,50", "1234.50"], ["1,234.50", "1234.50"], ["1 234,50", "1234.50"], ["1\u202f234,50", "1234.50"], ["12", "12"], ["1.234", "1234"], ["1,234", "1.234"], ["12,500", "12.500"], ["1.234.567", "1234567"], ["abc", "abc"]] as const) {
      expect(buyerAmountText(typed, "nb-NO"), `nb-NO ${typed}`).toBe(read)
    }
    for (const [typed, read] of [["7.50", "7.50"], ["7,5", "7.5"], ["1,234.50", "1234.50"], ["12.500", "12.500"], ["12,500", "12500"], ["1.234", "1.234"], ["1,234,567", "1234567"], ["1.2.3", "1.2.3"]] as const) {
      expect(buyerAmountText(typed, "en-US"), `en-US ${typed}`).toBe(read)
    }
  })
})
