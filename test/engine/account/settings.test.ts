/** `settings set`: a refused value is named once, with what the key expects. */
import { describe, expect, it } from "vitest"
import { validateSetting } from "../../../engine/account/index.ts"

describe("settings set: refusals", () => {
  it("a bad language or locale says what it got once (found by an audit: 'expected en, nb, nl, fr or sv, got \"de\", got \"de\"')", () => {
    expect(validateSetting("language", "de")).toBe('setting language: expected en, nb, nl, fr or sv, got "de"')
    expect(validateSetting("locale", "nb_NO")).toBe('setting locale: expected a locale such as nb-NO, got "nb_NO"')
    expect(validateSetting("seller-country", "xx")).toBe('setting seller-country: expected a two-letter country code (ISO 3166-1) such as NO, got "xx"')
    expect(validateSetting("timezone", "Mars/Olympus")).toBe('setting timezone: expected an IANA time zone such as Europe/Oslo, got "Mars/Olympus"')
    expect(validateSetting("language", "nb")).toBeUndefined()
    expect(validateSetting("locale", "nb-NO")).toBeUndefined()
  })
})
