/**
 * A day's billing on statistics taken before it (the store's the day before, as autovacuum or the engine's own
 * vacuum leave them): the statements that pay and settle a batch find its rows by primary key, whatever the
 * statistics say. With their status in the scan's predicate, the planner picked the partial index of open invoices
 * (or of unsettled attempts) while the statistics said none were open, and every batch read the whole index,
 * entries of the day's paid invoices included until a vacuum: a day of 200,000 renewals spent 47 s of its 64 s of
 * PostgreSQL on it (bench/scale.ts). Server only: it reads PostgreSQL's activity statistics.
 */
import { afterAll, describe, expect, it } from "vitest"
import { seedDueSubscriptions } from "../../seed.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { tickAt } from "./engineHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

const schema = freshSchemaName()
const open = () => openTestDatabase({ _tag: "Server", url: serverUrl!, schema })

/** Index entries read so far through the two partial indexes, once every session that read them has ended. */
const partialIndexReads = async () => {
  const t = await open()
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    await t.db.sql`select pg_stat_clear_snapshot()`
    const rows = await t.db.sql<Array<{ name: string; n: number }>>`
      select indexrelname as name, idx_tup_read::int as n from pg_stat_user_indexes
      where schemaname = ${schema} and indexrelname in ('invoices_open_by_subscription', 'payment_attempts_unsettled')`
    return Object.fromEntries(rows.map((r) => [r.name, r.n])) as Record<"invoices_open_by_subscription" | "payment_attempts_unsettled", number>
  } finally {
    await t.close()
  }
}

describe("billing on yesterday's statistics (server)", () => {
  let t: TestDatabase | undefined
  afterAll(async () => {
    await t?.close()
  })

  it("pays and settles each batch through primary keys: the partial indexes of open invoices and unsettled attempts are not read per batch", async () => {
    t = await open()
    await seedDueSubscriptions(t.db.sql, { count: 2000, due: "2026-04-01", paymentMethods: ["pm_ok"] })
    // Statistics of a store without one invoice or attempt yet.
    await t.db.sql`analyze`
    await t.close()
    t = undefined
    const before = await partialIndexReads()
    t = await open()
    const summary = await tickAt(t, "2026-04-01", 100)
    expect(summary.invoiced).toBe(2000)
    expect(summary.charged).toBe(2000)
    // The engine's sessions end here: their statistics reach the shared counters.
    await t.close()
    t = undefined
    const after = await partialIndexReads()
    // Twenty batches of 100, each reading every entry of the index so far, read over 20,000 entries of each (22,500
    // and 24,500 measured). By primary key, none of the open invoices' index; the claim of the attempts to send
    // still reads each of its own once.
    expect(after.invoices_open_by_subscription - before.invoices_open_by_subscription).toBeLessThan(2000)
    expect(after.payment_attempts_unsettled - before.payment_attempts_unsettled).toBeLessThan(2 * 2000)
  }, 120_000)
})
