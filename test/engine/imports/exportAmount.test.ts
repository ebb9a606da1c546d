import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { csvRecords, parseCsv } from "../../../engine/imports/index.ts"
import { runCli } from "../../cliRunner.ts"

describe("export subscriptions: the amount per payment", () => {
  it("is what the subscription bills today, as show prints it, not a change waiting for the next billing date", () => {
    const db = mkdtempSync(join(tmpdir(), "billcycle-export-amount-"))
    const cli = (...args: Array<string>) => runCli(["--db", db, "--now", "2026-03-01", ...args])
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=20.00,qty=2").code).toBe(0)
    expect(cli("engine", "--once").code).toBe(0)
    const update = cli("subscriptions", "update", "1", "--item", "name=Beans,price=20.00,qty=5")
    expect(update.code).toBe(0)
    expect(cli("subscriptions", "show", "1").stdout).toMatch(/per payment\s+40\.00 USD \(100\.00 USD from 2026-04-01\)/)
    const exported = cli("export", "subscriptions")
    expect(exported.code).toBe(0)
    const { records } = csvRecords(parseCsv(exported.stdout))
    expect(records[0]!.get("amount per payment")).toBe("40.00")
    // Once the change has taken force, the export follows it.
    const later = runCli(["--db", db, "--now", "2026-04-02", "export", "subscriptions"])
    expect(csvRecords(parseCsv(later.stdout)).records[0]!.get("amount per payment")).toBe("100.00")
  }, 120_000)
})
