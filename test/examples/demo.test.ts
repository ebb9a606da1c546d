/**
 * The demo end to end, smaller: it writes invoices, emails and a report that
 * agree with each other and with the store, and the same run prints the same
 * numbers twice.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"
import { launchBrowser, renderHtml } from "../browser.ts"
import { openTestDatabase } from "../storeHarness.ts"
import { mrrSeries } from "../../reports/index.ts"

describe("billcycle demo", () => {
  it("writes consistent invoices, emails and report, and repeats its numbers exactly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-demo-"))
    const args = ["demo", "--customers", "40", "--months", "4", "--json", "--out", join(dir, "out"), "--data-dir", join(dir, "db")]
    const first = runCli(args, { cwd: dir })
    expect(first.code, first.stderr).toBe(0)
    const a = JSON.parse(first.stdout)
    expect(a.invoices.length).toBeGreaterThanOrEqual(5)
    for (const f of a.invoices) expect(existsSync(f)).toBe(true)
    const mail = readdirSync(join(dir, "out", "mail"))
    expect(mail.length).toBe(a.totals.delivered)
    expect(mail.some((f) => f.startsWith("email_receipt_"))).toBe(true)
    const report = readFileSync(join(dir, "out", "report.html"), "utf8")
    // The report's last MRR is the one computed from the store's subscriptions.
    const t = await openTestDatabase({ _tag: "Embedded", dataDir: join(dir, "db") })
    try {
      const fromStore = await mrrSeries(t.db.sql, "2026-01", 4, "USD")
      expect(fromStore.map((m) => Math.round(m.mrr))).toEqual(a.mrr.map((m: { mrr: number }) => Math.round(m.mrr)))
      const [{ n }] = await t.db.sql<Array<{ n: number }>>`select count(*)::int as n from outbox where status = 'sent'` as unknown as [{ n: number }]
      expect(n).toBe(a.totals.delivered)
    } finally {
      await t.close()
    }
    // The report page is the full revenue report: its month-end MRR is the store's, month by month.
    expect(a.movements.map((m: { mrr_end: number }) => Math.round(m.mrr_end))).toEqual(a.mrr.map((m: { mrr: number }) => Math.round(m.mrr / 100)))
    const last = a.movements[a.movements.length - 1]
    expect(report).toContain(`<td>${last.mrr_end.toFixed(2)}</td>`)
    expect(report).toContain('aria-label="Cohort retention heatmap"')
    const browser = await launchBrowser()
    try {
      const shot = await renderHtml(browser, report)
      expect(shot.errors).toEqual([])
      expect(shot.text).toContain("Bean There Coffee Co.")
    } finally {
      await browser.close()
    }
    const second = runCli(args, { cwd: dir })
    expect(JSON.parse(second.stdout).totals).toEqual(a.totals)
    expect(JSON.parse(second.stdout).mrr).toEqual(a.mrr)
  }, 240_000)

  it("its console table uses the report's definitions: MRR, subscribers, new and churned agree with report mrr and movements", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-demo-table-"))
    const demo = runCli(["demo", "--customers", "30", "--months", "3", "--out", join(dir, "out"), "--data-dir", join(dir, "db")], { cwd: dir })
    expect(demo.code, demo.stderr).toBe(0)
    const lines = demo.stdout.split("\n")
    const head = lines.findIndex((l) => /^\s+month\s+MRR\s+subscribers\s+new\s+churned$/.test(l))
    expect(head).toBeGreaterThan(0)
    const rows = lines.slice(head + 1, head + 4).map((l) => l.trim().split(/\s+/))
    const range = ["--from", "2026-01", "--to", "2026-03", "--format", "json", "--db", join(dir, "db")]
    const movements = JSON.parse(runCli(["report", "movements", ...range]).stdout)
    const mrr = JSON.parse(runCli(["report", "mrr", ...range]).stdout)
    const usd = (v: number) => `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    expect(rows).toEqual(movements.map((m: Record<string, number>, i: number) => [m["month"], usd(m["mrr_end"]!), String(mrr[i]["subscribers"]), usd(m["new"]!), usd(m["churn"]!)]))
    // Some customer churned in three months of the demo, so the comparison is not between zeros only.
    expect(movements.some((m: Record<string, number>) => m["new"]! > 0)).toBe(true)
  }, 240_000)
})
