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
import { buildReports, computeReports, openCopy, readMeta, rebuildCopy, refreshCopy, vacuumDue } from "../../reports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { opArb, rebuiltText, reportOptions, reportText, Writer } from "./copyHarness.ts"

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
        await refreshCopy(t.db.sql, copy) // the first refresh builds the copy (an empty store)
        for (const op of ops) {
          if (op._tag === "Refresh") await refreshCopy(t.db.sql, copy)
          else await w.run(op)
        }
        const result = await refreshCopy(t.db.sql, copy)
        expect(result.mode).not.toBe("rebuild")
        expect(await reportText(copy.db)).toBe(await rebuiltText(t.db.sql, dir, `full-${n}.duckdb`))
        // Nothing changed since: the next refresh copies nothing (on a shared server, other sessions' open
        // transactions keep the trailing window open: it is read again, and changes nothing).
        const again = await refreshCopy(t.db.sql, copy)
        if (backend === "embedded") expect(again.mode).toBe("unchanged")
        expect(await reportText(copy.db)).toBe(await rebuiltText(t.db.sql, dir, `full2-${n}.duckdb`))
      } finally {
        copy.db.closeSync()
        copy.instance.closeSync()
      }
    }), { numRuns: 8 })
    await t.close()
  }, 300_000)

  it("keeps each subscription's first day instead of the history tables; a copy made before that is rebuilt once", async () => {
    const copy = (await openCopy(join(dir, "first-days.duckdb")))!
    const a = await openTestDatabase()
    try {
      const w = new Writer(a.db.sql)
      await w.run({ _tag: "Create", contact: 1, currency: "USD", freq: ["month", 1], day: 70, price: 1000 })
      await w.run({ _tag: "Create", contact: 2, currency: "USD", freq: ["month", 1], day: 40, price: 2500 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("rebuild")
      const tables = async () => (await copy.db.runAndReadAll(`select table_name from duckdb_tables() where not temporary order by 1`)).getColumnsJS()[0]
      expect(await tables()).not.toContain("status_history")
      expect(await tables()).not.toContain("line_items")
      expect(await tables()).toContain("f_first")
      const text = await reportText(copy.db)
      expect(text).toBe(await rebuiltText(a.db.sql, dir, "first-days-full.duckdb"))
      // The previous layout: the history tables kept, no first days. Its next refresh rebuilds it, to the same reports.
      await copy.db.run("drop table f_first")
      await copy.db.run("create table status_history (id bigint, subscription_id bigint, to_status varchar, effective_on date)")
      const again = await refreshCopy(a.db.sql, copy)
      expect(again.mode).toBe("rebuild")
      expect(again.reason).toMatch(/first days/)
      expect(await tables()).not.toContain("status_history")
      expect(await reportText(copy.db)).toBe(text)
      // A subscription that starts long before every other one (2025-04, before the six months ahead of the report) moves its first month back.
      await w.run({ _tag: "Create", contact: 3, currency: "USD", freq: ["month", 1], day: -200, price: 700 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("refresh")
      // The same as the reports from the store's own history tables loaded into memory (no copy, no first days kept).
      const { timings: _t, ...inMemory } = await buildReports(a.db.sql, reportOptions)
      expect(await reportText(copy.db)).toBe(JSON.stringify(inMemory))
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
      await a.close()
    }
  })

  it("leaves a refresh's deleted rows to a later vacuum, due once a quarter of the subscriptions were replaced", async () => {
    const copy = (await openCopy(join(dir, "vacuum.duckdb")))!
    const a = await openTestDatabase()
    const vacuumTasks = async () => Number((await copy.db.runAndReadAll(`select current_setting('max_vacuum_tasks')`)).getColumnsJS()[0]![0])
    // The copy's subscriptions table, checkpointed as the close does: a refresh appends its rows as a row group of
    // their own and leaves the old ones as tombstones; a vacuum merges them back into one.
    const rowGroups = async () => {
      await copy.db.run("checkpoint")
      return Number((await copy.db.runAndReadAll(`select count(distinct row_group_id)::integer from pragma_storage_info('subscriptions')`)).getColumnsJS()[0]![0])
    }
    const counters = async () => {
      const m = (await readMeta(copy.db))!
      return [m.replaced, m.refreshes]
    }
    try {
      const w = new Writer(a.db.sql)
      for (let i = 0; i < 8; i++) await w.run({ _tag: "Create", contact: 1 + (i % 4), currency: "USD", freq: ["month", 1], day: 10 + i, price: 1000 + i })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("rebuild")
      expect(await counters()).toEqual([0, 0])
      expect(await rowGroups()).toBe(1)
      // One of eight subscriptions replaced: its old row stays as a tombstone, the checkpoint does not vacuum.
      await w.run({ _tag: "Status", sub: 0, status: "canceled", gap: 5 })
      expect((await refreshCopy(a.db.sql, copy)).subscriptions).toBe(1)
      expect(await counters()).toEqual([1, 1])
      expect(await vacuumTasks()).toBe(0)
      expect(await rowGroups()).toBe(2)
      // Nothing changed: nothing counted.
      await refreshCopy(a.db.sql, copy)
      expect(await counters()).toEqual([1, 1])
      // A contact renamed: a refresh that replaced something, no subscription.
      await w.run({ _tag: "Rename", contact: 4 })
      await refreshCopy(a.db.sql, copy)
      expect(await counters()).toEqual([1, 2])
      expect(await rowGroups()).toBe(2)
      // A second subscription: two of eight, a quarter. This refresh vacuums (its row groups merge into one), the counts
      // start again, and the checkpoints after it do not vacuum.
      await w.run({ _tag: "Version", sub: 1, gap: 3, price: 2500, replace: false })
      await refreshCopy(a.db.sql, copy)
      expect(await counters()).toEqual([0, 0])
      expect(await vacuumTasks()).toBe(0)
      expect(await rowGroups()).toBe(1)
      await w.run({ _tag: "Status", sub: 2, status: "paused", gap: 4 })
      await refreshCopy(a.db.sql, copy)
      expect(await rowGroups()).toBe(2)
      expect(await reportText(copy.db)).toBe(await rebuiltText(a.db.sql, dir, "vacuum-full.duckdb"))
      // A copy whose bookkeeping predates the counts reads them as 0, and its next refresh writes them.
      await copy.db.run(`create or replace table analytics_meta as select store, final_id, high_id, xmax, refreshed_at, format from analytics_meta`)
      expect(await counters()).toEqual([0, 0])
      await w.run({ _tag: "Status", sub: 3, status: "canceled", gap: 4 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("refresh")
      expect(await counters()).toEqual([1, 1])
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
      await a.close()
    }
  })

  it("moves a customer that turns sensitive to the rates to the aggregates' sensitive groups, its earlier months too", async () => {
    const copy = (await openCopy(join(dir, "sensitive.duckdb")))!
    const a = await openTestDatabase()
    const sensitive = async (contact: number) => Number((await copy.db.runAndReadAll(`select count(*)::integer from f_sensitive where contact_id = ${contact}`)).getColumnsJS()[0]![0])
    try {
      const w = new Writer(a.db.sql)
      // Customer 1 in two currencies, whose prices both went up once; customer 2 in one.
      await w.run({ _tag: "Create", contact: 1, currency: "USD", freq: ["month", 1], day: 10, price: 1000 })
      await w.run({ _tag: "Create", contact: 1, currency: "EUR", freq: ["month", 1], day: 10, price: 1000 })
      await w.run({ _tag: "Create", contact: 2, currency: "USD", freq: ["month", 1], day: 12, price: 900 })
      const [usd, eur] = w.subs.map((s) => s.id)
      await w.run({ _tag: "Version", sub: 0, target: usd!, gap: 20, price: 1200, replace: false })
      await w.run({ _tag: "Version", sub: 0, target: eur!, gap: 20, price: 1300, replace: false })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("rebuild")
      const c1 = w.contacts.get(1)!
      expect(await sensitive(c1)).toBe(0)
      // On one day customer 1's USD goes up and its EUR down: converted, the day is an expansion or a contraction
      // depending on the rates, so the customer turns sensitive, and its earlier rows, equal as they are, move to
      // the aggregates' sensitive groups.
      await w.run({ _tag: "Version", sub: 0, target: usd!, gap: 120, price: 3000, replace: false })
      await w.run({ _tag: "Version", sub: 0, target: eur!, gap: 120, price: 100, replace: false })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("refresh")
      expect(await sensitive(c1)).toBe(1)
      expect(await reportText(copy.db)).toBe(await rebuiltText(a.db.sql, dir, "sensitive-full.duckdb"))
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
      await a.close()
    }
  })

  it("stores statuses and currencies as enums; a refresh that meets a currency outside ISO 4217 rebuilds", async () => {
    const copy = (await openCopy(join(dir, "enums.duckdb")))!
    const a = await openTestDatabase()
    const typeOf = async (table: string, column: string) =>
      String((await copy.db.runAndReadAll(`select data_type from duckdb_columns() where table_name = '${table}' and column_name = '${column}' and database_name = current_database()`)).getColumnsJS()[0]![0])
    try {
      const w = new Writer(a.db.sql)
      await w.run({ _tag: "Create", contact: 1, currency: "USD", freq: ["month", 1], day: 10, price: 1000 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("rebuild")
      expect(await typeOf("f_status", "status")).toMatch(/^ENUM\('active'/)
      expect(await typeOf("f_cmv", "currency")).toMatch(/^ENUM\('\*', 'AED'/)
      // A currency the copy has not seen, but ISO's: refreshed in place.
      await w.run({ _tag: "Create", contact: 2, currency: "EUR", freq: ["month", 1], day: 20, price: 2000 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("refresh")
      // A store written around the checks holds a code that is not ISO 4217's: the refresh rebuilds, with the code in the enum.
      await w.run({ _tag: "Create", contact: 3, currency: "ZZQ" as never, freq: ["month", 1], day: 30, price: 3000 })
      const r = await refreshCopy(a.db.sql, copy)
      expect(r.mode).toBe("rebuild")
      expect(r.reason).toMatch(/currency new to the copy/)
      expect(await typeOf("f_cmv", "currency")).toContain("'ZZQ'")
      // Now the enum has it: the next change is refreshed in place, to the reports (without rates) of a rebuild.
      await w.run({ _tag: "Status", sub: 0, target: w.subs[2]!.id, status: "canceled", gap: 5 })
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("refresh")
      const text = async (db: typeof copy.db) => JSON.stringify({ ...await computeReports(db, { from: "2026-01", to: "2026-06", currency: "USD" }), timings: null })
      const full = (await openCopy(join(dir, "enums-full.duckdb")))!
      try {
        await rebuildCopy(a.db.sql, full.db)
        expect(await text(copy.db)).toBe(await text(full.db))
      } finally {
        full.db.closeSync()
        full.instance.closeSync()
      }
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
      await a.close()
    }
  })

  it("vacuums at a quarter of the subscriptions replaced, or after 64 refreshes", () => {
    expect(vacuumDue({ replaced: 249_999, refreshes: 63 }, 1_000_000)).toBe(false)
    expect(vacuumDue({ replaced: 250_000, refreshes: 1 }, 1_000_000)).toBe(true)
    expect(vacuumDue({ replaced: 5, refreshes: 64 }, 1_000_000)).toBe(true)
    expect(vacuumDue({ replaced: 0, refreshes: 0 }, 0)).toBe(false)
    expect(vacuumDue({ replaced: 1, refreshes: 1 }, 0)).toBe(true)
  })

  it("rebuilds on its own when the copy is of another store", async () => {
    const copy = (await openCopy(join(dir, "other.duckdb")))!
    const a = await openTestDatabase()
    try {
      expect((await refreshCopy(a.db.sql, copy)).mode).toBe("rebuild")
    } finally {
      await a.close()
    }
    const b = await openTestDatabase()
    try {
      await new Writer(b.db.sql).run({ _tag: "Create", contact: 1, currency: "USD", freq: ["month", 1], day: 70, price: 1000 })
      const r = await refreshCopy(b.db.sql, copy)
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
