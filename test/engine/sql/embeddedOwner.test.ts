/**
 * The pieces that let many processes share one embedded database
 * (engine/sql/embeddedOwner.ts): the owner's server runs one client's unit
 * of work at a time on PGlite's one session, and the lock file decides who
 * owns a directory. In-process; the multi-process test is
 * test/engine/cli/embeddedOwner.test.ts.
 */
import { PGlite } from "@electric-sql/pglite"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { connect, type Socket } from "node:net"
import { join } from "node:path"
import postgres from "postgres"
import { describe, expect, it } from "vitest"
import { claimEmbeddedDir, lockFileName, serveEmbedded } from "../../../engine/sql/index.ts"

/** Waits (at most 10 s) for `what`. */
const until = async (what: () => boolean) => {
  const deadline = Date.now() + 10_000
  while (!what()) {
    if (Date.now() > deadline) throw new Error("condition not reached in 10 s")
    await new Promise((r) => setTimeout(r, 20))
  }
}

const scratch = () => mkdtempSync(join(tmpdir(), "billcycle-owner-unit-"))

describe("the owner's server: one unit of work at a time on the one session", () => {
  it("concurrent clients with parameters and transactions neither mix their statements nor lose a write; a client gone mid-transaction is rolled back", async () => {
    const pg = await PGlite.create()
    const server = await serveEmbedded(pg)
    const connect = () => postgres(`postgres://postgres@127.0.0.1:${server.port}/postgres`, { max: 1, onnotice: () => {} })
    const setup = connect()
    await setup`create table writes (id serial primary key, client int not null, n int not null)`
    const clients = Array.from({ length: 4 }, connect)
    const seen = await Promise.all(clients.map(async (sql, client) => {
      const ids: Array<number> = []
      for (let n = 0; n < 10; n++) {
        const id = await sql.begin(async (tx) => {
          const [row] = await tx<Array<{ id: number }>>`insert into writes (client, n) values (${client}, ${n}) returning id`
          // Inside its transaction a client sees exactly its own rows so far.
          const [mine] = await tx<Array<{ count: number }>>`select count(*)::int as count from writes where client = ${client}`
          expect(mine!.count).toBe(n + 1)
          return row!.id
        })
        ids.push(id)
        // And outside a transaction, plain parameterised statements.
        const [back] = await sql<Array<{ client: number; n: number }>>`select client, n from writes where id = ${id}`
        expect(back).toEqual({ client, n })
      }
      return ids
    }))
    expect(new Set(seen.flat()).size).toBe(40)

    // A client that dies inside a transaction: its write is rolled back, the others go on.
    const doomed = connect()
    const reserved = await doomed.reserve()
    await reserved`begin`
    await reserved`insert into writes (client, n) values (99, 0)`
    const waiting = clients[0]!`insert into writes (client, n) values (0, 100) returning id`
    await doomed.end({ timeout: 0 })
    await waiting
    const [counts] = await setup<Array<{ all: number; doomed: number }>>`
      select count(*)::int as all, count(*) filter (where client = 99)::int as doomed from writes`
    expect(counts).toEqual({ all: 41, doomed: 0 })
    await Promise.all([setup, ...clients].map((c) => c.end()))
    await server.stop()
    await pg.close()
  }, 600_000)
  it("a guest whose connection is reset (not closed) stops counting as connected, so the owner can stop", async () => {
    const pg = await PGlite.create()
    const server = await serveEmbedded(pg)
    const sql = postgres(`postgres://postgres@127.0.0.1:${server.port}/postgres`, { max: 1, onnotice: () => {} })
    await sql`select 1`
    expect(server.connections()).toBe(1)
    // A guest process that dies resets its socket: the owner's side sees an error, then the close.
    const raw = await new Promise<Socket>((resolve, reject) => {
      const s = connect(server.port, "127.0.0.1", () => resolve(s))
      s.once("error", reject)
    })
    await until(() => server.connections() === 2)
    raw.resetAndDestroy()
    await sql.end()
    await until(() => server.connections() === 0)
    await server.stop()
    await pg.close()
  }, 120_000)
})

describe("the lock file decides who owns a directory", () => {
  const options = { longRunning: false, schema: undefined, command: "billcycle test", say: () => {} }

  it("two claims at once: one owner; the other waits for the owner's port and becomes its guest", async () => {
    const dir = scratch()
    const [a, b] = await Promise.all([
      claimEmbeddedDir(dir, options),
      claimEmbeddedDir(dir, options)
    ].map((p) =>
      p.then((claim) => {
        if (claim._tag === "Owner") claim.publish(4242)
        return claim
      })
    ))
    expect([a!._tag, b!._tag].sort()).toEqual(["Guest", "Owner"])
    const guest = [a, b].find((c) => c!._tag === "Guest")!
    expect(guest._tag === "Guest" && guest.lock.port).toBe(4242)
  })

  it("a lock of a dead process is taken over; a long-running command waits for a short owner, saying so once", async () => {
    const dir = scratch()
    writeFileSync(join(dir, lockFileName), JSON.stringify({ pid: 2 ** 22 + 1, port: 1, host: "127.0.0.1", long: false, schema: null, command: "billcycle gone" }))
    const taken = await claimEmbeddedDir(dir, options)
    expect(taken._tag).toBe("Owner")
    if (taken._tag !== "Owner") return
    taken.publish(5555)
    expect(JSON.parse(readFileSync(join(dir, lockFileName), "utf8"))).toMatchObject({ pid: process.pid, port: 5555 })

    const said: Array<string> = []
    let settled = false
    const engine = claimEmbeddedDir(dir, { ...options, longRunning: true, command: "billcycle engine", say: (l) => said.push(l) })
      .finally(() => (settled = true))
    while (said.length === 0) await new Promise((r) => setTimeout(r, 20))
    expect(settled).toBe(false)
    taken.release()
    const next = await engine
    expect(next._tag).toBe("Owner")
    expect(said).toEqual([`waiting for billcycle test (pid ${process.pid}) to finish with the database in ${dir}`])
    if (next._tag === "Owner") next.release()
  })

  it("a process asking for another BILLCYCLE_DB_SCHEMA than the owner's is refused at once", async () => {
    const dir = scratch()
    const owner = await claimEmbeddedDir(dir, { ...options, schema: "a" })
    if (owner._tag === "Owner") owner.publish(1)
    await expect(claimEmbeddedDir(dir, { ...options, schema: "b" })).rejects.toThrow(`is open in billcycle test (pid ${process.pid}) with BILLCYCLE_DB_SCHEMA=a`)
  })
})
