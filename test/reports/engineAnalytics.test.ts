/**
 * `billcycle engine --analytics`: the engine refreshes the analytics copy
 * after each tick (in the embedded database's folder, or --analytics-dir);
 * a refresh that fails is logged and billing goes on; a server database
 * without --analytics-dir is told what to give (exit 2).
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-engine-analytics-"))
const db = join(dir, "db")
beforeAll(() => {
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", db])
  expect(imported.code, imported.stderr).toBe(0)
}, 120_000)

const lines = (out: string) => out.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)

describe("billcycle engine --analytics", () => {
  it("refreshes the copy in the database's folder after the tick; the next refresh finds nothing to do", () => {
    const once = runCli(["engine", "--once", "--analytics", "--now", "2026-01-01", "--db", db, "--log-format", "json"])
    expect(once.code, once.stderr).toBe(0)
    const logged = lines(once.stdout)
    expect(logged[0]).toMatchObject({ msg: "tick", today: "2026-01-01" })
    expect(logged[1]).toMatchObject({ msg: "analytics refresh", file: join(db, "analytics.duckdb"), mode: "rebuild", subscriptions: 4 })
    expect(existsSync(join(db, "analytics.duckdb"))).toBe(true)
    const again = runCli(["analytics", "refresh", "--json", "--db", db])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ mode: "unchanged" })
    // The copy the engine keeps answers report as a rebuild does.
    const range = ["--from", "2025-01", "--to", "2025-12", "--format", "csv", "--db", db]
    const refreshed = runCli(["report", "movements", ...range])
    const full = runCli(["report", "movements", ...range, "--full"])
    expect(refreshed.code, refreshed.stderr).toBe(0)
    expect(full.stdout).toBe(refreshed.stdout)
  }, 240_000)

  it("a refresh that fails is logged on stderr and never stops billing", () => {
    // A folder where the copy's file should be: no copy can be kept there (a damaged file would be built again).
    const broken = mkdtempSync(join(tmpdir(), "billcycle-engine-analytics-broken-"))
    mkdirSync(join(broken, "analytics.duckdb"))
    writeFileSync(join(broken, "analytics.duckdb", "keep"), "a folder, not a DuckDB file\n")
    const text = runCli(["engine", "--once", "--analytics", "--analytics-dir", broken, "--now", "2026-01-02", "--db", db])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain("2026-01-02")
    expect(text.stderr).toMatch(/analytics refresh of .*analytics\.duckdb failed \(billing goes on/)
    const json = runCli(["engine", "--once", "--analytics", "--analytics-dir", broken, "--now", "2026-01-03", "--db", db, "--log-format", "json"])
    expect(json.code, json.stderr).toBe(0)
    expect(lines(json.stdout)[0]).toMatchObject({ msg: "tick", today: "2026-01-03" })
    expect(lines(json.stderr)[0]).toMatchObject({ level: "error", msg: "analytics refresh failed" })
  }, 240_000)

  it("a server database needs --analytics-dir; --analytics-dir needs --analytics", () => {
    const server = runCli(["engine", "--once", "--analytics", "--db", "postgres://postgres@127.0.0.1:1/none"])
    expect(server.code).toBe(2)
    expect(server.stderr.trim().split("\n")).toHaveLength(1)
    expect(server.stderr).toContain("--analytics-dir")
    const alone = runCli(["engine", "--once", "--analytics-dir", dir, "--db", db])
    expect(alone.code).toBe(2)
    expect(alone.stderr).toContain("--analytics-dir")
  })
})
