/**
 * A free plan (issue #20): a recurring product priced 0.00 can be sold; its
 * invoices total 0 and are settled without a charge; its MRR is 0. A one-time
 * item at 0 is still refused, naming the flag.
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = () => {
  const { db, env } = freshCliDatabase()
  return (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
}

describe("a free plan", () => {
  it("is a recurring product at 0.00: billed every period at 0, paid without a charge, MRR 0", () => {
    const cli = session()
    const added = cli("2026-03-01", "products", "add", "--name", "Starter", "--sku", "FREE", "--price", "0.00", "--currency", "USD")
    expect(added.code, added.stderr).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const created = cli("2026-03-01", "subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=FREE")
    expect(created.code, created.stderr).toBe(0)
    expect(cli("2026-04-01", "engine", "--once").code).toBe(0)

    const invoices = JSON.parse(cli("2026-04-01", "invoices", "list", "--json").stdout) as Array<{ id: number; status: string; total: { amount: number } }>
    expect(invoices.length).toBeGreaterThanOrEqual(2)
    for (const invoice of invoices) {
      expect(invoice).toMatchObject({ status: "paid" })
      const shown = JSON.parse(cli("2026-04-01", "invoices", "show", String(invoice.id), "--json").stdout) as { total: { amount: number }; attempts: Array<unknown> }
      // One money shape in both: the list's row and the shown invoice agree.
      expect(shown.total).toEqual(invoice.total)
      expect(shown.total).toEqual({ amount: 0, currency: "USD", formatted: "0.00 USD" })
      // Nothing to charge: no attempt reached the gateway.
      expect(shown.attempts).toEqual([])
    }
    const sub = JSON.parse(cli("2026-04-01", "subscriptions", "show", "1", "--json").stdout) as { status: string }
    expect(sub.status).toBe("active")
    const mrr = cli("2026-04-01", "report", "mrr", "--from", "2026-03", "--to", "2026-04", "--json")
    expect(mrr.code, mrr.stderr).toBe(0)
    const months = JSON.parse(mrr.stdout) as Array<{ month: string; mrr: number }>
    expect(months.map((m) => [m.month, m.mrr])).toEqual([["2026-03", 0], ["2026-04", 0]])
  }, 600_000)

  it("but a one-time item at 0.00 is refused, naming the flag, and nothing is added", () => {
    const cli = session()
    const refused = cli("2026-03-01", "products", "add", "--name", "Gift", "--sku", "GIFT", "--price", "0", "--currency", "USD", "--frequency", "one-time")
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("--price: a one-time item's unit price must be greater than 0")
    expect(JSON.parse(cli("2026-03-01", "products", "list", "--json").stdout)).toEqual([])
  }, 300_000)
})
