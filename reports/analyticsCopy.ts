/**
 * The persisted analytics copy: a DuckDB file holding the fact tables the
 * reports read, derived from load.ts's `snapshotTables` (of which it keeps
 * `subscriptions` and `contacts`, under the store's own names, and each
 * subscription's first day, `f_first`), and one row of `analytics_meta`
 * (which store, and the journal watermark). A refresh
 * copies only the subscriptions and contacts that the event journal names
 * since the watermark, in one consistent snapshot of the store, and swaps
 * their rows in one DuckDB transaction; a rebuild copies everything.
 *
 * The watermark (README.md, "The watermark"): event ids come from a sequence
 * and can commit out of order, so an id below the highest one seen may still
 * appear. The copy keeps `final_id` (every event up to it is committed and
 * applied), `high_id` (the highest id applied) and `xmax` (the snapshot's
 * xmax when `high_id` was read). A refresh reads every event above
 * `final_id` (the trailing window between `final_id` and `high_id` is read
 * again; applying a subscription twice is harmless: its rows are replaced by
 * the store's current ones). `final_id` moves up to `high_id` once the
 * refresh's snapshot has xmin ≥ that `xmax`: every transaction that was
 * running when `high_id` was read, and so every one that can hold a lower
 * id, has then committed (and is visible) or rolled back.
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { currencyCodes, subscriptionStatuses } from "../engine/domain/index.ts"
import type { Sql } from "../engine/sql/index.ts"
import { drainTo, quote, snapshotTables } from "./load.ts"
import type { ReportOptions, ReportSet } from "./revenue.ts"
import { aggregateStatements, compactStatements, customerStatements, factTables, subscriptionStatements } from "./metricSql.ts"
import { buildReports, computeReports, deriveFacts } from "./revenue.ts"

/** The copy's file name, inside the embedded database's folder or `--analytics-dir`. */
export const analyticsFileName = "analytics.duckdb"

export interface CopyMeta {
  readonly store: string
  readonly finalId: bigint
  readonly highId: bigint
  readonly xmax: bigint
  /** Subscriptions replaced, and refreshes that replaced anything, since the copy was last vacuumed (`vacuumDue`). */
  readonly replaced: number
  readonly refreshes: number
  /** How the copy's facts were derived (`copyFormat`); a copy older than this billcycle's is rebuilt. */
  readonly format: number
}

/**
 * The version of the facts' definitions a copy was derived by: 2 since discount codes count in MRR (a copy of 1
 * has the subscriptions with codes at their full amounts, and a refresh recomputes only what changed).
 */
export const copyFormat = 2

export interface RefreshResult {
  /** `rebuild`: everything copied; `refresh`: the changed rows; `unchanged`: nothing to copy. */
  readonly mode: "rebuild" | "refresh" | "unchanged"
  readonly subscriptions: number
  readonly contacts: number
  readonly ms: number
  /** Why a refresh rebuilt instead (no copy yet, another store, a journal behind the watermark). */
  readonly reason?: string
}

interface Snapshot {
  readonly store: string
  readonly xmin: bigint
  readonly xmax: bigint
  readonly xip: number
  readonly high: bigint
}

/** The first statement of the copy's transaction: it fixes the snapshot the watermark describes. */
const readSnapshot = async (tx: Sql): Promise<Snapshot> => {
  const [row] = await tx.unsafe(`
    select current_database() || '/' || current_schema() || '/' || 'events'::regclass::oid::text as store,
           pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax,
           (select count(*) from pg_snapshot_xip(s))::int as xip,
           (select coalesce(max(id), 0) from events)::text as high
    from pg_current_snapshot() s`) as unknown as [{ store: string; xmin: string; xmax: string; xip: number; high: string }]
  return { store: row.store, xmin: BigInt(row.xmin), xmax: BigInt(row.xmax), xip: row.xip, high: BigInt(row.high) }
}

const metaDdl = "store varchar, final_id bigint, high_id bigint, xmax varchar, refreshed_at varchar, replaced bigint, refreshes bigint, format integer"

export const readMeta = async (db: DuckDBConnection): Promise<CopyMeta | undefined> => {
  // duckdb_tables(), not information_schema.tables: the view cost 10 ms on every report.
  const exists = await db.runAndReadAll(`select 1 from duckdb_tables() where table_name = 'analytics_meta' and schema_name = 'main' and not temporary`)
  if (exists.getRows().length === 0) return undefined
  const rows = (await db.runAndReadAll(`select *, cast(final_id as varchar) as f, cast(high_id as varchar) as h from analytics_meta`)).getRowObjectsJS() as Array<Record<string, unknown>>
  const row = rows[0]
  if (row === undefined) return undefined
  // A copy made before the vacuum counts has no such columns: it counts from 0.
  return { store: String(row["store"]), finalId: BigInt(String(row["f"])), highId: BigInt(String(row["h"])), xmax: BigInt(String(row["xmax"])), replaced: Number(row["replaced"] ?? 0), refreshes: Number(row["refreshes"] ?? 0), format: Number(row["format"] ?? 1) }
}

const writeMeta = async (db: DuckDBConnection, m: Omit<CopyMeta, "format">) => {
  await db.run(`create or replace table analytics_meta (${metaDdl})`)
  await db.run(`insert into analytics_meta values (${quote(m.store)}, ${m.finalId}, ${m.highId}, ${quote(String(m.xmax))}, ${quote(new Date().toISOString())}, ${m.replaced}, ${m.refreshes}, ${copyFormat})`)
}

/**
 * Whether the checkpoint after a refresh may vacuum the copy (DuckDB's `max_vacuum_tasks`). A refresh deletes
 * its subscriptions' old rows, which are spread over every row group of the fact tables, and appends the new
 * ones as a small row group of their own. Vacuuming merges adjacent row groups once their deleted rows let them
 * fit in fewer: the first refresh after a build, say, rewrote a quarter of a million rows of `f_cmonth` (two
 * full row groups around a small one) to reclaim 1% of them, 0.3 s of a 1.8 s refresh on 1M subscriptions.
 * So a refresh leaves the deleted rows as tombstones (a checkpoint writes only which rows they are) until the
 * rows replaced since the last vacuum reach a quarter of the subscriptions, or 64 refreshes have each appended
 * their small row groups; that refresh checkpoints with the vacuum on right after its commit, and the counts
 * start again.
 */
export const vacuumDue = (since: { readonly replaced: number; readonly refreshes: number }, subscriptions: number) =>
  since.replaced * 4 >= Math.max(subscriptions, 1) || since.refreshes >= 64

/**
 * The select of a table, restricted to some subscriptions (or contacts). A few (a day's changes) are looked up
 * one by one through the table's index on its key (a lateral subquery the planner cannot flatten, `offset 0`,
 * into a join it may answer with a scan: with `= any(list)` it read the whole of `line_items` for 1% of the
 * subscriptions); many, by one pass over each table.
 */
const restricted = (name: string, select: string, ids: ReadonlyArray<string>) => {
  const list = `'{${ids.join(",")}}'::int8[]`
  const key = name === "contacts" || name === "subscriptions" ? "id" : "subscription_id"
  return ids.length <= lookupLimit
    ? `select x.* from unnest(${list}) as u(id) cross join lateral (${select} where ${key} = u.id offset 0) x`
    : `${select} where ${key} = any(${list})`
}

/** Up to this many changed keys, a refresh reads their rows by index lookups; beyond, by scanning each table once. */
const lookupLimit = 50_000

/**
 * Streams each select into a CSV file of its own (PostgreSQL only; DuckDB is free meanwhile): each table's file
 * as soon as it is written. The selects are dealt in turn to the `lanes` (connections in one snapshot, each
 * streaming its tables one after the other).
 */
const streamTables = (lanes: ReadonlyArray<Sql>, dir: string, selects: ReadonlyArray<{ name: string; select: string }>) => {
  const files = new Map<string, Promise<string>>()
  const previous: Array<Promise<unknown>> = lanes.map(() => Promise.resolve())
  selects.forEach((t, i) => {
    const lane = i % lanes.length
    const file = join(dir, `${t.name}.csv`)
    const written = previous[lane]!.then(async () => {
      await drainTo(await lanes[lane]!.unsafe(`copy (${t.select}) to stdout with (format csv)`).readable(), file)
      return file
    })
    written.catch(() => undefined) // awaited by the caller; this only keeps an early failure from being reported as unhandled
    files.set(t.name, written)
    previous[lane] = written
  })
  return files
}

/**
 * The lanes a refresh streams the store's rows on: its own transaction and, on a server, two more connections of
 * the pool, each in a transaction that imports the refresh's snapshot (`pg_export_snapshot`), so that every row
 * comes from the one snapshot the watermark describes. A day's changes are read by index lookups, which keep a
 * core of PostgreSQL's busy each: three lanes read them in about half the time of one (1M subscriptions, 1% of
 * them changed: 0.14 s instead of 0.25 s). The embedded database has one connection: one lane.
 */
const openLanes = async (pool: Sql, tx: Sql): Promise<{ readonly lanes: ReadonlyArray<Sql>; readonly release: () => Promise<void> }> => {
  const extra = Math.min(2, (pool.options.max ?? 1) - 1)
  if (extra <= 0) return { lanes: [tx], release: async () => {} }
  const [row] = await tx.unsafe(`select pg_export_snapshot() as snapshot`) as unknown as [{ snapshot: string }]
  const reserved: Array<Awaited<ReturnType<Sql["reserve"]>>> = []
  const release = async () => {
    for (const r of reserved.splice(0)) {
      await r.unsafe("commit").catch(() => undefined)
      r.release()
    }
  }
  try {
    for (let i = 0; i < extra; i++) {
      const r = await pool.reserve()
      reserved.push(r)
      await r.unsafe("begin transaction isolation level repeatable read read only")
      await r.unsafe(`set transaction snapshot '${row.snapshot.replaceAll("'", "''")}'`)
    }
  } catch (e) {
    await release()
    throw e
  }
  return { lanes: [tx, ...reserved as unknown as Array<Sql>], release }
}

/** A one-column table of ids, filled by DuckDB's appender (a literal list of 10,000 ids costs DuckDB's parser 50 ms). */
const writeIds = async (db: DuckDBConnection, table: string, ids: ReadonlyArray<string>) => {
  await db.run(`create or replace temp table ${table} (id bigint)`)
  const appender = await db.createAppender(table, "main", "temp")
  for (const id of ids) {
    appender.appendBigInt(BigInt(id))
    appender.endRow()
  }
  appender.closeSync()
}

/** Loads a CSV file that PostgreSQL wrote (`streamTables`) into a DuckDB table of the same columns. */
const loadFile = async (db: DuckDBConnection, table: string, file: string) => {
  // An empty table gives an empty file, which DuckDB's dialect sniffer refuses: the columns are known, so no sniffing.
  if (statSync(file).size > 0) await db.run(`copy ${table} from ${quote(file)} (format csv, header false, auto_detect false)`)
}

/** Streams each table's select into a CSV file, then into DuckDB (`copy … from`), DuckDB reading one while PostgreSQL streams the next. */
const copyTables = async (tx: Sql, db: DuckDBConnection, selects: ReadonlyArray<{ name: string; select: string }>) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-analytics-"))
  const streams = streamTables([tx], dir, selects)
  try {
    for (const t of selects) await loadFile(db, t.name, await streams.get(t.name)!)
  } finally {
    await Promise.allSettled(streams.values())
    rmSync(dir, { recursive: true, force: true })
  }
}

const countOf = async (db: DuckDBConnection, table: string) =>
  Number((await db.runAndReadAll(`select count(*)::integer from ${table}`)).getColumnsJS()[0]![0])

const hasFacts = async (db: DuckDBConnection) =>
  (await db.runAndReadAll(`select 1 from duckdb_tables() where table_name in ('a_status', 'f_first') and schema_name = 'main' and not temporary`)).getRows().length === 2

/**
 * The store's tables the copy keeps after the facts are derived: `subscriptions` (the currencies, each one's
 * customer) and `contacts` (the drill-down's names). The history tables are read again from the store for the
 * subscriptions a refresh recomputes, so the copy does not keep them (a refresh would pay a scan of each to
 * delete a few rows); of them it keeps `f_first`, each subscription's first day of history (a report starts its
 * months there).
 */
const keptTables = new Set(["subscriptions", "contacts"])

/** The columns the copy keeps of `subscriptions`: its customer and currency (the billing frequency only feeds the facts). */
const keptSubscriptionColumns = "id, contact_id, currency"

/** The enums the copy stores low-cardinality text as (`stored`): the subscription statuses, and the currencies. */
const statusType = "subscription_status"
const currencyType = "currency_code"
const enumOf: Record<string, string> = { status: statusType, prev: statusType, opening: statusType, currency: currencyType, scope: currencyType }

/**
 * How the file stores a table a rebuild derived as a temporary one. Low-cardinality text costs DuckDB's
 * compression most of a write (a column of `f_status`'s statuses took 80 ms of 1.7M rows, its four numeric columns
 * 55 ms together), so the fact tables' statuses and currencies (`scope`: a currency, or `*` across them) are
 * enums, sorted so that they order as the text does: a byte each, written and read that much faster (1M
 * subscriptions: the rebuild's write 0.7 s less). The currencies' enum holds every ISO 4217 code; a refresh that
 * meets another (only a store that bypassed the checks has one) rebuilds (`newCurrency`). The monthly aggregates
 * stay text: a few thousand rows. Of `subscriptions`, the copy keeps `keptSubscriptionColumns`.
 */
const stored = (name: string): string => {
  const spec = factTables.find((t) => t.name === name)
  const columns = name === "subscriptions" ? keptSubscriptionColumns.split(", ")
    : spec === undefined || spec.key === "aggregate" ? ["*"]
    : spec.ddl.split(/,(?![^(]*\))/).map((c) => c.trim().split(" ")[0]!) // commas between columns, not in `decimal(38, 9)`
  const typed = (c: string) => (enumOf[c] === undefined ? c : `cast(${c} as ${enumOf[c]}) as ${c}`)
  return `select ${columns.map(typed).join(", ")} from temp.${name}`
}

/** Whether the refresh's subscriptions (`chg_subscriptions`) have a currency the copy's enum lacks (an earlier layout's text takes any). */
const newCurrency = async (db: DuckDBConnection) => {
  const typed = (await db.runAndReadAll(`select 1 from duckdb_types() where type_name = '${currencyType}' and database_name = current_database()`)).getRows().length > 0
  if (!typed) return false
  return (await db.runAndReadAll(`select 1 from chg_subscriptions where cast(currency as varchar) not in (select unnest(enum_range(null::${currencyType}))) limit 1`)).getRows().length > 0
}

/** Each subscription's first day (status or item version) in `from`'s history tables (`chg_`: a refresh's). */
const firstDaysSql = (from: "" | "chg_") => `
  select subscription_id, min(day) as day
  from (select subscription_id, cast(effective_on - date '1970-01-01' as integer) as day from ${from}status_history
        union all
        select subscription_id, cast(effective_from - date '1970-01-01' as integer) from ${from}item_versions) x
  group by subscription_id`

/**
 * An in-memory database that every connection of the copy's instance sees (each one's temp tables only it
 * does): a refresh's second connection leaves the old rows' part of the aggregates there.
 */
const aside = "refresh_aside"

/** The monthly aggregates (`a_mv`, …). */
const aggregateTables = factTables.filter((t) => t.key === "aggregate").map((t) => t.name)

/**
 * The old rows of the subscriptions in `chg_sub` and of their customers (`chg_cust`: every contact the journal
 * or the subscriptions name now, and those the subscriptions had in the copy; recomputing a customer that did
 * not change gives back the very same rows), on a second connection of the copy, while the first loads the
 * store's new rows and recomputes their facts: first the customers' f_delta rows of their other subscriptions
 * (`deltas`, which the recomputation needs), then the old rows' part of the monthly aggregates (`done`), each
 * into a table of `aside`. Nothing in the file has changed yet, so both read it as it was.
 */
const setOldRowsAside = async (instance: DuckDBInstance, db: DuckDBConnection) => {
  await db.run(`attach if not exists ':memory:' as ${aside}`)
  for (const ids of ["chg_sub", "chg_cust"]) await db.run(`create or replace table ${aside}.${ids} as select * from ${ids}`)
  for (const a of aggregateTables) await db.run(`create or replace table ${aside}.${a} as select * from ${a} where false`)
  const second = await instance.connect()
  const deltas = second.run(`create or replace table ${aside}.o_delta as
    select x.* from f_delta x join ${aside}.chg_cust c on c.id = x.contact_id
    where not exists (select 1 from ${aside}.chg_sub s where s.id = x.subscription_id)`)
  const done = deltas.then(async () => {
    for (const statement of aggregateStatements("-", { customers: `${aside}.chg_cust`, subscriptions: `${aside}.chg_sub` }, aside)) await second.run(statement)
  }).finally(() => second.closeSync())
  // Both are awaited by the caller (done after deltas); this only keeps an early failure from being reported as unhandled.
  deltas.catch(() => undefined)
  done.catch(() => undefined)
  return { deltas, done }
}

/** The new rows' working tables, and the fact tables they replace their subscriptions' and customers' rows of. */
const newRows = [["n_status", "f_status"], ["n_delta", "f_delta"], ["n_multi", "f_multi"], ["n_sensitive", "f_sensitive"], ["n_cmv", "f_cmv"], ["n_cmonth", "f_cmonth"], ["n_cohort", "f_cohort"]] as const

/**
 * Then (the new store rows in `chg_…`, nothing in the file changed yet): the rebuild's statements restricted to
 * them, into working tables (`n_status`, `n_delta`, …), the customers' deltas being their other subscriptions'
 * rows as they were and the changed ones' new rows.
 */
const recomputeFacts = async (db: DuckDBConnection, old: { readonly deltas: Promise<unknown> }) => {
  for (const [work, fact] of newRows) await db.run(`create or replace temp table ${work} as select * from ${fact} where false`)
  for (const statement of subscriptionStatements({ prefix: "chg_", statusInto: "n_status", deltaInto: "n_delta" })) await db.run(statement)
  await old.deltas
  await db.run(`create or replace temp table d_delta as select * from ${aside}.o_delta union all select * from n_delta`)
  for (const statement of customerStatements({ into: "n", deltas: "d_delta" })) await db.run(statement)
  await db.run(`drop table d_delta`)
}

/**
 * Last, in the refresh's transaction: the subscriptions' and customers' old fact rows are deleted and the new
 * ones put in, the new rows' part of the aggregates added (exact sums: the same as a rebuild's) and the old
 * rows' part, gathered apart, taken out; `compactStatements` leaves the very tables a rebuild makes.
 */
const replaceFacts = async (db: DuckDBConnection) => {
  for (const t of factTables.filter((t) => t.key === "subscription_id")) await db.run(deleteKeys(t.name, "subscription_id", "chg_sub"))
  for (const t of factTables.filter((t) => t.key === "contact_id")) await db.run(deleteKeys(t.name, "contact_id", "chg_cust"))
  // The customer lists first: the aggregates group the new rows by whether their customer is in f_sensitive.
  const lists = new Set(["f_multi", "f_sensitive"])
  const put = async (rows: ReadonlyArray<readonly [string, string]>) => {
    for (const [work, fact] of rows) await db.run(`insert into ${fact} select * from ${work}`)
  }
  await put(newRows.filter(([, fact]) => lists.has(fact)))
  for (const statement of aggregateStatements("+", { rowsIn: "n" })) await db.run(statement)
  for (const a of aggregateTables) await db.run(`insert into ${a} select * from ${aside}.${a}`)
  await put(newRows.filter(([, fact]) => !lists.has(fact)))
  for (const [work] of newRows) await db.run(`drop table ${work}`)
  for (const statement of compactStatements()) await db.run(statement)
}

/**
 * Deletes a table's rows whose `key` is an id in `ids` (a temp table of distinct ids), as a join: DuckDB probes
 * a join's hash table about twice as fast as the semi join of `key in (select id from ids)` (1M subscriptions,
 * 1% of them changed: 10 ms against 22 ms for each fact table).
 */
const deleteKeys = (table: string, key: string, ids: string) => `delete from ${table} using ${ids} c where c.id = ${table}.${key}`

/**
 * Everything again, from one snapshot. Every table is first built as a temporary table, statement by statement,
 * and only the swap into the file is one DuckDB transaction: the copy stays as it was until that commit. (Run
 * inside one transaction, the same statements took 2 s more on 1M subscriptions: DuckDB keeps a transaction's
 * new tables in its transaction-local storage.) The history tables only feed the facts (`keptTables`): they are
 * never written to the file.
 */
export const rebuildCopy = async (sql: Sql, db: DuckDBConnection): Promise<RefreshResult> => {
  const t0 = performance.now()
  const built = [...snapshotTables.map((t) => t.name), ...factTables.map((t) => t.name), "f_first"]
  const kept = [...keptTables, ...factTables.map((t) => t.name), "f_first"]
  try {
    for (const t of snapshotTables) await db.run(`create or replace temp table ${t.name} (${t.ddl})`)
    const snap = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const snap = await readSnapshot(tx as unknown as Sql)
      await copyTables(tx as unknown as Sql, db, snapshotTables)
      return snap
    })
    await deriveFacts(db, true)
    await db.run(`create or replace temp table f_first as ${firstDaysSql("")}`)
    const [catalog] = (await db.runAndReadAll("select current_database()")).getColumnsJS()[0] as Array<string>
    const file = (name: string) => `"${catalog!.replaceAll('"', '""')}".main.${name}`
    await db.run("begin transaction")
    try {
      // A copy of an earlier layout kept the history tables in the file: they go.
      for (const t of snapshotTables.filter((t) => !keptTables.has(t.name))) await db.run(`drop table if exists ${file(t.name)}`)
      // The enums anew (the tables of an earlier build use them): the statuses, and every ISO 4217 currency (163
      // values with `*`: still a byte) and any other the snapshot has.
      for (const name of kept) await db.run(`drop table if exists ${file(name)}`)
      const currencies = (await db.runAndReadAll(`select distinct currency from temp.subscriptions`)).getColumnsJS()[0] as Array<string> | undefined
      for (const [type, values] of [[statusType, [...subscriptionStatuses]], [currencyType, ["*", ...currencyCodes, ...(currencies ?? [])]]] as const) {
        await db.run(`drop type if exists ${file(type)}`)
        await db.run(`create type ${file(type)} as enum (${[...new Set(values)].sort().map((x) => `'${x.replaceAll("'", "''")}'`).join(", ")})`)
      }
      for (const name of kept) await db.run(`create table ${file(name)} as ${stored(name)}`)
      // With writers running at the snapshot, an event below its highest id may still commit: which one is not known,
      // so the next refresh reads the whole journal (correct, as slow as a rebuild). Without any, the copy is final.
      await writeMeta(db, { store: snap.store, finalId: snap.xip === 0 ? snap.high : 0n, highId: snap.high, xmax: snap.xmax, replaced: 0, refreshes: 0 })
      await db.run("commit")
    } catch (e) {
      await db.run("rollback").catch(() => undefined)
      throw e
    }
  } finally {
    // The temporary tables would hide the file's own from this connection's next statements (the report).
    for (const name of built) await db.run(`drop table if exists temp.${name}`).catch(() => undefined)
  }
  const [count] = (await db.runAndReadAll(`select (select count(*) from subscriptions)::integer as s, (select count(*) from contacts)::integer as c`)).getRowObjectsJS() as Array<{ s: number; c: number }>
  return { mode: "rebuild", subscriptions: Number(count!.s), contacts: Number(count!.c), ms: performance.now() - t0 }
}

/** A copy open in this process (`openCopy`): its DuckDB instance, and the connection that refreshes and reads it. */
export interface CopyHandle {
  readonly instance: DuckDBInstance
  readonly db: DuckDBConnection
  /** Why the file found there could not be opened, when it was removed and the copy begun again (`openCopy`). */
  readonly damaged?: string
}

/** The copy built again from scratch (`rebuildCopy`), saying why when the file found there could not be read. */
export const rebuildOpened = async (sql: Sql, copy: CopyHandle, reason?: string): Promise<RefreshResult> => {
  const why = copy.damaged === undefined ? reason : `${copy.damaged}; built again from the store`
  return { ...await rebuildCopy(sql, copy.db), ...(why === undefined ? {} : { reason: why }) }
}

/** Brings the copy up to date: the rows of the subscriptions and contacts named by events since the watermark; a rebuild when there is no copy of this store yet. */
export const refreshCopy = async (sql: Sql, copy: CopyHandle): Promise<RefreshResult> => {
  const { db } = copy
  const t0 = performance.now()
  const meta = await readMeta(db)
  const rebuild = (reason: string) => rebuildOpened(sql, copy, reason)
  if (meta === undefined) return rebuild("no copy yet")
  if (meta.format < copyFormat) return rebuild("the copy was derived by an older billcycle (discount codes now count in MRR)")
  if (!(await hasFacts(db))) return rebuild("the copy has no fact tables (or no monthly aggregates, or no first days) yet")
  let outcome: { kind: "rebuild"; reason: string } | { kind: "done"; subs: number; contacts: number; vacuum: boolean } = { kind: "done", subs: 0, contacts: 0, vacuum: false }
  // The file changes in one DuckDB transaction, begun once the new rows are recomputed in temp tables: this process
  // holds the file (DuckDB's lock), so nothing else changes it meanwhile.
  let writing = false
  const begin = async () => {
    if (!writing) await db.run("begin transaction")
    writing = true
  }
  try {
    outcome = await sql.begin("isolation level repeatable read read only", async (txx) => {
      const tx = txx as unknown as Sql
      const snap = await readSnapshot(tx)
      if (snap.store !== meta.store) return { kind: "rebuild" as const, reason: `the copy is of another store (${meta.store})` }
      if (snap.high < meta.highId) return { kind: "rebuild" as const, reason: "the journal is behind the copy's watermark" }
      const from = String(meta.finalId)
      // Bounded on both sides (every event of the snapshot is at most its highest id): without statistics on the journal,
      // PostgreSQL guesses a third of the table for `id > x` and scans all of it; a range it reads through the index.
      const window = `id > ${from} and id <= ${snap.high}`
      // In key order: the lookups below then walk each index in order (a third faster than in hash order on 1M subscriptions).
      const subs = (await tx.unsafe(`select subscription_id::text as id from events where ${window} and subscription_id is not null group by subscription_id order by subscription_id`) as unknown as Array<{ id: string }>).map((r) => r.id)
      const named = (await tx.unsafe(`select contact_id::text as id from events where ${window} and contact_id is not null group by contact_id order by contact_id`) as unknown as Array<{ id: string }>).map((r) => r.id)
      let contacts = 0
      if (subs.length > 0 || named.length > 0) {
        // PostgreSQL streams the changed rows into files (subscriptions first) while DuckDB works on the ones before.
        // The contacts: those the journal names and those of the changed subscriptions (looked up as their rows are).
        const contactIds = `select unnest('{${named.join(",")}}'::int8[]) as id
          union select contact_id from (${restricted("subscriptions", "select contact_id from subscriptions", subs)}) s`
        const dir = mkdtempSync(join(tmpdir(), "billcycle-analytics-"))
        const { lanes, release } = await openLanes(sql, tx)
        const streams = streamTables(lanes, dir, snapshotTables.map((t) => ({
          name: t.name,
          select: t.name === "contacts" ? `select x.* from (${contactIds}) c cross join lateral (${t.select} where id = c.id offset 0) x` : restricted(t.name, t.select, subs)
        })))
        const load = async (name: string) => {
          const file = await streams.get(name)!
          await db.run(`create or replace temp table chg_${name} (${snapshotTables.find((t) => t.name === name)!.ddl})`)
          await loadFile(db, `chg_${name}`, file)
        }
        let old: Awaited<ReturnType<typeof setOldRowsAside>> | undefined
        try {
          await writeIds(db, "chg_sub", subs)
          await writeIds(db, "chg_contact", named)
          // The customers concerned: those the subscriptions had in the copy, those they have now, those the journal names.
          await db.run(`create or replace temp table chg_cust as select s.contact_id as id from subscriptions s join chg_sub c on c.id = s.id`)
          await load("subscriptions")
          if (await newCurrency(db)) return { kind: "rebuild" as const, reason: "a subscription in a currency new to the copy" }
          await db.run(`create or replace temp table chg_cust as
            select id from chg_cust union select contact_id from chg_subscriptions union select id from chg_contact`)
          // Into tables of their own first: the fact tables are derived from them, without reading the whole store's copy.
          // The contacts (names only) come last: the facts are recomputed while PostgreSQL streams them.
          for (const t of snapshotTables.filter((t) => t.name !== "subscriptions" && t.name !== "contacts")) await load(t.name)
          if (subs.length > 0) old = await setOldRowsAside(copy.instance, db)
          if (old !== undefined) {
            await recomputeFacts(db, old)
            await old.done
          }
          await begin()
          await db.run(deleteKeys("subscriptions", "id", "chg_sub"))
          await db.run(`insert into subscriptions (${keptSubscriptionColumns}) select ${keptSubscriptionColumns} from chg_subscriptions`)
          await db.run(deleteKeys("f_first", "subscription_id", "chg_sub"))
          await db.run(`insert into f_first ${firstDaysSql("chg_")}`)
          if (old !== undefined) await replaceFacts(db)
          await load("contacts")
          await db.run(deleteKeys("contacts", "id", "chg_contacts"))
          await db.run(`insert into contacts select * from chg_contacts`)
          contacts = await countOf(db, "chg_contacts")
          for (const t of snapshotTables) await db.run(`drop table chg_${t.name}`)
        } finally {
          await Promise.allSettled([...streams.values(), ...(old === undefined ? [] : [old.deltas, old.done])])
          await release()
          rmSync(dir, { recursive: true, force: true })
        }
      }
      // Events up to high_id are final once every transaction running when it was read has ended; with none
      // running now, every event up to this snapshot's highest is final already.
      const finalId = snap.xip === 0 ? snap.high : snap.xmin >= meta.xmax ? meta.highId : meta.finalId
      const since = subs.length + contacts === 0 ? { replaced: meta.replaced, refreshes: meta.refreshes } : { replaced: meta.replaced + subs.length, refreshes: meta.refreshes + 1 }
      const vacuum = subs.length + contacts > 0 && vacuumDue(since, await countOf(db, "subscriptions"))
      await begin()
      await writeMeta(db, { store: snap.store, finalId, highId: snap.high, xmax: snap.xmax, ...(vacuum ? { replaced: 0, refreshes: 0 } : since) })
      return { kind: "done" as const, subs: subs.length, contacts, vacuum }
    })
    if (outcome.kind === "rebuild") {
      if (writing) await db.run("rollback")
    } else {
      // A global setting of this process's DuckDB: off for every checkpoint (a commit past DuckDB's WAL threshold,
      // the close) but the one a due vacuum runs here, right after the commit that reset the counts.
      await db.run("set max_vacuum_tasks = 0")
      await db.run("commit")
      if (outcome.vacuum) {
        await db.run("reset max_vacuum_tasks")
        await db.run("checkpoint")
        await db.run("set max_vacuum_tasks = 0")
      }
    }
  } catch (e) {
    if (writing) await db.run("rollback").catch(() => undefined)
    throw e
  } finally {
    await db.run(`detach database if exists ${aside}`).catch(() => undefined)
  }
  if (outcome.kind === "rebuild") return rebuild(outcome.reason)
  return { mode: outcome.subs + outcome.contacts === 0 ? "unchanged" : "refresh", subscriptions: outcome.subs, contacts: outcome.contacts, ms: performance.now() - t0 }
}

const isLockError = (e: unknown) => /lock/i.test(e instanceof Error ? e.message : String(e))

/**
 * Opens (or creates) the copy. Another process holding it (DuckDB allows one
 * writer process per file) is waited for, up to `waitMs`; then `undefined`.
 * A file DuckDB cannot open otherwise (damaged by a full disk, a bad copy or
 * restore, a DuckDB that cannot read its format) is only derived data: it is
 * removed, with its write-ahead log, and the copy begun again (`damaged` says
 * why; the refresh then rebuilds it from the store). Were it kept, every
 * report, refresh and rebuild failed on it until someone deleted it by hand.
 */
export const openCopy = async (file: string, waitMs = 15_000): Promise<CopyHandle | undefined> => {
  const { DuckDBInstance } = await import("@duckdb/node-api")
  const until = Date.now() + waitMs
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    try {
      const instance = await DuckDBInstance.create(file)
      return { instance, db: await instance.connect() }
    } catch (e) {
      if (isLockError(e)) {
        if (Date.now() >= until) return undefined
        await new Promise((r) => setTimeout(r, pause))
        continue
      }
      if (!existsSync(file)) throw e
      const why = `the analytics copy could not be read (${(e instanceof Error ? e.message : String(e)).split("\n")[0]})`
      try {
        for (const f of [file, `${file}.wal`]) rmSync(f, { force: true })
      } catch {
        throw e // not a file that can be removed (a folder in its place): DuckDB's own words say why
      }
      const instance = await DuckDBInstance.create(file).catch(() => Promise.reject(e))
      return { instance, db: await instance.connect(), damaged: why }
    }
  }
}

/** Checkpoints the copy on a connection of its own. */
const checkpointAside = async (instance: DuckDBInstance) => {
  const connection = await instance.connect()
  try {
    await connection.run("checkpoint")
  } catch {
    // Early or not, the close checkpoints what is left: a report does not fail on this one.
  } finally {
    connection.closeSync()
  }
}

export interface ReportsFromCopy {
  readonly set: ReportSet
  /** What the refresh did, or `undefined` when the copy was held by another process and the store was loaded into memory instead. */
  readonly refresh: RefreshResult | undefined
}

/**
 * `billcycle report` with a copy: refresh it (or rebuild it, `full`), then
 * answer from it. When another process keeps the copy past `waitMs`, the
 * reports come from a full load into memory (the same figures, slower).
 */
export const buildReportsFromCopy = async (sql: Sql, options: ReportOptions, copy: { readonly file: string; readonly full?: boolean; readonly waitMs?: number }): Promise<ReportsFromCopy> => {
  const opened = await openCopy(copy.file, copy.waitMs)
  if (opened === undefined) return { set: await buildReports(sql, options), refresh: undefined }
  try {
    const refresh = copy.full === true ? await rebuildOpened(sql, opened) : await refreshCopy(sql, opened)
    // What the refresh wrote reaches the file (a checkpoint) on a second connection while the reports are computed,
    // instead of at the close after them: on 1M subscriptions a day's refresh checkpoints in 0.12 s, which the
    // reports' 0.11 s now hide for the most part. (DuckDB checkpoints beside readers.)
    const [computed] = await Promise.allSettled([
      computeReports(opened.db, options),
      refresh.mode === "unchanged" ? Promise.resolve() : checkpointAside(opened.instance)
    ])
    if (computed.status === "rejected") throw computed.reason
    const set = computed.value
    return { set: { ...set, timings: { loadMs: refresh.ms, computeMs: set.timings.computeMs } }, refresh }
  } finally {
    opened.db.closeSync()
    opened.instance.closeSync()
  }
}
