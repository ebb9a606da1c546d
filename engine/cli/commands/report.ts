/**
 * `billcycle report mrr|movements|churn|retention|cohorts|growth|dashboard --from YYYY-MM --to YYYY-MM`.
 * `dashboard`: every report of the period on one page (html, the default), or all of them as one JSON object.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ReportKind, ReportRow } from "../../../reports/index.ts"
import { buildReports, buildReportsFromCopy, formatReportCell, readFxFile, readReportRequest, reportColumns, reportKinds, revenueDashboardHtml, revenueReportHtml, writeReportsXlsx } from "../../../reports/index.ts"
import { runSql } from "../../sql/index.ts"
import { loadSettings } from "../../account/index.ts"
import { formatCsv } from "../../imports/index.ts"
import { withApp, withReadReplica } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { renderTable } from "../table.ts"
import { Json } from "../GlobalFlags.ts"
import { writeOutFile, writeOutFileWith } from "../outFile.ts"
import { analyticsDirFlag, analyticsFile, describeRefresh } from "./analytics.ts"

const formats = ["table", "csv", "json", "parquet", "html", "xlsx"] as const
const dashboardFormats: ReadonlyArray<string> = ["html", "json", "xlsx"]

const toCsv = (rows: ReadonlyArray<ReportRow>) => {
  const cols = reportColumns(rows)
  return formatCsv([cols, ...rows.map((r) => cols.map((c) => (r[c] === undefined || r[c] === null ? "" : String(r[c]))))])
}

/** Aligned for a terminal: money with the currency's decimals, rates as percentages, numbers to the right. */
const toTable = (rows: ReadonlyArray<ReportRow>, currency: string) => {
  const cols = reportColumns(rows)
  const numeric = cols.map((c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number"))
  return renderTable(cols, rows.map((r) => cols.map((c) => formatReportCell(c, r[c], currency))), numeric.map((n) => (n ? "right" : "left")))
}

const toParquet = async (rows: ReadonlyArray<ReportRow>, out: string) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-parquet-"))
  try {
    const json = join(dir, "rows.json")
    writeFileSync(json, JSON.stringify(rows))
    // Loaded here, not at start-up: only parquet output needs DuckDB in this file.
    const { DuckDBInstance } = await import("@duckdb/node-api")
    const instance = await DuckDBInstance.create(":memory:")
    const db = await instance.connect()
    await db.run(`copy (select * from read_json_auto('${json.replaceAll("'", "''")}')) to '${out.replaceAll("'", "''")}' (format parquet)`)
    db.closeSync()
    instance.closeSync()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const reportCommand = Command.make(
  "report",
  {
    kind: Argument.String("kind").pipe(Argument.withDescription(`${reportKinds.join(", ")}, or dashboard (all of them on one page)`)),
    from: Flag.String("from").pipe(Flag.withDescription("first month, YYYY-MM")),
    to: Flag.String("to").pipe(Flag.withDescription("last month, YYYY-MM")),
    currency: Flag.String("currency").pipe(Flag.withDescription("report currency (default: the account's)"), Flag.optional),
    fx: Flag.String("fx").pipe(Flag.withDescription("FILE.csv of monthly rates (month, from_currency, to_currency, rate): converts every currency"), Flag.optional),
    details: Flag.Boolean("details").pipe(Flag.withDescription("movements: list each customer-day movement behind the totals"), Flag.withDefault(false)),
    format: Flag.String("format").pipe(Flag.withDescription(`${formats.join(", ")} (default: table, or json with the global --json; dashboard: html); xlsx: every report, one sheet each`), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("write to FILE (parquet and xlsx: to FILE, or to stdout redirected to a file)"), Flag.optional),
    full: Flag.Boolean("full").pipe(Flag.withDescription("rebuild the analytics copy from scratch first (default: refresh it with what changed)"), Flag.withDefault(false)),
    analyticsDir: analyticsDirFlag,
    readDb: Flag.String("read-db").pipe(Flag.withDescription("read from this PostgreSQL URL, a read replica (or copy) of the store, instead of --db; nothing is written there"), Flag.optional)
  },
  (flags) => {
    const report = Effect.gen(function*() {
      const dashboard = flags.kind === "dashboard"
      const format = Option.isSome(flags.format) ? flags.format.value : (yield* Json) ? "json" : dashboard ? "html" : "table"
      if (!(formats as ReadonlyArray<string>).includes(format)) return yield* new UsageError({ message: `--format: expected one of ${formats.join(", ")}, got "${format}"` })
      if (dashboard && !dashboardFormats.includes(format)) return yield* new UsageError({ message: `--format: the dashboard is ${dashboardFormats.join(" or ")}, got "${format}"` })
      if (dashboard && flags.details) return yield* new UsageError({ message: "--details: only the movements report has details" })
      // A binary format goes to --out FILE, or to stdout redirected to a file or a pipe (`> mrr.parquet`), never to a terminal.
      const binary = format === "parquet" || format === "xlsx"
      if (binary && Option.isNone(flags.out) && process.stdout.isTTY === true) {
        return yield* new UsageError({ message: `--out: ${format} is binary; give --out FILE or redirect stdout to a file` })
      }
      const request = readReportRequest({
        kind: dashboard ? "mrr" : flags.kind, from: flags.from, to: flags.to, details: flags.details,
        currency: Option.isSome(flags.currency) ? flags.currency.value : (yield* runSql(loadSettings)).currency
      })
      if ("problem" in request) return yield* new UsageError({ message: request.problem })
      const currency = request.currency
      const fx = Option.isSome(flags.fx) ? { file: flags.fx.value, rates: yield* runSql(async () => readFxFile(flags.fx.pipe(Option.getOrThrow))) } : undefined
      const options = { from: flags.from, to: flags.to, currency, details: flags.details, ...(fx === undefined ? {} : { fx }) }
      // With a copy (the embedded database's folder, or --analytics-dir): refresh it, then answer from it. Without, load the store into memory.
      // A replica (--read-db) is a server: the copy only where --analytics-dir puts it.
      const file = Option.isSome(flags.readDb) && Option.isNone(flags.analyticsDir) ? undefined : yield* analyticsFile(flags.analyticsDir)
      const set = file === undefined
        ? yield* runSql((sql) => buildReports(sql, options))
        : yield* Effect.gen(function*() {
          const r = yield* runSql((sql) => buildReportsFromCopy(sql, options, { file, full: flags.full }))
          if (r.refresh === undefined) yield* Console.error(`note: another billcycle process kept ${file} open; this report comes from a full load of the store into memory`)
          else if (r.refresh.mode !== "unchanged" && format !== "json") yield* Console.error(describeRefresh(r.refresh, file))
          return r.set
        })
      if (set.unconverted.length > 0) {
        const list = set.unconverted.join(", ")
        yield* Console.error(`warning: no rate from ${list} to ${currency}: the store's ${list} subscriptions are left out of this report (give --fx FILE.csv to convert them)`)
      }
      const rows: ReadonlyArray<ReportRow> = dashboard ? [] : flags.details ? set.details : set[flags.kind as ReportKind]
      const text = dashboard && format === "json" ? JSON.stringify(Object.fromEntries(reportKinds.map((k) => [k, set[k]]))) + "\n"
        : dashboard && format === "html" ? revenueDashboardHtml({ currency, from: flags.from, to: flags.to, reports: set, unconverted: set.unconverted })
        : format === "csv" ? toCsv(rows)
        : format === "json" ? JSON.stringify(rows) + "\n"
        : format === "html" ? revenueReportHtml({ kind: flags.details ? "movement details" : flags.kind, currency, from: flags.from, to: flags.to, mrr: set.mrr, movements: set.movements, cohorts: set.cohorts, table: rows })
        : format === "table" ? toTable(rows, currency) + "\n"
        : ""
      if (binary) {
        // Every report of the period, one sheet each (and the movement details with --details), whichever KIND was named.
        const sheets = [...reportKinds.map((k) => ({ name: k, rows: set[k] })), ...(flags.details ? [{ name: "movement details", rows: set.details }] : [])]
        const write = (file: string) => format === "xlsx" ? writeReportsXlsx(file, sheets, currency) : toParquet(rows, file)
        if (Option.isSome(flags.out)) {
          yield* writeOutFileWith(flags.out.value, () => write(flags.out.pipe(Option.getOrThrow)))
          return yield* Console.error(`wrote ${flags.out.value}`)
        }
        // To stdout: written to a file of its own first (DuckDB and the workbook write files), then copied out whole.
        const bytes = yield* Effect.promise(async () => {
          const dir = mkdtempSync(join(tmpdir(), "billcycle-report-"))
          try {
            const file = join(dir, `report.${format}`)
            await write(file)
            return readFileSync(file)
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        })
        return yield* Effect.promise(() => new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve()))))
      }
      if (Option.isSome(flags.out)) {
        yield* writeOutFile(flags.out.value, text)
        yield* Console.error(`wrote ${flags.out.value}`)
      } else process.stdout.write(text)
    })
    // A report only reads: --read-db sends it to a replica, and the primary is not opened.
    return Option.isSome(flags.readDb) ? withReadReplica("--read-db", flags.readDb.value, report) : withApp(report)
  }
).pipe(Command.withDescription("Recurring revenue, movements, churn, retention, growth and cohorts per month"))
