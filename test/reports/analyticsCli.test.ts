/**
 * `billcycle analytics refresh|rebuild` and `report` answering from the copy,
 * end to end on an embedded database (the copy lives in its folder):
 * a deletion reaches the copy through the journal, `report --full` agrees
 * with the refreshed copy, two reports at once both answer, and a server
 * without --analytics-dir is told what to give.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { runCli, runCliAsync } from "../cliRunner.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-analytics-cli-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-07"]
beforeAll(() => {
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", db])
  expect(imported.code, imported.stderr).toBe(0)
}, 120_000)

describe("billcycle analytics", () => {
  it("builds the copy in the embedded database's folder, then refreshes only what the journal names", () => {
    const first = runCli(["analytics", "refresh", "--json", "--db", db])
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ file: join(db, "analytics.duckdb"), mode: "rebuild", subscriptions: 4, reason: "no copy yet" })
    expect(existsSync(join(db, "analytics.duckdb"))).toBe(true)
    const again = runCli(["analytics", "refresh", "--json", "--db", db])
    expect(JSON.parse(again.stdout)).toMatchObject({ mode: "unchanged", subscriptions: 0 })
    const before = runCli(["report", "movements", ...range, "--format", "csv", "--db", db])
    expect(before.code, before.stderr).toBe(0)
    // s2 (fixed:3) has expired: deleting it leaves a tombstone the reports still read, and writes subscription.deleted.
    const list = JSON.parse(runCli(["subscriptions", "list", "--json", "--db", db]).stdout) as Array<{ id: number; status: string }>
    const expired = list.find((s) => s.status === "expired")!
    const deleted = runCli(["subscriptions", "delete", String(expired.id), "--db", db])
    expect(deleted.code, deleted.stderr).toBe(0)
    const refreshed = runCli(["analytics", "refresh", "--json", "--db", db])
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ mode: "refresh", subscriptions: 1 })
    const after = runCli(["report", "movements", ...range, "--format", "csv", "--db", db])
    expect(after.stdout).toBe(before.stdout)
    const full = runCli(["report", "movements", ...range, "--format", "csv", "--full", "--db", db])
    expect(full.code, full.stderr).toBe(0)
    expect(full.stderr).toContain("rebuilt")
    expect(full.stdout).toBe(after.stdout)
    const rebuilt = runCli(["analytics", "rebuild", "--db", db])
    expect(rebuilt.stdout).toMatch(/rebuilt \(4 subscriptions, 4 contacts\)/)
  }, 240_000)

  it("a damaged copy is built again from the store, by a report, a refresh and a rebuild alike (it blocked them all)", () => {
    const file = join(db, "analytics.duckdb")
    const good = runCli(["report", "mrr", ...range, "--format", "csv", "--full", "--db", db])
    expect(good.code, good.stderr).toBe(0)
    for (const [damage, command] of [
      ["garbage\n", ["report", "mrr", ...range, "--format", "csv"]],
      ["DUCK", ["report", "mrr", ...range, "--format", "csv", "--full"]],
      ["garbage\n", ["analytics", "refresh"]],
      ["garbage\n", ["analytics", "rebuild"]]
    ] as const) {
      writeFileSync(file, damage)
      const r = runCli([...command, "--db", db])
      expect(r.code, `${command.join(" ")}: ${r.stderr}`).toBe(0)
      expect(r.stdout + r.stderr).toContain("the analytics copy could not be read (")
      expect(r.stdout + r.stderr).toContain("built again from the store")
      if (command[0] === "report") expect(r.stdout).toBe(good.stdout)
    }
    expect(JSON.parse(runCli(["analytics", "refresh", "--json", "--db", db]).stdout)).toMatchObject({ mode: "unchanged" })
  }, 240_000)

  it("two reports at once on the same copy both answer, with the same figures", async () => {
    const [a, b] = await Promise.all([
      runCliAsync(["report", "mrr", ...range, "--format", "csv", "--db", db]),
      runCliAsync(["report", "mrr", ...range, "--format", "csv", "--db", db])
    ])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    expect(a.stdout.split(/\r?\n/)[1]).toBe("2025-01,33.33,400,2,16.67,0,")
    const after = runCli(["analytics", "refresh", "--json", "--db", db])
    expect(after.code, after.stderr).toBe(0)
  }, 240_000)

  it("asks for --analytics-dir on a server database", () => {
    const r = runCli(["analytics", "refresh", "--db", "postgres://postgres@127.0.0.1:1/none"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--analytics-dir")
  })
})
