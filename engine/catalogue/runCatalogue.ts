/** How the catalogue's services run the room's Promise functions: through `runSql`, refusals as values. */
import { Effect } from "effect"
import type { CatalogueError } from "../domain/index.ts"
import { catalogueErrorOf } from "../domain/index.ts"
import type { BadInput, DatabaseError, Sql } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"

/** How a catalogue use case fails: a rule's refusal as a value, other bad input, or the database. */
export type CatalogueFailure = CatalogueError | BadInput | DatabaseError

export type CatalogueResult<A> = Effect.Effect<A, CatalogueFailure>

/** Runs work on `db` (or the door's `CurrentTransaction`); the refusal a `BadInput` carries becomes the failure itself. */
export const catalogueRunner = (db: Database["Service"]) => <A>(work: (sql: Sql) => Promise<A>): CatalogueResult<A> =>
  runUseCaseOn(db, work, catalogueErrorOf)
