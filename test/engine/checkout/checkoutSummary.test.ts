/**
 * The engine's summary of buyers' checkout payments it asks about again: a lost reply (`pm_timeout`) is charged
 * once when the answer comes; a bank debit (answered pending on the buyer's page) counts nothing on the days the
 * engine asks about it again and is charged once the day it settles. (It counted every daily question as a charge
 * that succeeded: one bank debit showed as 6 charges in `simulate`.)
 */
import { describe, expect, it } from "vitest"
import { createPaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { backend } from "../../storeHarness.ts"
import { useApi } from "../api/apiHarness.ts"
import { runDays } from "../runtime/engineHarness.ts"
import { getPage, monthlyWithSetup, openForm, postForm } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
const served = useApi(today)

const buy = async (slug: string, email: string, paymentMethod: string) => {
  const api = served()
  const opened = await getPage(api, `/l/${slug}`)
  const path = opened.headers.get("location")!
  const form = await openForm(api, path)
  const paid = await postForm(api, path, { csrf: form.csrf, action: "pay", email, name: "Ada Buyer", payment_method: paymentMethod }, form.cookie)
  expect(paid.status).toBe(303)
}

describe(`the engine's summary of checkout payments (${backend})`, () => {
  it("a lost reply is charged once when answered; a bank debit counts nothing while pending and is charged once when it settles", async () => {
    const api = served()
    const link = await createPaymentLink(api.db.db.sql, today, { ...monthlyWithSetup, paymentTypes: ["card", "bank-debit"] }, { slug: `summary-${backend}` })
    await buy(link.slug, `timeout-${backend}@example.com`, "pm_timeout")
    await buy(link.slug, `bank-${backend}@example.com`, "pm_bank_ok")
    const days = await runDays(api.db, "2026-04-03", "2026-04-07")
    expect(days.map((d) => ({ today: d.today, charged: d.charged, failed: d.failed, unknown: d.unknown, pending: d.pending }))
      .filter((d) => d.charged + d.failed + d.unknown + d.pending > 0)).toEqual([
      { today: "2026-04-03", charged: 1, failed: 0, unknown: 0, pending: 0 },
      { today: "2026-04-05", charged: 1, failed: 0, unknown: 0, pending: 0 }
    ])
  })
})
