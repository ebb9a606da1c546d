/**
 * The engine's due check (lifecycle `dueWork`, once per pass) reads the front
 * of an index for every kind of work, never the whole table: on a store of a
 * million subscriptions a table read is half a second a pass. The planner
 * chose one whenever its statistics said many rows were due and none were
 * (every pass after a day's billing): here the statistics are taken while
 * 3,000 subscriptions are due, then their dates move on without new ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { dueWork } from "../../../engine/lifecycle/index.ts"
import type { Sql } from "../../../engine/sql/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { seedDueSubscriptions } from "../../seed.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
  await seedDueSubscriptions(t.db.sql, { count: 3000, due: "2026-04-01", spreadDays: 28, reminders: true })
  await t.db.sql`update subscriptions set terms_payments = 12 where id % 3 = 0`
  await t.db.sql`analyze`
  // The day's billing done: every date a month on, the statistics still those of the morning.
  await t.db.sql`update subscriptions set next_billing_date = next_billing_date + 31, reminder_sent_for = next_billing_date + 31`
}, 120_000)
afterAll(async () => {
  await t.close()
})

/** Table reads (sequential scans) of subscriptions and invoices, as PostgreSQL counts them for this session so far. */
const tableScans = async (tx: Sql) => {
  const [row] = await tx<Array<{ subscriptions: number; invoices: number }>>`
    select coalesce((select seq_scan from pg_stat_xact_user_tables where relname = 'subscriptions' and schemaname = current_schema()), 0)::int as subscriptions,
           coalesce((select seq_scan from pg_stat_xact_user_tables where relname = 'invoices' and schemaname = current_schema()), 0)::int as invoices`
  return row!
}

/** The due check, and the table reads it made (counted before and after it in one transaction, one session). */
const tableReads = async (today: string) =>
  t.db.sql.begin(async (txx) => {
    const tx = txx as unknown as Sql
    const ctx = makeEngineContext(await loadSettings(tx), today as CalendarDate, { failpoint: () => {} })
    const before = await tableScans(tx)
    const due = await dueWork(tx, ctx)
    const after = await tableScans(tx)
    return { due, reads: { subscriptions: after.subscriptions - before.subscriptions, invoices: after.invoices - before.invoices } }
  }) as Promise<{ due: Awaited<ReturnType<typeof dueWork>>; reads: { subscriptions: number; invoices: number } }>

describe(`the due check reads indexes, not tables (${backend})`, () => {
  it("finds nothing due without reading the subscriptions", async () => {
    const { due, reads } = await tableReads("2026-04-29")
    expect(due.billing).toBe(false)
    expect(due.expiries).toBe(false)
    expect(due.reminders).toBe(false)
    expect(reads.subscriptions).toBe(0)
  })

  it("still sees what is due, the same way", async () => {
    const { due, reads } = await tableReads("2026-05-02")
    expect(due.billing).toBe(true)
    expect(due.cancellations).toBe(false)
    expect(reads.subscriptions).toBe(0)
  })
})
