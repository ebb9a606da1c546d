/**
 * Billing transactions at once on one database are capped (`billingSlots`), whatever the number of engines:
 * a batch's transaction takes its worker's slot, an advisory lock, before it claims anything.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { billingSlotWaitMs, billingSlots, takeBillingSlot } from "../../../engine/invoicing/index.ts"
import { seedDueSubscriptions } from "../../seed.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { tickAt } from "./engineHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

describe("billing slots (server)", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema: freshSchemaName() })
    await seedDueSubscriptions(t.db.sql, { count: 300, due: "2026-04-01", paymentMethods: ["pm_ok"] })
  })
  afterAll(async () => {
    await t.close()
  })

  const invoiceCount = async () => (await t.db.sql<Array<{ n: number }>>`select count(*)::int as n from invoices`)[0]!.n

  /** Another engine's billing transactions, holding every slot of this schema until `release`; resolves once they are held. */
  const holdEverySlot = async () => {
    let release = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    let markHeld = () => {}
    const held = new Promise<void>((resolve) => { markHeld = resolve })
    const holder = t.db.sql.begin(async (tx) => {
      for (let slot = 0; slot < billingSlots; slot++) await takeBillingSlot(tx, slot)
      markHeld()
      await released
    })
    await held
    return { release: async () => { release(); await holder } }
  }

  it("an engine whose every slot another transaction holds claims nothing until one is free, then bills each subscription once", async () => {
    const slots = await holdEverySlot()
    let finished = false
    const tick = tickAt(t, "2026-04-01", 100).finally(() => { finished = true })
    // Long enough for 300 renewals many times over; the claim is still waiting behind the slots.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(finished).toBe(false)
    expect(await invoiceCount()).toBe(0)
    const [waiting] = await t.db.sql<Array<{ n: number }>>`
      select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and not l.granted and a.datname = current_database()`
    expect(waiting!.n).toBeGreaterThanOrEqual(1)
    await slots.release()
    const summary = await tick
    expect(summary.invoiced).toBe(300)
    expect(await invoiceCount()).toBe(300)
    const [once] = await t.db.sql<Array<{ n: number }>>`select count(*)::int as n from (select subscription_id from invoices group by 1 having count(*) <> 1) x`
    expect(once!.n).toBe(0)
  }, 60_000)

  it("a slot held by a session that never ends (a stopped engine) is waited for a bounded time: then the engine bills without it, each subscription once", async () => {
    await seedDueSubscriptions(t.db.sql, { count: 200, due: "2026-05-01", paymentMethods: ["pm_ok"] })
    const before = await invoiceCount()
    const slots = await holdEverySlot()
    try {
      const started = Date.now()
      // Held for the whole tick: without the bounded wait, the tick would wait for the lock timeout and fail.
      const summary = await tickAt(t, "2026-05-01", 50)
      const waited = Date.now() - started
      expect(waited).toBeGreaterThanOrEqual(billingSlotWaitMs)
      expect(summary.invoiced).toBe(200 + 300)
      expect(await invoiceCount()).toBe(before + 200 + 300)
      const [once] = await t.db.sql<Array<{ n: number }>>`
        select count(*)::int as n from (select subscription_id, period_start from invoices group by 1, 2 having count(*) <> 1) x`
      expect(once!.n).toBe(0)
    } finally {
      await slots.release()
    }
  }, 60_000)
})
