/**
 * Engine state (step timings, changes since the last vacuum) belongs to an
 * engine, not to the process: two engines in one process keep their own.
 * And a tick is an ordered list of named steps that keeps billing's order.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { closingSteps, EngineState, makeEngineState, passSteps, runTick, TickHooks } from "../../../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { analyzeTarget, countChangesForVacuum, vacuumHotTables, vacuumStoreWhenDue } from "../../../engine/sql/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { createSubscription } from "./engineHarness.ts"
import { seedDueSubscriptions } from "../../seed.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const tickWith = (state: ReturnType<typeof makeEngineState>, date: string, vacuumEvery?: number) =>
  Effect.runPromise(runTick({ batch: 100, vacuumEvery }).pipe(Effect.provide(Layer.mergeAll(
    t.layer, BusinessClock.fixed(dayTime(date as CalendarDate)), TickHooks.none, Gateway.simulated.pipe(Layer.provide(t.layer)), Layer.succeed(EngineState, state)
  ))))

describe(`engine state is a service (${backend})`, () => {
  it("each engine keeps its own step timings", async () => {
    await createSubscription(t.db.sql, { start: "2026-05-01" })
    const first = makeEngineState()
    const second = makeEngineState()
    const summary = await tickWith(first, "2026-05-01")
    expect(summary.invoiced).toBe(1)
    expect(first.stepTimings().get("billing")?.calls).toBeGreaterThanOrEqual(1)
    expect(first.stepTimings().get("gateway")?.calls).toBe(1)
    expect(second.stepTimings().size).toBe(0)
    await tickWith(second, "2026-05-02")
    expect(second.stepTimings().get("loading settings")?.calls).toBe(1)
    expect(first.stepTimings().get("loading settings")?.calls).toBe(1)
  })

  it("checks reminders unasked only in the pass that billed: the next pass's due check sees the new billing dates", async () => {
    await createSubscription(t.db.sql, { start: "2026-04-01" })
    const state = makeEngineState()
    const summary = await tickWith(state, "2026-04-01")
    expect(summary.invoiced).toBe(1)
    // A second pass ran (the first changed something); it found nothing due and left the reminder window unread.
    expect(state.stepTimings().get("checking for due work")?.calls).toBe(2)
    expect(state.stepTimings().get("reminders")?.calls).toBe(1)
  })

  it("counts changes toward the next vacuum across ticks, and starts again after one", () => {
    const state = makeEngineState()
    expect(state.addChanges(3)).toBe(3)
    expect(state.addChanges(4)).toBe(7)
    state.vacuumed()
    expect(state.addChanges(1)).toBe(1)
  })

  it("vacuums the hot tables once enough changed, unless the server vacuums by itself (autovacuum on)", async () => {
    await createSubscription(t.db.sql, { start: "2026-06-03" })
    const state = makeEngineState()
    const lastVacuum = async () => (await t.db.sql<Array<{ at: Date | null }>>`
      select last_vacuum as at from pg_stat_user_tables where relname = 'subscriptions' and schemaname = current_schema()`)[0]?.at ?? null
    const before = await lastVacuum()
    const summary = await tickWith(state, "2026-06-03", 1)
    expect(summary.invoiced).toBeGreaterThanOrEqual(1)
    // The embedded database never vacuums by itself; a server does when its autovacuum is on.
    const [setting] = await t.db.sql<Array<{ on: boolean }>>`select current_setting('autovacuum') = 'on' as on`
    const selfVacuuming = backend !== "embedded" && setting!.on
    expect(state.stepTimings().get("vacuuming the database")?.calls).toBe(selfVacuuming ? undefined : 1)
    expect(state.serverAutovacuums()).toBe(backend === "embedded" ? undefined : setting!.on)
    if (!selfVacuuming) expect(await lastVacuum()).not.toEqual(before)
    expect(state.addChanges(0)).toBe(0)
  })

  it("the vacuum analyzes the hot tables from a small sample: a histogram of at most analyzeTarget buckets, not PostgreSQL's default 100", async () => {
    await seedDueSubscriptions(t.db.sql, { count: 300, due: "2027-01-01", spreadDays: 200 })
    const stats = async () => (await t.db.sql<Array<{ bounds: number | null; analyzed: boolean }>>`
      select (select array_length(histogram_bounds::text::text[], 1) from pg_stats
              where schemaname = current_schema() and tablename = 'subscriptions' and attname = 'id') as bounds,
             (select last_analyze is not null from pg_stat_user_tables where schemaname = current_schema() and relname = 'subscriptions') as analyzed`)[0]!
    await t.db.sql`analyze subscriptions`
    // PostgreSQL's default target keeps a histogram bound per ~1% of the rows: many more than the vacuum's.
    expect((await stats()).bounds).toBeGreaterThan(analyzeTarget + 1)
    await vacuumHotTables(t.db.sql)
    const after = await stats()
    expect(after.analyzed).toBe(true)
    expect(after.bounds).toBeLessThanOrEqual(analyzeTarget + 1)
    expect(after.bounds).toBeGreaterThan(1)
    // The target was the analyzing transaction's own: the session's is PostgreSQL's default again.
    const [target] = await t.db.sql<Array<{ v: string }>>`select current_setting('default_statistics_target') as v`
    expect(target!.v).toBe("100")
  })

  // A server without autovacuum is vacuumed by its engines, counted together: N engines ending a day together vacuumed N times.
  if (backend !== "embedded") it("engines on one server count their changes together, and one of them vacuums for all: not one that finds another vacuuming, nor one after it", async () => {
    const own = await openTestDatabase()
    try {
      const sql = own.db.sql
      const count = async () => Number((await sql<Array<{ value: string }>>`select value from engine_state where key = 'vacuum.changes'`)[0]?.value ?? 0)
      const lastVacuum = async () => (await sql<Array<{ at: Date | null }>>`
        select last_vacuum as at from pg_stat_user_tables where relname = 'invoices' and schemaname = current_schema()`)[0]?.at ?? null
      expect(await countChangesForVacuum(sql, 30, 100)).toBe(false)
      expect(await countChangesForVacuum(sql, 70, 100)).toBe(true)
      expect(await count()).toBe(100)
      // Another engine is vacuuming: it holds the store's vacuum lock on a connection of its own.
      const other = await sql.reserve()
      try {
        await other`select pg_advisory_lock(hashtextextended(current_schema() || ':billcycle:vacuum', 0))`
        const before = await lastVacuum()
        expect(await vacuumStoreWhenDue(sql, 100)).toBe(false)
        expect(await lastVacuum()).toEqual(before)
        expect(await count()).toBe(100)
        await other`select pg_advisory_unlock(hashtextextended(current_schema() || ':billcycle:vacuum', 0))`
      } finally {
        other.release()
      }
      const before = await lastVacuum()
      expect(await vacuumStoreWhenDue(sql, 100)).toBe(true)
      expect(await lastVacuum()).not.toEqual(before)
      expect(await count()).toBe(0)
      // The next engine whose tick said "due" finds the count taken down: it does not vacuum again.
      expect(await vacuumStoreWhenDue(sql, 100)).toBe(false)

      // Two engines billing on the same store: the first's changes do not make the count, the second's do; it vacuums.
      await createSubscription(sql, { start: "2026-07-01" })
      await createSubscription(sql, { start: "2026-07-02" })
      const tick = (state: ReturnType<typeof makeEngineState>, date: string) =>
        Effect.runPromise(runTick({ batch: 100, vacuumEvery: 3 }).pipe(Effect.provide(Layer.mergeAll(
          own.layer, BusinessClock.fixed(dayTime(date as CalendarDate)), TickHooks.none, Gateway.simulated.pipe(Layer.provide(own.layer)), Layer.succeed(EngineState, state)
        ))))
      const first = makeEngineState()
      const second = makeEngineState()
      // With autovacuum on, nothing is counted and neither vacuums (the server vacuums by itself); else one vacuum per
      // 3 changes of both engines together: each tick makes 2 (an invoice, its charge).
      const [setting] = await sql<Array<{ on: boolean }>>`select current_setting('autovacuum') = 'on' as on`
      expect((await tick(first, "2026-07-01")).invoiced).toBe(1)
      expect(await count()).toBe(setting!.on ? 0 : 2)
      expect((await tick(second, "2026-07-02")).invoiced).toBe(1)
      const vacuums = [first, second].map((e) => e.stepTimings().get("vacuuming the database")?.calls ?? 0)
      expect(vacuums).toEqual(setting!.on ? [0, 0] : [0, 1])
      expect(await count()).toBe(0)
    } finally {
      await own.close()
    }
  })

  it("a tick's steps, in order: settle (charges, then checkout payments), lifecycle before billing, billing, retries, dunning, rules; then delivery and vacuum", () => {
    expect(passSteps.map((s) => s.name)).toEqual([
      "unsettled attempts", "checkout payments", "period-end cancellations", "resumes", "scheduled starts", "expiries",
      "billing", "retries", "overdue invoices", "reminders", "rules"
    ])
    expect(closingSteps.map((s) => s.name)).toEqual(["delivery", "vacuum"])
  })
})
