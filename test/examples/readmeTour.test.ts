/**
 * The README's tour of the command line, run as written: every command of
 * its `sh` blocks, in order, on a fresh embedded store, the way a new user
 * follows it. A command that exits non-zero fails the test with its line
 * number in README.md and its stderr. The few commands that cannot run on a
 * fresh clone are listed below, each with the reason.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot } from "../cliRunner.ts"

interface TourCommand {
  readonly line: number
  readonly text: string
}

/** The commands of the `sh` blocks between two headings, with continuation lines joined and comment lines dropped. */
const tourCommands = (readme: string, from: string, to: string): Array<TourCommand> => {
  const lines = readme.split("\n")
  const first = lines.indexOf(from)
  const last = lines.indexOf(to)
  if (first < 0 || last < first) throw new Error(`README.md: no section from "${from}" to "${to}"`)
  const commands: Array<TourCommand> = []
  let inBlock = false
  let pending: TourCommand | undefined
  for (let i = first; i < last; i++) {
    const l = lines[i]!
    if (!inBlock) {
      inBlock = l === "```sh"
      continue
    }
    if (l.startsWith("```")) {
      inBlock = false
      continue
    }
    if (pending === undefined && (l.trim() === "" || l.trim().startsWith("#"))) continue
    const text = pending === undefined ? l : `${pending.text} ${l.trim()}`
    const current = { line: pending?.line ?? i + 1, text }
    if (l.endsWith("\\")) pending = { ...current, text: text.slice(0, -1).trimEnd() }
    else {
      commands.push(current)
      pending = undefined
    }
  }
  return commands
}

/** Commands of the tour that a fresh clone cannot run, and why. */
const notRunHere: ReadonlyArray<readonly [RegExp, string]> = [
  [/postgres:\/\//, "a server store of the reader's own"],
  [/ engine --analytics(?!.*--once)/, "the real-time engine runs until stopped"],
  [/ outbox retry /, "needs a message whose delivery failed for days"]
]

describe("README tour", () => {
  it("runs as written, command by command, on a fresh embedded store", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8")
    const commands = tourCommands(readme, "## A tour of the command line", "## The HTTP API")
    expect(commands.length).toBeGreaterThan(60)
    const dir = mkdtempSync(join(tmpdir(), "billcycle-tour-"))
    symlinkSync(join(repoRoot, "examples"), join(dir, "examples"))
    const env = { ...process.env, DATABASE_URL: undefined, BILLCYCLE_DB: undefined, FORCE_COLOR: "0" }
    const skipped: Array<number> = []
    const outputs = new Map<string, string>()
    for (const c of commands) {
      if (notRunHere.some(([pattern]) => pattern.test(c.text))) {
        skipped.push(c.line)
        continue
      }
      const shell = c.text.replaceAll("npx billcycle ", `${billcyclePath} `)
      const r = spawnSync("bash", ["-c", shell], { cwd: dir, env, encoding: "utf8", timeout: 300_000 })
      expect(r.status, `README.md:${c.line}: ${c.text}\n${r.stderr}`).toBe(0)
      outputs.set(c.text.replace(/\s+#.*$/, ""), r.stdout)
    }
    // The skipped ones are only those listed, and few.
    expect(skipped.length).toBeLessThanOrEqual(5)
    // What the prose around the commands says they print.
    expect(outputs.get("npx billcycle subscriptions update 1 --item sku=COFFEE-1KG,qty=3")).toContain("per payment 45.00 USD → 67.50 USD")
    expect(outputs.get("npx billcycle import history examples/import/history")).toMatch(/2 customers, 2 subscriptions, 3 line items, \d+ journal events/)
    expect(outputs.get("npx billcycle invoices pay 2 --amount 10.00")).toContain("10.00")
    expect(outputs.get("npx billcycle clock show --json")).toContain(`"today":"2027-03-31"`)
  }, 900_000)
})
