/**
 * What a report file carries on its own, once the terminal's stderr is gone:
 * the currencies left out (HTML and workbook, in the dashboard's words), the
 * header of an empty result (CSV, workbook), a Parquet schema that is the
 * report's and not the data's; the format taken from `--out`'s extension; the
 * kinds listed on a wrong one. A store with one EUR and one USD subscription,
 * and an empty store.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import readExcelFile from "read-excel-file/node"
import { beforeAll, describe, expect, it } from "vitest"
import { reportKinds } from "../../reports/index.ts"
import { runCli } from "../cliRunner.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-report-files-"))
const db = join(dir, "db")
const empty = join(dir, "empty")
const range = ["--from", "2026-01", "--to", "2026-03"]
const leftOut = "No rate from EUR to USD: those subscriptions are left out of these figures."

const ok = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) => {
  const r = runCli(args, { env })
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
  return r
}

beforeAll(() => {
  const now = { BILLCYCLE_NOW: "2026-01-01" }
  ok(["db", "migrate", "--db", db], now)
  ok(["products", "add", "--name", "E", "--sku", "E1", "--price", "100.00", "--currency", "EUR", "--db", db], now)
  ok(["products", "add", "--name", "U", "--sku", "U1", "--price", "50.00", "--currency", "USD", "--db", db], now)
  ok(["contacts", "add", "--email", "e@x.test", "--payment-method", "pm_ok", "--db", db], now)
  ok(["contacts", "add", "--email", "u@x.test", "--payment-method", "pm_ok", "--db", db], now)
  ok(["subscriptions", "create", "--contact", "e@x.test", "--item", "sku=E1", "--start", "2026-01-01", "--db", db], now)
  ok(["subscriptions", "create", "--contact", "u@x.test", "--item", "sku=U1", "--start", "2026-01-01", "--db", db], now)
  ok(["simulate", "--now", "2026-01-01", "--until", "2026-03-31", "--db", db], { BILLCYCLE_NOW: undefined })
  ok(["db", "migrate", "--db", empty])
}, 180_000)

/** Each column's name and DuckDB type, as `DESCRIBE` reads them from the file. */
const parquetSchema = async (file: string) => {
  const instance = await DuckDBInstance.create(":memory:")
  const c = await instance.connect()
  try {
    const rows = (await c.runAndReadAll(`describe select * from '${file.replaceAll("'", "''")}'`)).getRowObjectsJS()
    return rows.map((r) => `${String(r["column_name"])} ${String(r["column_type"])}`)
  } finally {
    c.closeSync()
    instance.closeSync()
  }
}

describe("report files", () => {
  it("the single-report HTML and every workbook sheet say which currencies are left out, in the dashboard's words", async () => {
    const dashboard = ok(["report", "dashboard", ...range, "--db", db]).stdout
    expect(dashboard).toContain(`<p class="warn">${leftOut}</p>`)
    const html = join(dir, "m.html")
    ok(["report", "mrr", ...range, "--format", "html", "--out", html, "--db", db])
    expect(readFileSync(html, "utf8")).toContain(`<p class="warn">${leftOut}</p>`)
    const xlsx = join(dir, "m.xlsx")
    ok(["report", "mrr", ...range, "--format", "xlsx", "--out", xlsx, "--db", db])
    const workbook = await readExcelFile(xlsx)
    expect(workbook.map((w) => w.sheet)).toEqual([...reportKinds])
    for (const sheet of workbook) {
      expect(sheet.data[0]!.filter((v) => v !== null), sheet.sheet).toEqual([leftOut])
      expect(sheet.data[1]![0], sheet.sheet).toBe(sheet.sheet === "cohorts" ? "cohort" : "month")
    }
    // With a rate for every currency nothing is left out: no note, the header first.
    const fx = join(dir, "fx.csv")
    writeFileSync(fx, "month,from_currency,to_currency,rate\n2026-01,EUR,USD,1.1\n2026-02,EUR,USD,1.1\n2026-03,EUR,USD,1.1\n")
    const converted = join(dir, "fx.xlsx")
    ok(["report", "mrr", ...range, "--fx", fx, "--format", "xlsx", "--out", converted, "--db", db])
    expect((await readExcelFile(converted))[0]!.data[0]![0]).toBe("month")
    const convertedHtml = ok(["report", "mrr", ...range, "--fx", fx, "--format", "html", "--db", db]).stdout
    expect(convertedHtml).not.toContain('class="warn"')
  }, 120_000)

  it("an empty result keeps its header row in CSV and in the workbook, the columns a non-empty one has", async () => {
    const cohorts = ok(["report", "cohorts", ...range, "--format", "csv", "--db", empty]).stdout
    expect(cohorts).toBe("cohort,size,m0,m1,m2,mrr_m0,mrr_m1,mrr_m2\r\n")
    const paying = ok(["report", "cohorts", ...range, "--format", "csv", "--db", db]).stdout.split("\r\n")
    expect(paying[0]).toBe("cohort,size,m0,m1,m2,mrr_m0,mrr_m1,mrr_m2")
    expect(paying[1]).toBe("2026-01,1,1,1,1,50,50,50")
    const details = ok(["report", "movements", "--details", ...range, "--format", "csv", "--db", empty]).stdout
    expect(details).toBe("date,customer,kind,amount\r\n")
    for (const kind of reportKinds) {
      const header = ok(["report", kind, ...range, "--format", "csv", "--db", empty]).stdout.split("\r\n")[0]
      expect(header, kind).toBe(ok(["report", kind, ...range, "--format", "csv", "--db", db]).stdout.split("\r\n")[0])
      // The header is the rows' own keys, in their order.
      const [first] = JSON.parse(ok(["report", kind, ...range, "--format", "json", "--db", db]).stdout) as Array<Record<string, unknown>>
      expect(Object.keys(first!).join(","), kind).toBe(header)
    }
    const [detail] = JSON.parse(ok(["report", "movements", "--details", ...range, "--format", "json", "--db", db]).stdout) as Array<Record<string, unknown>>
    expect(Object.keys(detail!).join(",")).toBe("date,customer,kind,amount")
    const xlsx = join(dir, "empty.xlsx")
    ok(["report", "movements", "--details", ...range, "--format", "xlsx", "--out", xlsx, "--db", empty])
    const workbook = await readExcelFile(xlsx)
    expect(workbook.find((w) => w.sheet === "cohorts")!.data).toEqual([["cohort", "size", "m0", "m1", "m2", "mrr_m0", "mrr_m1", "mrr_m2"]])
    expect(workbook.find((w) => w.sheet === "movement details")!.data).toEqual([["date", "customer", "kind", "amount"]])
  }, 120_000)

  it("Parquet has each report's fixed schema: amounts and rates DOUBLE, counts BIGINT, months VARCHAR, days DATE, with or without rows", async () => {
    const expected: Record<string, ReadonlyArray<string>> = {
      mrr: ["month VARCHAR", "mrr DOUBLE", "arr DOUBLE", "subscribers BIGINT", "arpa DOUBLE", "paused BIGINT", "ltv DOUBLE"],
      movements: ["month VARCHAR", ...["mrr_start", "new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment", "net_new_mrr", "mrr_end"].map((c) => `${c} DOUBLE`)],
      churn: ["month VARCHAR", "subscribers_start BIGINT", "subscribers_end BIGINT", "logo_churn_rate DOUBLE", "gross_mrr_churn_rate DOUBLE", "net_mrr_churn_rate DOUBLE", "cancellation_rate DOUBLE"],
      retention: ["month VARCHAR", "nrr DOUBLE", "grr DOUBLE"],
      growth: ["month VARCHAR", "subscriptions_start BIGINT", "new_subscriptions BIGINT", "canceled BIGINT", "expired BIGINT", "subscriptions_end BIGINT"],
      cohorts: ["cohort VARCHAR", "size BIGINT", "m0 BIGINT", "m1 BIGINT", "m2 BIGINT", "mrr_m0 DOUBLE", "mrr_m1 DOUBLE", "mrr_m2 DOUBLE"]
    }
    for (const store of [db, empty]) {
      for (const kind of reportKinds) {
        const out = join(dir, `${kind}-${store === db ? "data" : "empty"}.parquet`)
        ok(["report", kind, ...range, "--format", "parquet", "--out", out, "--db", store])
        expect(await parquetSchema(out), `${kind} on ${store}`).toEqual(expected[kind])
      }
      const out = join(dir, `details-${store === db ? "data" : "empty"}.parquet`)
      ok(["report", "movements", "--details", ...range, "--format", "parquet", "--out", out, "--db", store])
      expect(await parquetSchema(out)).toEqual(["date DATE", "customer VARCHAR", "kind VARCHAR", "amount DOUBLE"])
    }
  }, 180_000)

  it("--out FILE without --format takes the format from FILE's extension, and a --format that contradicts it is refused", () => {
    const xlsx = join(dir, "by-name.xlsx")
    ok(["report", "mrr", ...range, "--out", xlsx, "--db", db])
    expect(readFileSync(xlsx).subarray(0, 4).toString("latin1")).toBe("PK\u0003\u0004")
    const csv = join(dir, "by-name.csv")
    ok(["report", "mrr", ...range, "--out", csv, "--db", db])
    expect(readFileSync(csv, "utf8").split("\r\n")[0]).toBe("month,mrr,arr,subscribers,arpa,paused,ltv")
    const json = join(dir, "by-name.json")
    ok(["report", "growth", ...range, "--out", json, "--db", db])
    expect(JSON.parse(readFileSync(json, "utf8"))).toHaveLength(3)
    const parquet = join(dir, "by-name.parquet")
    ok(["report", "mrr", ...range, "--out", parquet, "--db", db])
    expect(readFileSync(parquet).subarray(0, 4).toString()).toBe("PAR1")
    const html = join(dir, "by-name.html")
    ok(["report", "mrr", ...range, "--out", html, "--db", db])
    expect(readFileSync(html, "utf8")).toMatch(/^<!DOCTYPE html>/)
    const dashboardJson = join(dir, "dashboard.json")
    ok(["report", "dashboard", ...range, "--out", dashboardJson, "--db", db])
    expect(Object.keys(JSON.parse(readFileSync(dashboardJson, "utf8")))).toEqual([...reportKinds])
    // Any other name: the table, as before.
    const text = join(dir, "by-name.txt")
    ok(["report", "mrr", ...range, "--out", text, "--db", db])
    expect(readFileSync(text, "utf8")).toMatch(/^month\s+mrr\s+arr/)
    const both = join(dir, "both.xlsx")
    const r = runCli(["report", "mrr", ...range, "--format", "csv", "--out", both, "--db", db])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--format.*--out|--out.*--format/)])
    const agree = join(dir, "agree.csv")
    ok(["report", "mrr", ...range, "--format", "csv", "--out", agree, "--db", db])
  }, 120_000)

  it("a wrong KIND lists every kind, dashboard too", () => {
    const r = runCli(["report", "mrrr", ...range, "--db", db])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toEqual([`billcycle: KIND: expected one of ${[...reportKinds, "dashboard"].join(", ")}, got "mrrr"`])
  })
})
