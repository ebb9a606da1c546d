/** `contacts show|update` and `products update|archive` as a user runs them (issue #20). */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = () => {
  const { db, env } = freshCliDatabase()
  return (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
}

// A dozen CLI runs on the embedded database each: on a loaded 2-core machine one test can pass 60 s.
describe("contacts show and update", { timeout: 180_000 }, () => {
  it("shows a contact with its subscriptions and open invoices; a new payment method is used by the next charge", () => {
    const cli = session()
    expect(cli("2026-03-01", "products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--name", "Ana", "--payment-method", "pm_ok", "--country", "NO").code).toBe(0)
    const created = cli("2026-03-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE", "--start", "2026-04-01")
    expect(created.code, created.stderr).toBe(0)

    const shown = cli("2026-03-01", "contacts", "show", "ana@example.com")
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain("contact 1: ana@example.com")
    expect(shown.stdout).toMatch(/payment method\s+pm_ok/)
    expect(shown.stdout).toMatch(/open invoices\s+0/)
    expect(shown.stdout).toMatch(/1 {2}scheduled {2}Coffee/)

    const updated = cli("2026-03-02", "contacts", "update", "ana@example.com", "--payment-method", "pm_declined", "--name", "Ana Berg")
    expect(updated.code, updated.stderr).toBe(0)
    expect(updated.stdout).toContain("name: Ana -> Ana Berg")
    expect(updated.stdout).toContain("payment method: pm_ok -> pm_declined")

    // The subscription has no payment method of its own: its first charge uses the contact's new one, and fails.
    expect(cli("2026-04-01", "engine", "--once").code).toBe(0)
    const json = cli("2026-04-01", "contacts", "show", "1", "--json")
    expect(json.code, json.stderr).toBe(0)
    const view = JSON.parse(json.stdout)
    expect(view.contact).toMatchObject({ id: 1, email: "ana@example.com", name: "Ana Berg", payment_method: "pm_declined", country: "NO" })
    expect(view.open_invoices).toBe(1)
    expect(view.subscriptions).toHaveLength(1)
    expect(view.subscriptions[0]).toMatchObject({ id: 1, payment_method: null })
    expect(view.subscriptions[0].status).not.toBe("active")
    const events = JSON.parse(cli("2026-04-01", "events", "list", "--all", "--json").stdout) as Array<{ type: string; data: Record<string, unknown> }>
    expect(events.find((e) => e.type === "contact.updated")?.data).toEqual({
      changes: { name: { from: "Ana", to: "Ana Berg" }, payment_method: { from: "pm_ok", to: "pm_declined" } }
    })
    expect(events.some((e) => e.type === "payment.failed")).toBe(true)
  })

  it("an unknown contact, a taken email or a bad value exits 2 naming it, and changes nothing", () => {
    const cli = session()
    expect(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--name", "Ana").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "bo@example.com", "--name", "Bo").code).toBe(0)
    const before = cli("2026-03-01", "contacts", "list", "--json").stdout
    for (const [args, message] of [
      [["contacts", "update", "zed@example.com", "--name", "Zed"], "billcycle: contact: no contact with email zed@example.com"],
      [["contacts", "update", "7", "--name", "Zed"], "billcycle: contact: no contact with id 7"],
      [["contacts", "show", "zed@example.com"], "billcycle: contact: no contact with email zed@example.com"],
      [["contacts", "update", "bo@example.com", "--name", "Bob", "--email", "ANA@example.com"], "billcycle: --email: a contact with email ANA@example.com exists already"],
      [["contacts", "update", "bo@example.com", "--name", "Bob", "--language", "de"], "billcycle: --language: expected en, nb, nl, fr or sv, got \"de\""],
      [["contacts", "update", "bo@example.com", "--name", "Bob", "--locale", "??"], "billcycle: --locale:"]
    ] as const) {
      const r = cli("2026-03-02", ...args)
      expect(r.code, args.join(" ")).toBe(2)
      expect(r.stderr).toContain(message)
      expect(r.stdout).toBe("")
    }
    expect(cli("2026-03-02", "contacts", "list", "--json").stdout).toBe(before)
  })
})

describe("products update and archive", { timeout: 180_000 }, () => {
  it("a new price is for new subscriptions; an archived product is hidden and refused, and existing subscriptions keep billing it", () => {
    const cli = session()
    expect(cli("2026-03-01", "products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
    expect(cli("2026-03-01", "products", "add", "--name", "Tea", "--sku", "TEA", "--price", "8.00", "--currency", "USD").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE").code).toBe(0)

    const updated = cli("2026-03-02", "products", "update", "COFFEE", "--price", "13.50")
    expect(updated.code, updated.stderr).toBe(0)
    expect(updated.stdout).toContain("price: 12.50 USD -> 13.50 USD")
    expect(updated.stdout).toContain("existing subscriptions keep")
    const asJson = JSON.parse(cli("2026-03-02", "products", "update", "COFFEE", "--name", "Coffee, roasted", "--json").stdout)
    expect(asJson).toMatchObject({ product: { sku: "COFFEE", name: "Coffee, roasted", price: "13.50" }, changes: { name: { from: "Coffee", to: "Coffee, roasted" } } })
    const bad = cli("2026-03-02", "products", "update", "COFFEE", "--price", "-1")
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("billcycle: --price:")])
    const unknown = cli("2026-03-02", "products", "update", "NOPE", "--price", "1.00")
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("billcycle: sku: no product with SKU \"NOPE\"")])

    const archived = cli("2026-03-03", "products", "archive", "COFFEE")
    expect(archived.code, archived.stderr).toBe(0)
    expect(archived.stdout).toContain("keep billing")
    expect(JSON.parse(cli("2026-03-03", "products", "list", "--json").stdout).map((p: { sku: string }) => p.sku)).toEqual(["TEA"])
    const all = JSON.parse(cli("2026-03-03", "products", "list", "--include-archived", "--json").stdout)
    expect(all.map((p: { sku: string; archived_on: string | null }) => [p.sku, p.archived_on])).toEqual([["COFFEE", "2026-03-03"], ["TEA", null]])

    const refused = cli("2026-03-03", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=TEA", "--item", "sku=COFFEE")
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("--item 2: product COFFEE was archived on 2026-03-03")

    // The subscription made before keeps its price and bills on.
    expect(cli("2026-04-01", "engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("2026-04-01", "invoices", "list", "--subscription", "1", "--json").stdout) as Array<{ total: { formatted: string }; status: string }>
    expect(invoices.map((i) => [i.total.formatted, i.status])).toEqual([["12.50 USD", "paid"], ["12.50 USD", "paid"]])
  })
})
