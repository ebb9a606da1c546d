/**
 * The database connection: one driver (`postgres`), two places. A
 * `postgres://` URL reaches a PostgreSQL server; anything else is a directory
 * for the embedded PostgreSQL (PGlite), served on a loopback port so the same
 * driver and the same SQL run against it. Opening is a scoped resource: the
 * embedded server always closes cleanly. The schema is migrated on first use.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { join } from "node:path"
import type { Claim, ServedEmbedded } from "./embeddedOwner.ts"
import { claimEmbeddedDir, commandLabel, defaultEmbeddedDir, describeOwner, embeddedBufferPool, lockFileName, openAndServe } from "./embeddedOwner.ts"
import type { EmbeddedThreadReply, EmbeddedThreadStart } from "./embeddedThread.ts"
import { Worker } from "node:worker_threads"
import { compileEmbeddedWasm } from "./embeddedWasm.ts"
import { makeDirs } from "./makeDirs.ts"
import type postgres from "postgres"
import { migrate, migrations, migrationsApplied } from "./migrate.ts"

// The driver is loaded when a database is opened: `--help` and commands without a database never need it.
const loadDriver = async () => (await import("postgres")).default

export type Sql = postgres.Sql<{}>
export type TransactionSql = postgres.TransactionSql<{}>

export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

export type DatabaseTarget =
  | {
    readonly _tag: "Server"
    readonly url: string
    readonly schema?: string | undefined
    /** Set when the "server" is an embedded PGlite served on loopback: one connection only. */
    readonly singleConnection?: boolean | undefined
  }
  | {
    readonly _tag: "Embedded"
    readonly dataDir: string | undefined
    readonly schema?: string | undefined
    /** engine, simulate, demo: wait for a short command that owns the directory rather than be its guest. */
    readonly longRunning?: boolean | undefined
  }

export { defaultEmbeddedDir }

/** `--db`, else `DATABASE_URL`, else the embedded database in ./.billcycle/db. */
export const resolveDatabaseTarget = (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseTarget => {
  const value = flag ?? env["DATABASE_URL"]
  // BILLCYCLE_DB_SCHEMA puts every table in one schema: tests give each run its own.
  const schema = env["BILLCYCLE_DB_SCHEMA"] || undefined
  if (value === undefined || value === "") return { _tag: "Embedded", dataDir: defaultEmbeddedDir, schema }
  if (/^postgres(ql)?:\/\//.test(value)) return { _tag: "Server", url: value, schema }
  if (value === "memory:") return { _tag: "Embedded", dataDir: undefined, schema }
  return { _tag: "Embedded", dataDir: value, schema }
}

/**
 * A server URL as the driver takes it. libpq's ways of naming a Unix socket
 * work too: `postgres://user@/db?host=/var/run/postgresql` (or `%2Fvar%2Frun%2Fpostgresql`
 * as the host, or a `port` parameter beside it): the driver is given the socket's
 * path (`<dir>/.s.PGSQL.<port>`) and a URL without them (it would send `host` to
 * the server as a setting, and refuse a host with slashes). A local server is
 * cheaper to reach through its socket than through TCP on loopback.
 */
export const serverConnection = (url: string): { readonly url: string; readonly path?: string } => {
  const query = url.indexOf("?")
  const params = new URLSearchParams(query < 0 ? "" : url.slice(query + 1))
  const rest = query < 0 ? url : url.slice(0, query)
  const authority = /^(postgres(?:ql)?:\/\/)([^/]*)(.*)$/.exec(rest)
  if (authority === null) return { url }
  const [, scheme, hostPart, path] = authority as unknown as [string, string, string, string]
  const at = hostPart.lastIndexOf("@")
  const user = at < 0 ? "" : hostPart.slice(0, at + 1)
  const hostPort = at < 0 ? hostPart : hostPart.slice(at + 1)
  const hostInUrl = decodeURIComponent(hostPort.replace(/:\d+$/, ""))
  const socketDir = params.get("host")?.startsWith("/") === true ? params.get("host")! : hostInUrl.startsWith("/") ? hostInUrl : undefined
  if (socketDir === undefined) return { url }
  const port = params.get("port") ?? /:(\d+)$/.exec(hostPort)?.[1] ?? "5432"
  params.delete("host")
  params.delete("port")
  const search = params.toString()
  return { url: `${scheme}${user}localhost:${port}${path === "" ? "/" : path}${search === "" ? "" : `?${search}`}`, path: `${socketDir.replace(/\/$/, "")}/.s.PGSQL.${port}` }
}

// Business dates stay `YYYY-MM-DD` strings and int8 money stays a JS number
// (safe integers are enforced at the edges), so rows need no conversion.
const types = {
  date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
  bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) }
}

const driverOptions = (max: number, schema: string | undefined, application?: string) => ({
  max,
  onnotice: () => {},
  types,
  connect_timeout: 10,
  idle_timeout: 0,
  connection: {
    // The embedded database's owner names its guests by this when it waits for them.
    ...(application === undefined ? {} : { application_name: `${application.slice(0, 40)} (pid ${process.pid})` }),
    ...(schema === undefined ? {} : { search_path: schema })
  }
}) as postgres.Options<{}>

/**
 * A guest of the embedded database's owner waits its turn for the one session, the startup
 * included (postgres' connect_timeout runs until the first ReadyForQuery): allow a long
 * transaction of the owner's ahead of it.
 */
const embeddedOptions = (schema: string | undefined, application: string) =>
  ({ ...driverOptions(1, schema, application), connect_timeout: 300 }) as postgres.Options<{}>

export interface DatabaseService {
  readonly sql: Sql
  readonly kind: "server" | "embedded"
  /** Whether several connections may run at once (the embedded database has one). */
  readonly concurrent: boolean
}

export class Database extends Context.Service<Database, DatabaseService>()("billcycle/engine/sql/Database") {
  static readonly layer = (target: DatabaseTarget): Layer.Layer<Database, DatabaseError> =>
    Layer.effect(Database, openDatabase(target))
  /** A read-only copy of the store (see `openReadReplica`), for reports. */
  static readonly readReplica = (url: string, schema: string | undefined): Layer.Layer<Database, DatabaseError> =>
    Layer.effect(Database, openReadReplica(url, schema))
}

const ensureSchema = async (sql: Sql, schema: string | undefined, singleConnection: boolean) => {
  if (schema === undefined) return
  const quoted = `"${schema.replaceAll('"', '""')}"`
  try {
    await sql.unsafe(`create schema if not exists ${quoted}`)
  } catch (e) {
    // Two processes creating the same schema at once: PostgreSQL's IF NOT EXISTS can still
    // lose the race on the catalog's unique index; the schema exists either way.
    const code = (e as { code?: string }).code
    if (code !== "23505" && code !== "42P06") throw e
  }
  // PGlite's socket server ignores startup parameters. Its one session is shared by every process
  // on the directory, and all of them ask for the same schema (embeddedOwner.ts refuses others).
  if (singleConnection) await sql.unsafe(`set search_path to ${quoted}`)
}

/**
 * Makes the store ready for this billcycle: its schema created and migrated.
 * A store already at this version (nearly every start) costs one read (two
 * for the embedded database in a schema of its own, whose session is told the
 * schema first); only a new or older store takes `migrate`'s lock.
 */
const prepareStore = async (sql: Sql, schema: string | undefined, singleConnection: boolean) => {
  if (singleConnection && schema !== undefined) await sql.unsafe(`set search_path to "${schema.replaceAll('"', '""')}"`)
  if (await migrationsApplied(sql)) return
  await ensureSchema(sql, schema, singleConnection)
  await migrate(sql)
}

/**
 * On a PostgreSQL server no lock is held across an unbounded wait: a session
 * idle inside a transaction for 60 s (a zombie engine stopped while it held
 * the invoice numbering lock) is ended by the server, which rolls it back and
 * frees its locks; a statement waits at most 30 s for a lock, then fails (the
 * engine tries again on its next tick); no statement runs longer than 10
 * minutes (a report over millions of rows takes seconds). BILLCYCLE_IDLE_IN_
 * TRANSACTION_TIMEOUT, BILLCYCLE_LOCK_TIMEOUT and BILLCYCLE_STATEMENT_TIMEOUT
 * change them (in seconds).
 */
const serverSessionSettings = () => ({
  idle_in_transaction_session_timeout: secondsFromEnv("BILLCYCLE_IDLE_IN_TRANSACTION_TIMEOUT", 60) * 1000,
  lock_timeout: secondsFromEnv("BILLCYCLE_LOCK_TIMEOUT", 30) * 1000,
  statement_timeout: secondsFromEnv("BILLCYCLE_STATEMENT_TIMEOUT", 600) * 1000
})

const secondsFromEnv = (name: string, fallback: number): number => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}

const openServer = (url: string, schema: string | undefined, singleConnection: boolean) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        // Sessions carry the command and pid (pg_stat_activity; cancelOwnLockWaits finds its own by it).
        const options = driverOptions(singleConnection ? 1 : 10, schema, commandLabel())
        const postgres = await loadDriver()
        const target = serverConnection(url)
        const sql = postgres(target.url, {
          ...options,
          ...(target.path === undefined ? {} : { path: target.path }),
          ...(singleConnection ? {} : { connection: { ...options.connection, ...serverSessionSettings() } })
        }) as Sql
        try {
          await prepareStore(sql, schema, singleConnection)
        } catch (e) {
          await sql.end({ timeout: 1 })
          throw e
        }
        return singleConnection
          ? { sql, kind: "embedded" as const, concurrent: false }
          : { sql, kind: "server" as const, concurrent: true }
      },
      catch: (cause) => new DatabaseError({ message: `cannot open the PostgreSQL database at ${redact(url)}: ${messageOf(cause)}`, cause })
    }),
    (db) => Effect.promise(() => db.sql.end({ timeout: 5 }))
  )

/** Errors of a guest's first query that mean "the owner went away before we got in": try again. */
const retryable = (e: unknown) =>
  ["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"].includes(String((e as { code?: unknown }).code))

const say = (line: string) => process.stderr.write(`billcycle: ${line}\n`)

/** PGlite on this thread: a short command's database (no thread to start, no second copy of PGlite's code). */
const serveOnThisThread = (dataDir: string | undefined): Promise<ServedEmbedded> =>
  // Its WebAssembly compiles meanwhile (or did while the command line loaded: embeddedWasm.ts).
  openAndServe(dataDir, compileEmbeddedWasm(), embeddedBufferPool.command)

/**
 * PGlite on a thread of its own (embeddedThread.ts), for the long runs (engine, simulate, serve, demo):
 * the process stays responsive (timers, SIGTERM, HTTP) while a statement runs. Its WebAssembly module is
 * compiled here (or was while the command line loaded: embeddedWasm.ts) and handed over.
 */
const serveOnItsOwnThread = async (dataDir: string | undefined): Promise<ServedEmbedded> => {
  const start: EmbeddedThreadStart = { dataDir, wasm: await compileEmbeddedWasm() }
  const worker = new Worker(new URL("./embeddedThread.ts", import.meta.url), { workerData: start })
  const close = (onWaiting: (clients: ReadonlyArray<string>) => void) =>
    new Promise<void>((resolve, reject) => {
      worker.on("message", (reply: EmbeddedThreadReply) => {
        if (reply.type === "waiting") onWaiting(reply.clients)
        if (reply.type === "closed") resolve()
      })
      worker.once("error", reject)
      worker.once("exit", () => resolve())
      worker.postMessage({ type: "close" })
    }).finally(() => worker.terminate())
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once("message", (reply: EmbeddedThreadReply) => reply.type === "ready" ? resolve(reply.port) : reject(new Error(reply.type === "failed" ? reply.message : `unexpected ${reply.type}`)))
      worker.once("error", reject)
      worker.once("exit", (code) => reject(new Error(`the embedded database's thread stopped (exit code ${code})`)))
    })
    worker.removeAllListeners()
    return { port, close }
  } catch (e) {
    worker.removeAllListeners()
    await worker.terminate()
    throw e
  }
}

/** Opens PGlite in `dataDir` (or in memory) and serves it; this process is the owner. */
const ownEmbedded = async (dataDir: string | undefined, schema: string | undefined, application: string, onItsOwnThread: boolean, claim?: Extract<Claim, { _tag: "Owner" }>) => {
  let served: ServedEmbedded | undefined
  try {
    if (dataDir !== undefined) makeDirs(dataDir)
    served = await (onItsOwnThread ? serveOnItsOwnThread(dataDir) : serveOnThisThread(dataDir))
    const postgres = await loadDriver()
    const sql = postgres(`postgres://postgres@127.0.0.1:${served.port}/postgres`, embeddedOptions(schema, application)) as Sql
    try {
      await prepareStore(sql, schema, true)
    } catch (e) {
      await sql.end({ timeout: 1 })
      throw e
    }
    claim?.publish(served.port)
    const own = served
    return {
      sql,
      close: async () => {
        await sql.end({ timeout: 5 })
        await own.close((clients) => say(`waiting for ${clients.join(", ") || "other billcycle processes"} to finish with the database in ${dataDir}`))
        claim?.release()
      }
    }
  } catch (e) {
    await served?.close(() => {}).catch(() => {})
    claim?.release()
    throw e
  }
}

/**
 * The embedded database in `dataDir`: opened here when no other process has it
 * (this process owns it), else reached through the owner's server (this
 * process is its guest). See embeddedOwner.ts.
 */
const openEmbedded = (dataDir: string | undefined, schema: string | undefined, longRunning: boolean) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const application = commandLabel()
        if (dataDir === undefined) return ownEmbedded(undefined, schema, application, longRunning)
        makeDirs(dataDir)
        const postgres = await loadDriver()
        let refusedSince: number | undefined
        for (;;) {
          const claim = await claimEmbeddedDir(dataDir, { longRunning, schema, command: application, say })
          if (claim._tag === "Owner") return ownEmbedded(dataDir, schema, application, longRunning, claim)
          const sql = postgres(`postgres://postgres@${claim.lock.host}:${claim.lock.port}/postgres`, embeddedOptions(schema, application)) as Sql
          try {
            await prepareStore(sql, schema, true)
            return { sql, close: () => sql.end({ timeout: 5 }) }
          } catch (e) {
            await sql.end({ timeout: 1 })
            if (!retryable(e)) throw e
            // The owner is closing (it lets go of the directory in a moment), or its pid now belongs to another program.
            refusedSince ??= Date.now()
            if (Date.now() - refusedSince > 30_000) {
              throw new Error(`${describeOwner(claim.lock)} holds it (${join(dataDir, lockFileName)}) but does not answer on port ${claim.lock.port}; if no billcycle process is running, remove that file`)
            }
            await new Promise((r) => setTimeout(r, 100))
          }
        }
      },
      catch: (cause) => new DatabaseError({ message: `cannot open the embedded database in ${dataDir ?? "memory"}: ${messageOf(cause)}`, cause })
    }),
    (db) => Effect.promise(() => db.close())
  ).pipe(Effect.map(({ sql }): DatabaseService => ({ sql, kind: "embedded", concurrent: false })))

/**
 * A read replica for reports (`report --read-db URL`): a PostgreSQL server
 * holding a copy of the store (a streaming replica, or any copy). Nothing is
 * ever written there: every session is read-only (`default_transaction_read_only`),
 * no schema is created and no migration runs (a hot standby refuses both).
 * The copy must be at this billcycle's schema version, else its columns may
 * not be what the reports read.
 */
export const openReadReplica = (url: string, schema: string | undefined) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const options = driverOptions(2, schema)
        const postgres = await loadDriver()
        const target = serverConnection(url)
        const sql = postgres(target.url, {
          ...options,
          ...(target.path === undefined ? {} : { path: target.path }),
          connection: { ...options.connection, default_transaction_read_only: true }
        }) as Sql
        try {
          const [store] = await sql<Array<{ found: boolean }>>`select to_regclass('schema_migrations') is not null as found`
          if (store?.found !== true) throw new Error("it holds no billcycle store")
          const [{ version }] = await sql<Array<{ version: number }>>`select coalesce(max(version), 0) as version from schema_migrations` as unknown as [{ version: number }]
          const latest = migrations[migrations.length - 1]!.version
          if (version !== latest) throw new Error(`its store is at schema version ${version}, this billcycle reads version ${latest}`)
        } catch (e) {
          await sql.end({ timeout: 1 })
          throw e
        }
        return { sql, kind: "server" as const, concurrent: true }
      },
      catch: (cause) => new DatabaseError({ message: `cannot read the database at ${redact(url)}: ${messageOf(cause)}`, cause })
    }),
    (db) => Effect.promise(() => db.sql.end({ timeout: 5 }))
  )

export const openDatabase = (target: DatabaseTarget) =>
  target._tag === "Server"
    ? openServer(target.url, target.schema, target.singleConnection === true)
    : openEmbedded(target.dataDir, target.schema, target.longRunning === true)

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")

export const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * Cancels this process's statements that wait for a lock (a stop asked for
 * while an engine is blocked behind another session): each fails with
 * 57014, its transaction rolls back, and nothing it had in hand is lost.
 * Returns how many were cancelled. A server only (the embedded database has
 * one session and never waits for a lock).
 */
export const cancelOwnLockWaits = async (sql: Sql): Promise<number> => {
  const rows = await sql<Array<{ pid: number }>>`
    select pid from pg_stat_activity
    where application_name like ${`% (pid ${process.pid})`} and wait_event_type = 'Lock' and pid <> pg_backend_pid()`
  for (const { pid } of rows) await sql`select pg_cancel_backend(${pid})`
  return rows.length
}

/** Whether `e` (or an error it wraps, through `cause`) carries the SQLSTATE `code`. */
const hasSqlState = (e: unknown, code: string): boolean => {
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if ((cur as { code?: unknown }).code === code) return true
  }
  return false
}

/** Whether a statement was cancelled (pg_cancel_backend, statement_timeout): SQLSTATE 57014. */
export const statementCancelled = (e: unknown): boolean => hasSqlState(e, "57014")

/** Whether a lock was not granted within lock_timeout: SQLSTATE 55P03. */
export const lockNotGranted = (e: unknown): boolean => hasSqlState(e, "55P03")

/** Node and postgres driver codes of a connection that is gone or cannot be made. */
const lostConnectionCodes = new Set([
  "ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
  "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED", "CONNECT_TIMEOUT"
])

/**
 * Whether an error means the database went away (a restart, a network outage,
 * a server shutting down or still starting: SQLSTATE class 08, 57P01..57P03;
 * our session ended for idling in a transaction, 25P03) or stayed busy (a
 * lock not granted within lock_timeout, 55P03; a statement cancelled by a
 * stop or by statement_timeout, 57014), as opposed to a problem with
 * the data. An outage is not a bad record: the
 * engine rolls back, waits and tries again; it never parks a record for it.
 * Follows `cause` (a DatabaseError wraps the driver's error).
 */
export const connectionLost = (e: unknown): boolean => {
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code
    if (typeof code === "string" && (lostConnectionCodes.has(code) || code.startsWith("08") || ["57P01", "57P02", "57P03", "25P03", "55P03", "57014"].includes(code))) return true
  }
  return false
}
