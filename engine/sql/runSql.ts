/**
 * Running promise-based SQL work inside Effect: bad input (InputError, or a
 * constraint the database enforces) becomes a `BadInput` failure the CLI maps
 * to exit 2; anything else is a `DatabaseError`.
 */
import { Context, Effect, Schema } from "effect"
import { inFlags, Words } from "../domain/index.ts"
import { Database, DatabaseError, messageOf } from "./Database.ts"
import type { DatabaseService, Sql } from "./Database.ts"
import { InputError } from "./InputError.ts"
import { journalSource } from "./journal.ts"

export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", {
  /** The command line's words (fields named by their flags). */
  message: Schema.String,
  /** The same words with their fields, when the input was read from fields: the HTTP API names the JSON field (domain/fieldNames.ts). */
  words: Schema.optional(Words),
  /** The typed refusal behind the message (engine/domain/errors.ts), when the store gave one. */
  refusal: Schema.optional(Schema.Unknown)
}) {}

/** Bad input worded with its fields: the command line reads `message` (flags), the HTTP API renders `words` (JSON fields). */
export const badInputWords = (words: Words) => new BadInput({ message: inFlags(words), words })

// Constraint violations are the database's last word on bad input.
const constraintCodes = new Set(["23505", "23503", "23514", "23502", "22P02", "22007", "22008", "22003"])

/**
 * The transaction a unit of work runs in, when its door opened one (an HTTP
 * request with an Idempotency-Key: the change and the stored answer commit
 * together, idempotencyKeys.ts). Set, `runSql` hands the work this
 * transaction (whose `begin` is a savepoint) instead of the pool. Reads
 * that go together set it to one reserved connection (`readTogether`).
 */
export const CurrentTransaction = Context.Reference<Sql | undefined>("billcycle/engine/sql/CurrentTransaction", { defaultValue: () => undefined })

/**
 * Who the journal names as the source of the events a unit of work writes,
 * when its door is not the CLI (`api:<key name>` for an HTTP request):
 * `runSql` runs the work inside `journalSource.run(…)` (journal.ts).
 */
export const CurrentJournalSource = Context.Reference<string | undefined>("billcycle/engine/sql/CurrentJournalSource", { defaultValue: () => undefined })

/** A failure of store work: bad input (an InputError, or a constraint the database enforces) or the database's own. */
const failureOf = (e: unknown): BadInput | DatabaseError => {
  if (e instanceof InputError) return new BadInput({ message: e.message, refusal: e.cause, ...(e.words === undefined ? {} : { words: e.words }) })
  const code = (e as { code?: string }).code
  if (code !== undefined && constraintCodes.has(code)) {
    const detail = (e as { detail?: string }).detail
    return new BadInput({ message: `${messageOf(e)}${detail ? ` (${detail})` : ""}` })
  }
  return new DatabaseError({ message: messageOf(e), cause: e })
}

/**
 * `work` on `db` (or on the fiber's `CurrentTransaction`, when its door opened one), inside the fiber's
 * `CurrentJournalSource`; its failure mapped by `failure`. The references are read from the fiber in one
 * step: this runs once per use case, on the API's hot routes too.
 */
const runOn = <A, E>(db: DatabaseService, work: (sql: Sql) => Promise<A>, failure: (e: unknown) => E): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => {
    const tx = fiber.getRef(CurrentTransaction)
    const source = fiber.getRef(CurrentJournalSource)
    const sql = tx ?? db.sql
    return Effect.tryPromise({ try: () => source === undefined ? work(sql) : journalSource.run(source, () => work(sql)), catch: failure })
  })

export const runSql = <A>(work: (sql: Sql) => Promise<A>): Effect.Effect<A, BadInput | DatabaseError, Database> =>
  Effect.flatMap(Effect.service(Database), (db) => runOn(db, work, failureOf))

/**
 * Runs reads on one connection of a server's pool, so the queries they send
 * together go out in one write and come back in one round trip (the driver
 * pipelines them) instead of waking several connections. Reads only: the
 * reserved connection has no `begin`. Inside a door's transaction, or on the
 * embedded database (one connection, and queries sent at once through its
 * socket can hang: api/handlers.ts `showSubscription`), the reads run as they are.
 */
export const readTogether = <A, E, R>(reads: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R | Database> =>
  Effect.flatMap(Effect.zip(Effect.service(Database), CurrentTransaction), ([db, tx]) =>
    tx !== undefined || !db.concurrent
      ? reads
      : Effect.acquireUseRelease(
        Effect.tryPromise({ try: () => db.sql.reserve(), catch: (e) => new DatabaseError({ message: messageOf(e), cause: e }) }),
        (connection): Effect.Effect<A, E, R> => Effect.provideService(reads, CurrentTransaction, connection as unknown as Sql),
        (connection) => Effect.sync(() => connection.release())
      ))

/**
 * `runSql` for a use case of a room's service, on the service's own database (nothing looked up or
 * provided per call): the typed refusal a rule threw (the InputError's cause, engine/domain/errors.ts)
 * fails as itself; other bad input stays `BadInput`.
 */
export const runUseCaseOn = <A, E>(db: DatabaseService, work: (sql: Sql) => Promise<A>, refusalOf: (e: unknown) => E | undefined): Effect.Effect<A, E | BadInput | DatabaseError> =>
  runOn(db, work, (e): E | BadInput | DatabaseError => {
    const failure = failureOf(e)
    const refusal = failure._tag === "BadInput" && failure.refusal !== undefined ? refusalOf(failure.refusal) : undefined
    return refusal === undefined ? failure : refusal
  })
