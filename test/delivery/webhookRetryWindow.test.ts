/**
 * A webhook receiver that is down is retried for the account's retry window
 * (3 days by default, as Stripe does), counted on business time from the
 * first try, with backoff that grows to at most 6 hours between tries (an
 * email likewise, for its own window: test/delivery/emailRetryWindow.test.ts).
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addDays } from "../../engine/billing/index.ts"
import type { CalendarDate } from "../../engine/domain/index.ts"
import { Gateway } from "../../engine/payments/index.ts"
import { deliverOutbox, deliveryHooksLayer, EngineState, MessageRenderer, MessageSender, runTick, templateRendererLayer } from "../../engine/runtime/index.ts"
import { enqueueMessages, maxRetryDelaySeconds } from "../../engine/sql/index.ts"
import { BusinessClock, dayTime, saveSetting } from "../../engine/account/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { startWebhookReceiver } from "./webhookReceiver.ts"
import type { WebhookReceiver } from "./webhookReceiver.ts"

let t: TestDatabase
let receiver: WebhookReceiver
/** An endpoint that always answers 500. */
let broken: WebhookReceiver
beforeAll(async () => {
  t = await openTestDatabase()
  receiver = await startWebhookReceiver(503)
  broken = await startWebhookReceiver(500)
})
afterAll(async () => {
  await receiver.close()
  await broken.close()
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

const hook = (key: string, url = receiver.url) =>
  t.db.sql.begin((tx) => enqueueMessages(tx, [{ kind: "webhook", template: "invoice.paid", dedupeKey: key, subscriptionId: null, recipient: url, payload: { invoice_id: 1 }, createdOn: "2026-03-01" }]))

/** One tick of the engine at business instant `at` (`engine --once --now`, a simulated day), with the real renderer and sender. */
const tickAt = (at: number) =>
  Effect.runPromise(runTick({ batch: 100 }).pipe(Effect.provide(Layer.mergeAll(
    t.layer,
    BusinessClock.fixed({ epochMillis: at, date: undefined }),
    EngineState.layer,
    Gateway.simulated.pipe(Layer.provide(t.layer)),
    deliveryHooksLayer(undefined).pipe(Layer.provide(Layer.mergeAll(t.layer, templateRendererLayer(undefined), MessageSender.files("/nonexistent-mail-dir"))))
  ))))
const triesOf = (key: string) => broken.received.filter((r) => r.key === key).length

describe(`webhook retries span the retry window (${backend})`, () => {
  it("a receiver down for days is retried for up to 3 days (not 31 minutes), at most 6 hours apart, under one key, then failed", async () => {
    await hook("webhook:down:1")
    const start = Date.parse("2026-03-01T12:00:00Z")
    const tries = await runUntilDone("webhook:down:1", start)
    const hours = (tries.at(-1)! - start) / 3_600_000
    expect(hours).toBeGreaterThan(48)
    expect(hours).toBeLessThanOrEqual(72)
    for (let i = 1; i < tries.length; i++) expect(tries[i]! - tries[i - 1]!).toBeLessThanOrEqual(maxRetryDelaySeconds * 1000)
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

describe(`the retry window is business time from the first try, however often the engine runs (${backend})`, () => {
  it("an engine run once a day (cron, the simulator) tries a failing endpoint on the first day and the 3 days after, then marks it failed; not for 20 days", async () => {
    await saveSetting(t.db.sql, "webhook-retry-window", "3d")
    await hook("webhook:daily:4", broken.url)
    const first = "2026-04-01" as CalendarDate
    const triedOn: Array<string> = []
    for (let d = first, i = 0; i < 25; i++, d = addDays(d, 1)) {
      const before = triesOf("webhook:daily:4")
      await tickAt(dayTime(d).epochMillis)
      if (triesOf("webhook:daily:4") > before) triedOn.push(d)
      if (d === "2026-04-04") expect(await row("webhook:daily:4")).toMatchObject({ status: "failed", attempts: 4 })
    }
    // One try a day while the window (3 days from the first try, its end included) lasts, then none.
    expect(triedOn).toEqual(["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04"])
    expect(await row("webhook:daily:4")).toMatchObject({ status: "failed", attempts: 4 })
  })

  it("an engine that wakes after the window has passed does not try again: the message is marked failed", async () => {
    await hook("webhook:late:5", broken.url)
    const start = Date.parse("2026-05-01T09:00:00Z")
    await tickAt(start)
    await tickAt(start + 60_000)
    expect(await row("webhook:late:5")).toMatchObject({ status: "queued", attempts: 2 })
    // The next tick comes 3 days and a minute after the first try: too late for another.
    await tickAt(start + 3 * 86_400_000 + 60_000)
    expect(triesOf("webhook:late:5")).toBe(2)
    expect(await row("webhook:late:5")).toMatchObject({ status: "failed", attempts: 2 })
  })

  it("an engine ticking every minute still tries 20 times within the 3 days (1, 2, 4 … minutes, then every 6 hours)", async () => {
    await hook("webhook:minutely:6", broken.url)
    const start = Date.parse("2026-06-01T00:00:00Z")
    const tries: Array<number> = []
    for (let at = start; at <= start + 4 * 86_400_000; at += 60_000) {
      const before = triesOf("webhook:minutely:6")
      await deliverOutbox("engine-a", at).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, MessageSender.files("/nonexistent-mail-dir"))), Effect.runPromise)
      if (triesOf("webhook:minutely:6") > before) tries.push(at)
      if ((await row("webhook:minutely:6")).status !== "queued") break
    }
    expect(tries).toHaveLength(20)
    // The 20th try 4111 minutes (about 68.5 hours) after the first; a 21st would come after 74.5.
    expect((tries.at(-1)! - start) / 60_000).toBe(4111)
    expect(await row("webhook:minutely:6")).toMatchObject({ status: "failed", attempts: 20 })
  })
})
