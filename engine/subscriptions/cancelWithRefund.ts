/**
 * The use case `subscriptions cancel` (CLI, HTTP API): cancel now or at
 * period end, and with `refundUnused` refund the unused days of the paid
 * period. Crash-safe as record → call → record: the cancel commits with its
 * refund attempt (pending) first, then the gateway is asked, then its answer
 * is recorded. If this process dies or the gateway cannot be reached in
 * between, the engine's next tick settles the attempt with the same key.
 */
import { Effect } from "effect"
import { runSql } from "../sql/index.ts"
import { currentEngineContext } from "../account/index.ts"
import { settleAttemptsNow } from "../payments/index.ts"
import { cancelSubscription } from "./subscriptionWrites.ts"

export interface CancelOptions {
  readonly atPeriodEnd: boolean
  readonly refundUnused: boolean
}

export const cancelWithRefund = Effect.fn("cancelWithRefund")(function*(id: number, options: CancelOptions) {
  const ctx = yield* currentEngineContext()
  const result = yield* runSql((sql) => cancelSubscription(sql, ctx, id, options))
  const refundSettled = result.refund === undefined ? undefined : yield* settleAttemptsNow(ctx, [result.refund.attemptId])
  return { ...result, refundSettled }
})
