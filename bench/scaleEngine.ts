/**
 * One engine process of the scale benchmark (bench/scale.ts starts 1, 2 or 4
 * of them together): the tick `billcycle engine --once --now DAY` runs
 * (settle, lifecycle, billing with its workers, charges, retries, reminders),
 * on the server database in DATABASE_URL, without the outbox's delivery:
 * rendering 400,000 receipts and notifications is the outbox's work, timed
 * apart (bench/simulate.ts's delivery run), not billing's. Prints the tick's
 * summary as one JSON line, with the process's CPU seconds.
 *
 * With `--ready`, the process loads its code and opens its connections, prints
 * `ready`, and starts the tick when a line arrives on stdin: the benchmark times
 * billing from the moment every engine can bill, apart from Node's start-up.
 *
 *   DATABASE_URL=postgres://… node bench/scaleEngine.ts DAY BATCH [--ready] [--workers N]
 */
import { createInterface } from "node:readline"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { CalendarDate } from "../engine/domain/index.ts"
import { EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import { Database, resolveDatabaseTarget } from "../engine/sql/index.ts"

const [day, batch] = process.argv.slice(2)
const workersAt = process.argv.indexOf("--workers")
const workers = workersAt >= 0 ? Number(process.argv[workersAt + 1]) : undefined
const database = Database.layer(resolveDatabaseTarget(undefined))
const layer = Layer.mergeAll(
  BusinessClock.fixed(dayTime(day as CalendarDate)),
  TickHooks.none,
  Gateway.simulated,
  Layer.succeed(EngineState, makeEngineState())
).pipe(Layer.provideMerge(database))
const scope = Scope.makeUnsafe()
const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
// The pool connects on first use: one query, so that `ready` means connected.
await Context.get(context, Database).sql`select 1`
if (process.argv.includes("--ready")) {
  console.log("ready")
  const lines = createInterface({ input: process.stdin })
  await new Promise<void>((resolve) => lines.once("line", () => resolve()))
  lines.close()
}
const summary = await Effect.runPromise(runTick({ batch: Number(batch), ...(workers === undefined ? {} : { workers }) }).pipe(Effect.provide(context)))
const usage = process.resourceUsage()
console.log(JSON.stringify({ ...summary, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }))
await Effect.runPromise(Scope.close(scope, Exit.void))
