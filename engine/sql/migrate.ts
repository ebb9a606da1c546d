/**
 * Versioned SQL migrations (engine/sql/migrations/NNNN_name.sql), applied
 * in order and recorded in `schema_migrations`. Safe when two processes start
 * at once: everything runs in one transaction under an advisory lock, so the
 * second waits and then finds the work done.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Sql } from "./Database.ts"

const migrationsDir = fileURLToPath(new URL("./migrations/", import.meta.url))

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const migrations: ReadonlyArray<Migration> = readdirSync(migrationsDir)
  .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
  .sort()
  .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(migrationsDir + f, "utf8") }))

/**
 * Whether every migration is applied already and the session may write: one
 * read, without the transaction and lock of `migrate` (which a store that is
 * up to date, as it is on nearly every start, does not need). A version row
 * is written in the transaction of its migration, so a row seen here is a
 * migration committed. False when the store has no `schema_migrations` table
 * yet (or its schema does not exist), and on a read-only database (a replica
 * given as `--db`), which `migrate` then refuses as it always did.
 */
export const migrationsApplied = async (sql: Sql): Promise<boolean> => {
  try {
    const [row] = await sql<Array<{ read_only: string; versions: string | null }>>`
      select current_setting('transaction_read_only') as read_only,
             (select string_agg(version::text, ',') from schema_migrations) as versions`
    if (row === undefined || row.read_only !== "off") return false
    const done = new Set((row.versions ?? "").split(",").map(Number))
    return migrations.every((m) => done.has(m.version))
  } catch (e) {
    // 42P01 undefined_table: a new store, which `migrate` sets up.
    if ((e as { code?: unknown }).code === "42P01") return false
    throw e
  }
}

/** Applies the migrations not yet applied; returns the versions it applied. */
export const migrate = async (sql: Sql): Promise<Array<number>> =>
  sql.begin(async (tx) => {
    // One lock per schema: concurrent migrators queue here.
    await tx`select pg_advisory_xact_lock(hashtext(current_schema() || ':billcycle:migrate'))`
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`
    const done = new Set((await tx<Array<{ version: number }>>`select version from schema_migrations`).map((r) => r.version))
    const applied: Array<number> = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      await tx.unsafe(m.sql)
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`
      applied.push(m.version)
    }
    return applied
  }) as Promise<Array<number>>
