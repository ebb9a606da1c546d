/**
 * Finance's dashboard: `billcycle report dashboard` writes one self-contained
 * page of every report of a period; `serve` answers the same page at
 * `GET /reports?from&to` behind an API key (Bearer, or HTTP Basic with the key
 * as the password; 401 with a Basic challenge without one).
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"
import { startServe } from "../engine/api/serveProcess.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-dashboard-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-12"]
beforeAll(() => {
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", db])
  expect(imported.code, imported.stderr).toBe(0)
}, 120_000)

/** The period's last MRR as `report mrr` prints it in its table. */
const printedMrr = () => {
  const table = runCli(["report", "mrr", ...range, "--db", db])
  expect(table.code, table.stderr).toBe(0)
  const lines = table.stdout.trim().split("\n")
  const header = lines[0]!.trim().split(/\s+/)
  const last = lines[lines.length - 1]!.trim().split(/\s+/)
  expect(last[0]).toBe("2025-12")
  return last[header.indexOf("mrr")]!
}

describe("the revenue dashboard", () => {
  it("the CLI writes it, and serve answers the same page behind an API key", async () => {
    const mrr = printedMrr()
    expect(mrr).toBe("43.33")
    const out = join(dir, "dashboard.html")
    const written = runCli(["report", "dashboard", ...range, "--out", out, "--db", db])
    expect(written.code, written.stderr).toBe(0)
    const page = readFileSync(out, "utf8")
    expect(page).toContain(`<div class="kpi">${mrr} USD</div>`)
    for (const part of ["MRR waterfall", "Churn", "Retention", "Cohort retention heatmap", "<h3>growth</h3>"]) expect(page).toContain(part)
    expect(page).not.toMatch(/<script|https?:\/\/|<link /)
    // Bad input: one line naming the flag, exit 2.
    const badFormat = runCli(["report", "dashboard", ...range, "--format", "pdf", "--db", db])
    expect(badFormat.code).toBe(2)
    expect(badFormat.stderr.trim().split("\n")).toEqual([expect.stringContaining("--format")])
    const badPeriod = runCli(["report", "dashboard", "--from", "2025-13", "--to", "2025-12", "--db", db])
    expect(badPeriod.code).toBe(2)
    expect(badPeriod.stderr.trim().split("\n")).toEqual([expect.stringContaining("--from")])

    const key = runCli(["api-keys", "create", "--name", "finance", "--read-only", "--db", db]).stdout.trim()
    expect(key.length).toBeGreaterThan(10)
    const serve = await startServe(["--db", db], {})
    try {
      const at = `${serve.url}/reports?from=2025-01&to=2025-12`
      const anonymous = await fetch(at)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm="billcycle reports"/)
      const wrong = await fetch(at, { headers: { authorization: "Bearer not-a-key" } })
      expect(wrong.status).toBe(401)
      const bearer = await fetch(at, { headers: { authorization: `Bearer ${key}` } })
      expect(bearer.status).toBe(200)
      expect(bearer.headers.get("content-type")).toMatch(/^text\/html/)
      const body = await bearer.text()
      expect(body).toContain(`<div class="kpi">${mrr} USD</div>`)
      // The same reports, the same page as the CLI's.
      expect(body).toBe(page)
      const basic = await fetch(at, { headers: { authorization: `Basic ${Buffer.from(`finance:${key}`).toString("base64")}` } })
      expect(basic.status).toBe(200)
      expect(await basic.text()).toBe(page)
      const badPeriod = await fetch(`${serve.url}/reports?from=2025-1&to=2025-12`, { headers: { authorization: `Bearer ${key}` } })
      expect(badPeriod.status).toBe(400)
      expect(await badPeriod.text()).toMatch(/^from: /)
    } finally {
      expect(await serve.stop()).toBe(0)
    }
  }, 300_000)
})
