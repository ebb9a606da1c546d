import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase, openTestDatabase, serverUrl } from "../../storeHarness.ts"

/** Every row of the tables a bad command could touch, as text: equal snapshots mean nothing changed. */
const snapshotOf = async (db: string, env: Record<string, string>) => {
  const t = await openTestDatabase(serverUrl === undefined ? { _tag: "Embedded", dataDir: db } : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
  try {
    const parts: Array<string> = []
    for (const table of ["contacts", "products", "subscriptions", "line_items", "invoices", "events", "outbox", "settings"]) {
      parts.push(table + JSON.stringify(await t.db.sql.unsafe(`select * from ${table} order by 1`)))
    }
    return parts.join("\n")
  } finally {
    await t.close()
  }
}

describe("bad input through the CLI: exit 2 naming the file, row and column or the flag, nothing written", () => {
  it("NUL bytes, over-long fields, extra cells, out-of-range dates and integers, amounts past the money maximum", async () => {
    const { db, env } = freshCliDatabase()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-bad-"))
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    }
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "CASUAL", "--price", "12.50", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const before = await snapshotOf(db, env)
    const cases: Array<[Array<string>, string]> = [
      [["import", file("nul.csv", "email,name\nbo@example.com,Bo\u0000Jr\n")], "nul.csv:2:name: holds a NUL byte"],
      [["import", file("long.csv", `email,name\n${"a".repeat(1_000_000)}@example.com,Cy\n`)], "long.csv:2:email: is 1000012 characters long"],
      [["import", file("extra.csv", "subscription,contact,item\nA,ana@example.com,sku=CASUAL\nB,ana@example.com,sku=CASUAL,qty=2\n")], "extra.csv:3:4: the row has 4 cells, the header 3 columns"],
      [["products", "add", "--name", "X", "--sku", "S".repeat(5000), "--price", "1.00", "--currency", "USD"], "--sku: a SKU of 5000 characters"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--delay-days", "99999999"], "--delay-days: expected a whole number from 0 to 36525"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--start", "9999-12-15"], "--start: 9999-12-15 is out of range"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--terms", "fixed:99999999999"], "--terms: expected auto-renew or fixed:N (N from 1 to 1000)"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL,qty=3000000000"], "--item 1: quantity must be at most 1000000000"],
      // The money maximum (README): a price past what an invoice holds, a line past what a line holds, lines past an invoice.
      [["products", "add", "--name", "X", "--sku", "BIG", "--price", "90071992547409.91", "--currency", "USD"], "--price: amount out of range"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Big,price=900719925474.09,qty=3"], "--item 1: unit price × quantity must be at most 100000000000000 minor units"],
      [["subscriptions", "create", "--contact", "ana@example.com", ...Array.from({ length: 11 }, () => ["--item", "name=Big,price=999999999999.00,tax=25%"]).flat()], "--item 9: the lines add up to more than 1000000000000000 minor units"],
      // Calendar settings: a day count of a hundred thousand years is a typo, not a schedule.
      [["settings", "set", "reminder-days", "99999999"], "reminder-days: expected a whole number of days from 0 to 366"],
      [["settings", "set", "retry-days", "1,3,99999999"], "retry-days: expected up to 20 increasing day counts from 1 to 366"],
      // A filter by a type no event can have is a slip, not an empty journal.
      [["events", "list", "--type", "invoice.payed"], '--type: unknown event type "invoice.payed" (did you mean "invoice.paid"?)'],
      // --json asks for one JSON document: a command whose output is a CSV file or a PDF says so rather than print it.
      [["export", "subscriptions", "--json"], "--json: export subscriptions writes CSV only"],
      [["render", "invoice", "1", "--format", "pdf", "--out", join(dir, "i.pdf"), "--json"], "--json: a PDF is not JSON"]
    ]
    for (const [args, needle] of cases) {
      const r = cli(...args)
      expect(r.code, `${args.join(" ").slice(0, 200)}: ${r.stderr.slice(0, 300)}`).toBe(2)
      expect(r.stderr).toContain(needle)
      expect(r.stderr.length).toBeLessThan(2000)
    }
    expect(await snapshotOf(db, env)).toBe(before)
  }, 900_000)

  it("re-running a subscriptions import says nothing changed and bills each subscription once", async () => {
    const { db, env } = freshCliDatabase()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-reimport-"))
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "CASUAL", "--price", "12.50", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const subs = join(dir, "subs.csv")
    writeFileSync(subs, "subscription,contact,item\nA,ana@example.com,\"sku=CASUAL,qty=2\"\n")
    expect(cli("import", subs).stdout).toContain("imported 1 subscriptions")
    const again = cli("import", subs)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("all 1 rows were imported before with the same data: nothing changed")
    writeFileSync(subs, "subscription,contact,item\nA,ana@example.com,\"sku=CASUAL,qty=3\"\n")
    const changed = cli("import", subs)
    expect(changed.code).toBe(2)
    expect(changed.stderr).toContain("subs.csv:2:subscription: subscription A was imported before with other rows")
    expect(cli("engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("invoices", "list", "--json").stdout)
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({ total: { amount: 2500, currency: "USD", formatted: "25.00 USD" }, status: "paid" })
  }, 900_000)
})
