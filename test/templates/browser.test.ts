/**
 * A real browser renders every document: the invoice and each email in every
 * language, to PNG, with no console error and no request leaving the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Browser } from "playwright-core"
import { emailTemplates, languages, renderEmail, renderInvoice } from "../../templates/index.ts"
import { launchBrowser, renderHtml } from "../browser.ts"
import { sampleEmail, sampleInvoice } from "./sample.ts"

const locales = { en: "en-US", nb: "nb-NO", nl: "nl-NL", fr: "fr-FR", sv: "sv-SE" } as const
let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe("documents in headless Chromium", () => {
  it.each(languages)("the invoice in %s renders to a PNG without errors", async (language) => {
    const r = await renderHtml(browser, renderInvoice(sampleInvoice(locales[language]), { language, locale: locales[language] }))
    expect(r.errors).toEqual([])
    expect(r.png.length).toBeGreaterThan(10_000)
    expect(r.text).toContain("BT-000042")
  })

  it.each(languages)("every email in %s renders without errors", async (language) => {
    for (const template of emailTemplates) {
      const email = renderEmail(template, sampleEmail, { language, locale: locales[language] })
      const r = await renderHtml(browser, email.html, 640)
      expect(r.errors, template).toEqual([])
      expect(r.text, template).toContain("Bean There Coffee Co.")
    }
  })
})
