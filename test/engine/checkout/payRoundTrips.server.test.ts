/**
 * A buyer's payment on a server sends its statements in as few writes as
 * their order allows (engine/sql/pipelinedTransaction.ts): recording the
 * attempt sends its BEGIN with the session's lock and its COMMIT with the
 * attempt's insert; the purchase sends the periods' update and the invoices'
 * lines with the invoices' numbering. Each write the server has to wake up
 * for costs both sides CPU (bench/checkout.ts). Counted as the writes to the
 * server's socket during the pay POST, once the pool's statements are
 * prepared; the answer and the purchase are checked too.
 */
import { describe, expect, it } from "vitest"
import { createPaymentLink } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { serverWrites } from "../../storeHarness.ts"
import { useApi } from "../api/apiHarness.ts"
import { getPage, monthlyWithSetup, openForm, postForm } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
const apiOf = useApi(today)

describe("a buyer's payment on a server", () => {
  it("records the attempt and makes the purchase in 13 writes to the server (17 before they were pipelined)", async () => {
    const api = apiOf()
    const link = await createPaymentLink(api.db.db.sql, today, monthlyWithSetup, { slug: "round-trips" })
    const counts: Array<number> = []
    for (let i = 0; i < 6; i++) {
      const opened = await getPage(api, `/l/${link.slug}`)
      const path = opened.headers.get("location")!
      const form = await openForm(api, path)
      const { n } = await serverWrites(async () => {
        const paid = await postForm(api, path, { csrf: form.csrf, action: "pay", email: `buyer-${i}@example.com`, name: "Ada Buyer", payment_method: "pm_ok" }, form.cookie)
        expect(paid.status).toBe(303)
        expect(paid.headers.get("location")).toBe(path)
      })
      counts.push(n)
    }
    // The first payments prepare the statements on the pool's connections (a Parse and Describe round trip each).
    expect(Math.min(...counts)).toBeLessThanOrEqual(13)
    const [made] = await api.db.db.sql<Array<{ sessions: number; subscriptions: number; paid: number; lines: number }>>`
      select (select count(*) from checkout_sessions where completed_on is not null)::int as sessions,
             (select count(*) from subscriptions where periods_billed = 1 and next_billing_date = '2026-05-02')::int as subscriptions,
             (select count(*) from invoices where status = 'paid')::int as paid,
             (select count(*) from invoice_lines)::int as lines`
    expect(made).toEqual({ sessions: 6, subscriptions: 6, paid: 6, lines: 12 })
  })
})
