/**
 * Several engine processes on one PostgreSQL server share the work through
 * row locks (FOR UPDATE SKIP LOCKED): each due subscription is billed once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { seedDueSubscriptions } from "../../seed.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { checkBillingInvariants, startEngine } from "./processHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

{
  describe("three engines on one database (server)", () => {
    const schema = freshSchemaName()
    const env = { DATABASE_URL: serverUrl!, BILLCYCLE_DB_SCHEMA: schema }
    let t: TestDatabase
    beforeAll(async () => {
      t = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema })
      await seedDueSubscriptions(t.db.sql, { count: 5000, due: "2026-04-01", paymentMethods: ["pm_ok", "pm_ok", "pm_ok", "pm_timeout"] })
    })
    afterAll(async () => {
      await t.close()
    })

    it("bill the same 5,000 due subscriptions: each exactly once", async () => {
      const engines = [0, 1, 2].map(() => startEngine(["--now", "2026-04-01", "--batch", "100"], env))
      const results = await Promise.all(engines.map((e) => e.done))
      for (const r of results) expect(r.code, r.stderr).toBe(0)
      // A later tick settles the timed-out charges by asking with the same keys.
      expect((await startEngine(["--now", "2026-04-02"], env).done).code).toBe(0)
      expect(await checkBillingInvariants(t.db.sql)).toEqual([])
      const [counts] = await t.db.sql<Array<{ subs: number; invoices: number; paid: number; charges: number }>>`
        select (select count(*) from subscriptions)::int as subs, (select count(*) from invoices)::int as invoices,
               (select count(*) from invoices where status = 'paid')::int as paid,
               (select count(*) from sim_gateway_ledger where kind = 'charge')::int as charges`
      expect(counts).toEqual({ subs: 5000, invoices: 5000, paid: 5000, charges: 5000 })
    }, 300_000)
  })
}
