/**
 * Transient gateway answers (HTTP 429, 5xx) from the simulated gateway's
 * tokens pm_rate_limited and pm_error_once: the attempt is left unknown and
 * asked again with the same idempotency key, so the invoice is paid with
 * exactly one charge and the subscription is never marked unpaid.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { createSubscription, invoicesOf, ledgerOf, subscriptionRow, tickAt } from "./engineHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const attemptsOf = (id: number) =>
  t.db.sql<Array<{ status: string; idempotency_key: string; failure_reason: string | null }>>`
    select a.status, a.idempotency_key, a.failure_reason from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id} order by a.id`

describe(`transient gateway errors are retried with the same key (${backend})`, () => {
  for (const [token, status] of [["pm_rate_limited", "429"], ["pm_error_once", "500"]] as const) {
    it(`${token}: HTTP ${status} leaves the attempt unknown, the retry under the same key charges once and pays the invoice`, async () => {
      const id = await createSubscription(t.db.sql, { start: "2026-07-01", paymentMethod: token })
      const first = await tickAt(t, "2026-07-01")
      expect(first.unknown).toBe(1)
      const [attempt] = await attemptsOf(id)
      expect(attempt!.status).toBe("unknown")
      expect((await subscriptionRow(t.db.sql, id))["status"]).toBe("active")
      // 429: nothing was charged yet; 500: the charge happened, only the answer failed.
      expect((await ledgerOf(t.db.sql, id)).length).toBe(token === "pm_rate_limited" ? 0 : 1)
      await tickAt(t, "2026-07-02")
      const ledger = await ledgerOf(t.db.sql, id)
      expect(ledger.map((l) => [l.idempotency_key, l.outcome])).toEqual([[attempt!.idempotency_key, "succeeded"]])
      expect((await attemptsOf(id)).map((a) => [a.idempotency_key, a.status])).toEqual([[attempt!.idempotency_key, "succeeded"]])
      expect((await invoicesOf(t.db.sql, id))[0]!.status).toBe("paid")
      expect((await subscriptionRow(t.db.sql, id))["payments_made"]).toBe(1)
      // Later periods: each first request is transient again, each settled with one charge.
      await tickAt(t, "2026-08-01")
      await tickAt(t, "2026-08-02")
      expect((await ledgerOf(t.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(2)
      expect((await invoicesOf(t.db.sql, id)).map((i) => i.status)).toEqual(["paid", "paid"])
    })
  }
})
