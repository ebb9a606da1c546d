/**
 * `billcycle report` end to end on the embedded database: every format, the
 * drill-down, `--fx`, bad flags, and the HTML report in headless Chromium.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Browser } from "playwright-core"
import { billcyclePath, repoRoot, runCli } from "../cliRunner.ts"
import { monthIndex, monthName, readFxFile } from "../../reports/index.ts"
import { launchBrowser, renderHtml } from "../browser.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-report-cli-"))
const db = join(dir, "db")
const range = ["--from", "2025-01", "--to", "2025-07"]
let browser: Browser
beforeAll(async () => {
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", db])
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
      "2025-07-20,c1,expansion,22.5"
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

  it("writes Parquet to stdout when it is redirected to a file (`> mrr.parquet`), the same rows as --out", async () => {
    const out = join(dir, "piped.parquet")
    const r = spawnSync(billcyclePath, ["report", "mrr", ...range, "--format", "parquet", "--db", db], { cwd: repoRoot, stdio: ["ignore", openSync(out, "w"), "pipe"], encoding: "utf8" })
    expect(r.status, r.stderr).toBe(0)
    const bytes = readFileSync(out)
    expect(bytes.subarray(0, 4).toString()).toBe("PAR1")
    const instance = await DuckDBInstance.create(":memory:")
    const c = await instance.connect()
    const rows = (await c.runAndReadAll(`select month, mrr from read_parquet('${out}') order by month`)).getRowObjectsJson()
    c.closeSync()
    instance.closeSync()
    expect(rows[0]).toEqual({ month: "2025-01", mrr: 33.33 })
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

  it("refuses a --read-db that is not a PostgreSQL URL with exit 2, naming the flag", () => {
    const r = runCli(["report", "mrr", ...range, "--read-db", join(dir, "copy"), "--db", db])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`--read-db: expected a PostgreSQL URL (postgres://…) of a copy of the store, got "${join(dir, "copy")}"`)
    expect(existsSync(join(dir, "copy"))).toBe(false)
  })

  it("warns in one line on stderr, naming the currencies, when --currency has no rate for the store's currencies", () => {
    const nok = runCli(["report", "mrr", ...range, "--currency", "NOK", "--db", db])
    expect(nok.code, nok.stderr).toBe(0)
    const warnings = nok.stderr.split("\n").filter((l) => l.startsWith("warning:"))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("USD")
    expect(warnings[0]).toContain("NOK")
    expect(warnings[0]).toContain("--fx")
    const usd = runCli(["report", "mrr", ...range, "--currency", "USD", "--db", db])
    expect(usd.code, usd.stderr).toBe(0)
    expect(usd.stderr).not.toContain("warning:")
  })

  it("shows n/a (null in JSON, empty in CSV) where a ratio has no denominator", () => {
    // 2024-12 has nobody at its start; 2025-01 opens with no MRR either.
    const early = ["--from", "2024-12", "--to", "2025-02"]
    const retention = runCli(["report", "retention", ...early, "--db", db])
    expect(retention.code, retention.stderr).toBe(0)
    const jan = retention.stdout.split("\n").find((l) => l.startsWith("2025-01"))!
    expect(jan).toMatch(/^2025-01\s+n\/a\s+n\/a$/)
    expect(retention.stdout).not.toMatch(/\s0\.0%/)
    const json = JSON.parse(runCli(["report", "churn", ...early, "--format", "json", "--db", db]).stdout)
    expect(json[1]).toEqual({ month: "2025-01", subscribers_start: 0, subscribers_end: 2, logo_churn_rate: null, gross_mrr_churn_rate: null, net_mrr_churn_rate: null, cancellation_rate: null })
    expect(json[2]).toMatchObject({ month: "2025-02", logo_churn_rate: 0, gross_mrr_churn_rate: 0 })
    const csv = runCli(["report", "retention", ...early, "--format", "csv", "--db", db]).stdout.split(/\r?\n/)
    expect(csv[2]).toBe("2025-01,,")
    const mrr = JSON.parse(runCli(["report", "mrr", ...early, "--format", "json", "--db", db]).stdout)
    expect(mrr[0]).toMatchObject({ month: "2024-12", subscribers: 0, arpa: null })
  })

  it("lists only cohorts that have customers (no padding rows)", () => {
    const rows = JSON.parse(runCli(["report", "cohorts", ...range, "--format", "json", "--db", db]).stdout)
    expect(rows.map((r: { cohort: string }) => r.cohort)).toEqual(["2025-01", "2025-02", "2025-03"])
    expect(rows.every((r: { size: number }) => r.size > 0)).toBe(true)
    const table = runCli(["report", "cohorts", ...range, "--db", db]).stdout.trimEnd().split("\n")
    expect(table.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(["2025-01", "2025-02", "2025-03"])
  })

  it("the README's --fx example runs as written, with the sample examples/rates.csv", () => {
    const readme = readFileSync("README.md", "utf8")
    const line = readme.split("\n").find((l) => l.startsWith("npx billcycle report") && l.includes("--fx"))!
    const args = line.replace(/^npx billcycle /, "").split(/\s+/)
    const file = args[args.indexOf("--fx") + 1]!
    expect(existsSync(file)).toBe(true)
    const from = args[args.indexOf("--from") + 1]!, to = args[args.indexOf("--to") + 1]!
    const rates = readFxFile(file)
    // Every month of the example has a rate to its currency for each currency the file names.
    const target = args[args.indexOf("--currency") + 1]!
    const others = [...new Set(rates.filter((r) => r.to === target).map((r) => r.from))]
    expect(others.length).toBeGreaterThan(0)
    for (const c of others) for (let k = monthIndex(from); k <= monthIndex(to); k++) expect(rates.some((r) => r.from === c && r.to === target && r.month === monthName(k))).toBe(true)
    const r = runCli([...args, "--db", db])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("2026-12")
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
