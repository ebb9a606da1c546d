/**
 * Crash safety: engines killed with SIGKILL at random moments and at named
 * failpoints, then restarted, neither lose nor repeat an invoice, a charge or
 * an email. Needs real processes on the PostgreSQL server (CI runs it there).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { seedDueSubscriptions } from "../../seed.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { checkBillingInvariants, sleep, startEngine } from "./processHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

{
  describe("crash safety (server)", () => {
    const schema = freshSchemaName()
    const env = { DATABASE_URL: serverUrl!, BILLCYCLE_DB_SCHEMA: schema }
    let t: TestDatabase
    beforeAll(async () => {
      t = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema })
      await seedDueSubscriptions(t.db.sql, { count: 2000, due: "2026-03-01", paymentMethods: ["pm_ok", "pm_ok", "pm_timeout", "pm_fail_once", "pm_declined"] })
    })
    afterAll(async () => {
      await t.close()
    })

    it("2,000 subscriptions, SIGKILL at random moments and at failpoints, restarted: each billed exactly once", async () => {
      let seed = 7
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
      const failpoints = ["after-invoice-insert:3", "before-billing-commit:5", "after-gateway-call:2", "after-attempt-settle:4", "before-settle-commit:6"]
      let kills = 0
      let runs = 0
      let lastClean = 2400
      const days = ["2026-03-01", "2026-03-02", "2026-03-04", "2026-03-06", "2026-03-08"]
      // Small batches make each run long enough to be killed in the middle of its work.
      const run = (day: string, fp: string | undefined) =>
        startEngine(["--now", day, "--batch", "10"], { ...env, ...(fp === undefined ? {} : { BILLCYCLE_FAILPOINT: fp }) })
      for (const [index, day] of days.entries()) {
        // Keep killing until this day's share of the (at least) 20 kills is reached.
        const target = Math.ceil((24 * (index + 1)) / days.length)
        for (let round = 0; kills < target && round < 40; round++) {
          const fp = rand() < 0.4 ? failpoints[Math.floor(rand() * failpoints.length)]! : undefined
          const p = run(day, fp)
          runs++
          // A random moment within the run: once the day's work is mostly done runs get short,
          // so the window shrinks to the length of the last run that finished on its own.
          const killAfter = 250 + Math.floor(rand() * Math.max(200, lastClean * 0.9 - 250))
          const started = performance.now()
          const outcome = await Promise.race([p.done, sleep(killAfter).then(() => undefined)])
          if (outcome === undefined) p.child.kill("SIGKILL")
          const r = await p.done
          if (r.signal === "SIGKILL") kills++
          else if (fp === undefined) lastClean = performance.now() - started
        }
        // The restart that finishes the day.
        const final = await run(day, undefined).done
        expect(final.code, final.stderr).toBe(0)
      }
      expect(kills, `${kills} kills in ${runs} runs`).toBeGreaterThanOrEqual(20)
      expect(await checkBillingInvariants(t.db.sql)).toEqual([])
      const rows = await t.db.sql<Array<{ payment_method: string; status: string; invoices: number; paid: number }>>`
        select c.payment_method, s.status, count(i.id)::int as invoices, count(i.id) filter (where i.status = 'paid')::int as paid
        from subscriptions s join contacts c on c.id = s.contact_id left join invoices i on i.subscription_id = s.id
        group by 1, 2 order by 1, 2`
      // Every subscription has its one March invoice; only the declined cards are unpaid.
      expect(rows).toEqual([
        { payment_method: "pm_declined", status: "unpaid", invoices: 400, paid: 0 },
        { payment_method: "pm_fail_once", status: "active", invoices: 400, paid: 400 },
        { payment_method: "pm_ok", status: "active", invoices: 800, paid: 800 },
        { payment_method: "pm_timeout", status: "active", invoices: 400, paid: 400 }
      ])
    }, 600_000)
  })
}
