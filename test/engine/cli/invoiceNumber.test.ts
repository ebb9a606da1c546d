/**
 * CLI.md's INVOICE_ID: invoices list, show and pay print the invoice's number
 * (INV-000001) beside its id, so a user copies either. `invoices show`, `invoices pay`
 * and `render invoice` took only the id: the number was refused as "expected a whole number".
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("INVOICE_ID: the invoice's id or its number", () => {
  it("invoices show, render invoice and invoices pay take the number as printed; an unknown number is bad input naming INVOICE_ID", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2099-01-01"], { env })
    expect(cli("contacts", "add", "--email", "ana@example.com").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=20.00", "--collection", "invoice:net-30").code).toBe(0)
    expect(cli("engine", "--once").code).toBe(0)
    const [invoice] = JSON.parse(cli("invoices", "list", "--json").stdout) as Array<{ id: number; number: string }>
    expect(invoice!.number).toBe("INV-000001")
    const shown = cli("invoices", "show", "INV-000001")
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain(`Invoice INV-000001 (id ${invoice!.id})`)
    const rendered = cli("render", "invoice", "INV-000001")
    expect(rendered.code, rendered.stderr).toBe(0)
    expect(rendered.stdout).toContain("INV-000001")
    const paid = cli("invoices", "pay", "INV-000001", "--amount", "5.00")
    expect(paid.code, paid.stderr).toBe(0)
    expect(paid.stdout).toBe("recorded 5.00 USD on invoice INV-000001; 15.00 USD still due\n")
    const unknown = cli("invoices", "show", "INV-999999")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe("billcycle: INVOICE_ID: no invoice INV-999999 (an invoice's id or number, as in invoices list)\n")
  }, 300_000)
})
