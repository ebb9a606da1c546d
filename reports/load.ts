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
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Readable } from "node:stream"
import type { Sql } from "../engine/sql/index.ts"

interface TableSpec {
  readonly name: string
  readonly ddl: string
  readonly select: string
}

export const snapshotTables: ReadonlyArray<TableSpec> = [
  {
    name: "subscriptions",
    ddl: "id bigint, contact_id bigint, currency varchar, frequency_unit varchar, frequency_count integer, code_off_ppm integer, code_off_amount bigint, code_discount_ends_on date",
    select: "select id, contact_id, currency, frequency_unit, frequency_count, code_off_ppm, code_off_amount, code_discount_ends_on from subscriptions"
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

/**
 * Writes a COPY stream to a file with synchronous writes in flowing mode. Not
 * `pipeline`: postgres.js pauses its socket when a COPY chunk meets
 * backpressure and resumes it only from the stream's next read, which never
 * comes once the stream has ended, so the connection would hang.
 */
export const drainTo = (stream: Readable, file: string) =>
  new Promise<void>((resolve, reject) => {
    // PostgreSQL sends a message per row: each is copied into one buffer at once, written out when full. (Kept
    // until a write, millions of small buffers outlived the young generation: gathering them cost the load of
    // 1M subscriptions 0.6 s of the main thread's 2 s, most of it in the garbage collector.)
    const fd = openSync(file, "w")
    const buffer = Buffer.allocUnsafe(1 << 20)
    let used = 0
    const flush = () => {
      if (used > 0) writeSync(fd, buffer, 0, used)
      used = 0
    }
    stream.on("data", (chunk: Buffer) => {
      if (used + chunk.length > buffer.length) flush()
      if (chunk.length > buffer.length) writeSync(fd, chunk)
      else used += chunk.copy(buffer, used)
    })
    stream.on("end", () => {
      flush()
      closeSync(fd)
      resolve()
    })
    stream.on("error", (e) => {
      closeSync(fd)
      reject(e)
    })
  })

export const quote = (path: string) => `'${path.replaceAll("'", "''")}'`

/**
 * Copies the snapshot into `db` (tables `subscriptions`, `item_versions`,
 * `line_items`, `status_history`, and `contacts` when `withContacts`).
 * (Two connections sharing an exported snapshot were tried: no faster, as
 * PostgreSQL's COPY and the driver's per-row messages already keep both
 * cores busy.)
 */
export const loadSnapshot = async (sql: Sql, db: DuckDBConnection, options: { readonly withContacts?: boolean } = {}): Promise<LoadTimings> => {
  const started = performance.now()
  const dir = mkdtempSync(join(tmpdir(), "billcycle-report-"))
  const wanted = snapshotTables.filter((t) => t.name !== "contacts" || options.withContacts === true)
  let copyMs = 0
  try {
    for (const t of snapshotTables) await db.run(`create or replace table ${t.name} (${t.ddl})`)
    // DuckDB reads one file while PostgreSQL streams the next.
    let loads: Promise<unknown> = Promise.resolve()
    const copy = async (tx: Sql, t: TableSpec) => {
      const file = join(dir, `${t.name}.csv`)
      const t0 = performance.now()
      const stream = await tx.unsafe(`copy (${t.select}) to stdout with (format csv)`).readable()
      await drainTo(stream, file)
      copyMs += performance.now() - t0
      // An empty table gives an empty file, which DuckDB's dialect sniffer refuses: the columns are known, so no sniffing.
      if (statSync(file).size > 0) loads = loads.then(() => db.run(`copy ${t.name} from ${quote(file)} (format csv, header false, auto_detect false)`))
      loads.catch(() => undefined) // awaited below; this only keeps an early failure from being reported as unhandled
    }
    await sql.begin("isolation level repeatable read read only", async (tx) => {
      for (const t of wanted) await copy(tx as unknown as Sql, t)
    })
    await loads
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { copyMs, totalMs: performance.now() - started }
}
