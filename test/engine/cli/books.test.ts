/**
 * Issue #13 through the command line, as the users met it:
 * finding 3, `subscriptions delete` destroyed invoices, left gaps in the
 * invoice numbers and changed past MRR; finding 8, `subscriptions update ID
 * --item sku=X,qty=3` (the README's example) dropped the 10% discount and
 * `show` listed the future version as the current one.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = () => {
  const { db, env } = freshCliDatabase()
  // Delivered mail goes under ./out: a scratch directory, not the repository.
  const cwd = mkdtempSync(join(tmpdir(), "billcycle-books-"))
  return (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env, cwd })
}

const ok = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
}

describe("subscriptions delete keeps the books", () => {
  it("after deleting a canceled subscription, its invoices are listed, numbers stay gapless and reports are byte-identical", () => {
    const cli = session()
    ok(cli("2026-01-01", "products", "add", "--name", "Coffee 1 kg", "--sku", "COFFEE-1KG", "--price", "25.00", "--currency", "USD", "--frequency", "monthly"))
    ok(cli("2026-01-01", "contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok"))
    ok(cli("2026-01-01", "contacts", "add", "--email", "bo@example.com"))
    const ana = JSON.parse(ok(cli("2026-01-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE-1KG,qty=2", "--json"))).subscriptions[0].id
    const bo = JSON.parse(ok(cli("2026-01-10", "subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=COFFEE-1KG", "--collection", "invoice:net-15", "--json"))).subscriptions[0].id
    for (const d of ["2026-01-10", "2026-02-01", "2026-02-10", "2026-03-01", "2026-03-10"]) ok(cli(d, "engine", "--once"))
    ok(cli("2026-03-12", "subscriptions", "cancel", String(bo)))

    const books = () => ({
      mrr: ok(cli("2026-03-12", "report", "mrr", "--from", "2026-01", "--to", "2026-06", "--format", "json")),
      movements: ok(cli("2026-03-12", "report", "movements", "--from", "2026-01", "--to", "2026-06", "--format", "json")),
      growth: ok(cli("2026-03-12", "report", "growth", "--from", "2026-01", "--to", "2026-06", "--format", "csv")),
      invoices: ok(cli("2026-03-12", "invoices", "list", "--json"))
    })
    const before = books()
    const boInvoices = JSON.parse(before.invoices).filter((i: { subscription_id: number }) => i.subscription_id === bo)
    expect(boInvoices.map((i: { status: string }) => i.status)).toContain("open")
    // bo's MRR is in the report before the delete: the check below would notice it leaving.
    expect(JSON.parse(before.mrr)[1]).toMatchObject({ month: "2026-02", mrr: 75, subscribers: 2 })

    const deleted = ok(cli("2026-03-12", "subscriptions", "delete", String(bo)))
    expect(deleted).toMatch(new RegExp(`subscription ${bo} deleted; its 3 invoices and journal are kept \\(\\d still open`))

    // Reports and the invoice list are byte-identical after the delete.
    expect(books()).toEqual(before)
    const numbers = JSON.parse(before.invoices).map((i: { number: string }) => Number(i.number.replace(/^\D+/, ""))).sort((a: number, b: number) => a - b)
    expect(numbers).toEqual(numbers.map((_: number, i: number) => i + 1))
    expect(JSON.parse(ok(cli("2026-03-12", "invoices", "list", "--subscription", String(bo), "--json")))).toEqual(boInvoices)
    expect(ok(cli("2026-03-12", "events", "list", "--subscription", String(bo)))).toContain("subscription.deleted")

    // Gone from lists, views, show and the export.
    expect(JSON.parse(ok(cli("2026-03-12", "subscriptions", "list", "--json"))).map((s: { id: number }) => s.id)).toEqual([ana])
    expect(JSON.parse(ok(cli("2026-03-12", "subscriptions", "list", "--status", "canceled", "--json")))).toEqual([])
    expect(ok(cli("2026-03-12", "export", "subscriptions")).split(/\r?\n/).filter((l) => l.startsWith(`${bo},`))).toEqual([])
    const show = cli("2026-03-12", "subscriptions", "show", String(bo))
    expect(show.code).toBe(2)
    expect(show.stderr).toContain(`subscription ${bo} was deleted on 2026-03-12`)

    // The open invoice is still owed and can be closed: written off, with its event; the numbers continue with no gap.
    const open = boInvoices.find((i: { status: string }) => i.status === "open")
    const written = JSON.parse(ok(cli("2026-03-13", "invoices", "write-off", String(open.id), "--json")))
    expect(written).toMatchObject({ id: open.id, number: open.number, status: "uncollectible", amount: "25.00", currency: "USD" })
    expect(ok(cli("2026-03-13", "events", "list", "--type", "invoice.written_off", "--json"))).toContain(open.number)
  }, 300_000)

  it("invoices void and write-off refuse a paid or unknown invoice with exit 2, naming it", () => {
    const cli = session()
    ok(cli("2026-01-01", "contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok"))
    ok(cli("2026-01-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=10.00"))
    ok(cli("2026-01-01", "engine", "--once"))
    const [paid] = JSON.parse(ok(cli("2026-01-02", "invoices", "list", "--json")))
    expect(paid.status).toBe("paid")
    for (const verb of ["void", "write-off"]) {
      const r = cli("2026-01-02", "invoices", verb, String(paid.id))
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`invoice ${paid.number} is paid: a paid invoice is refunded`)
      const unknown = cli("2026-01-02", "invoices", verb, "424242")
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("invoice 424242 does not exist")
    }
    expect(JSON.parse(ok(cli("2026-01-02", "invoices", "list", "--json")))[0].status).toBe("paid")
  }, 120_000)
})

describe("subscriptions update --item keeps what it does not name", () => {
  it("the README's update keeps the 10% discount, prints the amount per payment before and after, and show separates today's items from the next", () => {
    const cli = session()
    ok(cli("2026-03-01", "products", "add", "--name", "Just one more cup – 1 kg", "--sku", "COFFEE-1KG", "--price", "25.00", "--currency", "USD", "--frequency", "monthly"))
    ok(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--name", "Ana Berg", "--payment-method", "pm_ok"))
    const [sub] = JSON.parse(ok(cli("2026-03-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE-1KG,qty=2,discount=10%", "--terms", "fixed:6", "--json"))).subscriptions
    expect(sub.amountPerPayment).toBe(4500)
    ok(cli("2026-03-01", "engine", "--once"))

    const updated = ok(cli("2026-03-05", "subscriptions", "update", String(sub.id), "--item", "sku=COFFEE-1KG,qty=3"))
    expect(updated).toContain(`subscription ${sub.id} updated: items (version 2, effective 2026-04-01): per payment 45.00 USD → 67.50 USD`)

    const shown = JSON.parse(ok(cli("2026-03-05", "subscriptions", "show", String(sub.id), "--json")))
    expect(shown.current_items).toMatchObject({ version: 1, effective_from: "2026-03-01", amount_per_payment: 4500, items: [{ quantity: 2, discount_ppm: 100_000 }] })
    expect(shown.next_items).toMatchObject({ version: 2, effective_from: "2026-04-01", amount_per_payment: 6750, items: [{ quantity: 3, discount_ppm: 100_000 }] })
    expect(shown.items).toEqual(shown.current_items.items)
    const text = ok(cli("2026-03-05", "subscriptions", "show", String(sub.id)))
    expect(text).toContain("Items in force today (version 1, since 2026-03-01): 45.00 USD per payment")
    expect(text).toContain("Next items (version 2, from 2026-04-01): 67.50 USD per payment")
    expect(text.indexOf("Items in force today")).toBeLessThan(text.indexOf("Next items"))

    // A second change before the date replaces the waiting one and starts from it: the discount and qty=3 stay, the tax is added.
    const again = JSON.parse(ok(cli("2026-03-06", "subscriptions", "update", String(sub.id), "--item", "sku=COFFEE-1KG,tax=25%", "--json")))
    expect(again.items).toEqual({ version: 2, effectiveFrom: "2026-04-01", currency: "USD", amountPerPaymentBefore: 6750, amountPerPaymentAfter: 8438 })

    // The engine bills the kept discount on the effective date; then that version is today's and none is next.
    ok(cli("2026-04-01", "engine", "--once"))
    const invoices = JSON.parse(ok(cli("2026-04-01", "invoices", "list", "--subscription", String(sub.id), "--json")))
    expect(invoices.map((i: { total: string }) => i.total)).toEqual(["45.00", "84.38"])
    const later = JSON.parse(ok(cli("2026-04-02", "subscriptions", "show", String(sub.id), "--json")))
    expect(later.current_items).toMatchObject({ version: 2, items: [{ quantity: 3, discount_ppm: 100_000, tax_rate_ppm: 250_000 }] })
    expect(later.next_items).toBeNull()
  }, 300_000)
})
