/**
 * Housekeeping the embedded database needs, and a server whose autovacuum is
 * off: PGlite has no autovacuum, so the engine vacuums its hot tables every so
 * many changes (runtime/Engine.ts decides when).
 */
import type { Sql } from "./Database.ts"

/** Tables whose rows the engine updates (dead tuples) or whose statistics its plans need. */
const hotTables = ["subscriptions", "invoices", "payment_attempts", "outbox", "enrollments", "sim_gateway_ledger"]

/**
 * `skip_locked`: on a server several engines may reach their turn together; a table another one is
 * vacuuming is skipped rather than waited for.
 */
export const vacuumHotTables = (sql: Sql) => sql.unsafe(`vacuum (analyze, skip_locked) ${hotTables.join(", ")}`)

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
