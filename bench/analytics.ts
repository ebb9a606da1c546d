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
 * - the persisted analytics copy (reports/analyticsCopy.ts): (a) the first full
 *   build of the DuckDB file; (b) a simulated day of changes to 1% of the
 *   subscriptions (a new item version for each, a cancellation for half of
 *   them, every change with its journal event through writeJournal), then
 *   `billcycle report`'s path: refresh the copy, compute the whole report set;
 *   (c) the same metric SQL inside PostgreSQL (the baseline above).
 *
 * Both must give the same month-end MRR and movements; the ratio is the point.
 * For scale it also times PostgreSQL writing the four input tables as CSV to
 * /dev/null on the server: the least any load out of PostgreSQL can take.
 *
 *   node bench/analytics.ts [--subscriptions N] [--regenerate] [--rounds N]
 */
import { Effect, Exit, Scope } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { aggregateStatements, compactStatements, buildReports, buildReportsFromCopy, computeReports, openCopy, rebuildCopy, monthIndex, monthlyTotalsSql, cohortSql, cohortSizesSql, customerStatements, factTables, factTableStatements, reportStatements, reportTables, reportViews, subscriptionStatements, rateTable, snapshotTables } from "../reports/index.ts"
import { openDatabase, writeJournal } from "../engine/sql/index.ts"
import type { Sql } from "../engine/sql/index.ts"
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

/**
 * A day of changes to 1% of the subscriptions, as the store's writers make them: each gets a new item version
 * (and its line), every other one is canceled; every change writes its journal event through writeJournal.
 */
const simulateDay = async (sql: Sql, n: number) => {
  const r = Math.floor(Math.random() * 100)
  const on = "2026-12-10"
  return await sql.begin(async (txx) => {
    const tx = txx as unknown as Sql
    const versions = await tx<Array<{ subscription_id: number; version: number }>>`
      insert into item_versions (subscription_id, version, effective_from)
      select subscription_id, max(version) + 1, ${on}::date from item_versions where subscription_id % 100 = ${r} group by subscription_id
      returning subscription_id, version`
    await tx`
      insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, one_time)
      select * from unnest(${versions.map((v) => v.subscription_id)}::int8[], ${versions.map((v) => v.version)}::int[]) as u(s, v),
             lateral (select 1, 'plan', 1234 + (u.s % 50) * 100, 1, false) x`
    await writeJournal(txx as never, versions.map((v) => ({ type: "subscription.items_changed", subscriptionId: v.subscription_id, occurredOn: on, data: { version: v.version } })), "cli")
    const cancel = await tx<Array<{ id: number; status: string }>>`
      select distinct on (subscription_id) subscription_id as id, to_status as status from status_history
      where subscription_id % 200 = ${r} order by subscription_id, effective_on desc, id desc`
    const live = cancel.filter((c) => c.status !== "canceled" && c.status !== "expired")
    await tx`update subscriptions set status = 'canceled', canceled_on = ${on} where id = any(${live.map((c) => c.id)}::int8[])`
    await writeJournal(txx as never, live.map((c) => ({ type: "subscription.status_changed", subscriptionId: c.id, occurredOn: on, data: { from: c.status, to: "canceled" } })), "cli")
    void n
    return { versions: versions.length, cancellations: live.length }
  })
}

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

  // The persisted copy. (a) The first full build of the file.
  const copyDir = mkdtempSync(join(tmpdir(), "billcycle-bench-copy-"))
  const copyFile = join(copyDir, "analytics.duckdb")
  let copyFigures: Record<string, unknown> = {}
  try {
    const opened = (await openCopy(copyFile))!
    const tA = performance.now()
    await rebuildCopy(sql, opened.db)
    const buildSeconds = (performance.now() - tA) / 1000
    opened.db.closeSync()
    opened.instance.closeSync()
    console.log(`(a) first full build of the persisted copy: ${buildSeconds.toFixed(2)} s`)
    // A day of changes to 1% of the subscriptions, each with its journal event.
    const tD = performance.now()
    const day = await simulateDay(sql, N)
    console.log(`simulated a day: ${fmt(day.versions)} new item versions, ${fmt(day.cancellations)} cancellations (${((performance.now() - tD) / 1000).toFixed(1)} s, not timed)`)
    // (b) `billcycle report`: refresh the copy, then the whole report set from it.
    const tB = performance.now()
    const fromCopy = await buildReportsFromCopy(sql, { from, to, currency: "USD", fx }, { file: copyFile })
    const refreshSeconds = (performance.now() - tB) / 1000
    console.log(`(b) refresh (${fromCopy.refresh!.mode}: ${fmt(fromCopy.refresh!.subscriptions)} subscriptions, ${(fromCopy.refresh!.ms / 1000).toFixed(2)} s) + whole report set: ${refreshSeconds.toFixed(2)} s`)
    // Again with nothing changed.
    const tN = performance.now()
    const unchanged = await buildReportsFromCopy(sql, { from, to, currency: "USD", fx }, { file: copyFile })
    const unchangedSeconds = (performance.now() - tN) / 1000
    console.log(`    again, nothing changed (${unchanged.refresh!.mode}, ${(unchanged.refresh!.ms / 1000).toFixed(2)} s) + whole report set: ${unchangedSeconds.toFixed(2)} s`)
    // (c) the same metric SQL inside PostgreSQL, on the changed store; and a rebuild must give the same reports.
    const p = await runPostgres()
    const check = (await openCopy(join(copyDir, "check.duckdb")))!
    await rebuildCopy(sql, check.db)
    const { timings: _a, ...rebuilt } = await computeReports(check.db, { from, to, currency: "USD", fx })
    check.db.closeSync()
    check.instance.closeSync()
    const { timings: _b, ...incremental } = fromCopy.set
    if (JSON.stringify(rebuilt) !== JSON.stringify(incremental)) throw new Error("the refreshed copy and a rebuild disagree")
    console.log(`(c) same metric SQL inside PostgreSQL: ${p.seconds.toFixed(2)} s; (c)/(b) = ${(p.seconds / refreshSeconds).toFixed(1)}× (goals: (a) ≤ 6.7–8.7 s, (b) < 1.0 s, (c)/(b) ≥ 10×); refreshed copy = rebuild: yes`)
    copyFigures = {
      copyBuildSeconds: Number(buildSeconds.toFixed(2)), dayOfChanges: day, refreshAndReportsSeconds: Number(refreshSeconds.toFixed(2)),
      refreshSeconds: Number((fromCopy.refresh!.ms / 1000).toFixed(2)), refreshComputeSeconds: Number((fromCopy.set.timings.computeMs / 1000).toFixed(2)),
      unchangedRefreshAndReportsSeconds: Number(unchangedSeconds.toFixed(2)), postgresAfterDaySeconds: Number(p.seconds.toFixed(2)),
      copyRatio: Number((p.seconds / refreshSeconds).toFixed(1)), copyEqualsRebuild: true
    }
  } finally {
    if (existsSync(copyDir)) rmSync(copyDir, { recursive: true, force: true })
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
