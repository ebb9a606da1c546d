/**
 * CLI.md's contract at its edges: the global --json, --out into folders that
 * do not exist yet (or cannot), a --db that cannot hold a database, an empty
 * store, a list nobody is on yet. Driven through bin/billcycle as a user would.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"

const scratch = () => mkdtempSync(join(tmpdir(), "billcycle-contract-"))
/** A new embedded database in `dir` (only db migrate, import and the default path make one). */
const newDb = (dir: string = scratch()) => {
  const db = join(dir, "db")
  expect(runCli(["db", "migrate", "--db", db]).code).toBe(0)
  return db
}

describe("the CLI contract at its edges", () => {
  it("--json makes report, settings set and lists show print one JSON document; an empty store reports zero counts and null rates", () => {
    const db = newDb()
    const report = runCli(["--db", db, "--json", "report", "churn", "--from", "2025-01", "--to", "2025-02"])
    expect(report.code, report.stderr).toBe(0)
    const rows = JSON.parse(report.stdout)
    expect(rows.map((r: { month: string }) => r.month)).toEqual(["2025-01", "2025-02"])
    // Zero counts; a rate with nothing to divide by is null (n/a), not 0 (issue #20).
    expect(rows[0].subscribers_start).toBe(0)
    expect(rows[0].logo_churn_rate).toBeNull()
    // --format still wins over --json.
    expect(runCli(["--db", db, "--json", "report", "mrr", "--from", "2025-01", "--to", "2025-01", "--format", "csv"]).stdout).toMatch(/^month,mrr,arr/)
    expect(JSON.parse(runCli(["--db", db, "--json", "settings", "set", "seller-name", "Kaffe AS"]).stdout)).toEqual({ key: "seller-name", value: "Kaffe AS" })
    // A list no rule has added anyone to yet is empty, not an error.
    const list = runCli(["--db", db, "--json", "lists", "show", "renewals"])
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([])
  })

  it("--out makes the folders it needs; a path that cannot be written is bad usage naming --out", () => {
    const dir = scratch()
    const db = newDb(dir)
    const out = join(dir, "reports", "2025", "mrr.csv")
    const ok = runCli(["--db", db, "report", "mrr", "--from", "2025-01", "--to", "2025-01", "--format", "csv", "--out", out])
    expect(ok.code, ok.stderr).toBe(0)
    expect(readFileSync(out, "utf8")).toMatch(/^month,mrr/)
    writeFileSync(join(dir, "plain"), "")
    for (const args of [
      ["report", "mrr", "--from", "2025-01", "--to", "2025-01", "--format", "csv", "--out", join(dir, "plain", "x.csv")],
      ["export", "subscriptions", "--out", join(dir, "plain", "x.csv")]
    ]) {
      const bad = runCli(["--db", db, ...args])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain("--out: cannot write")
      expect(bad.stderr).not.toContain("internal error")
    }
  })

  it("a --db that cannot hold the embedded database is bad usage naming --db, at once", () => {
    const dir = scratch()
    writeFileSync(join(dir, "plain"), "")
    const underFile = runCli(["--db", join(dir, "plain", "db"), "settings", "show"])
    expect(underFile.code).toBe(2)
    expect(underFile.stderr).toContain("--db: cannot keep the embedded database")
    // Node's recursive mkdir spins forever under /proc; this must fail, not hang (runCli's timeout would say -1).
    const proc = runCli(["--db", "/proc/billcycle-nope/db", "settings", "show"])
    expect(proc.code).toBe(2)
    expect(proc.stderr).toContain("--db")
    expect(existsSync("/proc/billcycle-nope")).toBe(false)
  })
})
