import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase, openTestDatabase, serverUrl } from "../../storeHarness.ts"

/** Every row of every table, as text: equal snapshots mean nothing changed. */
const snapshotOf = async (db: string, env: Record<string, string>) => {
  const t = await openTestDatabase(serverUrl === undefined
    ? { _tag: "Embedded", dataDir: db }
    : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
  try {
    const tables = await t.db.sql<Array<{ table_name: string }>>`
      select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`
    const parts: Array<string> = []
    for (const { table_name } of tables) parts.push(table_name + JSON.stringify(await t.db.sql.unsafe(`select * from "${table_name}" order by 1`)))
    return parts.join("\n")
  } finally {
    await t.close()
  }
}

describe("catalogue, contacts and subscriptions through the CLI", () => {
  it("creates, bills through --now, and leaves the database unchanged on bad input", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee casual – 250 g", "--sku", "CASUAL", "--price", "12.50", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const created = cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL,qty=2", "--terms", "fixed:3", "--json")
    expect(created.code, created.stderr).toBe(0)
    const [sub] = JSON.parse(created.stdout).subscriptions
    expect(sub).toMatchObject({ status: "active", end_date: "2026-06-01", amount_per_payment: { amount: 2500, currency: "USD" } })
    const before = await snapshotOf(db, env)
    for (const [args, needle] of [
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=NOPE"], "unknown SKU"],
      [["subscriptions", "create", "--contact", "zed@example.com", "--item", "sku=CASUAL"], "--contact"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL,qty=0"], "--item 1"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL,discount=120%"], "--item 1"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--start", "2026-13-01"], "--start"],
      [["products", "add", "--name", "X", "--sku", "CASUAL", "--price", "1.00", "--currency", "USD"], "--sku"],
      [["products", "add", "--name", "X", "--sku", "Y", "--price", "1.005", "--currency", "USD"], "--price"],
      [["subscriptions", "delete", String(sub.id)], "only canceled or expired"]
    ] as const) {
      const r = cli(...args)
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(needle)
    }
    expect(await snapshotOf(db, env)).toBe(before)
    expect(cli("engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("invoices", "list", "--json").stdout)
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({ total: { amount: 2500, currency: "USD", formatted: "25.00 USD" }, status: "paid" })
  }, 240_000)
})
