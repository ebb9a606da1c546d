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
 * `skip_locked`: on a server several engines may reach their turn together; a table another one is
 * vacuuming is skipped rather than waited for. The statistics are sampled at `analyzeTarget` (a
 * setting of the analyzing transaction only).
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
