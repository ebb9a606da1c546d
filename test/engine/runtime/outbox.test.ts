import { Effect, Layer } from "effect"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverOutbox, MessageRenderer, MessageSender } from "../../../engine/runtime/OutboxDelivery.ts"
import type { DeliveryOutcome } from "../../../engine/store/index.ts"
import { enqueueMessages, maxDeliveryAttempts, retryOutboxMessage } from "../../../engine/store/index.ts"
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

const deliver = (sender: Layer.Layer<MessageSender>, owner = "engine-a") =>
  Effect.runPromise(deliverOutbox(owner).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, sender))))

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

  it("a failing sender retries with backoff, then marks the message failed; outbox retry queues it again", async () => {
    await queue("email:receipt:2")
    const failing = Layer.succeed(MessageSender, { send: () => Effect.succeed<DeliveryOutcome>({ _tag: "Retry", error: "smtp 451 try later" }) })
    for (let i = 0; i < maxDeliveryAttempts; i++) {
      await t.db.sql`update outbox set next_attempt_at = now() where dedupe_key = 'email:receipt:2' and status = 'queued'`
      await deliver(failing)
    }
    const [row] = await t.db.sql<Array<{ id: number; status: string; last_error: string }>>`select id, status, last_error from outbox where dedupe_key = 'email:receipt:2'`
    expect(row).toMatchObject({ status: "failed", last_error: "smtp 451 try later" })
    await retryOutboxMessage(t.db.sql, row!.id)
    const ok = Layer.succeed(MessageSender, { send: () => Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: "x" }) })
    expect(await deliver(ok)).toBe(1)
    await expect(retryOutboxMessage(t.db.sql, row!.id)).rejects.toThrow(/only a failed message/)
  })

  it("a message that fails to render fails alone; the others are sent", async () => {
    await queue("email:receipt:3")
    await queue("email:receipt:4")
    const picky = Layer.succeed(MessageRenderer, MessageRenderer.each((m) =>
      m.dedupe_key.endsWith(":3") ? Effect.fail(new Error("missing invoice")) : Effect.succeed({ subject: "s", text: "t", html: "h" })))
    const ok = Layer.succeed(MessageSender, { send: () => Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: "x" }) })
    const sent = await Effect.runPromise(deliverOutbox("engine-b").pipe(Effect.provide(Layer.mergeAll(t.layer, picky, ok))))
    expect(sent).toBe(1)
    const rows = await t.db.sql`select dedupe_key, status, last_error from outbox where dedupe_key in ('email:receipt:3', 'email:receipt:4') order by dedupe_key`
    expect(rows.map((r) => [r["status"], r["last_error"]])).toEqual([["queued", "render receipt: missing invoice"], ["sent", null]])
  })
})
