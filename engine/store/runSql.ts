/**
 * Running promise-based SQL work inside Effect: bad input (InputError, or a
 * constraint the database enforces) becomes a `BadInput` failure the CLI maps
 * to exit 2; anything else is a `DatabaseError`.
 */
import { Effect, Schema } from "effect"
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

export const runSql = <A>(work: (sql: Sql) => Promise<A>): Effect.Effect<A, BadInput | DatabaseError, Database> =>
  Effect.flatMap(Effect.service(Database), (db) =>
    Effect.tryPromise({
      try: () => work(db.sql),
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
