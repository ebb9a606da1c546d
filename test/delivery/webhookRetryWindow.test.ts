/**
 * A webhook receiver that is down is retried for the account's retry window
 * (3 days by default, as Stripe does), with backoff that grows to at most
 * 6 hours between tries; an email keeps its short schedule.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverOutbox, MessageRenderer, MessageSender } from "../../engine/runtime/index.ts"
import { enqueueMessages, maxWebhookDelaySeconds } from "../../engine/sql/index.ts"
import { saveSetting } from "../../engine/account/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { startWebhookReceiver } from "./webhookReceiver.ts"
import type { WebhookReceiver } from "./webhookReceiver.ts"

let t: TestDatabase
let receiver: WebhookReceiver
beforeAll(async () => {
  t = await openTestDatabase()
  receiver = await startWebhookReceiver(503)
})
afterAll(async () => {
  await receiver.close()
  await t.close()
})

const deliverAt = (at: number) =>
  Effect.runPromise(deliverOutbox("engine-a", at).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, MessageSender.files("/nonexistent-mail-dir")))))
const row = async (key: string) =>
  (await t.db.sql<Array<{ status: string; attempts: number; next_attempt_at: Date }>>`select status, attempts, next_attempt_at from outbox where dedupe_key = ${key}`)[0]!

/** Delivers at each due time until the message leaves the queue; returns the business instants of the tries. */
const runUntilDone = async (key: string, start: number) => {
  const tries: Array<number> = []
  let at = start
  for (let i = 0; i < 100; i++) {
    await deliverAt(at)
    tries.push(at)
    const r = await row(key)
    if (r.status !== "queued") return tries
    at = r.next_attempt_at.getTime()
  }
  throw new Error("never finished")
}

const hook = (key: string) =>
  t.db.sql.begin((tx) => enqueueMessages(tx, [{ kind: "webhook", template: "invoice.paid", dedupeKey: key, subscriptionId: null, recipient: receiver.url, payload: { invoice_id: 1 }, createdOn: "2026-03-01" }]))

describe(`webhook retries span the retry window (${backend})`, () => {
  it("a receiver down for days is retried for up to 3 days (not 31 minutes), at most 6 hours apart, under one key, then failed", async () => {
    await hook("webhook:down:1")
    const start = Date.parse("2026-03-01T12:00:00Z")
    const tries = await runUntilDone("webhook:down:1", start)
    const hours = (tries.at(-1)! - start) / 3_600_000
    expect(hours).toBeGreaterThan(48)
    expect(hours).toBeLessThanOrEqual(72)
    for (let i = 1; i < tries.length; i++) expect(tries[i]! - tries[i - 1]!).toBeLessThanOrEqual(maxWebhookDelaySeconds * 1000)
    expect(await row("webhook:down:1")).toMatchObject({ status: "failed", attempts: tries.length })
    expect(new Set(receiver.received.map((r) => r.key))).toEqual(new Set(["webhook:down:1"]))
    expect(receiver.received).toHaveLength(tries.length)
  })

  it("the window is a setting: webhook-retry-window 12h gives up within 12 hours; a receiver back in time gets it", async () => {
    await saveSetting(t.db.sql, "webhook-retry-window", "12h")
    await hook("webhook:down:2")
    const start = Date.parse("2026-03-05T12:00:00Z")
    const tries = await runUntilDone("webhook:down:2", start)
    const hours = (tries.at(-1)! - start) / 3_600_000
    expect(hours).toBeGreaterThan(6)
    expect(hours).toBeLessThanOrEqual(12)
    expect((await row("webhook:down:2")).status).toBe("failed")

    await hook("webhook:back:3")
    await deliverAt(start)
    receiver.answer(200)
    await deliverAt((await row("webhook:back:3")).next_attempt_at.getTime())
    expect(await row("webhook:back:3")).toMatchObject({ status: "sent", attempts: 2 })
  })
})
