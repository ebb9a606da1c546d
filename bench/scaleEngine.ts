/**
 * One engine process of the scale benchmark (bench/scale.ts starts 1, 2 or 4
 * of them together): the tick `billcycle engine --once --now DAY` runs
 * (settle, lifecycle, billing with its workers, charges, retries, reminders),
 * on the server database in DATABASE_URL, without the outbox's delivery:
 * rendering 400,000 receipts and notifications is the outbox's work, timed
 * apart (bench/simulate.ts's delivery run), not billing's. Prints the tick's
 * summary as one JSON line, with the process's CPU seconds (in all, and
 * in its tick).
 *
 * With `--ready`, the process loads its code and opens its connections, prints
 * `ready`, and starts the tick when a line arrives on stdin: the benchmark times
 * billing from the moment every engine can bill, apart from Node's start-up.
 * With `--warm-day D`, it first runs the tick of day D (its summary on a line
 * `warmed {…}`), then waits for another line before the tick of DAY: an engine
 * that has run a while, its code optimized and its connections warm.
 *
 *   DATABASE_URL=postgres://… node bench/scaleEngine.ts DAY BATCH [--ready] [--warm-day D] [--workers N]
 */
import { createInterface } from "node:readline"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { CalendarDate } from "../engine/domain/index.ts"
import { EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import { Database, resolveDatabaseTarget } from "../engine/sql/index.ts"

const [day, batch] = process.argv.slice(2)
const argOf = (name: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const workers = argOf("--workers") === undefined ? undefined : Number(argOf("--workers"))
/** A day billed first, before the timed one (the engine's warm-up: its JIT, its connections' first pages). */
const warmDay = argOf("--warm-day")
const database = Database.layer(resolveDatabaseTarget(undefined))
const layer = Layer.mergeAll(
  BusinessClock.fixed(dayTime((warmDay ?? day) as CalendarDate)),
  TickHooks.none,
  Gateway.simulated,
  Layer.succeed(EngineState, makeEngineState())
).pipe(Layer.provideMerge(database))
const scope = Scope.makeUnsafe()
const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
// The pool connects on first use: one query, so that `ready` means connected.
await Context.get(context, Database).sql`select 1`
const lines = process.argv.includes("--ready") ? createInterface({ input: process.stdin }) : undefined
const nextLine = () => lines === undefined ? Promise.resolve() : new Promise<void>((resolve) => lines.once("line", () => resolve()))
const cpuOf = (u: NodeJS.ResourceUsage) => (u.userCPUTime + u.systemCPUTime) / 1e6
const tick = async () => {
  const before = process.resourceUsage()
  const summary = await Effect.runPromise(runTick({ batch: Number(batch), ...(workers === undefined ? {} : { workers }) }).pipe(Effect.provide(context)))
  const usage = process.resourceUsage()
  return JSON.stringify({ ...summary, cpuSeconds: cpuOf(usage), tickCpuSeconds: cpuOf(usage) - cpuOf(before) })
}
if (lines !== undefined) console.log("ready")
await nextLine()
if (warmDay !== undefined) {
  console.log(`warmed ${await tick()}`)
  await nextLine()
  await Effect.runPromise(Context.get(context, BusinessClock).set(dayTime(day as CalendarDate)))
}
lines?.close()
console.log(await tick())
await Effect.runPromise(Scope.close(scope, Exit.void))
