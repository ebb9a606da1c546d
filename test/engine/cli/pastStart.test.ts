/**
 * Billing never reaches back: `subscriptions create --start` before the store's today is refused (exit 2,
 * nothing written), and a subscription imported with a past start (a migration) bills from the first anchor
 * date on or after the import's day, never the periods the old system billed.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("a start date before today", () => {
  it("subscriptions create --start in the past exits 2 naming --start and writes nothing; today is fine", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db], { env })
    expect(cli("clock", "set", "2027-05-01").code).toBe(0)
    expect(cli("products", "add", "--name", "C3", "--sku", "C3", "--price", "10.00", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const events = () => (JSON.parse(cli("events", "list", "--all", "--json").stdout) as Array<unknown>).length
    const before = events()
    const past = cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=C3", "--start", "2026-11-01")
    expect([past.code, past.stderr.trim()]).toEqual([2, "billcycle: --start: 2026-11-01 is before today (2027-05-01); a subscription starts today or later, billing never reaches back"])
    const yesterday = cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=C3", "--start", "2027-04-30", "--terms", "fixed:6")
    expect([yesterday.code, yesterday.stderr]).toEqual([2, expect.stringContaining("--start: 2027-04-30 is before today (2027-05-01)")])
    expect(JSON.parse(cli("subscriptions", "list", "--json").stdout)).toEqual([])
    expect(events()).toBe(before)
    const today = cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=C3", "--start", "2027-05-01", "--json")
    expect(today.code).toBe(0)
    expect(JSON.parse(today.stdout).subscriptions).toMatchObject([{ start_date: "2027-05-01", next_billing_date: "2027-05-01", status: "active" }])
  }, 300_000)

  it("import FILE.csv with a past start: the engine the next day invoices at most the anchor's period, never the months before", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db], { env })
    expect(cli("clock", "set", "2027-05-01").code).toBe(0)
    expect(cli("products", "add", "--name", "C3", "--sku", "C3", "--price", "10.00", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const csv = join(mkdtempSync(join(tmpdir(), "billcycle-past-start-")), "subs.csv")
    writeFileSync(csv, [
      "subscription,contact,item,start,terms",
      "OLD-1,bo@example.com,sku=C3,2026-11-01,", // its anchor date is today: May's period is billcycle's
      "OLD-2,bo@example.com,sku=C3,2026-11-15,", // next on May 15
      "OLD-3,bo@example.com,sku=C3,2027-01-01,fixed:6" // Jan to Apr billed by the old system: 2 payments left
    ].join("\n") + "\n")
    const imported = cli("import", csv)
    expect([imported.code, imported.stderr]).toEqual([0, ""])
    const subs = JSON.parse(cli("subscriptions", "list", "--json").stdout) as Array<Record<string, unknown>>
    expect(subs.map((s) => [s["start_date"], s["billing_anchor"], s["next_billing_date"], s["end_date"], s["payments_made"]])).toEqual([
      ["2026-11-01", "2026-11-01", "2027-05-01", null, 6],
      ["2026-11-15", "2026-11-15", "2027-05-15", null, 6],
      ["2027-01-01", "2027-01-01", "2027-05-01", "2027-07-01", 4]
    ])
    expect(cli("clock", "set", "2027-05-02").code).toBe(0)
    expect(cli("engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("invoices", "list", "--json").stdout) as Array<Record<string, unknown>>
    expect(invoices.map((i) => [i["subscription_id"], i["period_start"], i["period_end"], i["status"]]).sort()).toEqual([
      [subs[0]!["id"], "2027-05-01", "2027-06-01", "paid"],
      [subs[2]!["id"], "2027-05-01", "2027-06-01", "paid"]
    ])
  }, 300_000)
})
