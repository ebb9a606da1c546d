/** `billcycle report mrr|movements|churn|retention|cohorts|growth --from YYYY-MM --to YYYY-MM`. */
import { DuckDBInstance } from "@duckdb/node-api"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ReportKind, ReportRow } from "../../../reports/index.ts"
import { buildReport, reportKinds } from "../../../reports/index.ts"
import { formatCsv, loadSettings, runSql } from "../../store/index.ts"
import { isCurrencyCode } from "../../domain/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { renderTable } from "../table.ts"

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/
const formats = ["table", "csv", "json", "parquet", "html"] as const

const toCsv = (rows: ReadonlyArray<ReportRow>) => {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return formatCsv([cols, ...rows.map((r) => cols.map((c) => (r[c] === undefined ? "" : String(r[c]))))])
}

const toHtml = (kind: string, rows: ReadonlyArray<ReportRow>) => {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>billcycle ${esc(kind)} report</title>
<style>body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:32px;color:#1f2328}table{border-collapse:collapse}th,td{padding:6px 10px;border-bottom:1px solid #e5e7eb;text-align:right}th:first-child,td:first-child{text-align:left}</style>
</head><body><h1>${esc(kind)}</h1><table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>
${rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(String(r[c] ?? ""))}</td>`).join("")}</tr>`).join("\n")}</table></body></html>\n`
}

const toParquet = async (rows: ReadonlyArray<ReportRow>, out: string) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-parquet-"))
  try {
    const json = join(dir, "rows.json")
    writeFileSync(json, JSON.stringify(rows))
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
    kind: Argument.String("kind").pipe(Argument.withDescription(reportKinds.join(", "))),
    from: Flag.String("from").pipe(Flag.withDescription("first month, YYYY-MM")),
    to: Flag.String("to").pipe(Flag.withDescription("last month, YYYY-MM")),
    currency: Flag.String("currency").pipe(Flag.withDescription("report currency (default: the account's)"), Flag.optional),
    format: Flag.String("format").pipe(Flag.withDescription(formats.join(", ")), Flag.withDefault("table")),
    out: Flag.String("out").pipe(Flag.withDescription("write to FILE (required for parquet)"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      if (!(reportKinds as ReadonlyArray<string>).includes(flags.kind)) return yield* new UsageError({ message: `KIND: expected one of ${reportKinds.join(", ")}, got "${flags.kind}"` })
      if (!monthPattern.test(flags.from)) return yield* new UsageError({ message: `--from: expected a month YYYY-MM, got "${flags.from}"` })
      if (!monthPattern.test(flags.to)) return yield* new UsageError({ message: `--to: expected a month YYYY-MM, got "${flags.to}"` })
      if (flags.from > flags.to) return yield* new UsageError({ message: `--from: ${flags.from} is after --to ${flags.to}` })
      if (!(formats as ReadonlyArray<string>).includes(flags.format)) return yield* new UsageError({ message: `--format: expected one of ${formats.join(", ")}, got "${flags.format}"` })
      if (flags.format === "parquet" && Option.isNone(flags.out)) return yield* new UsageError({ message: "--out: parquet output needs a file" })
      const currency = Option.isSome(flags.currency) ? flags.currency.value.toUpperCase() : (yield* runSql(loadSettings)).currency
      if (!isCurrencyCode(currency)) return yield* new UsageError({ message: `--currency: "${currency}" is not an ISO 4217 code` })
      const rows = yield* runSql((sql) => buildReport(sql, { kind: flags.kind as ReportKind, from: flags.from, to: flags.to, currency }))
      const text = flags.format === "csv" ? toCsv(rows)
        : flags.format === "json" ? JSON.stringify(rows) + "\n"
        : flags.format === "html" ? toHtml(flags.kind, rows)
        : flags.format === "table" ? renderTable([...new Set(rows.flatMap((r) => Object.keys(r)))], rows.map((r) => Object.values(r).map(String))) + "\n"
        : ""
      if (flags.format === "parquet") {
        yield* Effect.promise(() => toParquet(rows, flags.out.pipe(Option.getOrThrow)))
        return yield* Console.error(`wrote ${Option.getOrThrow(flags.out)}`)
      }
      if (Option.isSome(flags.out)) {
        writeFileSync(flags.out.value, text)
        yield* Console.error(`wrote ${flags.out.value}`)
      } else process.stdout.write(text)
    }))
).pipe(Command.withDescription("Recurring revenue, movements, churn, retention, growth and cohorts per month"))
