/**
 * Several billcycle processes on one embedded database (issue #13, finding 1),
 * and --db paths that are not a billcycle database (finding 9). Driven through
 * the real bin/billcycle, on the embedded database whatever DATABASE_URL says
 * (every command here names its --db directory).
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli } from "../../cliRunner.ts"

const scratch = () => mkdtempSync(join(tmpdir(), "billcycle-owner-"))
// The embedded database is used even when the suite runs against a server.
const env = { DATABASE_URL: "", BILLCYCLE_DB_SCHEMA: "" }
const cli = (args: ReadonlyArray<string>, options: { cwd?: string } = {}) => runCli(args, { env, ...options })

interface Done {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const start = (args: ReadonlyArray<string>) => {
  const child = spawn(billcyclePath, args, { cwd: repoRoot, env: { ...process.env, ...env } })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
  let exited = false
  const done = new Promise<Done>((resolve) => child.on("close", (code) => {
    exited = true
    resolve({ code, stdout, stderr })
  }))
  return { child, done, stdout: () => stdout, stderr: () => stderr, exited: () => exited }
}

/** Waits for `what`, failing (never hanging) once `gone` says the process it waits on has exited or the time is up. */
const until = async (what: () => boolean, gone: () => boolean = () => false, seconds = 600) => {
  const deadline = Date.now() + seconds * 1000
  while (!what()) {
    if (gone()) throw new Error("the process exited before it was ready")
    if (Date.now() > deadline) throw new Error(`not ready after ${seconds} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("one embedded database, many processes", () => {
  it("an engine and 20 concurrent commands: every command that answered with an id has its row", { timeout: 1_500_000, retry: 1 }, async () => {
    const db = join(scratch(), "db")
    const migrated = cli(["db", "migrate", "--db", db])
    expect(migrated.code, migrated.stderr).toBe(0)
    expect(cli(["products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD", "--now", "2026-03-01", "--db", db]).code).toBe(0)
    const csv = join(scratch(), "contacts.csv")
    writeFileSync(csv, "email\n" + Array.from({ length: 10 }, (_, i) => `sub${i}@example.com`).join("\n") + "\n")
    expect(cli(["import", csv, "--now", "2026-03-01", "--db", db]).code).toBe(0)

    // The engine puts the store's clock on 2026-03-01; the commands run on it.
    const engine = start(["engine", "--interval", "1", "--now", "2026-03-01", "--db", db])
    // Its first tick (opening PGlite, migrating, billing) can take minutes on a loaded 2-core machine.
    await until(() => engine.stdout().length > 0, () => engine.exited(), 600).catch((e: Error) => {
      engine.child.kill("SIGKILL")
      throw new Error(`${e.message}: ${engine.stderr()}`)
    })
    const commands = [
      ...Array.from({ length: 10 }, (_, i) => ["contacts", "add", "--email", `new${i}@example.com`, "--now", "2026-03-01", "--json", "--db", db]),
      ...Array.from({ length: 10 }, (_, i) => ["subscriptions", "create", "--contact", `sub${i}@example.com`, "--item", "sku=COFFEE", "--collection", "invoice", "--now", "2026-03-01", "--json", "--db", db])
    ]
    const results = await Promise.all(commands.map((args) => start(args).done))
    // SIGTERM: the engine lets go of the database once its guests have gone (a guest that reset its
    // connection once kept it waiting for ever), exits 0 and removes its lock.
    engine.child.kill("SIGTERM")
    const stopped = await Promise.race([engine.done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 120_000))])
    if (stopped === undefined) {
      engine.child.kill("SIGKILL")
      await engine.done
      throw new Error(`the engine did not stop within 120 s of SIGTERM: ${engine.stderr()}`)
    }
    expect(stopped.code, stopped.stderr).toBe(0)
    // The seller was never set up: the engine says so when it starts (issue #20).
    expect(stopped.stderr).toContain('warning: seller-name is still "billcycle seller", seller-email is still "billing@example.com"')
    expect(existsSync(join(db, "billcycle.lock"))).toBe(false)

    // Nobody was refused: the commands queued behind the engine's database.
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, ""]))
    const contactIds = results.slice(0, 10).map((r) => JSON.parse(r.stdout).id as number)
    const subscriptionIds = results.slice(10).flatMap((r) => (JSON.parse(r.stdout).subscriptions as Array<{ id: number }>).map((s) => s.id))
    expect(subscriptionIds).toHaveLength(10)
    const contacts = JSON.parse(cli(["contacts", "list", "--json", "--db", db]).stdout) as Array<{ id: number; email: string }>
    const subscriptions = JSON.parse(cli(["subscriptions", "list", "--json", "--db", db]).stdout) as Array<{ id: number }>
    expect(contacts.map((c) => c.id)).toEqual(expect.arrayContaining(contactIds))
    expect(contacts).toHaveLength(20)
    expect(subscriptions.map((s) => s.id).sort((a, b) => a - b)).toEqual([...subscriptionIds].sort((a, b) => a - b))
  })

  it("a lock file left by a process that died is taken over", () => {
    const db = join(scratch(), "db")
    expect(cli(["db", "migrate", "--db", db]).code).toBe(0)
    const dead = spawnSync(process.execPath, ["-e", ""]).pid
    writeFileSync(join(db, "billcycle.lock"), JSON.stringify({ pid: dead, port: 1, host: "127.0.0.1", state: "ready", long: true, schema: null, command: "billcycle engine" }))
    const added = cli(["contacts", "add", "--email", "ana@example.com", "--db", db])
    expect(added.code, added.stderr).toBe(0)
    expect(existsSync(join(db, "billcycle.lock"))).toBe(false)
    expect(JSON.parse(cli(["contacts", "list", "--json", "--db", db]).stdout)).toHaveLength(1)
  }, 300_000)
})

describe("--db must name a billcycle database", () => {
  it("a --db directory that does not exist is created and migrated on first use, by any command, and said on stderr", () => {
    const dir = scratch()
    const fresh = join(dir, "stores", "shop")
    const first = cli(["contacts", "add", "--email", "ana@example.com", "--db", fresh])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain(`a new embedded database at ${fresh}`)
    expect(readdirSync(fresh)).toContain("PG_VERSION")
    const again = cli(["contacts", "list", "--json", "--db", fresh])
    expect(again.stderr).not.toContain("a new embedded database")
    expect(JSON.parse(again.stdout)).toHaveLength(1)
    const listed = join(dir, "listed")
    const empty = cli(["subscriptions", "list", "--json", "--db", listed])
    expect(empty.code, empty.stderr).toBe(0)
    expect(JSON.parse(empty.stdout)).toEqual([])
  })

  it("a --db that looks like a URL but is not postgres:// exits 2 and makes no folder", () => {
    const dir = scratch()
    const r = cli(["contacts", "list", "--db", "postgress://postgres@127.0.0.1/test"], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('expected a postgres:// URL or a directory for the embedded database, got "postgress://postgres@127.0.0.1/test"')
    expect(readdirSync(dir)).toEqual([])
  })

  it("a folder holding something else is refused, by every command, and left as it was", () => {
    const dir = scratch()
    writeFileSync(join(dir, "notes.txt"), "mine")
    for (const args of [["contacts", "list"], ["db", "migrate"], ["import", "test/engine/imports/fixtures/history"]]) {
      const r = cli([...args, "--db", dir])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`--db: ${dir} holds other files, not a billcycle database`)
    }
    expect(readdirSync(dir)).toEqual(["notes.txt"])
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("mine")
  })

  it("db migrate --db NEWPATH creates the database; the default ./.billcycle/db is created on first use", () => {
    const db = join(scratch(), "new", "db")
    const created = cli(["db", "migrate", "--db", db])
    expect(created.code, created.stderr).toBe(0)
    expect(cli(["contacts", "add", "--email", "ana@example.com", "--db", db]).code).toBe(0)
    expect(JSON.parse(cli(["contacts", "list", "--json", "--db", db]).stdout)).toHaveLength(1)

    const cwd = scratch()
    const first = cli(["contacts", "list", "--json"], { cwd })
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toEqual([])
    expect(existsSync(join(cwd, ".billcycle", "db", "PG_VERSION"))).toBe(true)
  }, 300_000)
})
