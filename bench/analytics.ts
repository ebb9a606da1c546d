/**
 * Analytics benchmark: 1,000,000 subscriptions over 36 months (bench/analyticsData.ts),
 * on the local PostgreSQL server, in USD with EUR and GBP converted by monthly rates.
 *
 * - billcycle: the whole report set (MRR, movements, churn, retention, growth,
 *   cohorts, drill-down) as `billcycle report` computes it, load included:
 *   COPY out of PostgreSQL into DuckDB, then the metric SQL in DuckDB;
 * - baseline, same run: the very same metric SQL (reports/metricSql.ts: the
 *   fact tables of every subscription and customer, then the reports from
 *   them) run inside PostgreSQL on the same tables, with its default settings.
 *
 * - the persisted analytics copy (reports/analyticsCopy.ts), in a process of its
 *   own (bench/analyticsCopyRun.ts): (a) the first full build of the DuckDB
 *   file; (b) a simulated day of changes to 1% of the subscriptions (a new item
 *   version for each, a cancellation for half of them, every change with its
 *   journal event through writeJournal), then `billcycle report`'s path: refresh
 *   the copy, compute the whole report set; then here (c) the same metric SQL
 *   inside PostgreSQL (the baseline above) on the changed store.
 *
 * Both must give the same month-end MRR and movements; the ratio is the point.
 * For scale it also times PostgreSQL writing the four input tables as CSV to
 * /dev/null on the server: the least any load out of PostgreSQL can take.
 *
 *   node bench/analytics.ts [--subscriptions N] [--regenerate] [--rounds N]
 */
import { Effect, Exit, Scope } from "effect"
import { spawnSync } from "node:child_process"
import { loadavg } from "node:os"
import { join } from "node:path"
import { aggregateStatements, compactStatements, buildReports, monthIndex, monthlyTotalsSql, cohortSql, cohortSizesSql, customerStatements, factTables, factTableStatements, reportStatements, reportTables, reportViews, subscriptionStatements, rateTable, snapshotTables } from "../reports/index.ts"
import { openDatabase } from "../engine/sql/index.ts"
import { analyticsRates, generateAnalyticsHistory } from "./analyticsData.ts"
import { fmt, writeResults } from "./harness.ts"

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const N = arg("--subscriptions", 1_000_000)
const url = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
const schema = `bench_analytics_${N}`
const from = "2024-01", to = "2026-12"
const rounds = arg("--rounds", 2)

// The machine's load when the run starts and ends: on a shared machine the figures are only as good as it was quiet.
const loadAtStart = loadavg().map((x) => Number(x.toFixed(2)))
const scope = Scope.makeUnsafe()
const db = await Effect.runPromise(openDatabase({ _tag: "Server", url, schema }).pipe(Scope.provide(scope)))
const sql = db.sql
try {
  const [have] = await sql<Array<{ n: number }>>`select count(*)::int as n from subscriptions`
  let generated: Record<string, number> | undefined
  let generateSeconds = 0
  if (have!.n !== N || process.argv.includes("--regenerate")) {
    await sql.unsafe(`truncate contacts, subscriptions, item_versions, line_items, status_history cascade`)
    const t0 = performance.now()
    generated = await generateAnalyticsHistory(sql, N)
    generateSeconds = (performance.now() - t0) / 1000
    console.log(`generated ${JSON.stringify(generated)} in ${generateSeconds.toFixed(1)} s`)
  } else console.log(`reusing ${fmt(N)} generated subscriptions in schema ${schema}`)
  const [rows] = await sql<Array<Record<string, number>>>`
    select (select count(*) from subscriptions)::int as subscriptions, (select count(*) from item_versions)::int as item_versions,
           (select count(*) from line_items)::int as line_items, (select count(*) from status_history)::int as status_history`
  const fx = { file: "bench rates", rates: analyticsRates() }

  // billcycle: load + DuckDB, as `billcycle report` does it.
  const runBillcycle = async (details: boolean) => {
    const t0 = performance.now()
    const set = await buildReports(sql, { from, to, currency: "USD", fx, details })
    const run = { seconds: (performance.now() - t0) / 1000, loadSeconds: set.timings.loadMs / 1000 }
    console.log(`billcycle report${details ? " --details" : ""} (load + DuckDB): ${run.seconds.toFixed(2)} s (load ${run.loadSeconds.toFixed(2)} s)`)
    return { set, run }
  }

  // A floor, for scale: PostgreSQL producing the report's inputs as CSV by itself, written on the server to
  // /dev/null (no client, no network). Needs a superuser or pg_write_server_files; null when not allowed.
  const runCopyFloor = async (): Promise<number | null> => {
    try {
      const t = performance.now()
      await sql.begin("isolation level repeatable read read only", async (tx) => {
        for (const table of snapshotTables.filter((x) => x.name !== "contacts")) await tx.unsafe(`copy (${table.select}) to '/dev/null' with (format csv)`)
      })
      const seconds = (performance.now() - t) / 1000
      console.log(`PostgreSQL's own COPY of the inputs to /dev/null on the server: ${seconds.toFixed(2)} s`)
      return seconds
    } catch (e) {
      console.log(`(no server-side COPY floor: ${(e as Error).message})`)
      return null
    }
  }

  // Baseline: the same statements inside PostgreSQL.
  const runPostgres = async () => {
    const t1 = performance.now()
    const totals = await sql.begin(async (tx) => {
      const [span] = await tx<Array<{ first: string }>>`select least((select min(effective_on) from status_history), (select min(effective_from) from item_versions))::text as first`
      const firstK = Math.min(monthIndex(from) - 7, monthIndex(span!.first.slice(0, 7)))
      const currencies = (await tx<Array<{ currency: string }>>`select distinct currency from subscriptions`).map((r) => r.currency)
      const rates = rateTable({ file: fx.file, rates: fx.rates, reportCurrency: "USD", currencies: [...new Set(["USD", ...currencies])], firstK, reportFromK: monthIndex(from), lastK: monthIndex(to) })
      await tx`create temp table rpt_fx (currency text, k integer, rate float8) on commit drop`
      await tx`create temp table rpt_months (k integer, month text) on commit drop`
      await tx`insert into rpt_fx select * from unnest(${rates.map((r) => r.currency)}::text[], ${rates.map((r) => r.k)}::int[], ${rates.map((r) => r.rate)}::float8[])`
      await tx`insert into rpt_months select k, to_char(date '0001-01-01' + make_interval(years => k / 12 - 1, months => k % 12), 'YYYY-MM') from generate_series(${firstK}::int, ${monthIndex(to)}::int) k`
      // The fact tables of every subscription and customer, then the reports from them: what a copy's rebuild and a report do.
      for (const statement of [...factTableStatements(true), ...subscriptionStatements(), ...customerStatements({ into: "f" }), ...aggregateStatements("+"), ...compactStatements(), ...reportStatements(true, [...new Set(["USD", ...currencies])].sort())]) await tx.unsafe(statement)
      const result = await tx.unsafe(monthlyTotalsSql([...new Set(["USD", ...currencies])].sort()))
      await tx.unsafe(cohortSql)
      await tx.unsafe(cohortSizesSql)
      // The temp tables and views go, so that the next round starts clean.
      for (const view of reportViews) await tx.unsafe(`drop view ${view}`)
      for (const table of [...reportTables, ...factTables.map((t) => t.name)]) await tx.unsafe(`drop table ${table}`)
      return result as unknown as Array<Record<string, number>>
    })
    const seconds = (performance.now() - t1) / 1000
    console.log(`same metric SQL inside PostgreSQL: ${seconds.toFixed(2)} s`)
    return { totals, seconds }
  }

  // Two rounds, each side in turn, so that a noisy spell on this shared machine does not favour either; the
  // best of each side is compared. Then the drill-down once, as `--details` does it.
  const runs: Array<{ seconds: number; loadSeconds: number }> = []
  const pgRuns: Array<number> = []
  const floors: Array<number> = []
  let duck: Awaited<ReturnType<typeof buildReports>> | undefined
  let pg: Array<Record<string, number>> = []
  for (let round = 0; round < rounds; round++) {
    const b = await runBillcycle(false)
    duck = b.set
    runs.push(b.run)
    const p = await runPostgres()
    pg = p.totals
    pgRuns.push(p.seconds)
    const floor = await runCopyFloor()
    if (floor !== null) floors.push(floor)
  }
  const { run: detailsRun, set: detailsSet } = await runBillcycle(true)
  const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b))
  const pgSeconds = Math.min(...pgRuns)
  const copyFloor = floors.length === 0 ? null : Math.min(...floors)

  // The persisted copy, in a process of its own as `billcycle analytics rebuild` and `billcycle report` run (this one
  // holds the report sets above, whose garbage made the build 0.5–0.8 s slower): (a) the first full build of the file;
  // a day of changes; (b) `report`'s refresh and reports; the refreshed copy checked against a rebuild.
  // The baseline's temporary files are still being written back: the copy's run starts once they are on disk.
  spawnSync("sync")
  const child = spawnSync(process.execPath, [...process.execArgv, join(import.meta.dirname, "analyticsCopyRun.ts"), schema, url], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })
  const lines = child.stdout.trim().split("\n")
  for (const line of lines.slice(0, -1)) console.log(line)
  if (child.status !== 0) throw new Error(`the copy's run failed (exit ${child.status})`)
  const copyRun = JSON.parse(lines[lines.length - 1]!) as { buildSeconds: number; day: { versions: number; cancellations: number }; refreshSeconds: number; refreshMs: number; computeMs: number; unchangedSeconds: number }
  // (c) the same metric SQL inside PostgreSQL, on the changed store.
  const p = await runPostgres()
  console.log(`(c) same metric SQL inside PostgreSQL: ${p.seconds.toFixed(2)} s; (c)/(b) = ${(p.seconds / copyRun.refreshSeconds).toFixed(1)}× (goals: (a) ≤ 6.7–8.7 s, (b) < 1.0 s, (c)/(b) ≥ 10×)`)
  const copyFigures = {
    copyBuildSeconds: Number(copyRun.buildSeconds.toFixed(2)), dayOfChanges: copyRun.day, refreshAndReportsSeconds: Number(copyRun.refreshSeconds.toFixed(2)),
    refreshSeconds: Number((copyRun.refreshMs / 1000).toFixed(2)), refreshComputeSeconds: Number((copyRun.computeMs / 1000).toFixed(2)),
    unchangedRefreshAndReportsSeconds: Number(copyRun.unchangedSeconds.toFixed(2)), postgresAfterDaySeconds: Number(p.seconds.toFixed(2)),
    copyRatio: Number((p.seconds / copyRun.refreshSeconds).toFixed(1)), copyEqualsRebuild: true
  }

  // The two must agree.
  const byK = new Map(pg.map((r) => [Number(r["k"]), r]))
  let maxDiff = 0
  duck!.movements.forEach((row, i) => {
    const p = byK.get(monthIndex(from) + i)!
    maxDiff = Math.max(maxDiff, Math.abs(Number(row["mrr_end"]) - Number(p["mrr_end"]) / 100), Math.abs(Number(row["churn"]) - Number(p["churn"]) / 100))
  })
  if (maxDiff > 0.05) throw new Error(`DuckDB and PostgreSQL disagree by ${maxDiff}`)
  const last = duck!.mrr[duck!.mrr.length - 1]!
  const ratio = pgSeconds / best.seconds
  console.log(`rows: ${JSON.stringify(rows)}`)
  console.log(`final month ${String(last["month"])}: MRR ${fmt(Number(last["mrr"]))} USD, ${fmt(Number(last["subscribers"]))} subscribers; ${fmt(detailsSet.details.length)} customer-day movements`)
  console.log(`billcycle ${best.seconds.toFixed(2)} s vs PostgreSQL ${pgSeconds.toFixed(2)} s: ${ratio.toFixed(1)}× faster (goal: under 10 s and at least 10×)`)
  console.log(`10× would mean the whole report, load included, in ${(pgSeconds / 10).toFixed(2)} s${copyFloor === null ? "" : `; PostgreSQL alone takes ${copyFloor.toFixed(2)} s to produce its inputs`}`)
  writeResults("analytics", {
    subscriptions: N, months: 36, rows, generated: generated ?? null, generateSeconds: generated === undefined ? null : Number(generateSeconds.toFixed(1)),
    billcycleSeconds: Number(best.seconds.toFixed(2)), billcycleLoadSeconds: Number(best.loadSeconds.toFixed(2)), withDetailsSeconds: Number(detailsRun.seconds.toFixed(2)), runs, postgresRuns: pgRuns,
    postgresSeconds: Number(pgSeconds.toFixed(2)), ratio: Number(ratio.toFixed(1)), postgresCopyFloorSeconds: copyFloor === null ? null : Number(copyFloor.toFixed(2)), maxDifference: maxDiff,
    finalMonth: last, movements: detailsSet.details.length, ...copyFigures,
    loadAverage: { start: loadAtStart, end: loadavg().map((x) => Number(x.toFixed(2))) }
  })
} finally {
  await Effect.runPromise(Scope.close(scope, Exit.void))
}
