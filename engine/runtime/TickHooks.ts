/**
 * What other rooms plug into the engine's tick: running the rules over new
 * events and delivering the outbox. The default does neither, so the billing
 * core can run (and be tested) alone.
 */
import { Context, Effect, Layer } from "effect"
import type { EngineContext } from "../account/index.ts"
import type { DatabaseError } from "../sql/index.ts"

export class TickHooks extends Context.Service<TickHooks, {
  readonly runRules: (ctx: EngineContext) => Effect.Effect<number, DatabaseError>
  /** `now` is the tick's business instant (epoch milliseconds): what is due, and when a retry is due, are measured on it. */
  readonly deliverOutbox: (ctx: EngineContext, now: number) => Effect.Effect<number, DatabaseError>
}>()("billcycle/engine/runtime/TickHooks") {
  static readonly none = Layer.succeed(TickHooks, {
    runRules: () => Effect.succeed(0),
    deliverOutbox: () => Effect.succeed(0)
  })
}
