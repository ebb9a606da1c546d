/**
 * Running promise-based SQL work inside Effect: bad input (InputError, or a
 * constraint the database enforces) becomes a `BadInput` failure the CLI maps
 * to exit 2; anything else is a `DatabaseError`.
 */
import { Context, Effect, Schema } from "effect"
import { Database, DatabaseError, messageOf } from "./Database.ts"
import type { Sql } from "./Database.ts"
import { InputError } from "./InputError.ts"

export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", {
  message: Schema.String,
  /** The typed refusal behind the message (engine/domain/errors.ts), when the store gave one. */
  refusal: Schema.optional(Schema.Unknown)
}) {}

// Constraint violations are the database's last word on bad input.
const constraintCodes = new Set(["23505", "23503", "23514", "23502", "22P02", "22007", "22008", "22003"])

/**
 * The transaction a unit of work runs in, when its door opened one (an HTTP
 * request with an Idempotency-Key: the change and the stored answer commit
 * together, idempotencyKeys.ts). Set, `runSql` hands the work this
 * transaction (whose `begin` is a savepoint) instead of the pool.
 */
export const CurrentTransaction = Context.Reference<Sql | undefined>("billcycle/engine/store/CurrentTransaction", { defaultValue: () => undefined })

export const runSql = <A>(work: (sql: Sql) => Promise<A>): Effect.Effect<A, BadInput | DatabaseError, Database> =>
  Effect.flatMap(Effect.zip(Effect.service(Database), CurrentTransaction), ([db, tx]) =>
    Effect.tryPromise({
      try: () => work(tx ?? db.sql),
      catch: (e) => {
        if (e instanceof InputError) return new BadInput({ message: e.message, refusal: e.cause })
        const code = (e as { code?: string }).code
        if (code !== undefined && constraintCodes.has(code)) {
          const detail = (e as { detail?: string }).detail
          return new BadInput({ message: `${messageOf(e)}${detail ? ` (${detail})` : ""}` })
        }
        return new DatabaseError({ message: messageOf(e), cause: e })
      }
    }))
