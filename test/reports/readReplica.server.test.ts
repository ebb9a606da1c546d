/**
 * `billcycle report --read-db URL`: reports read a replica of the store, and
 * nothing is written there. The "replica" is a second database holding a copy
 * of the store and refusing writes (default_transaction_read_only, as a hot
 * standby does); the primary is an empty store, so the figures can only come
 * from the copy.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"
import { serverUrl } from "../storeHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

const name = `billcycle_replica_${process.pid}_${Date.now().toString(36)}`
const emptyName = `${name}_empty`
const urlOf = (db: string) => {
  const u = new URL(serverUrl!)
  u.pathname = `/${db}`
  return u.toString()
}
const admin = postgres(urlOf("postgres"), { max: 1, onnotice: () => {} })
const env = { DATABASE_URL: undefined, BILLCYCLE_DB_SCHEMA: undefined }
const primary = join(mkdtempSync(join(tmpdir(), "billcycle-primary-")), "db")
const range = ["--from", "2025-01", "--to", "2025-07", "--format", "json"]

beforeAll(async () => {
  await admin.unsafe(`create database ${name}`)
  await admin.unsafe(`create database ${emptyName}`)
  const imported = runCli(["import", "history", "test/engine/imports/fixtures/history", "--now", "2025-12-31", "--db", urlOf(name)], { env })
  expect(imported.code, imported.stderr).toBe(0)
  // From here on the copy refuses every write, as a hot standby does.
  await admin.unsafe(`alter database ${name} set default_transaction_read_only = on`)
  const migrated = runCli(["db", "migrate", "--db", primary], { env })
  expect(migrated.code, migrated.stderr).toBe(0)
}, 300_000)

afterAll(async () => {
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.unsafe(`drop database if exists ${emptyName} with (force)`)
  await admin.end()
})

describe("report --read-db", () => {
  it("reads the figures from the replica, not from --db", () => {
    const own = runCli(["report", "mrr", ...range, "--db", primary], { env })
    expect(own.code, own.stderr).toBe(0)
    expect(JSON.parse(own.stdout)[0]).toMatchObject({ month: "2025-01", mrr: 0, subscribers: 0 })
    const replica = runCli(["report", "mrr", ...range, "--db", primary, "--read-db", urlOf(name)], { env })
    expect(replica.code, replica.stderr).toBe(0)
    const rows = JSON.parse(replica.stdout)
    expect(rows[0]).toEqual({ month: "2025-01", mrr: 33.33, arr: 400, subscribers: 2, arpa: 16.67, paused: 0, ltv: null })
    expect(rows[5]).toMatchObject({ month: "2025-06", paused: 1 })
  }, 240_000)

  it("writes nothing there: a read-only copy serves reports, though as --db (which migrates) it is refused", () => {
    const asPrimary = runCli(["report", "churn", ...range, "--db", urlOf(name)], { env })
    expect(asPrimary.code).not.toBe(0)
    expect(asPrimary.stderr).toMatch(/read-only transaction/)
    const asReplica = runCli(["report", "churn", ...range, "--read-db", urlOf(name)], { env })
    expect(asReplica.code, asReplica.stderr).toBe(0)
    expect(JSON.parse(asReplica.stdout)[4]).toMatchObject({ month: "2025-05", subscribers_start: 4, subscribers_end: 3 })
  }, 240_000)

  it("a database without a billcycle store is refused with the URL named, and left untouched", async () => {
    const r = runCli(["report", "mrr", ...range, "--read-db", urlOf(emptyName)], { env })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`cannot read the database at ${urlOf(emptyName)}: it holds no billcycle store`)
    const probe = postgres(urlOf(emptyName), { max: 1, onnotice: () => {} })
    try {
      const tables = await probe`select count(*)::int as n from information_schema.tables where table_schema = 'public'`
      expect(tables[0]!["n"]).toBe(0)
    } finally {
      await probe.end()
    }
  }, 240_000)
})
