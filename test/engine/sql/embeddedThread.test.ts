/**
 * A long run's embedded database (engine, simulate, serve, demo: `longRunning`)
 * executes on a thread of its own (sql/embeddedThread.ts): while a statement
 * runs, the owning process goes on working (its timers fire, its HTTP server
 * answers, a SIGTERM is heard) instead of waiting, frozen, for PGlite.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openDatabase } from "../../../engine/sql/index.ts"

const dir = mkdtempSync(join(tmpdir(), "billcycle-thread-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("the embedded database of a long run", () => {
  it("runs beside the process: its timers fire during a statement", async () => {
    const scope = Scope.makeUnsafe()
    const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: join(dir, "db"), longRunning: true }).pipe(Scope.provide(scope)))
    try {
      let ticks = 0
      const timer = setInterval(() => ticks++, 25)
      await db.sql`select pg_sleep(0.6)`
      clearInterval(timer)
      expect(ticks).toBeGreaterThanOrEqual(10)
      // And it is the store, migrated, as on the command's own thread.
      const [row] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from subscriptions`
      expect(row!.n).toBe(0)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 60_000)

  it("has PostgreSQL's 128 MB buffer pool; a short command's keeps 16 MB", async () => {
    const poolOf = async (longRunning: boolean) => {
      const scope = Scope.makeUnsafe()
      const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: join(dir, "pool"), longRunning }).pipe(Scope.provide(scope)))
      try {
        const [row] = await db.sql<Array<{ shared_buffers: string }>>`show shared_buffers`
        return row!.shared_buffers
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    }
    expect(await poolOf(true)).toBe("128MB")
    expect(await poolOf(false)).toBe("16MB")
  }, 60_000)

  it("lets go of its directory when closed: the next process owns it", async () => {
    for (let i = 0; i < 2; i++) {
      const scope = Scope.makeUnsafe()
      const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: join(dir, "db"), longRunning: true }).pipe(Scope.provide(scope)))
      await db.sql`insert into contacts (email) values (${`thread${i}@example.com`})`
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    const scope = Scope.makeUnsafe()
    const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: join(dir, "db") }).pipe(Scope.provide(scope)))
    const rows = await db.sql<Array<{ email: string }>>`select email from contacts where email like 'thread%' order by email`
    expect(rows.map((r) => r.email)).toEqual(["thread0@example.com", "thread1@example.com"])
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }, 60_000)
})
