/**
 * One engine process of the scale benchmark (bench/scale.ts starts 1, 2 or 4
 * of them together): the tick `billcycle engine --once --now DAY` runs
 * (settle, lifecycle, billing with its workers, charges, retries, reminders),
 * on the server database in DATABASE_URL, without the outbox's delivery:
 * rendering 400,000 receipts and notifications is the outbox's work, timed
 * apart (bench/simulate.ts's delivery run), not billing's. Prints the tick's
 * summary as one JSON line.
 *
 *   DATABASE_URL=postgres://… node bench/scaleEngine.ts DAY BATCH
 */
import { Effect, Layer } from "effect"
import type { CalendarDate } from "../engine/domain/index.ts"
import { EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import { Database, resolveDatabaseTarget } from "../engine/sql/index.ts"

const [day, batch] = process.argv.slice(2)
const database = Database.layer(resolveDatabaseTarget(undefined))
const layer = Layer.mergeAll(
  BusinessClock.fixed(dayTime(day as CalendarDate)),
  TickHooks.none,
  Gateway.simulated,
  Layer.succeed(EngineState, makeEngineState())
).pipe(Layer.provideMerge(database))
const summary = await Effect.runPromise(runTick({ batch: Number(batch) }).pipe(Effect.provide(layer)))
console.log(JSON.stringify(summary))
