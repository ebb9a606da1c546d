/**
 * Settling a command's own gateway work right away (the refund of
 * `cancel --refund-unused`): claim the attempts, ask the gateway, record the
 * outcome. If this process dies in between, the engine's next tick settles
 * them with the same keys.
 */
import { Effect } from "effect"
import type { EngineContext } from "../store/index.ts"
import { Database, DatabaseError, messageOf, settleAttempts } from "../store/index.ts"
import { Gateway } from "./Gateway.ts"

export const settleAttemptsNow = Effect.fn("settleAttemptsNow")(function*(ctx: EngineContext, attemptIds: ReadonlyArray<number>) {
  if (attemptIds.length === 0) return { succeeded: 0, failed: 0, unknown: 0 }
  const { sql } = yield* Database
  const gateway = yield* Gateway
  const db = <A>(work: () => Promise<A>) => Effect.tryPromise({ try: work, catch: (cause) => new DatabaseError({ message: messageOf(cause), cause }) })
  const claimed = yield* db(() => sql<Array<{ id: number; invoice_id: number; subscription_id: number; idempotency_key: string; kind: "charge" | "refund"; amount: number; currency: string; payment_method: string | null; number: string }>>`
    update payment_attempts a set lease_owner = ${ctx.owner}, lease_until = now() + interval '60 seconds'
    from invoices i
    where a.id = any(${attemptIds as Array<number>}) and a.status in ('pending', 'unknown') and (a.lease_until is null or a.lease_until < now())
      and i.id = a.invoice_id
    returning a.id, a.invoice_id, i.subscription_id, a.idempotency_key, a.kind, a.amount, a.currency, a.payment_method, i.number`)
  const results = yield* gateway.submit(claimed.map((c) => ({
    idempotencyKey: c.idempotency_key, kind: c.kind, amount: c.amount, currency: c.currency, paymentMethod: c.payment_method, reference: c.number
  })))
  return yield* db(() => settleAttempts(sql, ctx, claimed.map((c, i) => ({ attemptId: c.id, result: results[i]! }))))
})
