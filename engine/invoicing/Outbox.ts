/**
 * The outbox as people see it: the messages waiting, sent or failed, and
 * queuing a failed one again. Refusals fail as typed errors
 * (`OutboxMessageNotFound`, `OutboxRetryRefused`) the doors word.
 */
import { Context, Effect, Layer } from "effect"
import type { InvoiceError } from "../domain/index.ts"
import { invoiceErrorOf } from "../domain/index.ts"
import type { BadInput, DatabaseError, ListQuery } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"
import { listOutbox, retryOutboxMessage } from "./invoiceQueries.ts"

export type OutboxRow = ReturnType<typeof listOutbox> extends PromiseLike<Array<infer R>> ? R : never

export class Outbox extends Context.Service<Outbox, {
  /** Messages by status and kind (a list query each door pages). */
  readonly list: (filter: { readonly status?: string | undefined; readonly kind?: string | undefined }) => ListQuery<OutboxRow>
  /** Queues a failed message again, under the same delivery key. */
  readonly retry: (id: number) => Effect.Effect<void, InvoiceError | BadInput | DatabaseError>
}>()("billcycle/engine/invoicing/Outbox") {
  static readonly layer = Layer.effect(
    Outbox,
    Effect.gen(function*() {
      const db = yield* Database
      return Outbox.of({
        list: (filter) => (sql) => listOutbox(sql, filter),
        retry: (id) => runUseCaseOn(db, (sql) => retryOutboxMessage(sql, id), invoiceErrorOf)
      })
    })
  )
}
