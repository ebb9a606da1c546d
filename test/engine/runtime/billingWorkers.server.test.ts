/**
 * A server engine's billing workers (three by default): the first bills alone until its first batch says more is
 * due than that batch; only then do the others join. A day with less than a batch due is one batch, one gateway
 * call and one settlement; a day with more is shared, each subscription billed once.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { BusinessClock, dayTime } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { EngineState, makeEngineState, runTick, TickHooks } from "../../../engine/runtime/index.ts"
import { seedDueSubscriptions } from "../../seed.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

describe("billing workers (server)", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema: freshSchemaName() })
  })
  afterAll(async () => {
    await t.close()
  })

  /** One tick at `date` with three workers; how many billing transactions and gateway calls it made. */
  const tick = async (date: string, batch: number) => {
    const state = makeEngineState()
    const layer = Layer.mergeAll(t.layer, BusinessClock.fixed(dayTime(date as CalendarDate)), TickHooks.none, Gateway.simulated.pipe(Layer.provide(t.layer)), Layer.succeed(EngineState, state))
    const summary = await Effect.runPromise(runTick({ batch, workers: 3 }).pipe(Effect.provide(layer)))
    const timings = state.stepTimings()
    return { summary, billing: timings.get("billing")?.calls ?? 0, gateway: timings.get("gateway")?.calls ?? 0 }
  }

  const billedTwice = async () =>
    (await t.db.sql<Array<{ n: number }>>`
      select count(*)::int as n from (select subscription_id, period_start from invoices group by 1, 2 having count(*) <> 1) x`)[0]!.n

  it("a day with less than a batch due is billed in one batch: one billing transaction, one gateway call", async () => {
    await seedDueSubscriptions(t.db.sql, { count: 40, due: "2026-04-01", paymentMethods: ["pm_ok"] })
    const day = await tick("2026-04-01", 100)
    expect(day.summary.invoiced).toBe(40)
    expect(day.summary.charged).toBe(40)
    expect(day.billing).toBe(1)
    expect(day.gateway).toBe(1)
  }, 60_000)

  it("a day with more than a batch due is shared by the workers: every subscription billed and charged once", async () => {
    await seedDueSubscriptions(t.db.sql, { count: 450, due: "2026-06-01", paymentMethods: ["pm_ok"] })
    const day = await tick("2026-06-01", 100)
    // The 450 new ones, and the 40 of April's day once more (their May and June periods).
    expect(day.summary.invoiced).toBe(450 + 80)
    expect(day.summary.charged).toBe(450 + 80)
    expect(day.billing).toBeGreaterThanOrEqual(6)
    expect(await billedTwice()).toBe(0)
    const [charges] = await t.db.sql<Array<{ n: number; invoices: number }>>`
      select count(*)::int as n, count(distinct invoice_id)::int as invoices from payment_attempts where status = 'succeeded'`
    expect(charges!.n).toBe(charges!.invoices)
  }, 60_000)
})
