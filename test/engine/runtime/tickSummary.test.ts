/**
 * What the engine's summary (the lines of `engine` and `simulate`) counts: each charge once, by its outcome. A bank
 * debit is `pending` on the day the bank takes it, counts nothing on the days it is asked about again, and is
 * `charged` (or `failed`) once on the day it settles; a lost reply (`pm_timeout`) is `unknown` once and then
 * `charged` once. (Found using `simulate` on a store whose buyers paid by bank debit: one debit printed as 6
 * charges that succeeded, and as 1 and then 2 charges whose reply was lost.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import type { TickSummary } from "../../../engine/runtime/index.ts"
import { createSubscription, invoicesOf, runDays } from "./engineHarness.ts"

// A store per test: the summary counts the whole store's work, and another test's subscription would renew in its days.
let t: TestDatabase
beforeEach(async () => {
  t = await openTestDatabase()
})
afterEach(async () => {
  await t.close()
})

const figures = (days: ReadonlyArray<TickSummary>) =>
  days.map((d) => ({ today: d.today, charged: d.charged, failed: d.failed, unknown: d.unknown, pending: d.pending }))
    .filter((d) => d.charged + d.failed + d.unknown + d.pending > 0)

describe(`the engine's summary counts each charge once (${backend})`, () => {
  it("a bank debit that pays: pending the day it is made, charged the day it settles, nothing on the days between", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-08-01", paymentMethod: "pm_bank_ok" })
    const days = await runDays(t, "2026-08-01", "2026-08-07")
    expect(figures(days)).toEqual([
      { today: "2026-08-01", charged: 0, failed: 0, unknown: 0, pending: 1 },
      { today: "2026-08-04", charged: 1, failed: 0, unknown: 0, pending: 0 }
    ])
    expect((await invoicesOf(t.db.sql, id)).map((i) => i.status)).toEqual(["paid"])
  })

  it("a bank debit the bank returns: pending, then failed once, with the bank's reason; its retry is a new debit", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-09-01", paymentMethod: "pm_bank_fail" })
    const days = await runDays(t, "2026-09-01", "2026-09-06")
    expect(figures(days)).toEqual([
      { today: "2026-09-01", charged: 0, failed: 0, unknown: 0, pending: 1 },
      { today: "2026-09-04", charged: 0, failed: 1, unknown: 0, pending: 0 },
      // The first retry (retry-days 1): another debit, pending in its turn.
      { today: "2026-09-05", charged: 0, failed: 0, unknown: 0, pending: 1 }
    ])
    const [attempt] = await t.db.sql<Array<{ failure_reason: string }>>`
      select a.failure_reason from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id} and a.status = 'failed'`
    expect(attempt!.failure_reason).toBe("bank debit returned (insufficient funds)")
  })

  it("a lost reply: unknown once, then charged once when asked again", async () => {
    await createSubscription(t.db.sql, { start: "2026-10-01", paymentMethod: "pm_timeout" })
    const days = await runDays(t, "2026-10-01", "2026-10-03")
    expect(figures(days)).toEqual([
      { today: "2026-10-01", charged: 0, failed: 0, unknown: 1, pending: 0 },
      { today: "2026-10-02", charged: 1, failed: 0, unknown: 0, pending: 0 }
    ])
  })
})
