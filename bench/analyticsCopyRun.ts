/**
 * The persisted analytics copy's part of bench/analytics.ts, in a process of its own (as `billcycle analytics
 * rebuild` and `billcycle report` each run in one), on the benchmark's store: (a) the first full build of the
 * DuckDB file; a simulated day of changes to 1% of the subscriptions; (b) `billcycle report`'s path, the refresh of
 * the copy and the whole report set from it; the same again with nothing changed; and the refreshed copy's reports
 * checked against a copy rebuilt from scratch. Prints its lines, then its figures as JSON on the last line.
 *
 *   node bench/analyticsCopyRun.ts SCHEMA URL
 */
import { Effect, Exit, Scope } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildReportsFromCopy, computeReports, openCopy, rebuildCopy } from "../reports/index.ts"
import { openDatabase, writeJournal } from "../engine/sql/index.ts"
import type { Sql } from "../engine/sql/index.ts"
import { analyticsRates } from "./analyticsData.ts"
import { fmt } from "./harness.ts"

const [schema, url] = process.argv.slice(2) as [string, string]
const from = "2024-01", to = "2026-12"

/**
 * A day of changes to 1% of the subscriptions, as the store's writers make them: each gets a new item version
 * (and its line), every other one is canceled; every change writes its journal event through writeJournal.
 */
const simulateDay = async (sql: Sql) => {
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
    return { versions: versions.length, cancellations: live.length }
  })
}

const scope = Scope.makeUnsafe()
const db = await Effect.runPromise(openDatabase({ _tag: "Server", url, schema }).pipe(Scope.provide(scope)))
const sql = db.sql
const fx = { file: "bench rates", rates: analyticsRates() }
const copyDir = mkdtempSync(join(tmpdir(), "billcycle-bench-copy-"))
const copyFile = join(copyDir, "analytics.duckdb")
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
  const day = await simulateDay(sql)
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
  // A rebuild must give the same reports.
  const check = (await openCopy(join(copyDir, "check.duckdb")))!
  await rebuildCopy(sql, check.db)
  const { timings: _a, ...rebuilt } = await computeReports(check.db, { from, to, currency: "USD", fx })
  check.db.closeSync()
  check.instance.closeSync()
  const { timings: _b, ...incremental } = fromCopy.set
  if (JSON.stringify(rebuilt) !== JSON.stringify(incremental)) throw new Error("the refreshed copy and a rebuild disagree")
  console.log("refreshed copy = rebuild: yes")
  console.log(JSON.stringify({ buildSeconds, day, refreshSeconds, refreshMs: fromCopy.refresh!.ms, computeMs: fromCopy.set.timings.computeMs, unchangedSeconds }))
} finally {
  if (existsSync(copyDir)) rmSync(copyDir, { recursive: true, force: true })
  await Effect.runPromise(Scope.close(scope, Exit.void))
}
