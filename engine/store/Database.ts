/**
 * The database connection: one driver (`postgres`), two places. A
 * `postgres://` URL reaches a PostgreSQL server; anything else is a directory
 * for the embedded PostgreSQL (PGlite), served on a loopback port so the same
 * driver and the same SQL run against it. Opening is a scoped resource: the
 * embedded server always closes cleanly. The schema is migrated on first use.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { makeDirs } from "./makeDirs.ts"
import postgres from "postgres"
import { migrate } from "./migrate.ts"

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
  | { readonly _tag: "Embedded"; readonly dataDir: string | undefined; readonly schema?: string | undefined }

export const defaultEmbeddedDir = ".billcycle/db"

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

// Business dates stay `YYYY-MM-DD` strings and int8 money stays a JS number
// (safe integers are enforced at the edges), so rows need no conversion.
const types = {
  date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
  bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) }
}

const driverOptions = (max: number, schema: string | undefined) => ({
  max,
  onnotice: () => {},
  types,
  connect_timeout: 10,
  idle_timeout: 0,
  ...(schema === undefined ? {} : { connection: { search_path: schema } })
}) as postgres.Options<{}>

export interface DatabaseService {
  readonly sql: Sql
  readonly kind: "server" | "embedded"
  /** Whether several connections may run at once (the embedded database has one). */
  readonly concurrent: boolean
}

export class Database extends Context.Service<Database, DatabaseService>()("billcycle/engine/store/Database") {
  static readonly layer = (target: DatabaseTarget): Layer.Layer<Database, DatabaseError> =>
    Layer.effect(Database, openDatabase(target))
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
  // PGlite's socket server ignores startup parameters; its one connection lives as long as the process.
  if (singleConnection) await sql.unsafe(`set search_path to ${quoted}`)
}

const openServer = (url: string, schema: string | undefined, singleConnection: boolean) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const sql = postgres(url, driverOptions(singleConnection ? 1 : 10, schema)) as Sql
        try {
          await ensureSchema(sql, schema, singleConnection)
          await migrate(sql)
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

const openEmbedded = (dataDir: string | undefined, schema: string | undefined) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        if (dataDir !== undefined) makeDirs(dataDir)
        // Loaded on first use: a server URL or a command without a database never needs PGlite.
        const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-socket")])
        // A 16 MB buffer pool instead of PostgreSQL's 128 MB: PGlite touches all of it at start,
        // which made a one-line command peak at ~650 MB; the OS page cache still holds the files.
        const options = { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] }
        const pg = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options)
        const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1" })
        await server.start()
        const sql = postgres(`postgres://postgres@${server.getServerConn()}/postgres`, driverOptions(1, schema)) as Sql
        try {
          await ensureSchema(sql, schema, true)
          await migrate(sql)
        } catch (e) {
          await sql.end({ timeout: 1 })
          await server.stop()
          await pg.close()
          throw e
        }
        return { sql, kind: "embedded" as const, concurrent: false, server, pg }
      },
      catch: (cause) => new DatabaseError({ message: `cannot open the embedded database in ${dataDir ?? "memory"}: ${messageOf(cause)}`, cause })
    }),
    (db) =>
      Effect.promise(async () => {
        await db.sql.end({ timeout: 5 })
        await db.server.stop()
        await db.pg.close()
      })
  ).pipe(Effect.map(({ sql, kind, concurrent }): DatabaseService => ({ sql, kind, concurrent })))

export const openDatabase = (target: DatabaseTarget) =>
  target._tag === "Server" ? openServer(target.url, target.schema, target.singleConnection === true) : openEmbedded(target.dataDir, target.schema)

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")

export const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
