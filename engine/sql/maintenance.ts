/**
 * Housekeeping the embedded database needs, and a server whose autovacuum is
 * off: PGlite has no autovacuum, so the engine vacuums its hot tables every so
 * many changes (runtime/Engine.ts decides when).
 */
import type { Sql } from "./Database.ts"

/** Tables whose rows the engine updates (dead tuples) or whose statistics its plans need. */
const hotTables = ["subscriptions", "invoices", "payment_attempts", "outbox", "enrollments", "sim_gateway_ledger"]

/**
 * The sample ANALYZE takes of each hot table, as a statistics target (300 rows per unit; PostgreSQL's
 * default is 100, 30,000 rows). The engine's plans need row counts and the spread of statuses and
 * dates, which a few thousand rows give; a full sample of a table with a wide column (the outbox's
 * payload) took most of the vacuum's time (about 0.9 s a run at 100,000 invoices, against 0.2 s
 * for the vacuum itself).
 */
export const analyzeTarget = 10

/**
 * `skip_locked`: a table something else is vacuuming (a person's VACUUM, an engine of an older billcycle) is
 * skipped rather than waited for. The statistics are sampled at `analyzeTarget` (a setting of the analyzing
 * transaction only).
 */
export const vacuumHotTables = async (sql: Sql): Promise<void> => {
  await sql.unsafe(`vacuum (skip_locked) ${hotTables.join(", ")}`)
  await sql.begin(async (tx) => {
    await tx.unsafe(`set local default_statistics_target = ${analyzeTarget}`)
    await tx.unsafe(`analyze (skip_locked) ${hotTables.join(", ")}`)
  })
}

/**
 * Whether the server vacuums by itself. A server with autovacuum off (a setting some hosts ship)
 * keeps every dead row an update leaves until someone vacuums: the due checks then read tens of
 * thousands of dead index entries a day, and every step slows down as they pile up.
 */
export const serverAutovacuums = async (sql: Sql): Promise<boolean> => {
  const [row] = await sql<Array<{ on: boolean }>>`select current_setting('autovacuum') = 'on' as on`
  return row?.on === true
}

/** Points the session at a new, empty schema `name` (a rule test's throwaway database). */
export const useNewSchema = async (sql: Sql, name: string): Promise<void> => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a schema name: ${name}`)
  await sql.unsafe(`create schema ${name}`)
  await sql.unsafe(`set search_path to ${name}`)
}

/** `engine_state`'s key of a server's count of changes since it was last vacuumed, by all engines together. */
const changesKey = "vacuum.changes"

/** The advisory lock an engine vacuuming a server's store holds (one store: one schema). */
const vacuumLock = (sql: Sql) => sql`hashtextextended(current_schema() || ':billcycle:vacuum', 0)`

/**
 * A server that does not vacuum by itself is vacuumed by its engines once per `every` changes of them all: each
 * engine adds its tick's changes to the store's count, and hears whether the count has come to `every`. Counted
 * by each engine apart, N engines ending a billing day together each vacuumed, one after the other, every index
 * of the same tables (bench/scale.ts: ~2.8 s a vacuum after 200,000 renewals, four engines 38.8 s against 34.3 s
 * without any vacuum).
 */
export const countChangesForVacuum = async (sql: Sql, changes: number, every: number): Promise<boolean> => {
  const [row] = await sql<Array<{ count: number }>>`
    insert into engine_state (key, value) values (${changesKey}, ${String(changes)})
    on conflict (key) do update set value = (engine_state.value::bigint + excluded.value::bigint)::text
    returning value::float8 as count`
  return row!.count >= every
}

/**
 * Vacuums a server's hot tables for all its engines, once the store's count of changes has come to `every`
 * (`countChangesForVacuum`), and returns whether this engine did. Not when another engine is vacuuming now (it
 * holds the store's vacuum lock, on a connection of its own, released if it dies), nor when one did since the
 * count came due (it took the count down). The count is taken down by what it was when the vacuum began: changes
 * made meanwhile count toward the next. A server only: the lock is held on a connection apart from the vacuum's
 * (the embedded database has one connection, and one engine vacuums it: runtime/Engine.ts).
 */
export const vacuumStoreWhenDue = async (sql: Sql, every: number): Promise<boolean> => {
  const lock = await sql.reserve()
  try {
    const [taken] = await lock<Array<{ got: boolean }>>`select pg_try_advisory_lock(${vacuumLock(lock)}) as got`
    if (taken?.got !== true) return false
    try {
      const [row] = await lock<Array<{ count: number }>>`select value::float8 as count from engine_state where key = ${changesKey}`
      const count = row?.count ?? 0
      if (count < every) return false
      await vacuumHotTables(sql)
      await lock`update engine_state set value = greatest(value::bigint - ${count}, 0)::text where key = ${changesKey}`
      return true
    } finally {
      await lock`select pg_advisory_unlock(${vacuumLock(lock)})`
    }
  } finally {
    lock.release()
  }
}
