import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { importHistory } from "../../../engine/store/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

const fixture = fileURLToPath(new URL("./fixtures/history/", import.meta.url))
let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const statusPath = async (externalId: string) =>
  (await t.db.sql<Array<{ to_status: string; effective_on: string }>>`
    select h.to_status, h.effective_on from status_history h join subscriptions s on s.id = h.subscription_id
    where s.external_id = ${externalId} order by h.effective_on, h.id`).map((r) => `${r.effective_on} ${r.to_status}`)

describe(`import history (${backend})`, () => {
  it("a file with a bad cell writes nothing and names file, row and column", async () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-history-"))
    cpSync(fixture, dir, { recursive: true })
    writeFileSync(join(dir, "line_items.csv"), "subscription_id,version,effective_from,line_no,name,unit_price,quantity,discount,tax_rate,one_time\ns1,1,2025-01-10,1,X,12.50,0,,,false\ns9,1,2025-01-10,1,Y,1.00,1,,,false\n")
    const message = await importHistory(t.db.sql, dir, { today: "2025-12-31" }).then(() => "", (e: Error) => e.message)
    expect(message).toContain("line_items.csv:2:quantity: must be a whole number greater than 0")
    expect(message).toContain("line_items.csv:3:subscription_id: no subscription s9")
    expect((await t.db.sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(0)
    expect((await t.db.sql`select count(*)::int as n from contacts`)[0]!["n"]).toBe(0)
  })

  it("replays history into the engine's tables: versions, status history, expiry, pending cancellations", async () => {
    const summary = await importHistory(t.db.sql, fixture, { today: "2025-12-31" })
    expect(summary).toMatchObject({ customers: 4, subscriptions: 4, lineItems: 6 })
    expect(await statusPath("s1")).toEqual(["2025-01-10 active", "2025-05-10 unpaid", "2025-05-13 active", "2025-06-20 paused", "2025-07-20 active"])
    // Fixed 3 monthly payments from Feb 1 expire on May 1.
    expect(await statusPath("s2")).toEqual(["2025-02-01 active", "2025-05-01 expired"])
    // Scheduled until Mar 15; overdue, paid; canceled at the period end after May 20 (June 15).
    expect(await statusPath("s3")).toEqual(["2025-03-01 scheduled", "2025-03-15 active", "2025-04-01 past_due", "2025-04-05 active", "2025-06-15 canceled"])
    // An annual subscription asked to cancel at period end: still active, canceling on Jan 1.
    expect(await statusPath("s4")).toEqual(["2025-01-01 active"])
    const [s4] = await t.db.sql`select status, cancel_at, next_billing_date from subscriptions where external_id = 's4'`
    expect(s4).toMatchObject({ status: "active", cancel_at: "2026-01-01", next_billing_date: "2026-01-01" })
    const versions = await t.db.sql`select v.version, v.effective_from from item_versions v join subscriptions s on s.id = v.subscription_id where s.external_id = 's1' order by 1`
    expect(versions.map((v) => `${v["version"]}@${v["effective_from"]}`)).toEqual(["1@2025-01-10", "2@2025-04-10"])
    const types = await t.db.sql`select e.type, count(*)::int as n from events e group by 1 order by 1`
    expect(Object.fromEntries(types.map((r) => [r["type"], r["n"]]))).toMatchObject({
      "subscription.created": 4, "subscription.items_changed": 1, "subscription.expired": 1, "subscription.canceled": 1, "payment.failed": 1, "invoice.overdue": 1
    })
    await expect(importHistory(t.db.sql, fixture, { today: "2025-12-31" })).rejects.toThrow(/exist already/)
  })
})
