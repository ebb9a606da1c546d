import { Effect, Layer } from "effect"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverOutbox, MessageRenderer, MessageSender } from "../../../engine/runtime/OutboxDelivery.ts"
import type { DeliveryOutcome } from "../../../engine/store/index.ts"
import { enqueueMessages, maxDeliveryAttempts, retryDelaySeconds, retryOutboxMessage } from "../../../engine/store/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const queue = (key: string) =>
  t.db.sql.begin((tx) => enqueueMessages(tx, [{ kind: "email", template: "receipt", dedupeKey: key, subscriptionId: null, recipient: "ana@example.com", payload: { invoice_id: 1 }, createdOn: "2026-03-01" }]))

/** Business time of these tests: the engine's clock, not the database's. */
const day = Date.parse("2026-03-01T12:00:00Z")

const deliver = (sender: Layer.Layer<MessageSender>, owner = "engine-a", at = day) =>
  Effect.runPromise(deliverOutbox(owner, at).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, sender))))

describe(`outbox delivery (${backend})`, () => {
  it("a message is queued once per key and delivered once; a crash between send and mark re-sends under the same key", async () => {
    expect(await queue("email:receipt:1")).toBe(1)
    expect(await queue("email:receipt:1")).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), "billcycle-mail-"))
    // Simulate a crash after the send: the message is left 'sending' with an expired lease.
    await t.db.sql`update outbox set status = 'sending', lease_owner = 'dead-engine', lease_until = now() - interval '1 second', attempts = 1 where dedupe_key = 'email:receipt:1'`
    expect(await deliver(MessageSender.files(dir))).toBe(1)
    expect(await deliver(MessageSender.files(dir))).toBe(0)
    expect(readdirSync(dir)).toEqual(["email_receipt_1.eml"])
    const [row] = await t.db.sql`select status, attempts from outbox where dedupe_key = 'email:receipt:1'`
    expect(row).toMatchObject({ status: "sent", attempts: 2 })
  })

  it("a failing sender retries with backoff on business time, then marks the message failed; outbox retry queues it again", async () => {
    await queue("email:receipt:2")
    let tries = 0
    const failing = Layer.succeed(MessageSender, {
      send: () => Effect.sync((): DeliveryOutcome => {
        tries++
        return { _tag: "Retry", error: "smtp 451 try later" }
      })
    })
    // No real waiting: each try is due retryDelaySeconds(n) after the business instant of the last one, not a second before.
    let at = day
    await deliver(failing, "engine-a", at)
    for (let n = 1; n < maxDeliveryAttempts; n++) {
      at += retryDelaySeconds(n) * 1000
      await deliver(failing, "engine-a", at - 1000)
      expect(tries).toBe(n)
      await deliver(failing, "engine-a", at)
      expect(tries).toBe(n + 1)
    }
    const [row] = await t.db.sql<Array<{ id: number; status: string; last_error: string; attempts: number }>>`select id, status, last_error, attempts from outbox where dedupe_key = 'email:receipt:2'`
    expect(row).toMatchObject({ status: "failed", last_error: "smtp 451 try later", attempts: maxDeliveryAttempts })
    await deliver(failing, "engine-a", at + 86_400_000)
    expect(tries).toBe(maxDeliveryAttempts)
    await retryOutboxMessage(t.db.sql, row!.id)
    const ok = Layer.succeed(MessageSender, { send: () => Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: "x" }) })
    // Put back by hand, it is due at once, whatever the business time.
    expect(await deliver(ok, "engine-a", day)).toBe(1)
    await expect(retryOutboxMessage(t.db.sql, row!.id)).rejects.toThrow(/only a failed message/)
  })

  it("a message that fails to render fails alone; the others are sent", async () => {
    await queue("email:receipt:3")
    await queue("email:receipt:4")
    const picky = Layer.succeed(MessageRenderer, MessageRenderer.each((m) =>
      m.dedupe_key.endsWith(":3") ? Effect.fail(new Error("missing invoice")) : Effect.succeed({ subject: "s", text: "t", html: "h" })))
    const ok = Layer.succeed(MessageSender, { send: () => Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: "x" }) })
    const sent = await Effect.runPromise(deliverOutbox("engine-b", day).pipe(Effect.provide(Layer.mergeAll(t.layer, picky, ok))))
    expect(sent).toBe(1)
    const rows = await t.db.sql`select dedupe_key, status, last_error from outbox where dedupe_key in ('email:receipt:3', 'email:receipt:4') order by dedupe_key`
    expect(rows.map((r) => [r["status"], r["last_error"]])).toEqual([["queued", "render receipt: missing invoice"], ["sent", null]])
  })
})
