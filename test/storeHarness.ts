/**
 * Gives each test a fresh database schema: on the PostgreSQL server when
 * DATABASE_URL is set (CI runs the store and engine tests there too), else on
 * an embedded PGlite shared by the test file. Either way the schema is new
 * and migrated, so tests never see each other's rows.
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DatabaseService, DatabaseTarget } from "../engine/sql/index.ts"
import { Database, openDatabase } from "../engine/sql/index.ts"
import { runCli } from "./cliRunner.ts"

export const serverUrl: string | undefined = process.env["DATABASE_URL"] || undefined
export const backend: "server" | "embedded" = serverUrl === undefined ? "embedded" : "server"

let counter = 0
/** `t_RUN_…`: the test run's name (globalSetup.ts) first, so that its teardown drops this run's schemas and no other's. */
export const freshSchemaName = (): string =>
  `t_${process.env["BILLCYCLE_TEST_RUN"] ?? "norun"}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}`

// One in-memory PGlite per test process, served on loopback; each test gets its own schema in it.
let embeddedUrl: Promise<string> | undefined
const sharedEmbeddedUrl = (): Promise<string> => {
  embeddedUrl ??= (async () => {
    const pg = await PGlite.create()
    const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1" })
    await server.start()
    return `postgres://postgres@${server.getServerConn()}/postgres`
  })()
  return embeddedUrl
}

/** A database target for a fresh schema on this run's backend. */
export const freshTarget = async (): Promise<DatabaseTarget> =>
  serverUrl === undefined
    ? { _tag: "Server", url: await sharedEmbeddedUrl(), schema: freshSchemaName(), singleConnection: true }
    : { _tag: "Server", url: serverUrl, schema: freshSchemaName() }

export interface TestDatabase {
  readonly db: DatabaseService
  readonly layer: Layer.Layer<Database>
  readonly close: () => Promise<void>
}

/** Opens a fresh, migrated schema; call `close` after the test. */
export const openTestDatabase = async (given?: DatabaseTarget): Promise<TestDatabase> => {
  const target = given ?? await freshTarget()
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase(target).pipe(Scope.provide(scope)))
  return {
    db,
    layer: Layer.succeed(Database, db),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/**
 * For tests that drive the CLI as a child process: `--db` and environment
 * for a fresh schema (a fresh embedded directory, made with `db migrate` as a
 * user would, since only that makes a database at a new --db path; or a fresh
 * server schema).
 */
export const freshCliDatabase = (): { readonly db: string; readonly env: Record<string, string> } => {
  if (serverUrl !== undefined) return { db: serverUrl, env: { BILLCYCLE_DB_SCHEMA: freshSchemaName() } }
  const db = join(mkdtempSync(join(tmpdir(), "billcycle-test-")), "db")
  const made = runCli(["db", "migrate", "--db", db])
  if (made.code !== 0) throw new Error(`db migrate --db ${db}: ${made.stderr}`)
  return { db, env: {} }
}

/**
 * What `work` gives, and how many writes it made to the PostgreSQL server's socket (port 5432, as CI's server
 * is reached): the round trips a pipelined transaction saves show here.
 */
export const serverWrites = async <A>(work: () => Promise<A>): Promise<{ readonly n: number; readonly value: A }> => {
  let n = 0
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (this: net.Socket, ...a: Array<unknown>) => unknown }
  const original = proto._writeGeneric
  proto._writeGeneric = function (this: net.Socket, ...a: Array<unknown>) {
    if (this.remotePort === 5432) n++
    return original.apply(this, a)
  }
  try {
    const value = await work()
    return { n, value }
  } finally {
    proto._writeGeneric = original
  }
}
