/**
 * A server engine's billing workers (three by default): the first bills alone until its first batch says more is
 * due than that batch; only then do the others join. A day with less than a batch due is one batch, one gateway
 * call and one settlement; a day with more is shared, each subscription billed once. Each claim starts after the
 * worker's last (`DueKey`); what it passed by is claimed from the beginning in the tick's next pass.
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

  it("rows another engine held while a worker's claims passed them, and then gave back, are billed in the same tick", async () => {
    const other = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema: freshSchemaName() })
    try {
      await seedDueSubscriptions(other.db.sql, { count: 300, due: "2026-04-01", paymentMethods: ["pm_ok"] })
      // The first 20 in the claims' order, held by another engine's transaction: the worker's first claim skips them.
      const held = (await other.db.sql<Array<{ id: number }>>`select id from subscriptions order by next_billing_date, id limit 20`).map((r) => r.id)
      let release = () => {}
      const released = new Promise<void>((resolve) => { release = resolve })
      let markHeld = () => {}
      const holding = new Promise<void>((resolve) => { markHeld = resolve })
      const holder = other.db.sql.begin(async (tx) => {
        await tx`select id from subscriptions where id = any(${held}) for update`
        markHeld()
        await released
        throw new Error("given back")
      }).catch(() => undefined)
      await holding
      // The other engine gives them back (rolls back) while the worker waits on the gateway after its first batch: its
      // next claims start after that batch, past them.
      const gateway = Layer.effect(Gateway, Effect.gen(function*() {
        const simulated = yield* Gateway
        return { submit: (requests) => Effect.flatMap(Effect.promise(async () => { release(); await holder }), () => simulated.submit(requests)) }
      })).pipe(Layer.provide(Gateway.simulated.pipe(Layer.provide(other.layer))))
      const layer = Layer.mergeAll(other.layer, BusinessClock.fixed(dayTime("2026-04-01" as CalendarDate)), TickHooks.none, gateway, Layer.succeed(EngineState, makeEngineState()))
      const summary = await Effect.runPromise(runTick({ batch: 50, workers: 1 }).pipe(Effect.provide(layer)))
      expect(summary.invoiced).toBe(300)
      const [billed] = await other.db.sql<Array<{ n: number; held: number }>>`
        select count(distinct subscription_id)::int as n, count(*) filter (where subscription_id = any(${held}))::int as held from invoices`
      expect(billed).toEqual({ n: 300, held: 20 })
    } finally {
      await other.close()
    }
  }, 60_000)
})
