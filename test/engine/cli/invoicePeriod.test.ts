/**
 * What a person reads about an invoice's period: the days it covers, first to last. The store keeps the period
 * half-open (`period_end` is the next billing date, the first day not covered, billed again by the next invoice),
 * and `invoices show`, `invoices list` and the invoice document printed that end: "1 March – 1 April" reads as if
 * April 1 were paid for twice (and subscriptions show lists its invoices so). Commercial invoices print the last day covered. The JSON keeps the stored end.
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("an invoice's period as a person reads it", () => {
  it("invoices show, invoices list, subscriptions show and the invoice document end a monthly, a weekly and a yearly period on their last day covered; --json keeps the stored end", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-02"], { env })
    expect(cli("contacts", "add", "--email", "ana@example.com").code).toBe(0)
    for (const frequency of ["monthly", "weekly", "annually"]) {
      const made = cli("subscriptions", "create", "--contact", "ana@example.com", "--item", `name=Beans ${frequency},price=20.00,frequency=${frequency}`, "--collection", "invoice:net-30")
      expect(made.code, made.stderr).toBe(0)
    }
    expect(cli("engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("invoices", "list", "--json").stdout) as Array<{ id: number; number: string; subscription_id: number; period_start: string; period_end: string }>
    // Machine-readable: the stored, exclusive end, as the API, webhooks and the export give it (EVENTS.md).
    expect(invoices.map((i) => [i.subscription_id, i.period_start, i.period_end]).sort()).toEqual([[1, "2026-03-02", "2026-04-02"], [2, "2026-03-02", "2026-03-09"], [3, "2026-03-02", "2027-03-02"]])
    const number = (subscription: number) => invoices.find((i) => i.subscription_id === subscription)!.number

    const shown = (subscription: number) => {
      const r = cli("invoices", "show", number(subscription))
      expect(r.code, r.stderr).toBe(0)
      return r.stdout
    }
    expect(shown(1)).toContain("Period 2026-03-02 .. 2026-04-01;")
    expect(shown(2)).toContain("Period 2026-03-02 .. 2026-03-08;")
    expect(shown(3)).toContain("Period 2026-03-02 .. 2027-03-01;")

    const listed = cli("invoices", "list")
    expect(listed.code, listed.stderr).toBe(0)
    for (const last of ["2026-04-01", "2026-03-08", "2027-03-01"]) expect(listed.stdout).toContain(`2026-03-02..${last} `)
    expect(listed.stdout).not.toMatch(/\.\.(2026-04-02|2026-03-09|2027-03-02)/)

    const subscription = cli("subscriptions", "show", "1")
    expect(subscription.code, subscription.stderr).toBe(0)
    expect(subscription.stdout).toContain(" 2026-03-02..2026-04-01 ")

    const document = (subscription: number, language: string, locale: string) => {
      const r = cli("render", "invoice", number(subscription), "--language", language, "--locale", locale)
      expect(r.code, r.stderr).toBe(0)
      return r.stdout
    }
    expect(document(1, "en", "en-US")).toContain("<dd>March 2, 2026 – April 1, 2026</dd>")
    expect(document(1, "nb", "nb-NO")).toContain("<dd>2. mars 2026 – 1. april 2026</dd>")
    expect(document(1, "fr", "fr-FR")).toContain("<dd>2 mars 2026 – 1er avril 2026</dd>")
    expect(document(2, "sv", "sv-SE")).toContain("<dd>2 mars 2026 – 8 mars 2026</dd>")
    expect(document(3, "nl", "nl-NL")).toContain("<dd>2 maart 2026 – 1 maart 2027</dd>")
  }, 300_000)
})
