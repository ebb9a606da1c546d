/**
 * `billcycle report mrr|movements|churn|retention|cohorts|growth|dashboard --from YYYY-MM --to YYYY-MM`.
 * `dashboard`: every report of the period on one page (html, the default), or all of them as one JSON object.
 * The format: `--format`, else `--out`'s extension, else the table (json with `--json`; html for the dashboard).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { extname, join } from "node:path"
import type { ReportKind, ReportRow } from "../../../reports/index.ts"
import { inFlags } from "../../domain/index.ts"
import { buildReports, buildReportsFromCopy, formatReportCell, readFxFile, readReportRequest, reportColumnKind, reportColumns, reportKinds, revenueDashboardHtml, revenueReportHtml, writeReportsXlsx } from "../../../reports/index.ts"
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
/** `--out FILE`'s extension names the format when `--format` does not; any other name is the table. */
const formatOfExtension: Record<string, string> = { ".csv": "csv", ".json": "json", ".parquet": "parquet", ".html": "html", ".xlsx": "xlsx" }

type Columns = ReadonlyArray<string>

const toCsv = (cols: Columns, rows: ReadonlyArray<ReportRow>) =>
  formatCsv([[...cols], ...rows.map((r) => cols.map((c) => (r[c] === undefined || r[c] === null ? "" : String(r[c]))))])

/** Aligned for a terminal: money with the currency's decimals, rates as percentages, numbers to the right. */
const toTable = (cols: Columns, rows: ReadonlyArray<ReportRow>, currency: string) =>
  renderTable([...cols], rows.map((r) => cols.map((c) => formatReportCell(c, r[c], currency))), cols.map((c) => (reportColumnKind(c) === "text" || reportColumnKind(c) === "day" ? "left" : "right")))

/**
 * Parquet's types are the report's, never guessed from the rows (a month of
 * whole amounts would make `mrr` an integer): amounts and rates DOUBLE (the
 * numbers CSV and JSON print: major units, fractions), counts BIGINT, months
 * and cohorts VARCHAR (YYYY-MM, as printed), the drill-down's day a DATE.
 */
const parquetType = { text: "VARCHAR", day: "DATE", count: "BIGINT", rate: "DOUBLE", money: "DOUBLE" } as const

const toParquet = async (cols: Columns, rows: ReadonlyArray<ReportRow>, out: string) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-parquet-"))
  const quote = (s: string) => `'${s.replaceAll("'", "''")}'`
  try {
    const json = join(dir, "rows.json")
    writeFileSync(json, JSON.stringify(rows))
    // Loaded here, not at start-up: only parquet output needs DuckDB in this file.
    const { DuckDBInstance } = await import("@duckdb/node-api")
    const instance = await DuckDBInstance.create(":memory:")
    const db = await instance.connect()
    try {
      const typed = cols.map((c) => [c, parquetType[reportColumnKind(c)]] as const)
      // The table first, so that a report without rows still has every column.
      await db.run(`create table report (${typed.map(([c, t]) => `"${c}" ${t}`).join(", ")})`)
      if (rows.length > 0) {
        await db.run(`insert into report select * from read_json(${quote(json)}, format = 'array', columns = {${typed.map(([c, t]) => `${quote(c)}: '${t}'`).join(", ")}})`)
      }
      await db.run(`copy report to ${quote(out)} (format parquet)`)
    } finally {
      db.closeSync()
      instance.closeSync()
    }
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
    out: Flag.String("out").pipe(Flag.withDescription("write to FILE; without --format its extension names the format (.csv, .json, .parquet, .html, .xlsx; else table). parquet and xlsx: to FILE, or to stdout redirected to a file"), Flag.optional),
    full: Flag.Boolean("full").pipe(Flag.withDescription("rebuild the analytics copy from scratch first (default: refresh it with what changed)"), Flag.withDefault(false)),
    analyticsDir: analyticsDirFlag,
    readDb: Flag.String("read-db").pipe(Flag.withDescription("read from this PostgreSQL URL, a read replica (or copy) of the store, instead of --db; nothing is written there"), Flag.optional)
  },
  (flags) => Effect.gen(function*() {
    // The flags are checked before the store is opened: a mistake in them is told whatever the store's state.
    const dashboard = flags.kind === "dashboard"
    if (!dashboard && !(reportKinds as ReadonlyArray<string>).includes(flags.kind)) {
      return yield* new UsageError({ message: `KIND: expected one of ${[...reportKinds, "dashboard"].join(", ")}, got "${flags.kind}"` })
    }
    // --format, else --out's extension (reports.xlsx is a workbook, never a text table in a .xlsx file), else the default.
    const named = Option.isSome(flags.out) ? formatOfExtension[extname(flags.out.value).toLowerCase()] : undefined
    if (Option.isSome(flags.format) && named !== undefined && flags.format.value !== named) {
      return yield* new UsageError({ message: `--format ${flags.format.value} disagrees with --out ${flags.out.pipe(Option.getOrThrow)} (a .${named} file): drop --format, or give --out a name that ends in the format's extension` })
    }
    const format = Option.isSome(flags.format) ? flags.format.value : named ?? ((yield* Json) ? "json" : dashboard ? "html" : "table")
    if (!(formats as ReadonlyArray<string>).includes(format)) return yield* new UsageError({ message: `--format: expected one of ${formats.join(", ")}, got "${format}"` })
    if (dashboard && !dashboardFormats.includes(format)) return yield* new UsageError({ message: `--format: the dashboard is ${dashboardFormats.join(" or ")}, got "${format}"` })
    if (dashboard && flags.details) return yield* new UsageError({ message: "--details: only the movements report has details" })
    // A binary format goes to --out FILE, or to stdout redirected to a file or a pipe (`> mrr.parquet`), never to a terminal.
    const binary = format === "parquet" || format === "xlsx"
    if (binary && Option.isNone(flags.out) && process.stdout.isTTY === true) {
      return yield* new UsageError({ message: `--out: ${format} is binary; give --out FILE or redirect stdout to a file` })
    }
    const report = Effect.gen(function*() {
      const request = readReportRequest({
        kind: dashboard ? "mrr" : flags.kind, from: flags.from, to: flags.to, details: flags.details,
        currency: Option.isSome(flags.currency) ? flags.currency.value : (yield* runSql(loadSettings)).currency
      })
      if ("problem" in request) return yield* new UsageError({ message: inFlags(request.problem) })
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
      const columnsOf = (kind: ReportKind | "details") => reportColumns(kind, flags.from, flags.to)
      const cols = dashboard ? [] : columnsOf(flags.details ? "details" : flags.kind as ReportKind)
      const text = dashboard && format === "json" ? JSON.stringify(Object.fromEntries(reportKinds.map((k) => [k, set[k]]))) + "\n"
        : dashboard && format === "html" ? revenueDashboardHtml({ currency, from: flags.from, to: flags.to, reports: set, unconverted: set.unconverted })
        : format === "csv" ? toCsv(cols, rows)
        : format === "json" ? JSON.stringify(rows) + "\n"
        : format === "html" ? revenueReportHtml({ kind: flags.details ? "movement details" : flags.kind, currency, from: flags.from, to: flags.to, mrr: set.mrr, movements: set.movements, cohorts: set.cohorts, table: rows, columns: cols, unconverted: set.unconverted })
        : format === "table" ? toTable(cols, rows, currency) + "\n"
        : ""
      if (binary) {
        // Every report of the period, one sheet each (and the movement details with --details), whichever KIND was named.
        const sheets = [...reportKinds.map((k) => ({ name: k, columns: columnsOf(k), rows: set[k] })), ...(flags.details ? [{ name: "movement details", columns: columnsOf("details"), rows: set.details }] : [])]
        const write = (file: string) => format === "xlsx" ? writeReportsXlsx(file, sheets, currency, set.unconverted) : toParquet(cols, rows, file)
        if (Option.isSome(flags.out)) {
          yield* writeOutFileWith(flags.out.value, write)
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
    return yield* Option.isSome(flags.readDb) ? withReadReplica("--read-db", flags.readDb.value, report) : withApp(report)
  })
).pipe(Command.withDescription("Recurring revenue, movements, churn, retention, growth and cohorts per month"))
