/**
 * Simulation benchmark: a year of billing for N subscriptions (default
 * 10,000, anchors spread over January, reminders on, a quarter of them on
 * pm_fail_once) with the day-by-day simulator's tick, on the embedded
 * database (what `billcycle simulate` uses by default) and on the PostgreSQL
 * server. Goal: under 45 s for the year (issue #19), with pgbench's TPS on
 * the same server in the same run beside it (these 2-core machines differ). This is the engine's work (billing,
 * charges, retries, reminders, lifecycle); the outbox's delivery is measured
 * apart, over the first month on the embedded database, rendering every
 * email and writing it as an .eml file, as `billcycle simulate` does.
 *
 *   node bench/simulate.ts [--subscriptions N] [--days D] [--delivery-days D] [--only embedded|server] [--batch B]
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { addDays } from "../engine/billing/index.ts"
import type { CalendarDate } from "../engine/domain/index.ts"
import { engineHooksLayer, EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import type { DatabaseTarget } from "../engine/sql/index.ts"
import { Database, openDatabase } from "../engine/sql/index.ts"
import { fmt, pgbenchTps, writeResults } from "./harness.ts"
import { seedDueSubscriptions } from "../test/seed.ts"

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const N = arg("--subscriptions", 10_000)
const days = arg("--days", 365)
const first = "2026-01-01" as CalendarDate

const simulateYear = async (label: string, target: DatabaseTarget, options: { days: number; mailDir?: string } = { days }) => {
  const days = options.days
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase(target).pipe(Scope.provide(scope)))
  try {
    await seedDueSubscriptions(db.sql, { count: N, due: first, spreadDays: 28, reminders: true, paymentMethods: ["pm_ok", "pm_ok", "pm_ok", "pm_fail_once"] })
    const program = Effect.gen(function*() {
      const clock = yield* BusinessClock
      let invoiced = 0
      let delivered = 0
      for (let i = 0; i < days; i++) {
        yield* clock.set(dayTime(addDays(first, i)))
        const s = yield* runTick({ batch: arg("--batch", 1000) })
        invoiced += s.invoiced
        delivered += s.delivered
      }
      return { invoiced, delivered }
    })
    const hooks = options.mailDir === undefined ? TickHooks.none : engineHooksLayer(undefined, options.mailDir).pipe(Layer.provide(Layer.succeed(Database, db)))
    const engineState = makeEngineState()
    const layer = Layer.mergeAll(Layer.succeed(Database, db), BusinessClock.fixed(dayTime(first)), hooks, Gateway.simulated.pipe(Layer.provide(Layer.succeed(Database, db))), Layer.succeed(EngineState, engineState))
    const t0 = performance.now()
    const { invoiced, delivered } = await Effect.runPromise(program.pipe(Effect.provide(layer)))
    const seconds = (performance.now() - t0) / 1000
    const steps = [...engineState.stepTimings().entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)
    console.log(`    slowest steps: ${steps.map(([k, v]) => `${k} ${(v.ms / 1000).toFixed(1)} s/${v.calls}`).join(", ")}`)
    console.log(`  ${label.padEnd(10)} ${seconds.toFixed(1)} s for ${days} days, ${fmt(invoiced)} invoices${delivered > 0 ? `, ${fmt(delivered)} emails delivered` : ""} (${fmt(invoiced / seconds)} invoices/s, ${(seconds * 1000 / days).toFixed(0)} ms/day)`)
    return { seconds, invoiced, delivered }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

console.log(`simulate: ${fmt(N)} monthly subscriptions over ${days} days`)
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined
const dir = mkdtempSync(join(tmpdir(), "billcycle-sim-"))
const embedded = only === "server" ? null : await simulateYear("embedded", { _tag: "Embedded", dataDir: join(dir, "db"), longRunning: true })
const deliveryDays = arg("--delivery-days", 31)
const withDelivery = only === "server" ? null : await simulateYear("delivery", { _tag: "Embedded", dataDir: join(dir, "db2"), longRunning: true }, { days: deliveryDays, mailDir: join(dir, "mail") })
rmSync(dir, { recursive: true, force: true })
const url = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
const schema = `bench_sim_${Date.now().toString(36)}`
const server = only === "embedded" ? null : await simulateYear("server", { _tag: "Server", url, schema })
if (server !== null) {
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase({ _tag: "Server", url, schema }).pipe(Scope.provide(scope)))
  await db.sql.unsafe(`drop schema ${schema} cascade`)
  await Effect.runPromise(Scope.close(scope, Exit.void))
}
const tps = only === "embedded" ? NaN : await pgbenchTps()
if (!Number.isNaN(tps)) {
  console.log(`  pgbench (TPC-B-like, 2 clients, 10 s): ${fmt(tps)} tps${server === null ? "" : `; server: ${(server.invoiced / server.seconds / tps).toFixed(2)} invoices per pgbench transaction`}`)
}
writeResults("simulate", { subscriptions: N, days, embedded, server, goalSeconds: 45, pgbenchTps: tps, withDelivery: withDelivery === null ? null : { days: deliveryDays, ...withDelivery } })
