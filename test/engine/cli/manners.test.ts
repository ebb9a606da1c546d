/**
 * A new user's first hour (issue #20): bad usage is one line on stderr naming
 * the flag and its help (never the help page on stdout), `--json` prints one
 * JSON document and nothing else on stdout, every list pages and says how many
 * rows it left out, and `simulate` explains its figures and where Ctrl-C
 * stopped it. Driven through bin/billcycle, on the embedded database or the
 * server (DATABASE_URL).
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

// Each test drives several CLI processes; on a loaded 2-core machine one can take seconds.
const slow = 600_000

const oneLine = (text: string) => text.trimEnd().split("\n").length === 1

/** A store with `n` contacts, imported from a CSV in one command. */
const storeWithContacts = (n: number) => {
  const { db, env } = freshCliDatabase()
  const csv = join(mkdtempSync(join(tmpdir(), "billcycle-manners-")), "contacts.csv")
  writeFileSync(csv, ["email,name", ...Array.from({ length: n }, (_, i) => `c${String(i + 1).padStart(3, "0")}@example.com,Contact ${i + 1}`)].join("\n") + "\n")
  const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-01-01"], { env })
  const imported = cli("import", csv)
  expect(imported.code, imported.stderr).toBe(0)
  return cli
}

describe("usage errors", () => {
  it("are one line on stderr naming the flag and pointing at the command's help, exit 2, stdout empty even with --json", () => {
    const { db, env } = freshCliDatabase()
    const cases: Array<[Array<string>, Array<string>]> = [
      [["report", "mrr", "--to", "2026-02"], ["--from", "see billcycle report --help"]],
      [["--json", "report", "mrr", "--to", "2026-02"], ["--from", "see billcycle report --help"]],
      [["subscriptions", "pause", "1", "--until", "2026-03-01"], ["--until", "see billcycle subscriptions pause --help"]],
      [["--json", "invoices", "list", "--limt", "3"], ["--limt", "see billcycle invoices list --help"]],
      [["subscriptons", "list"], ["subscriptons", "see billcycle --help"]],
      [["contacts", "list", "--limit", "0"], ["--limit"]],
      [["--json", "contacts", "list", "--limit", "5", "--all"], ["--limit", "--all"]]
    ]
    for (const [args, needles] of cases) {
      const r = runCli([...args, "--db", db], { env })
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2)
      expect(r.stdout, args.join(" ")).toBe("")
      expect(oneLine(r.stderr), `${args.join(" ")}: ${r.stderr}`).toBe(true)
      for (const needle of needles) expect(r.stderr, args.join(" ")).toContain(needle)
    }
  }, slow)

  it("a flag given twice says so plainly (exit 2, nothing run): the global --now, --db and --json, and a command's own flag", () => {
    const { db, env } = freshCliDatabase()
    const cases: Array<[Array<string>, string]> = [
      [["--now", "2026-01-01", "--now", "2026-02-01", "subscriptions", "list", "--db", db], "--now was given twice"],
      [["--now", "2026-01-01", "subscriptions", "list", "--now", "2026-02-01", "--db", db], "--now was given twice"],
      [["subscriptions", "list", "--db", db, "--db", db], "--db was given twice"],
      [["--json", "--json", "subscriptions", "list", "--db", db], "--json was given twice"],
      [["subscriptions", "list", "--status", "active", "--status", "canceled", "--status", "paused", "--db", db], "--status was given 3 times"]
    ]
    for (const [args, needle] of cases) {
      const r = runCli(args, { env })
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2)
      expect(r.stdout, args.join(" ")).toBe("")
      expect(oneLine(r.stderr), `${args.join(" ")}: ${r.stderr}`).toBe(true)
      expect(r.stderr, args.join(" ")).toContain(needle)
      expect(r.stderr, args.join(" ")).toContain("once")
      expect(r.stderr, args.join(" ")).not.toContain("occurrences")
    }
  }, slow)

  it("--help still prints the help page on stdout and exits 0", () => {
    const r = runCli(["subscriptions", "list", "--help"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("--limit")
    expect(r.stdout).toContain("--all")
  }, slow)
})

describe("paging", () => {
  it("every list shows 50 rows by default, --limit N or --all, and says on stderr how many it left out", () => {
    const cli = storeWithContacts(55)
    const page = cli("contacts", "list")
    expect(page.code, page.stderr).toBe(0)
    const lines = page.stdout.trimEnd().split("\n")
    expect(lines.length).toBe(2 + 50) // header, rule, 50 rows
    expect(lines[2]).toMatch(/^1\s+c001@example\.com/)
    expect(lines.at(-1)).toMatch(/^50\s+c050@example\.com/)
    expect(page.stderr).toMatch(/showing 50 of 55 contacts/)
    expect(oneLine(page.stderr)).toBe(true)

    const seven = cli("--json", "contacts", "list", "--limit", "7")
    expect(seven.code, seven.stderr).toBe(0)
    const rows = JSON.parse(seven.stdout) as Array<{ id: number; email: string }>
    expect(rows.map((r) => r.email)).toEqual(Array.from({ length: 7 }, (_, i) => `c00${i + 1}@example.com`))
    expect(seven.stderr).toMatch(/showing 7 of 55 contacts/)

    const all = cli("--json", "contacts", "list", "--all")
    expect(all.code, all.stderr).toBe(0)
    expect((JSON.parse(all.stdout) as Array<unknown>).length).toBe(55)
    expect(all.stderr).toBe("")

    // A page that holds every row leaves nothing out, so says nothing.
    const exact = cli("contacts", "list", "--limit", "55")
    expect(exact.stdout.trimEnd().split("\n").length).toBe(2 + 55)
    expect(exact.stderr).toBe("")

    // The journal pages the same way: 55 contact.created events.
    const events = cli("--json", "events", "list", "--limit", "3")
    expect(events.code, events.stderr).toBe(0)
    expect((JSON.parse(events.stdout) as Array<{ type: string }>).map((e) => e.type)).toEqual(["contact.created", "contact.created", "contact.created"])
    expect(events.stderr).toMatch(/showing 3 of \d+ events/)
  }, slow)
})

describe("--json", () => {
  it("prints exactly one JSON document on stdout for every command a script runs", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli(["--json", ...args, "--db", db], { env })
    // Until the simulation the commands run at --now; after it, on the store's test clock (its last day).
    const at = ["--now", "2026-01-01"]
    const steps: Array<Array<string>> = [
      ["settings", "show", ...at],
      ["products", "add", "--name", "Beans", "--sku", "B1", "--price", "25.00", "--currency", "USD", ...at],
      ["contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_declined", ...at],
      ["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=B1", ...at],
      ["engine", "--once", ...at],
      ["simulate", "--until", "2026-02-15"],
      ["subscriptions", "list"],
      ["products", "list"],
      ["contacts", "list"],
      ["invoices", "list"],
      ["events", "list", "--all"],
      ["outbox", "list"],
      ["tasks", "list"],
      ["schedule", "--start", "2026-01-31", "--frequency", "monthly", "--count", "3"]
    ]
    for (const args of steps) {
      const r = cli(...args)
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
      expect(() => JSON.parse(r.stdout), `${args.join(" ")} printed: ${r.stdout}`).not.toThrow()
    }
  }, slow)
})

describe("simulate", () => {
  it("says what each figure of its summary counts", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-01-01"], { env })
    cli("products", "add", "--name", "Beans", "--sku", "B1", "--price", "25.00", "--currency", "USD")
    cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_timeout")
    cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=B1")
    const r = cli("simulate", "--until", "2026-02-28")
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/invoiced\s+2\s+invoices created/)
    expect(r.stdout).toMatch(/unknown\s+\d+\s+charges whose gateway reply was lost/)
    // Every figure line carries its meaning.
    for (const line of r.stdout.trimEnd().split("\n").slice(1)) expect(line).toMatch(/^\s+[a-z]+\s+\d+\s+\S.+/)
  }, slow)

  it("on Ctrl-C says which day it stopped on, exits 130, and the next run continues from the day after", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db], { env })
    cli("products", "add", "--name", "Beans", "--sku", "B1", "--price", "25.00", "--currency", "USD")
    cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok", "--now", "2026-01-01")
    cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=B1", "--now", "2026-01-01")
    expect(cli("simulate", "--until", "2026-01-02", "--now", "2026-01-01").code).toBe(0)
    // The second run goes on from the store's test clock; it names its days on stderr before the first: the cue to press Ctrl-C.
    const child = spawn(billcyclePath, ["simulate", "--until", "2036-12-31", "--db", db], { cwd: repoRoot, env: { ...process.env, ...env } })
    let stderr = ""
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    await new Promise<void>((resolve) => child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes("simulate: 2026-01-03 .. 2036-12-31")) resolve()
    }))
    child.kill("SIGINT")
    const code = await exited
    expect(code, stderr).toBe(130)
    const stopped = /simulate: interrupted; (?:simulated 2026-01-03 \.\. (\d{4}-\d{2}-\d{2}); the next run continues from (\d{4}-\d{2}-\d{2})|no day was simulated; the next run starts on (2026-01-03))/.exec(stderr)
    expect(stopped, stderr).not.toBeNull()
    const next = stopped![2] ?? stopped![3]!
    const again = cli("--json", "simulate", "--until", next)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ from: next, until: next, days: 1 })
  }, slow)
})

describe("a command stopped by a signal", () => {
  it("exits 143 on SIGTERM, as shells report a command ended so, not 0 as if it had done its work (engine and serve, which end so, exit 0)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-stopped-"))
    const data = join(dir, "demo")
    // The demo takes a while (a year of a coffee shop) and prints its summary at the end: a script would read it.
    const child = spawn(billcyclePath, ["demo", "--data-dir", data, "--out", join(dir, "out")], { cwd: dir, env: { ...process.env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString() })
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      // Its database is being made: the command is running (and hears signals).
      for (let i = 0; i < 3000 && !existsSync(join(data, "PG_VERSION")); i++) await new Promise((r) => setTimeout(r, 100))
      expect(existsSync(join(data, "PG_VERSION")), stderr).toBe(true)
      child.kill("SIGTERM")
      expect(await exited, stderr).toBe(143)
      expect(stdout).not.toMatch(/Revenue report/)
    } finally {
      child.kill("SIGKILL")
    }
  }, slow)
})
