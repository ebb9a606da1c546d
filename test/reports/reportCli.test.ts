/**
 * `billcycle report` end to end on the embedded database: every format, the
 * drill-down, `--fx`, bad flags, and the HTML report in headless Chromium.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Browser } from "playwright-core"
import { runCli } from "../cliRunner.ts"
import { launchBrowser, renderHtml } from "../browser.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-report-cli-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-07"]
let browser: Browser
beforeAll(async () => {
  const imported = runCli(["import", "history", "test/engine/store/fixtures/history", "--now", "2025-12-31", "--db", db])
  expect(imported.code, imported.stderr).toBe(0)
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
})

describe("billcycle report", () => {
  it("prints an aligned table, and CSV and JSON with the columns of CLI.md", () => {
    const table = runCli(["report", "movements", ...range, "--db", db])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^month\s+mrr_start\s+new\s+expansion\s+contraction\s+churn\s+reactivation\s+fx_adjustment\s+net_new_mrr\s+mrr_end$/)
    expect(lines[7]).toMatch(/^2025-06\s+59\.33\s+0\.00\s+0\.00\s+22\.50\s+16\.00\s+0\.00\s+0\.00\s+-38\.50\s+20\.83$/)
    const csv = runCli(["report", "churn", ...range, "--format", "csv", "--db", db])
    expect(csv.stdout.split(/\r?\n/)[0]).toBe("month,subscribers_start,subscribers_end,logo_churn_rate,gross_mrr_churn_rate,net_mrr_churn_rate,cancellation_rate")
    expect(csv.stdout.split(/\r?\n/)[5]).toBe("2025-05,4,3,0.25,0.457317,0.457317,0")
    const json = JSON.parse(runCli(["report", "mrr", ...range, "--format", "json", "--db", db]).stdout)
    expect(json[0]).toEqual({ month: "2025-01", mrr: 33.33, arr: 400, subscribers: 2, arpa: 16.67, paused: 0, ltv: null })
    expect(json[5]).toMatchObject({ month: "2025-06", paused: 1 })
  })

  it("lists the customer-day movements behind the totals with --details", () => {
    const r = runCli(["report", "movements", "--details", ...range, "--format", "csv", "--db", db])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trimEnd().split(/\r?\n/)).toEqual([
      "date,customer,kind,amount",
      "2025-01-01,c4,new,20.83", "2025-01-10,c1,new,12.5", "2025-02-01,c2,new,50", "2025-03-15,c3,new,16",
      "2025-04-10,c1,expansion,10", "2025-05-01,c2,churn,50", "2025-06-15,c3,churn,16", "2025-06-20,c1,contraction,22.5",
      "2025-07-20,c1,reactivation,22.5"
    ])
    const wrong = runCli(["report", "mrr", "--details", ...range, "--db", db])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain("--details")
  })

  it("writes Parquet that reads back with the same rows", async () => {
    const out = join(dir, "cohorts.parquet")
    const r = runCli(["report", "cohorts", ...range, "--format", "parquet", "--out", out, "--db", db])
    expect(r.code, r.stderr).toBe(0)
    const instance = await DuckDBInstance.create(":memory:")
    const c = await instance.connect()
    const rows = (await c.runAndReadAll(`select cohort, size, m0, m5 from read_parquet('${out}') order by cohort`)).getRowObjectsJson()
    c.closeSync()
    instance.closeSync()
    expect(rows[0]).toEqual({ cohort: "2025-01", size: "2", m0: "2", m5: "1" })
  })

  it("refuses bad flags and a bad FX file with exit 2, naming them", () => {
    expect(runCli(["report", "mrr", "--from", "2025-13", "--to", "2025-07", "--db", db]).stderr).toContain("--from")
    const fx = join(dir, "fx.csv")
    writeFileSync(fx, "month,from_currency,to_currency,rate\n2025-01,EUR,USD,abc\n")
    const r = runCli(["report", "mrr", ...range, "--fx", fx, "--db", db])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${fx}:2:rate: expected a positive number, got "abc"`)
    const missing = runCli(["report", "mrr", ...range, "--fx", join(dir, "nope.csv"), "--db", db])
    expect(missing.code).toBe(2)
  })

  it("the HTML report is one self-contained page with three charts that renders in Chromium without errors", async () => {
    const out = join(dir, "report.html")
    const r = runCli(["report", "movements", ...range, "--format", "html", "--out", out, "--db", db])
    expect(r.code, r.stderr).toBe(0)
    const html = readFileSync(out, "utf8")
    expect(html).not.toMatch(/<script|https?:\/\//)
    expect(html.match(/<svg /g)?.length).toBe(3)
    expect(html).toContain('aria-label="Cohort retention heatmap"')
    const rendered = await renderHtml(browser, html)
    expect(rendered.errors).toEqual([])
    expect(rendered.text).toContain("MRR movements")
    expect(rendered.text).toContain("2025-06")
    expect(rendered.png.length).toBeGreaterThan(20_000)
  }, 60_000)
})
