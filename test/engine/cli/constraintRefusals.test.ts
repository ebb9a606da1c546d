/**
 * The CLI's side of test/engine/api/constraintRefusals.test.ts: values past the code's checks that a check
 * of the schema refused came back as the database's text ("violates check constraint …") naming no flag,
 * and digits past bigint naming a discount code or an API key as "out of range for type bigint". Each is now
 * exit 2 naming the flag or what was not found, nothing written. `import history` named no file, row or
 * column for a version or line number past int4 (the database's "out of range for type integer").
 */
import { appendFileSync, cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli } from "../../cliRunner.ts"
import { freshCliDatabase, openTestDatabase, serverUrl } from "../../storeHarness.ts"

/** Every row a refused command could touch, as text: equal snapshots mean nothing changed. */
const snapshotOf = async (db: string, env: Record<string, string>) => {
  const t = await openTestDatabase(serverUrl === undefined ? { _tag: "Embedded", dataDir: db } : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
  try {
    const parts: Array<string> = []
    for (const table of ["contacts", "subscriptions", "item_versions", "line_items", "payment_links", "payment_link_items", "discount_codes", "api_keys", "events"]) {
      parts.push(table + JSON.stringify(await t.db.sql.unsafe(`select * from ${table} order by 1, 2`)))
    }
    return parts.join("\n")
  } finally {
    await t.close()
  }
}

describe("what the database refused in its own words, through the CLI: exit 2 naming the flag or what was not found", () => {
  it("an email holding U+0085, an item named by nothing, a redirect URL not written https://", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Beans", "--sku", "BEANS", "--price", "10.00", "--currency", "USD").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=BEANS").code).toBe(0)
    expect(cli("links", "create", "--name", "Beans monthly", "--item", "sku=BEANS", "--slug", "beans-monthly").code).toBe(0)
    const before = await snapshotOf(db, env)
    const cases: Array<[Array<string>, string]> = [
      [["contacts", "add", "--email", "bo\u0085@example.com"], "--email: \"bo\u0085@example.com\" is not an email address"],
      [["contacts", "update", "ana@example.com", "--email", "ana\u0085@example.com"], "--email: \"ana\u0085@example.com\" is not an email address"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=BEANS", "--item", "name=,price=1.00"], "--item 2 (\"name=,price=1.00\"): an item needs a name"],
      [["subscriptions", "update", "1", "--item", "name= ,price=1.00"], "--item 1 (\"name= ,price=1.00\"): an item needs a name"],
      [["links", "create", "--name", "Beans", "--item", "sku=BEANS", "--redirect", "HTTPS://shop.example/thanks"], "--redirect: expected https://HOST/…"],
      [["links", "update", "beans-monthly", "--redirect", "Https://shop.example/thanks"], "--redirect: expected https://HOST/…"]
    ]
    for (const [args, expected] of cases) {
      const r = cli(...args)
      expect([r.code, r.stderr], args.join(" ")).toEqual([2, expect.stringContaining(expected)])
      expect(r.stderr, args.join(" ")).not.toMatch(/violates|constraint|relation|Failing row/)
    }
    expect(await snapshotOf(db, env)).toBe(before)
  }, 600_000)

  // Digits past bigint were looked up as an id: "value … is out of range for type bigint" (22003), naming nothing.
  it("a discount code or an API key named by a number past any id is not found", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("discount-codes", "add", "WELCOME", "--percent", "10").code).toBe(0)
    expect(cli("api-keys", "create", "--name", "shop").code).toBe(0)
    const before = await snapshotOf(db, env)
    const big = "99999999999999999999"
    const cases: Array<[Array<string>, string]> = [
      [["discount-codes", "show", big], `no discount code ${big}`],
      [["discount-codes", "update", big, "--max-redemptions", "3"], `no discount code ${big}`],
      [["discount-codes", "off", big], `no discount code ${big}`],
      [["discount-codes", "delete", big], `no discount code ${big}`],
      [["api-keys", "revoke", big], big]
    ]
    for (const [args, expected] of cases) {
      const r = cli(...args)
      expect([r.code, r.stderr], args.join(" ")).toEqual([2, expect.stringContaining(expected)])
      expect(r.stderr, args.join(" ")).not.toMatch(/out of range for type|violates|constraint/)
    }
    expect(await snapshotOf(db, env)).toBe(before)
  }, 600_000)

  // A version or a line number past int4 came back as "value … is out of range for type integer"; a quantity past the
  // most a line holds was refused at the store by the pricing rule, with exit 1 and neither file, row nor column.
  it("import history: a version, a line number or a quantity past what the store holds is refused naming file, row and column", async () => {
    const { db, env } = freshCliDatabase()
    const before = await snapshotOf(db, env)
    const cases: Array<[string, string]> = [
      ["s1,3000000000,2025-03-01,1,Extra,1.00,1,,,false", "line_items.csv:5:version: expected a whole number from 1 to 2147483647"],
      ["s1,1,2025-02-01,3000000000,Extra,1.00,1,,,false", "line_items.csv:5:line_no: expected a whole number from 1 to 2147483647"],
      ["s1,1,2025-02-01,2,Extra,1.00,3000000000,,,false", "line_items.csv:5:quantity: quantity must be at most 1000000000"]
    ]
    for (const [row, expected] of cases) {
      const dir = join(mkdtempSync(join(tmpdir(), "billcycle-history-")), "history")
      cpSync(join(repoRoot, "examples/import/history"), dir, { recursive: true })
      appendFileSync(join(dir, "line_items.csv"), row + "\n")
      const r = runCli(["import", "history", dir, "--db", db, "--now", "2026-03-01"], { env })
      expect([r.code, r.stderr], row).toEqual([2, expect.stringContaining(expected)])
      expect(r.stderr, row).not.toMatch(/out of range for type/)
    }
    expect(await snapshotOf(db, env)).toBe(before)
  }, 600_000)
})
