/**
 * A buyer cancels while the debit of a period is in flight (a bank debit takes days), and the bank returns it: the
 * subscription stays canceled, the failure is told once (journal, buyer, admins), the invoice stays open, and no
 * retry debits the buyer again. (Found by an audit of the engine: dunning made the canceled subscription unpaid and
 * debited the buyer's account four more times after the cancellation, each with a "we will try again" email.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cancelSubscription } from "../../../engine/subscriptions/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { contextAt, createSubscription, invoicesOf, ledgerOf, outboxOf, runDays, subscriptionRow } from "./engineHarness.ts"

let t: TestDatabase
beforeEach(async () => {
  t = await openTestDatabase()
})
afterEach(async () => {
  await t.close()
})

describe(`a charge that fails after its subscription ended (${backend})`, () => {
  for (const how of ["canceled", "paused"] as const) {
    it(`a bank debit returned after the subscription was ${how}: it stays ${how}, told once, no retry debits`, async () => {
      const id = await createSubscription(t.db.sql, { start: "2026-09-01", paymentMethod: "pm_bank_fail" })
      await runDays(t, "2026-09-01", "2026-09-01")
      if (how === "canceled") await cancelSubscription(t.db.sql, await contextAt(t, "2026-09-02"), id, { atPeriodEnd: false, refundUnused: false })
      else await t.db.sql`update subscriptions set status = 'paused', paused_on = '2026-09-02' where id = ${id}`
      await runDays(t, "2026-09-02", "2026-09-20")
      const sub = await subscriptionRow(t.db.sql, id)
      expect(sub["status"]).toBe(how)
      expect(sub["next_retry_on"]).toBeNull()
      expect((await ledgerOf(t.db.sql, id)).filter((l) => l.kind === "charge")).toHaveLength(1)
      expect((await invoicesOf(t.db.sql, id)).map((i) => i.status)).toEqual(["open"])
      const sent = (await outboxOf(t.db.sql, id)).map((m) => m.template)
      expect(sent.filter((m) => m === "payment_failed")).toHaveLength(1)
      const [failed] = await t.db.sql<Array<{ data: { next_retry_on: string | null } }>>`select data from events where subscription_id = ${id} and type = 'payment.failed'`
      expect(failed!.data.next_retry_on).toBeNull()
      const dunned = await t.db.sql`select data from events where subscription_id = ${id} and type = 'subscription.status_changed' and data ->> 'reason' = 'payment_failed'`
      expect(dunned).toEqual([])
    })
  }
})
