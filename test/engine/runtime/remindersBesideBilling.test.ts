/**
 * A day on which billing and reminders are both due. On a server the
 * reminders due in the morning are sent beside billing (engine/runtime/
 * Engine.ts, the billing step), and the reminders step after billing finds
 * those billing moved into the window (a weekly subscription billed today);
 * on the embedded database they follow each other. Either way: every due
 * period invoiced once, every reminder sent once, and a second tick that day
 * does nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { namedFrequencies } from "../../../engine/domain/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { createSubscription, invoicesOf, outboxOf, tickAt } from "./engineHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

describe(`reminders and billing on one day (${backend})`, () => {
  it("bills each due period once and sends each reminder once, the weekly subscription's next one included", async () => {
    const billedToday = await Promise.all(Array.from({ length: 30 }, () => createSubscription(t.db.sql, { start: "2026-04-01", reminders: true })))
    const remindedToday = await Promise.all(Array.from({ length: 30 }, () => createSubscription(t.db.sql, { start: "2026-04-15", reminders: true })))
    const weekly = await createSubscription(t.db.sql, { start: "2026-04-24", reminders: true, frequency: namedFrequencies.weekly })
    const batch = 7 // several billing batches, so reminders and billing overlap on a server
    await tickAt(t, "2026-04-01", batch)
    await tickAt(t, "2026-04-15", batch)
    await tickAt(t, "2026-04-24", batch)

    const day = await tickAt(t, "2026-05-01", batch)
    expect(day.invoiced).toBe(31)
    // The 30 due on May 15th, and the weekly one's next payment (May 8th), which billing moved into the window.
    expect(day.reminders).toBe(31)
    const again = await tickAt(t, "2026-05-01", batch)
    expect([again.invoiced, again.reminders]).toEqual([0, 0])

    for (const id of billedToday) {
      expect((await invoicesOf(t.db.sql, id)).map((i) => [i.period_start, i.status])).toEqual([["2026-04-01", "paid"], ["2026-05-01", "paid"]])
    }
    const remindersOf = async (id: number) => (await outboxOf(t.db.sql, id)).filter((m) => m.template === "reminder").map((m) => m.dedupe_key)
    // Their first payment's reminder went out on April 1st (within 14 days of the 15th).
    for (const id of remindedToday) expect(await remindersOf(id)).toEqual([`email:reminder:${id}:2026-04-15`, `email:reminder:${id}:2026-05-15`])
    expect(await remindersOf(weekly)).toEqual([`email:reminder:${weekly}:2026-04-24`, `email:reminder:${weekly}:2026-05-01`, `email:reminder:${weekly}:2026-05-08`])
    expect((await invoicesOf(t.db.sql, weekly)).map((i) => i.period_start)).toEqual(["2026-04-24", "2026-05-01"])
  })
})
