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
  it("a deleted canceled subscription's invoices stay listed and closable; show names the deletion; void and write-off refuse a paid or unknown invoice with exit 2", () => {
    const cli = session()
    ok(cli("2026-01-01", "contacts", "add", "--email", "bo@example.com"))
    const [bo] = JSON.parse(ok(cli("2026-01-01", "subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Beans,price=25.00", "--collection", "invoice:net-15", "--json"))).subscriptions
    ok(cli("2026-02-01", "engine", "--once"))
    const before = JSON.parse(ok(cli("2026-02-02", "invoices", "list", "--subscription", String(bo.id), "--json")))
    expect(before.map((i: { status: string }) => i.status)).toEqual(["open", "open"])
    ok(cli("2026-02-02", "invoices", "pay", String(before[0].id)))
    ok(cli("2026-02-03", "subscriptions", "cancel", String(bo.id)))

    expect(ok(cli("2026-02-03", "subscriptions", "delete", String(bo.id)))).toContain(`subscription ${bo.id} deleted; its 2 invoices and journal are kept (1 still open`)
    const show = cli("2026-02-03", "subscriptions", "show", String(bo.id))
    expect(show.code).toBe(2)
    expect(show.stderr).toContain(`subscription ${bo.id} was deleted on 2026-02-03`)
    const after = JSON.parse(ok(cli("2026-02-03", "invoices", "list", "--subscription", String(bo.id), "--json")))
    expect(after.map((i: { number: string; status: string }) => [i.number, i.status])).toEqual([[before[0].number, "paid"], [before[1].number, "open"]])

    for (const verb of ["void", "write-off"]) {
      const paid = cli("2026-02-03", "invoices", verb, String(before[0].id))
      expect(paid.code).toBe(2)
      expect(paid.stderr).toContain(`invoice ${before[0].number} is paid: a paid invoice is refunded`)
      const unknown = cli("2026-02-03", "invoices", verb, "424242")
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("invoice 424242 does not exist")
    }
    const written = JSON.parse(ok(cli("2026-02-04", "invoices", "write-off", String(before[1].id), "--json")))
    expect(written).toMatchObject({ id: before[1].id, number: before[1].number, status: "uncollectible", previousStatus: "open", amount: { amount: 2500, currency: "USD", formatted: "25.00 USD" }, currency: "USD" })
  }, 600_000)
})

describe("subscriptions update --item keeps what it does not name", () => {
  it("the README's update keeps the 10% discount, prints the amount per payment before and after, and show separates today's items from the next", () => {
    const cli = session()
    ok(cli("2026-03-01", "products", "add", "--name", "Just one more cup – 1 kg", "--sku", "COFFEE-1KG", "--price", "25.00", "--currency", "USD", "--frequency", "monthly"))
    ok(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--name", "Ana Berg", "--payment-method", "pm_ok"))
    const [sub] = JSON.parse(ok(cli("2026-03-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE-1KG,qty=2,discount=10%", "--terms", "fixed:6", "--json"))).subscriptions
    // The same JSON as the API: snake_case, money as { amount, currency, formatted } (found by an audit: bare integers, camelCase).
    expect(sub.amount_per_payment).toEqual({ amount: 4500, currency: "USD", formatted: "45.00 USD" })
    ok(cli("2026-03-01", "engine", "--once"))

    const updated = ok(cli("2026-03-05", "subscriptions", "update", String(sub.id), "--item", "sku=COFFEE-1KG,qty=3"))
    expect(updated).toContain(`subscription ${sub.id} updated: items (version 2, effective 2026-04-01): per payment 45.00 USD → 67.50 USD`)

    const shown = JSON.parse(ok(cli("2026-03-05", "subscriptions", "show", String(sub.id), "--json")))
    expect(shown.current_items).toMatchObject({ version: 1, effective_from: "2026-03-01", amount_per_payment: { amount: 4500, currency: "USD" }, items: [{ quantity: 2, discount_ppm: 100_000, unit_price: { amount: 2500, currency: "USD", formatted: "25.00 USD" } }] })
    expect(shown.next_items).toMatchObject({ version: 2, effective_from: "2026-04-01", amount_per_payment: { amount: 6750, currency: "USD", formatted: "67.50 USD" }, items: [{ quantity: 3, discount_ppm: 100_000 }] })
    expect(shown.amount_per_payment).toEqual({ amount: 4500, currency: "USD", formatted: "45.00 USD" })
    expect(shown.invoices[0]).toMatchObject({ object: "invoice", total: { amount: 4500, currency: "USD", formatted: "45.00 USD" } })
    expect(shown.items).toEqual(shown.current_items.items)
    const text = ok(cli("2026-03-05", "subscriptions", "show", String(sub.id)))
    expect(text).toContain("Items in force today (version 1, since 2026-03-01): 45.00 USD per payment")
    expect(text).toContain("Next items (version 2, from 2026-04-01): 67.50 USD per payment")
    expect(text.indexOf("Items in force today")).toBeLessThan(text.indexOf("Next items"))
    const afterUpdate = JSON.parse(ok(cli("2026-03-05", "subscriptions", "update", String(sub.id), "--item", "sku=COFFEE-1KG,qty=4", "--json")))
    expect(afterUpdate).toMatchObject({ object: "subscription", id: sub.id, next_items: { amount_per_payment: { amount: 9000 } } })
    expect(afterUpdate.changes[0]).toContain("per payment 67.50 USD → 90.00 USD")
  }, 600_000)
})
