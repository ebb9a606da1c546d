import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { catalog, checkTemplates, emailTemplates, formatAddress, formatDate, formatMoney, renderEmail, renderInvoice, renderPage } from "../../templates/index.ts"
import { declineReasonLabel, declineReasons } from "../../engine/domain/index.ts"
import { sampleEmail, sampleInvoice } from "./sample.ts"

const golden = (name: string, actual: string) => {
  const path = fileURLToPath(new URL(`./golden/${name}`, import.meta.url))
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(path)) {
    if (process.env["CI"] === "true" && !existsSync(path)) throw new Error(`golden file ${name} is missing`)
    writeFileSync(path, actual)
  }
  expect(actual).toBe(readFileSync(path, "utf8"))
}

const cases = [["en", "en-US"], ["nb", "nb-NO"], ["nl", "nl-NL"], ["fr", "fr-FR"], ["sv", "sv-SE"], ["en", "nb-NO"]] as const

describe("invoice documents", () => {
  it.each(cases)("the known invoice in %s with locale %s matches its golden file", (language, locale) => {
    golden(`invoice.${language}.${locale}.html`, renderInvoice(sampleInvoice(locale), { language, locale }))
  })

  it("an unpaid invoice paid by transfer shows the seller's account and the KID, under its scheme's name", () => {
    const html = renderInvoice({ ...sampleInvoice("nb-NO"), paid: false, bankTransfer: { account: "NO93 8601 1117 947", bic: "DNBANOKK", reference: "1230", referenceKey: "invoice.reference.kid" } }, { language: "nb", locale: "nb-NO" })
    golden("invoice.nb.nb-NO.transfer.html", html)
    expect(html).toContain("<dt>KID</dt><dd class=\"ref\">1230</dd>")
    expect(html).toContain("Betal med bankoverføring")
  })

  it("an English invoice with the nb-NO locale has English labels and Norwegian dates and money", () => {
    const html = renderInvoice(sampleInvoice("nb-NO"), { language: "en", locale: "nb-NO" })
    expect(html).toContain("Invoice number")
    expect(html).toContain("Due date")
    expect(html).toContain("31. mars 2026")
    expect(html).toMatch(/811,25\s*kr/)
    expect(html).not.toContain("Fakturanummer")
  })

  it("a period of one day (a checkout's one-time items, invoiced on the day) shows that day alone, not a range", () => {
    const oneDay = { ...sampleInvoice("en-US"), periodStart: "2026-04-02", periodEnd: "2026-04-02" }
    expect(renderInvoice(oneDay, { language: "en", locale: "en-US" })).toContain("<dt>Billing period</dt><dd>April 2, 2026</dd>")
    expect(renderInvoice({ ...oneDay, buyer: sampleInvoice("sv-SE").buyer }, { language: "sv", locale: "sv-SE" })).toMatch(/<dd>2 april 2026<\/dd>/)
  })

  it("escapes every value from data", () => {
    const html = renderInvoice({ ...sampleInvoice("en-US"), comments: "<script>alert(1)</script>" }, { language: "en", locale: "en-US" })
    expect(html).not.toContain("<script>alert")
    expect(html).toContain("&lt;script&gt;")
    expect(html).toContain("Ingrid Hansen &lt;&amp; Co&gt;")
  })
})

describe("emails", () => {
  it.each(emailTemplates.flatMap((t) => cases.slice(0, 5).map(([l, loc]) => [t, l, loc] as const)))("%s renders in %s with subject, html and text", (template, language, locale) => {
    const r = renderEmail(template, sampleEmail, { language, locale })
    expect(r.subject.length).toBeGreaterThan(3)
    expect(r.subject).not.toContain("{{")
    expect(r.html).toContain("<html")
    expect(r.html).toContain(`lang="${language}"`)
    expect(r.text.length).toBeGreaterThan(10)
    expect(r.text).not.toMatch(/<[a-z]/)
  })

  it.each(cases.slice(0, 5))("a reminder of a subscription paid by invoice announces the invoice, not a charge (%s)", (language, locale) => {
    const charged = renderEmail("reminder", sampleEmail, { language, locale })
    const invoiced = renderEmail("reminder", { ...sampleEmail, invoiced: true }, { language, locale })
    const words: Record<string, { charge: RegExp; invoice: RegExp }> = {
      en: { charge: /will be charged/, invoice: /invoice/ }, nb: { charge: /trekkes/, invoice: /faktura/ }, nl: { charge: /afgeschreven/, invoice: /factuur/ },
      fr: { charge: /prélevé/, invoice: /facture/ }, sv: { charge: /dras/, invoice: /faktura/ }
    }
    expect(charged.text).toMatch(words[language]!.charge)
    expect(invoiced.text).not.toMatch(words[language]!.charge)
    expect(invoiced.text).toMatch(words[language]!.invoice)
    expect(invoiced.subject).toMatch(words[language]!.invoice)
    expect(invoiced.subject).not.toBe(charged.subject)
    // The same amount and date as the charge's reminder.
    for (const part of [formatMoney(sampleEmail.amount!, sampleEmail.currency!, locale), formatDate(sampleEmail.nextDate!, locale)]) expect(invoiced.text).toContain(part)
  })

  it("our built-in words fit any seller: no coffee, no delivery (found by an audit: every seller's welcome said the first delivery was on its way)", () => {
    for (const [language, locale] of cases.slice(0, 5)) {
      for (const template of emailTemplates) {
        expect(renderEmail(template, { ...sampleEmail, seller: "Northwind", subscription: "Pro plan" }, { language, locale }).text).not.toMatch(/\b(coffee|café|kaffe|kaffen|koffie|deliver\w*|livraison|levering|leverans\w*)\b/i)
      }
    }
  })

  it("the admins' payment notification names the outcome in their language (found by an audit: 'Betaling failed: INV-000001' in a Norwegian account)", () => {
    const expected: Record<string, [string, string]> = {
      en: ["Payment succeeded: INV-000001", "Payment failed: INV-000001"], nb: ["Betaling vellykket: INV-000001", "Betaling mislyktes: INV-000001"],
      nl: ["Betaling geslaagd: INV-000001", "Betaling mislukt: INV-000001"], fr: ["Paiement réussi\u00a0: INV-000001", "Paiement échoué\u00a0: INV-000001"],
      sv: ["Betalning lyckades: INV-000001", "Betalning misslyckades: INV-000001"]
    }
    for (const [language, locale] of cases.slice(0, 5)) {
      const subjects = (["succeeded", "failed"] as const).map((outcome) =>
        renderEmail("payment_notification", { ...sampleEmail, number: "INV-000001", outcome, succeeded: outcome === "succeeded" }, { language, locale }).subject)
      expect(subjects).toEqual(expected[language])
    }
  })

  it("the admins' notice of a failed payment gives the gateway's decline reason in their language, an unknown one as the gateway gave it (found by an audit: 'mislyktes: card declined' in a Norwegian notice)", () => {
    const expected: Record<string, string> = {
      en: "failed: the card was declined.", nb: "mislyktes: kortet ble avvist.", nl: "is mislukt: de kaart is geweigerd.",
      fr: "a échoué\u00a0: la carte a été refusée.", sv: "misslyckades: kortet nekades."
    }
    const failed = (reason: string) => ({ ...sampleEmail, outcome: "failed", succeeded: false, reason, reasonLabel: declineReasonLabel(reason) ?? "" })
    for (const [language, locale] of cases.slice(0, 5)) {
      // As the simulated gateway records it, and as its code.
      for (const reason of ["card declined", "card_declined"]) expect(renderEmail("payment_notification", failed(reason), { language, locale }).text).toContain(expected[language])
      const unknown = renderEmail("payment_notification", failed("do_not_honor"), { language, locale }).text
      expect(unknown).toContain(": do_not_honor.")
    }
    // Every decline code the gateway gives has its label in every language (English reads like the recorded reason).
    for (const [language] of cases.slice(1, 5)) {
      for (const [code, recorded] of Object.entries(declineReasons)) {
        const text = renderEmail("payment_notification", failed(recorded), { language, locale: "en-US" }).text
        expect(text, `${language} ${code}`).not.toContain(recorded)
      }
    }
  })

  it("a Swedish email closes \"Vänliga hälsningar\" with no comma, as Swedish letters do (found by an audit of what buyers receive)", () => {
    const r = renderEmail("receipt", sampleEmail, { language: "sv", locale: "sv-SE" })
    expect(r.html).toContain("<p>Vänliga hälsningar<br>Bean There Coffee Co.</p>")
    expect(r.text).toMatch(/\nVänliga hälsningar\nBean There Coffee Co\.\n$/)
  })

  it("the Swedish update-payment page names the subscription as the Swedish emails that link to it do, \"prenumeration\" (found by an audit of what buyers receive: \"abonnemang\" on the page only)", () => {
    const page = renderPage("update_payment", { name: "Kaffe", showForm: true, action: "/p/x", csrf: "c", paymentMethod: "", currency: "SEK" },
      { language: "sv", locale: "sv-SE", title: "page.update.title", seller: "Bean There" })
    expect(page).toContain("<p>För din prenumeration Kaffe.</p>")
    expect(renderEmail("payment_failed", sampleEmail, { language: "sv", locale: "sv-SE" }).html).toContain("Du får det här mejlet eftersom du har en prenumeration")
  })

  it("the Norwegian update-payment page names the subscription as the Norwegian emails do, \"abonnementet Kaffe\" (found by an audit of what buyers receive: \"For abonnementet ditt Kaffe\")", () => {
    const page = renderPage("update_payment", { name: "Kaffe", showForm: true, action: "/p/x", csrf: "c", paymentMethod: "", currency: "NOK" },
      { language: "nb", locale: "nb-NO", title: "page.update.title", seller: "Bean There" })
    expect(page).toContain("<p>For abonnementet Kaffe.</p>")
    expect(renderEmail("cancellation", { ...sampleEmail, subscription: "Kaffe" }, { language: "nb", locale: "nb-NO" }).text).toContain("Abonnementet Kaffe ble kansellert")
  })

  it("Swedish prose puts \"den\" before a date, as Swedish writes it (found by an audit of what buyers receive: \"Vi försöker igen 4 mars 2026\")", () => {
    const sv = { language: "sv", locale: "sv-SE" }
    const reminder = renderEmail("reminder", sampleEmail, sv)
    expect(reminder.subject).toBe("Din nästa betalning sker den 1 april 2026")
    expect(reminder.text).toContain("dras den 1 april 2026.")
    expect(renderEmail("reminder", { ...sampleEmail, invoiced: true }, sv).text).toContain("skickas den 1 april 2026.")
    expect(renderEmail("receipt", sampleEmail, sv).text).toContain("Din nästa betalning sker den 1 april 2026.")
    expect(renderEmail("payment_failed", sampleEmail, sv).text).toContain("Vi försöker igen den 4 mars 2026.")
    expect(renderEmail("invoice_sent", sampleEmail, sv).text).toContain("som förfaller den 31 mars 2026.")
    expect(renderEmail("cancellation", sampleEmail, sv).text).toContain("avslutades den 11 mars 2026.")
    expect(renderEmail("expiry", sampleEmail, sv).text).toContain("upphörde den 1 september 2026 efter")
    expect(renderEmail("renewal_offer", sampleEmail, sv).text).toContain("upphör den 1 september 2026.")
  })

  it("the invoice email gives the due date as the last day to pay, as the engine counts it, in every language (found by an audit: \"à régler avant le 31 mars\", \"te betalen vóór 31 maart\": before it)", () => {
    // An invoice is overdue the day after its due date (lifecycleRun: due_date < today): paying on the day is on time.
    const expected: Record<string, string> = {
      en: "due on March 31, 2026", nb: "med forfall 31. mars 2026", nl: "uiterlijk te betalen op 31 maart 2026",
      fr: "à régler au plus tard le 31 mars 2026", sv: "som förfaller den 31 mars 2026"
    }
    for (const [language, locale] of cases.slice(0, 5)) expect(renderEmail("invoice_sent", sampleEmail, { language, locale }).text).toContain(expected[language])
  })

  it("the expired-link page says the link's last day was still valid, as the link checks it, where \"until\" would leave it out (found by an audit: \"geldig tot 1 maart\")", () => {
    // A link is valid through its expiresOn (verifyBuyerToken: expired when expiresOn < today).
    const expected: Record<string, string> = { nb: "var gyldig til og med 1. mars 2026", nl: "was geldig tot en met 1 maart 2026", sv: "gällde till och med den 1 mars 2026" }
    for (const [language, locale] of [["nb", "nb-NO"], ["nl", "nl-NL"], ["sv", "sv-SE"]] as const) {
      const page = renderPage("message", { title: "page.expired.title", text: "page.expired.body", date: "2026-03-01" }, { language, locale, title: "page.expired.title", seller: "Bean There" })
      expect(page).toContain(expected[language])
    }
  })

  it("the payment-failed email carries the update link in both parts", () => {
    const r = renderEmail("payment_failed", sampleEmail, { language: "fr", locale: "fr-FR" })
    expect(r.html).toContain('href="https://billing.example/update?s&#x3D;1"')
    expect(r.text).toContain("(https://billing.example/update?s=1)")
    expect(r.subject).toBe("Votre paiement n’a pas abouti")
  })
})

describe("French typography", () => {
  // Found by an audit of what buyers receive: "N° de TVA: …", "Date d'échéance: …", "Paiement réussi : …" with a plain
  // space, which a French reader sees as wrong and a narrow screen wraps, leaving the colon alone at a line's start.
  const nbsp = "\u00a0"
  it("every French label puts a no-break space before : ; ! ?", () => {
    const bad = Object.entries(catalog("fr")).filter(([, text]) => /(^|[^\u00a0\u202f])[:;!?](\s|$)/.test(text)).map(([key]) => key)
    expect(bad).toEqual([])
  })

  it("every French label writes its apostrophes one way, the typographic ’, as most of them did (found by an audit: \"Date d'échéance\" beside \"n’est plus utilisé\")", () => {
    expect(Object.entries(catalog("fr")).filter(([, text]) => text.includes("'")).map(([key]) => key)).toEqual([])
    expect(renderEmail("payment_failed", sampleEmail, { language: "fr", locale: "fr-FR" }).subject).toBe("Votre paiement n’a pas abouti")
    expect(renderInvoice(sampleInvoice("fr-FR"), { language: "fr", locale: "fr-FR" })).toContain("<dt>Date d’échéance</dt>")
  })

  it("the invoice, the invoice email and the pay page put a no-break space before a label's colon in French, none in English", () => {
    const invoice = renderInvoice(sampleInvoice("fr-FR"), { language: "fr", locale: "fr-FR" })
    expect(invoice).toContain(`N° de TVA${nbsp}: NO 912 345 678 MVA<br>`)
    expect(invoice).toContain(`<br>N° de TVA${nbsp}: NO 987 654 321 MVA`)
    const transfer = { ...sampleEmail, bankAccount: "FR76 3000 6000 0112 3456 7890 189", paymentReference: "RF18 0000 0000 0000 0000 0004 2", referenceKey: "invoice.reference.rf" }
    expect(renderEmail("invoice_sent", transfer, { language: "fr", locale: "fr-FR" }).text).toContain(`Référence créancier (RF)${nbsp}: RF18`)
    expect(renderEmail("invoice_sent", transfer, { language: "en", locale: "en-US" }).text).toContain("Creditor reference: RF18")
    const pay = (language: string, locale: string) => renderPage("pay_invoice", {
      number: "BT-000042", subscriptionName: "Club", issueDate: "2026-03-01", dueDate: "2026-03-31", currency: "EUR", lines: [], subtotal: 2500, total: 2500, amountDue: 2500
    }, { language, locale, title: "page.pay.title", titleValues: { number: "BT-000042" }, seller: "Bean There" })
    expect(pay("fr", "fr-FR")).toContain(`<p>Date d’échéance${nbsp}: 31 mars 2026</p>`)
    expect(pay("en", "en-US")).toContain("<p>Due date: March 31, 2026</p>")
  })
})

describe("amounts taken off", () => {
  // Found by an audit of what buyers receive: a Dutch invoice's discount read "−€ 50,00", a minus typed before the
  // formatted amount, where Dutch writes "€ -50,00" (as Intl has it). A negative amount is the locale's to write.
  const locales = ["en-US", "nb-NO", "nl-NL", "fr-FR", "sv-SE", "de-CH", "en-GB"] as const
  const offByHand = (minor: number, locale: string) => `−${formatMoney(minor, "NOK", locale)}`

  it("a Dutch discount and payment read \"€ -50,00\", as Dutch writes a negative amount, on the invoice, the pay page and the checkout page", () => {
    const invoice = renderInvoice({ ...sampleInvoice("nl-NL"), currency: "EUR", discount: 1000, amountPaid: 20000 }, { language: "nl", locale: "nl-NL" })
    expect(invoice).toContain('<td class="num">€\u00a0-50,00</td>')
    expect(invoice).toContain('<tr><td>Kortingen</td><td class="num">€\u00a0-10,00</td></tr>')
    expect(invoice).toContain('<tr><td>Betaald</td><td class="num">€\u00a0-200,00</td></tr>')
    expect(invoice).not.toContain("−€")
    const pay = renderPage("pay_invoice", {
      number: "BT-000042", subscriptionName: "Koffie", issueDate: "2026-03-01", dueDate: "2026-03-31", currency: "EUR", lines: [],
      subtotal: 25000, discount: 5000, total: 20000, amountPaid: 5000, amountDue: 15000
    }, { language: "nl", locale: "nl-NL", title: "page.pay.title", titleValues: { number: "BT-000042" }, seller: "Bean There" })
    expect(pay).toMatch(/Kortingen<\/th><td class="num">€\u00a0-50,00<\/td>/)
    expect(pay).toMatch(/Betaald<\/th><td class="num">€\u00a0-50,00<\/td>/)
    expect(pay).not.toContain("−€")
    const checkout = renderPage("checkout", {
      items: [{ index: 0, name: "Koffie", quantity: 1, unitPrice: 25000, discount: 5000, amount: 20000, per: "", count: 1 }], currency: "EUR",
      subtotal: 20000, showSubtotal: true, orderDiscount: 1000, codeDiscount: 2000, tax: 0, dueToday: 17000, future: [], hasTotal: false
    }, { language: "nl", locale: "nl-NL", title: "page.checkout.title", seller: "Bean There" })
    expect(checkout).toContain('<span class="line-discount">Korting €\u00a0-50,00</span>')
    expect(checkout).toMatch(/<td class="num">€\u00a0-10,00<\/td>/)
    expect(checkout).toMatch(/<td class="num">€\u00a0-20,00<\/td>/)
    expect(checkout).not.toContain("−€")
  })

  it.each(locales)("an invoice in %s shows each amount off as the locale writes it negative, never a minus typed before it", (locale) => {
    const html = renderInvoice({ ...sampleInvoice(locale), discount: 1000, amountPaid: 20000 }, { language: "en", locale })
    for (const minor of [5000, 1000, 20000]) {
      expect(html).toContain(`<td class="num">${formatMoney(-minor, "NOK", locale)}</td>`)
      if (offByHand(minor, locale) !== formatMoney(-minor, "NOK", locale)) expect(html).not.toContain(offByHand(minor, locale))
    }
  })

  it("a negative amount is the positive one with the locale's sign, in every locale; zero is never signed", () => {
    const bare = (s: string) => s.replace(/[-−\s]/g, "")
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000_000_000 }), fc.constantFrom(...locales), fc.constantFrom("EUR", "NOK", "JPY", "KWD", "CHF"), (minor, locale, currency) => {
      const negative = formatMoney(-minor, currency, locale)
      expect(negative).not.toBe(formatMoney(minor, currency, locale))
      expect(negative).toMatch(/[-−]/)
      expect(bare(negative)).toBe(bare(formatMoney(minor, currency, locale)))
    }))
    expect(formatMoney(-5000, "EUR", "nl-NL")).toBe("€\u00a0-50,00")
    expect(formatMoney(-5000, "EUR", "en-US")).toBe("-€50.00")
    expect(formatMoney(-5000, "NOK", "nb-NO")).toBe("−50,00\u00a0kr")
    // Asked first for minus zero (an amount off of nothing), then for zero: neither carries a sign.
    for (const locale of locales) {
      expect(formatMoney(-0, "DKK", locale)).not.toMatch(/[-−]/)
      expect(formatMoney(0, "DKK", locale)).not.toMatch(/[-−]/)
    }
  })
})

describe("escaping once", () => {
  // A helper escaped what it formatted and Handlebars escaped it again: given a name (an account's template writing
  // {{date subscription}}), "Bread & Butter" reached the buyer as "Bread &amp;amp; Butter", and the text part as
  // "Bread &amp; Butter". Every value is escaped exactly once, whichever helper formats it.
  const name = `Bread & Butter "Big" O'Brien <1>`
  const account = () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-escape-"))
    mkdirSync(join(dir, "emails"))
    writeFileSync(join(dir, "emails", "welcome.hbs"), '<p>{{date subscription}}</p>\n<p>{{t "welcome.body" subscription=(date subscription)}}</p>\n<p>{{t "receipt.body" amount=(money amount currency) subscription=subscription}}</p>\n')
    return dir
  }

  it("a helper's output is escaped once in the HTML and not at all in the text part", () => {
    const r = renderEmail("welcome", { ...sampleEmail, subscription: name }, { language: "en", locale: "de-CH", templatesDir: account() })
    expect(r.html).toContain("<p>Bread &amp; Butter &quot;Big&quot; O&#x27;Brien &lt;1&gt;</p>")
    expect(r.html).toContain("<p>Thank you for subscribing to Bread &amp; Butter &quot;Big&quot; O&#x27;Brien &lt;1&gt;. We are glad")
    expect(r.html).toContain(`<p>Thank you for your payment of ${formatMoney(2500, "EUR", "de-CH")} for Bread &amp; Butter`)
    expect(r.html).not.toMatch(/&amp;(amp|quot|lt|gt|#x27);/)
    expect(r.text).toContain(`${name}\n\nThank you for subscribing to ${name}. We are glad`)
    expect(r.text).not.toMatch(/&(amp|quot|lt|gt|#x27);/)
    expect(r.subject).toBe("Welcome to Bean There Coffee Co.")
  })

  it("a seller and a product with & < ' \" read as written in every email's subject, text and HTML, in every language", () => {
    for (const [language, locale] of cases.slice(0, 5)) {
      for (const template of emailTemplates) {
        const r = renderEmail(template, { ...sampleEmail, seller: "Bread & Butter <Co>", subscription: name, recipientName: "Seán O'Brien" }, { language, locale })
        expect(r.subject).not.toMatch(/&(amp|quot|lt|gt|#x27);/)
        expect(r.text).not.toMatch(/&(amp|quot|lt|gt|#x27);/)
        expect(r.html).not.toMatch(/&amp;(amp|quot|lt|gt|#x27);/)
        expect(r.html).not.toMatch(/Bread & Butter|<Co>|<1>/)
      }
    }
  })
})

describe("locale formats", () => {
  it("formats money with each currency's exponent in the locale", () => {
    expect(formatMoney(12500, "NOK", "nb-NO")).toMatch(/^125,00\s*kr$/)
    expect(formatMoney(12500, "USD", "en-US")).toBe("$125.00")
    expect(formatMoney(1500, "JPY", "en-US")).toBe("¥1,500")
    expect(formatMoney(1234, "KWD", "en-US")).toMatch(/^KWD\s1\.234$/)
    expect(formatDate("2026-02-28", "sv-SE")).toBe("28 februari 2026")
    expect(formatDate("2026-02-28", "fr-FR")).toBe("28 février 2026")
  })

  it("French writes the first of a month as an ordinal, 1er avril, in the date and in every document that carries it (found by an audit of what buyers receive: \"le 1 avril 2026\")", () => {
    expect(formatDate("2026-04-01", "fr-FR")).toBe("1er avril 2026")
    expect(formatDate("2026-04-02", "fr-FR")).toBe("2 avril 2026")
    expect(formatDate("2026-04-01", "en-US")).toBe("April 1, 2026")
    const reminder = renderEmail("reminder", sampleEmail, { language: "fr", locale: "fr-FR" })
    expect(reminder.subject).toBe("Votre prochain paiement aura lieu le 1er avril 2026")
    expect(reminder.text).toContain("sera prélevé le 1er avril 2026.")
    expect(renderInvoice(sampleInvoice("fr-FR"), { language: "fr", locale: "fr-FR" })).toContain("<dd>1er mars 2026</dd>")
  })

  it("formats addresses by country convention", () => {
    expect(formatAddress({ line1: "Storgata 1", postalCode: "0155", city: "Oslo", country: "NO" }, "nb-NO")).toEqual(["Storgata 1", "0155 Oslo", "Norge"])
    expect(formatAddress({ line1: "Drottninggatan 5", postalCode: "11151", city: "Stockholm", country: "SE" }, "sv-SE")).toEqual(["Drottninggatan 5", "111 51 STOCKHOLM", "Sverige"])
    expect(formatAddress({ line1: "1 Main St", city: "Springfield", region: "IL", postalCode: "62701", country: "US" }, "en-US")).toEqual(["1 Main St", "Springfield, IL 62701", "United States"])
    expect(formatAddress({ line1: "10 rue de Rivoli", postalCode: "75001", city: "Paris", country: "FR" }, "fr-FR")).toEqual(["10 rue de Rivoli", "75001 PARIS", "France"])
  })

  it("a calendar date never moves, whatever the locale", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 40_000 }), fc.constantFrom("en-US", "nb-NO", "fr-FR", "sv-SE", "nl-NL"), (n, locale) => {
      const d = new Date(Date.UTC(2000, 0, 1) + n * 86_400_000).toISOString().slice(0, 10)
      expect(formatDate(d, locale)).toContain(String(Number(d.slice(8, 10))))
    }))
  })
})

describe("templates check", () => {
  it("passes on ours", () => {
    expect(checkTemplates()).toEqual([])
  })

  it("catches a missing label and an unknown variable in an account's templates, with file and line", () => {
    const dir = fileURLToPath(new URL("./fixtures/broken/", import.meta.url))
    const problems = checkTemplates({ templatesDir: dir }).map((d) => `${d.file.replace(dir, "")}:${d.line}: ${d.message}`)
    expect(problems).toContain('emails/welcome.hbs:2: missing label "welcome.tagline" in the en catalog')
    expect(problems).toContain('emails/welcome.hbs:3: unknown variable "couponCode" (not in the template\'s data)')
  })

  it("an account's catalog that is not JSON is reported with its file and line, not a crash (found by an audit: templates check printed a stack trace)", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-catalog-"))
    mkdirSync(join(dir, "catalogs"))
    writeFileSync(join(dir, "catalogs", "nb.json"), '{"receipt.subject": 5\n')
    writeFileSync(join(dir, "catalogs", "sv.json"), '["not", "labels"]\n')
    const problems = checkTemplates({ templatesDir: dir }).map((d) => `${d.file.replace(dir, "")}:${d.line}: ${d.message}`)
    expect(problems).toEqual([
      expect.stringMatching(/^\/catalogs\/nb\.json:2: not a JSON catalog: /),
      "/catalogs/sv.json:1: expected a JSON object of labels, each a string"
    ])
    expect(() => renderEmail("receipt", sampleEmail, { language: "nb", locale: "nb-NO", templatesDir: dir })).toThrow(/catalogs\/nb\.json:2: not a JSON catalog/)
  })

  it("a formatting helper given a field of another kind is reported: a date that is an invoice number, an amount that is a quantity (the email printed \"INV-000042\" as the due date), through @root too", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-kinds-"))
    mkdirSync(join(dir, "emails"))
    writeFileSync(join(dir, "emails", "reminder.hbs"), [
      "<p>{{date nextDate}} {{money amount currency}}</p>",
      "<p>Due {{date number}}</p>",
      "<p>{{t \"reminder.body\" amount=(money nextDate currency)}}</p>",
      "<p>{{num amount}} {{date @root.number}}</p>",
      "<p>{{@root.nextDat}} {{money @root.amount @root.currency}}</p>"
    ].join("\n"))
    writeFileSync(join(dir, "invoice.hbs"), [
      "{{dateRange periodStart periodEnd}} {{date issueDate}}",
      "{{#each lines}}{{money amount ../currency}} {{percent taxRatePpm}} {{num quantity}}",
      "{{money quantity ../currency}} {{percent name}} {{money amount @root.currency}} {{date @root.total}}{{/each}}",
      "{{dateRange periodStart total}} {{money bankTransfer.reference currency}} {{date seller.name}}"
    ].join("\n"))
    const problems = checkTemplates({ templatesDir: dir }).map((d) => `${d.file.replace(dir, "")}:${d.line}: ${d.message}`)
      .filter((p) => !p.includes("missing label"))
    expect(problems).toEqual([
      '/emails/reminder.hbs:2: date of "number", which is text, not a date: date formats a date (YYYY-MM-DD)',
      '/emails/reminder.hbs:3: money of "nextDate", which is a date, not an amount: money formats an amount in minor units',
      '/emails/reminder.hbs:4: num of "amount", which is an amount, not a number: num formats a number',
      '/emails/reminder.hbs:4: date of "@root.number", which is text, not a date: date formats a date (YYYY-MM-DD)',
      '/emails/reminder.hbs:5: unknown variable "@root.nextDat" (not in the template\'s data)',
      '/invoice.hbs:3: money of "quantity", which is a number, not an amount: money formats an amount in minor units',
      '/invoice.hbs:3: percent of "name", which is text, not a number: percent formats a rate in parts per million',
      '/invoice.hbs:3: date of "@root.total", which is an amount, not a date: date formats a date (YYYY-MM-DD)',
      '/invoice.hbs:4: dateRange of "total", which is an amount, not a date: dateRange formats two dates (YYYY-MM-DD)',
      '/invoice.hbs:4: money of "bankTransfer.reference", which is text, not an amount: money formats an amount in minor units',
      '/invoice.hbs:4: date of "seller.name", which is text, not a date: date formats a date (YYYY-MM-DD)'
    ])
  })

  it("checks the buyer's pages too: an account's checkout page asking for a label no catalog has is reported in every language", () => {
    const dir = fileURLToPath(new URL("./fixtures/broken/", import.meta.url))
    const problems = checkTemplates({ templatesDir: dir }).map((d) => `${d.file.replace(dir, "")}:${d.line}: ${d.message}`).filter((p) => p.startsWith("pages/"))
    expect(problems).toEqual(["en", "nb", "nl", "fr", "sv"].map((l) => `pages/checkout.hbs:2: missing label "page.checkout.thanksForNothing" in the ${l} catalog`))
  })
})

describe("missing data", () => {
  it("an email whose optional dates are empty still renders (a canceled subscription has no next billing date)", () => {
    for (const template of emailTemplates) {
      const r = renderEmail(template, { ...sampleEmail, nextDate: "", retryDate: "", dueDate: "", endDate: "", effectiveDate: "" }, { language: "nb", locale: "nb-NO" })
      expect(r.subject).not.toContain("Invalid")
    }
  })
})
