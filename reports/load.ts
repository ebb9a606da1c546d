/**
 * Loading: one consistent snapshot of the store (a single REPEATABLE READ,
 * READ ONLY transaction) moved in bulk into an in-process DuckDB. Each table
 * is streamed out of PostgreSQL with `COPY … TO STDOUT (FORMAT csv)` into a
 * temporary file that DuckDB reads with its parallel CSV reader; DuckDB loads
 * one table while PostgreSQL streams the next. The DuckDB tables carry the
 * store's own names and columns, so the metric SQL (metricSql.ts) runs
 * unchanged on either side.
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import { createWriteStream, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pipeline } from "node:stream/promises"
import type { Sql } from "../engine/store/index.ts"

interface TableSpec {
  readonly name: string
  readonly ddl: string
  readonly select: string
}

export const snapshotTables: ReadonlyArray<TableSpec> = [
  {
    name: "subscriptions",
    ddl: "id bigint, contact_id bigint, currency varchar, frequency_unit varchar, frequency_count integer",
    select: "select id, contact_id, currency, frequency_unit, frequency_count from subscriptions"
  },
  {
    name: "item_versions",
    ddl: "subscription_id bigint, version integer, effective_from date",
    select: "select subscription_id, version, effective_from from item_versions"
  },
  {
    name: "line_items",
    ddl: "subscription_id bigint, version integer, unit_price bigint, quantity integer, discount_ppm integer, discount_amount bigint, one_time boolean",
    select: "select subscription_id, version, unit_price, quantity, discount_ppm, discount_amount, one_time from line_items"
  },
  {
    name: "status_history",
    ddl: "id bigint, subscription_id bigint, to_status varchar, effective_on date",
    select: "select id, subscription_id, to_status, effective_on from status_history"
  },
  {
    name: "contacts",
    ddl: "id bigint, label varchar",
    select: "select id, coalesce(external_id, email) from contacts"
  }
]

export interface LoadTimings {
  readonly copyMs: number
  readonly totalMs: number
}

const quote = (path: string) => `'${path.replaceAll("'", "''")}'`

/** Copies the snapshot into `db` (tables `subscriptions`, `item_versions`, `line_items`, `status_history`, `contacts`). */
export const loadSnapshot = async (sql: Sql, db: DuckDBConnection): Promise<LoadTimings> => {
  const started = performance.now()
  const dir = mkdtempSync(join(tmpdir(), "billcycle-report-"))
  let copyMs = 0
  try {
    for (const t of snapshotTables) await db.run(`create or replace table ${t.name} (${t.ddl})`)
    // DuckDB reads one file while PostgreSQL streams the next.
    let loads: Promise<unknown> = Promise.resolve()
    await sql.begin("isolation level repeatable read read only", async (tx) => {
      for (const t of snapshotTables) {
        const file = join(dir, `${t.name}.csv`)
        const t0 = performance.now()
        const stream = await tx.unsafe(`copy (${t.select}) to stdout with (format csv)`).readable()
        await pipeline(stream, createWriteStream(file))
        copyMs += performance.now() - t0
        loads = loads.then(() => db.run(`copy ${t.name} from ${quote(file)} (format csv, header false)`))
        loads.catch(() => undefined) // awaited below; this only keeps an early failure from being reported as unhandled
      }
    })
    await loads
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { copyMs, totalMs: performance.now() - started }
}
