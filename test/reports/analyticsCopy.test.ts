/**
 * The persisted analytics copy (reports/analyticsCopy.ts): on random
 * histories written into the store transaction by transaction, each with its
 * journal event (writeJournal, the store's one writer), with refreshes at
 * random points in between, the incrementally refreshed copy gives
 * byte-identical reports to a copy rebuilt from scratch.
 */
import fc from "fast-check"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openCopy, readMeta, refreshCopy } from "../../reports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { opArb, rebuiltText, reportText, Writer } from "./copyHarness.ts"

describe(`the analytics copy (${backend})`, () => {
  let t: TestDatabase
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "billcycle-copy-test-"))
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it("refreshed at random points, gives byte-identical reports to a rebuild from scratch", async () => {
    let run = 0
    t = await openTestDatabase()
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
      await t.db.sql`truncate contacts, subscriptions, item_versions, line_items, status_history, events cascade`
      const n = run++
      const copy = (await openCopy(join(dir, `inc-${n}.duckdb`)))!
      try {
        const w = new Writer(t.db.sql)
        await refreshCopy(t.db.sql, copy.db) // the first refresh builds the copy (an empty store)
        for (const op of ops) {
          if (op._tag === "Refresh") await refreshCopy(t.db.sql, copy.db)
          else await w.run(op)
        }
        const result = await refreshCopy(t.db.sql, copy.db)
        expect(result.mode).not.toBe("rebuild")
        expect(await reportText(copy.db)).toBe(await rebuiltText(t.db.sql, dir, `full-${n}.duckdb`))
        // Nothing changed since: the next refresh copies nothing (on a shared server, other sessions' open
        // transactions keep the trailing window open: it is read again, and changes nothing).
        const again = await refreshCopy(t.db.sql, copy.db)
        if (backend === "embedded") expect(again.mode).toBe("unchanged")
        expect(await reportText(copy.db)).toBe(await rebuiltText(t.db.sql, dir, `full2-${n}.duckdb`))
      } finally {
        copy.db.closeSync()
        copy.instance.closeSync()
      }
    }), { numRuns: 8 })
    await t.close()
  }, 300_000)

  it("rebuilds on its own when the copy is of another store", async () => {
    const copy = (await openCopy(join(dir, "other.duckdb")))!
    const a = await openTestDatabase()
    try {
      expect((await refreshCopy(a.db.sql, copy.db)).mode).toBe("rebuild")
    } finally {
      await a.close()
    }
    const b = await openTestDatabase()
    try {
      await new Writer(b.db.sql).run({ _tag: "Create", contact: 1, currency: "USD", freq: ["month", 1], day: 70, price: 1000 })
      const r = await refreshCopy(b.db.sql, copy.db)
      expect(r.mode).toBe("rebuild")
      expect(r.reason).toMatch(/another store/)
      expect(r.subscriptions).toBe(1)
      expect((await readMeta(copy.db))!.highId).toBeGreaterThan(0n)
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
      await b.close()
    }
  })
})
