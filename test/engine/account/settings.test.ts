/** `settings set`: a refused value is named once, with what the key expects. */
import { describe, expect, it } from "vitest"
import { validateSetting } from "../../../engine/account/index.ts"
import { canonicalTimeZone } from "../../../engine/billing/index.ts"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("settings set: refusals", () => {
  it("a bad language or locale says what it got once (found by an audit: 'expected en, nb, nl, fr or sv, got \"de\", got \"de\"')", () => {
    expect(validateSetting("language", "de")).toBe('setting language: expected en, nb, nl, fr or sv, got "de"')
    expect(validateSetting("locale", "nb_NO")).toBe('setting locale: expected a locale such as nb-NO, got "nb_NO"')
    expect(validateSetting("seller-country", "xx")).toBe('setting seller-country: expected a two-letter country code (ISO 3166-1) such as NO, got "xx"')
    expect(validateSetting("timezone", "Mars/Olympus")).toBe('setting timezone: expected an IANA time zone such as Europe/Oslo, got "Mars/Olympus"')
    expect(validateSetting("language", "nb")).toBeUndefined()
    expect(validateSetting("locale", "nb-NO")).toBeUndefined()
  })
  it("a time zone is kept by its IANA name: another spelling of one is the one, a UTC offset (no summer time) is refused", () => {
    expect(canonicalTimeZone("europe/oslo")).toBe("Europe/Oslo")
    expect(canonicalTimeZone("utc")).toBe("UTC")
    expect(canonicalTimeZone("+05:00")).toBeUndefined()
    expect(validateSetting("timezone", "+05:00")).toBe('setting timezone: expected an IANA time zone such as Europe/Oslo, got "+05:00"')
    expect(validateSetting("timezone", "america/new_york")).toBeUndefined()
  })
  it("settings set timezone keeps and prints the zone's own name", () => {
    const { db, env } = freshCliDatabase()
    const set = runCli(["settings", "set", "timezone", "europe/oslo", "--db", db], { env })
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout.trim()).toBe("timezone = Europe/Oslo")
    expect(runCli(["settings", "show", "--db", db], { env }).stdout).toMatch(/timezone\s+Europe\/Oslo\n/)
  })
})


describe("settings: the locale follows the language until it is set", () => {
  it("an account set to Norwegian without a locale writes Norwegian dates (found by an audit: 'Vi prøver igjen March 2, 2026')", () => {
    const { db, env } = freshCliDatabase()
    expect(runCli(["settings", "set", "language", "nb", "--db", db], { env }).code).toBe(0)
    const shown = runCli(["settings", "show", "--json", "--db", db], { env })
    expect(shown.code, shown.stderr).toBe(0)
    expect((JSON.parse(shown.stdout) as Record<string, string>)["locale"]).toBe("nb-NO")
    const run = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(run("contacts", "add", "--email", "ola@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(run("subscriptions", "create", "--contact", "ola@example.com", "--item", "name=Kaffe,price=25.00").code).toBe(0)
    const email = run("render", "email", "reminder", "--subscription", "1")
    expect(email.code, email.stderr).toBe(0)
    expect(email.stdout).toContain("1. mars 2026")
    expect(email.stdout).not.toContain("March 1, 2026")
    // A locale set stays, whatever the language.
    expect(runCli(["settings", "set", "locale", "en-GB", "--db", db], { env }).code).toBe(0)
    expect(runCli(["settings", "set", "language", "fr", "--db", db], { env }).code).toBe(0)
    const after = JSON.parse(runCli(["settings", "show", "--json", "--db", db], { env }).stdout) as Record<string, string>
    expect(after["locale"]).toBe("en-GB")
  })
})
