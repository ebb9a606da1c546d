/**
 * Housekeeping the embedded database needs and a server does by itself:
 * PGlite has no autovacuum, so the engine vacuums its hot tables every so
 * many changes (runtime/Engine.ts decides when).
 */
import type { Sql } from "./Database.ts"

/** Tables whose rows the engine updates (dead tuples) or whose statistics its plans need. */
const hotTables = ["subscriptions", "invoices", "payment_attempts", "outbox", "enrollments", "sim_gateway_ledger"]

export const vacuumHotTables = (sql: Sql) => sql.unsafe(`vacuum (analyze) ${hotTables.join(", ")}`)

/** Points the session at a new, empty schema `name` (a rule test's throwaway database). */
export const useNewSchema = async (sql: Sql, name: string): Promise<void> => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a schema name: ${name}`)
  await sql.unsafe(`create schema ${name}`)
  await sql.unsafe(`set search_path to ${name}`)
}
