/**
 * sql/journal.ts: a transaction whose journal is held (`holdJournal`) writes
 * nothing until `writtenJournal`, then every event it wrote in one statement,
 * in the order written (ids follow it), each with its own source, a status
 * change with its `status_history` row; without a hold each write is at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { holdJournal, statusChanged, writeJournal, writtenJournal } from "../../../engine/sql/index.ts"
import type { TransactionSql } from "../../../engine/sql/index.ts"
import { openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

describe("the journal's writer", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase()
  })
  afterAll(async () => {
    await t.close()
  })
  const count = async (tx: TransactionSql) => (await tx<Array<{ n: number }>>`select count(*)::int as n from events`)[0]!.n

  it("holds a transaction's events until writtenJournal, then writes them in the order written with their own sources", async () => {
    const before = await t.db.sql.begin(count)
    const seen = await t.db.sql.begin(async (tx) => {
      holdJournal(tx)
      await writeJournal(tx, [{ type: "contact.created", subscriptionId: null, contactId: 7, occurredOn: "2026-03-01", data: { email: "a@example.com" } }], "buyer")
      await writeJournal(tx, [statusChanged(901, null, "active", "2026-03-01"), { type: "invoice.created", subscriptionId: 901, invoiceId: 55, occurredOn: "2026-03-01", data: { total: 2500 } }])
      await writeJournal(tx, [{ type: "checkout.completed", subscriptionId: 901, contactId: 7, occurredOn: "2026-03-01", data: { session_id: "s1" } }], "buyer")
      const whileHeld = await count(tx)
      await writtenJournal(tx)
      // Held no more: the next write goes at once.
      await writeJournal(tx, [{ type: "note.added", subscriptionId: 901, occurredOn: "2026-03-01", data: {} }], "cli")
      return { whileHeld, after: await count(tx) }
    })
    expect(seen).toEqual({ whileHeld: before, after: before + 5 })
    const rows = await t.db.sql<Array<{ id: string; type: string; source: string; contact_id: string | null; invoice_id: string | null }>>`
      select id::text, type, source, contact_id::text, invoice_id::text from events order by id desc limit 5`
    expect(rows.reverse().map((r) => [r.type, r.source, r.contact_id, r.invoice_id])).toEqual([
      ["contact.created", "buyer", "7", null],
      ["subscription.status_changed", "engine", null, null],
      ["invoice.created", "engine", null, "55"],
      ["checkout.completed", "buyer", "7", null],
      ["note.added", "cli", null, null]
    ])
    const [history] = await t.db.sql<Array<{ event_id: string; to_status: string }>>`
      select event_id::text, to_status from status_history where subscription_id = 901`
    expect(history).toEqual({ event_id: rows[1]!.id, to_status: "active" })
  })

  it("an event about a subscription written without its contact (a status change, a refund) names the subscription's", async () => {
    const { createSubscription } = await import("../runtime/engineHarness.ts")
    const id = await createSubscription(t.db.sql, { start: "2026-03-01" })
    const [sub] = await t.db.sql<Array<{ contact_id: string }>>`select contact_id::text from subscriptions where id = ${id}`
    await t.db.sql.begin((tx) => writeJournal(tx, [statusChanged(id, "active", "unpaid", "2026-03-02"), { type: "payment.refunded", subscriptionId: id, occurredOn: "2026-03-02", data: { amount: 100 } }]))
    const rows = await t.db.sql<Array<{ contact_id: string | null }>>`select contact_id::text from events where subscription_id = ${id} and type in ('subscription.status_changed', 'payment.refunded') order by id`
    expect(rows.map((r) => r.contact_id)).toEqual([sub!.contact_id, sub!.contact_id])
  })

  it("writes nothing for a held transaction that rolls back, nor for one that wrote no event", async () => {
    const before = await t.db.sql.begin(count)
    await t.db.sql.begin(async (tx) => {
      holdJournal(tx)
      await writeJournal(tx, [{ type: "contact.created", subscriptionId: null, occurredOn: "2026-03-01", data: {} }], "buyer")
      throw new Error("the purchase failed")
    }).catch((e: Error) => expect(e.message).toBe("the purchase failed"))
    await t.db.sql.begin(async (tx) => {
      holdJournal(tx)
      expect(writtenJournal(tx)).toBeUndefined()
    })
    expect(await t.db.sql.begin(count)).toBe(before)
  })
})
