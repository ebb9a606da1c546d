/**
 * Engine benchmark: N monthly subscriptions (default 100,000) due on one day,
 * one `engine --once` tick against the local PostgreSQL server: renewals per
 * second (invoice + lines + charge attempt + gateway ledger + events +
 * messages) and peak memory. Beside it, in the same run, pgbench's TPS on the
 * same server (TPC-B-like, 2 clients): the ratio says how many renewals the
 * engine completes per simple pgbench transaction.
 *
 *   node bench/engine.ts [--subscriptions N] [--batch N]
 */
import { Effect, Layer } from "effect"
import { EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import type { CalendarDate } from "../engine/domain/index.ts"
import { fmt, pgbenchTps, writeResults } from "./harness.ts"
import { Database, openDatabase } from "../engine/sql/index.ts"
import { Exit, Scope } from "effect"
import { seedDueSubscriptions } from "../test/seed.ts"

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const N = arg("--subscriptions", 100_000)
const batch = arg("--batch", 1000)
const url = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
process.env["DATABASE_URL"] = url

const schema = `bench_engine_${Date.now().toString(36)}`
const scope = Scope.makeUnsafe()
const db = await Effect.runPromise(openDatabase({ _tag: "Server", url, schema }).pipe(Scope.provide(scope)))
const t = { db, layer: Layer.succeed(Database, db), close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
try {
  const seedStart = performance.now()
  await seedDueSubscriptions(t.db.sql, { count: N, due: "2026-03-01" })
  console.log(`seeded ${fmt(N)} subscriptions in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`)
  const rssBefore = process.memoryUsage().rss
  let peakRss = rssBefore
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 50)
  const engineState = makeEngineState()
  const layer = Layer.mergeAll(t.layer, BusinessClock.fixed(dayTime("2026-03-01" as CalendarDate)), TickHooks.none, Gateway.simulated.pipe(Layer.provide(t.layer)), Layer.succeed(EngineState, engineState))
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const summary = await Effect.runPromise(runTick({ batch }).pipe(Effect.provide(layer)))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const engineCpuShare = (cpu.user + cpu.system) / 1e6 / seconds
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  if (summary.invoiced !== N || summary.charged !== N) throw new Error(`expected ${N} renewals, got ${JSON.stringify(summary)}`)
  const [counts] = await t.db.sql<Array<{ invoices: number; events: number; outbox: number; ledger: number }>>`
    select (select count(*) from invoices)::int as invoices, (select count(*) from events)::int as events,
           (select count(*) from outbox)::int as outbox, (select count(*) from sim_gateway_ledger)::int as ledger`
  const rate = N / seconds

  // pgbench on the same server, same run: the baseline.
  const tps = await pgbenchTps()
  console.log(`engine --once: ${fmt(N)} monthly renewals due on one day (batch ${batch})`)
  console.log(`  ${seconds.toFixed(2)} s  ${fmt(rate)} renewals/s  (${fmt(counts!.invoices)} invoices, ${fmt(counts!.events)} events, ${fmt(counts!.outbox)} messages, ${fmt(counts!.ledger)} gateway charges)`)
  console.log(`  engine process CPU: ${(engineCpuShare * 100).toFixed(0)}% of one core (the rest of the time it waits on PostgreSQL)`)
  console.log(`  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB (process at start ${(rssBefore / 2 ** 20).toFixed(0)} MB)`)
  console.log(`  steps: ${[...engineState.stepTimings()].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${(v.ms / 1000).toFixed(2)} s`).join(", ")}`)
  console.log(`  pgbench (TPC-B-like, 2 clients, 10 s): ${fmt(tps)} tps; renewals per pgbench transaction: ${(rate / tps).toFixed(2)}`)
  writeResults("engine", {
    subscriptions: N, batch, seconds, engineCpuShare, renewalsPerSecond: Math.round(rate), peakRssMb: Math.round(peakRss / 2 ** 20),
    pgbenchTps: tps, ratioToPgbenchTps: rate / tps, rows: counts,
    stepSeconds: Object.fromEntries([...engineState.stepTimings()].map(([k, v]) => [k, Number((v.ms / 1000).toFixed(2))]))
  })
} finally {
  await t.db.sql.unsafe(`drop schema ${schema} cascade`)
  await t.close()
}
