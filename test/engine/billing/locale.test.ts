import { describe, expect, it } from "vitest"
import { isLanguage, isLocale, languageOf, languages, languagesInWords, localeForLanguage, localeOf, resolveLanguage, shownLocale } from "../../../engine/billing/index.ts"

const account = { language: "fr", locale: "fr-FR" }

describe("language and locale fallback", () => {
  it("a document speaks the subscription's language, else its contact's, else the account's", () => {
    expect(languageOf({ invoice_language: "nb", contact_language: "sv" }, account)).toBe("nb")
    expect(languageOf({ invoice_language: null, contact_language: "sv" }, account)).toBe("sv")
    expect(languageOf({ invoice_language: null, contact_language: null }, account)).toBe("fr")
  })
  it("the locale falls back the same way; a chosen locale is kept whatever the language", () => {
    expect(localeOf({ invoice_locale: "nb-NO", contact_locale: "sv-SE" }, account)).toBe("nb-NO")
    expect(localeOf({ invoice_locale: null, contact_locale: "sv-SE" }, account)).toBe("sv-SE")
    expect(localeOf({ invoice_locale: null, contact_locale: null }, account)).toBe("fr-FR")
    expect(localeOf({ invoice_language: "nb", contact_locale: "en-GB" }, account)).toBe("en-GB")
  })
  it("a language chosen for the buyer without a locale brings its own locale, not the account's of another language", () => {
    // A contact added with --language nb only, on an en-US account: a Norwegian receipt with Norwegian dates.
    expect(localeOf({ contact_language: "nb", contact_locale: null }, { language: "en", locale: "en-US" })).toBe("nb-NO")
    expect(localeOf({ invoice_language: "sv" }, { language: "en", locale: "en-US" })).toBe("sv-SE")
    // The account's locale stays when it is of the document's language, or the document speaks the account's language.
    expect(localeOf({ contact_language: "fr" }, { language: "en", locale: "fr-CA" })).toBe("fr-CA")
    expect(localeOf({ contact_language: "en" }, { language: "en", locale: "en-GB" })).toBe("en-GB")
    expect(localeOf({}, { language: "nb", locale: "en-US" })).toBe("en-US")
    expect(localeForLanguage("nl", "nb-NO")).toBe("nl-NL")
    expect(localeForLanguage("en", "en-GB")).toBe("en-GB")
  })
  it("a document shown with a chosen language takes that language's locale unless a locale is chosen too", () => {
    expect(shownLocale({ language: "fr" }, "en-US")).toBe("fr-FR")
    expect(shownLocale({ language: "fr", locale: "fr-CA" }, "en-US")).toBe("fr-CA")
    expect(shownLocale({ locale: "de-DE" }, "nb-NO")).toBe("de-DE")
    expect(shownLocale({}, "nb-NO")).toBe("nb-NO")
    expect(shownLocale({ language: "en" }, "en-GB")).toBe("en-GB")
  })
  it("a language without labels renders in English", () => {
    expect(resolveLanguage("de")).toBe("en")
    expect(resolveLanguage("nl")).toBe("nl")
  })
  it("the five languages, and their list in words", () => {
    expect(languages.length).toBe(5)
    expect(languagesInWords).toBe("en, nb, nl, fr or sv")
    expect(isLanguage("sv")).toBe(true)
    expect(isLanguage("de")).toBe(false)
  })
  it("a malformed locale tag is not a locale (and does not throw)", () => {
    expect(isLocale("nb-NO")).toBe(true)
    expect(isLocale("not a locale!")).toBe(false)
  })
})
