/**
 * A unit discount in percent, as a buyer and an admin read it, adds up to what is charged (found by an audit:
 * 3 × 999 JPY at 33% off showed "330 JPY" a unit and a line of 2008 JPY on the invoice, yet 3 × (999 − 330) = 2007,
 * and a subtotal of 2997 over lines adding up to 2008; `links preview` showed no line at all). Each line shows
 * quantity × unit price − the line's discount = its amount, and the subtotal is what the amounts add up to.
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = () => {
  const { db, env } = freshCliDatabase()
  return (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
}
const textOf = (html: string) => html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ")

describe("a unit discount in percent on the invoice, invoices show and links preview", () => {
  it("3 × 999 JPY at 33% off: 2997 − 989 = 2008, line and totals, in every place that shows it", () => {
    const cli = session()
    expect(cli("settings", "set", "currency", "JPY").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ann@example.com", "--name", "Ann", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Widget,price=999,qty=3,discount=33%", "--terms", "fixed:3").code).toBe(0)
    expect(cli("engine", "--once").code).toBe(0)

    const document = textOf(cli("render", "invoice", "1").stdout)
    expect(document).toContain("Widget 3 ¥999 -¥989 – ¥2,008")
    expect(document).toContain("Subtotal ¥2,008 Tax ¥0 Total ¥2,008")
    expect(document).not.toContain("¥330")

    const shown = cli("invoices", "show", "1").stdout
    expect(shown).toMatch(/Widget\s+3\s+999 JPY\s+-989 JPY\s+-\s+2008 JPY/)
    expect(shown).toContain("Subtotal 2008 JPY  Discount 0 JPY  Tax 0 JPY  Total 2008 JPY")
    const json = JSON.parse(cli("invoices", "show", "1", "--json").stdout)
    expect(json.lines[0]).toMatchObject({ quantity: 3, unit_price: { amount: 999 }, discount: { amount: 989 }, amount: { amount: 2008 } })

    expect(cli("links", "create", "--name", "Yen", "--currency", "JPY", "--slug", "yen-link", "--item", "name=Widget,price=999,qty=3,discount=33%,frequency=monthly", "--terms", "fixed:3").code).toBe(0)
    const preview = cli("links", "preview", "yen-link").stdout
    expect(preview).toContain("Widget: 3 × 999 JPY − 989 JPY discount = 2008 JPY monthly\ndue today: 2008 JPY")
    expect(JSON.parse(cli("links", "preview", "yen-link", "--json").stdout).lines).toEqual([{
      item: 1, name: "Widget", one_time: false, quantity: 3, unit_price: { amount: 999, currency: "JPY", formatted: "999 JPY" },
      discount: { amount: 989, currency: "JPY", formatted: "989 JPY" }, amount: { amount: 2008, currency: "JPY", formatted: "2008 JPY" }
    }])
  }, 300_000)
})
