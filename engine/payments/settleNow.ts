/**
 * Settling a command's own gateway work right away (the refund of
 * `cancel --refund-unused`, a buyer's page's charge): claim the attempts, ask the gateway, record the
 * outcome. If this process dies in between, the engine's next tick settles
 * them with the same keys.
 */
import { Effect } from "effect"
import type { EngineContext } from "../account/index.ts"
import { Database, DatabaseError, messageOf } from "../sql/index.ts"
import { claimAttemptsNow, settleAttempts } from "../invoicing/index.ts"
import { Gateway } from "./Gateway.ts"

export const settleAttemptsNow = Effect.fn("settleAttemptsNow")(function*(ctx: EngineContext, attemptIds: ReadonlyArray<number>) {
  if (attemptIds.length === 0) return { succeeded: 0, failed: 0, unknown: 0, pending: 0 }
  const { sql } = yield* Database
  const gateway = yield* Gateway
  const db = <A>(work: () => Promise<A>) => Effect.tryPromise({ try: work, catch: (cause) => new DatabaseError({ message: messageOf(cause), cause }) })
  const claimed = yield* db(() => claimAttemptsNow(sql, ctx, attemptIds))
  const results = yield* gateway.submit(claimed.map((c) => ({ ...c, at: ctx.now })))
  return yield* db(() => settleAttempts(sql, ctx, claimed.map((c, i) => ({ attemptId: c.attemptId, result: results[i]! }))))
})
