/**
 * The outbox retries on business time: ticks of the engine at later business
 * instants (a later `--now`, the simulator's next days) retry a failing
 * message with growing backoff and give up after the last try, with no real
 * waiting; `outbox retry` puts it back.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../engine/domain/index.ts"
import { deliveryHooksLayer, EngineState, MessageSender, runTick, templateRendererLayer } from "../../engine/runtime/index.ts"
import type { FixedTime } from "../../engine/account/index.ts"
import { Gateway } from "../../engine/payments/index.ts"
import { enqueueMessages } from "../../engine/sql/index.ts"
import { saveSetting, BusinessClock, dayTime } from "../../engine/account/index.ts"
import { retryOutboxMessage } from "../../engine/invoicing/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { startWebhookReceiver } from "./webhookReceiver.ts"
import type { WebhookReceiver } from "./webhookReceiver.ts"

let u: TestDatabase
let receiver: WebhookReceiver
const mailDir = mkdtempSync(join(tmpdir(), "billcycle-mail-"))
beforeAll(async () => {
  u = await openTestDatabase()
  // The webhook retry window from the first try, as by default (the window was a count of 6 tries at "31m",
  // and this scenario tried a webhook 2 days after its first try).
  await saveSetting(u.db.sql, "webhook-retry-window", "3d")
  receiver = await startWebhookReceiver(503)
})
afterAll(async () => {
  await receiver.close()
  await u.close()
})

describe(`outbox retries in the engine's ticks (${backend})`, () => {
  /** One engine tick at a business time, with the real hooks, renderer and sender. */
  const tickAt = (time: FixedTime) =>
    Effect.runPromise(runTick({ batch: 100 }).pipe(Effect.provide(Layer.mergeAll(
      u.layer,
      BusinessClock.fixed(time),
      EngineState.layer,
      Gateway.simulated.pipe(Layer.provide(u.layer)),
      deliveryHooksLayer(undefined).pipe(Layer.provide(Layer.mergeAll(u.layer, templateRendererLayer(undefined), MessageSender.files(mailDir))))
    ))))
  const at = (iso: string): FixedTime => ({ epochMillis: Date.parse(iso), date: undefined })
  const hook = async () =>
    (await u.db.sql<Array<{ id: number; status: string; attempts: number; next_attempt_at: Date; last_error: string | null }>>`
      select id, status, attempts, next_attempt_at, last_error from outbox where dedupe_key = 'rule:9:0'`)[0]!

  it("a failing webhook is retried on later ticks of its simulated day and the next days, with growing backoff, then fails when its window has passed; outbox retry sends it", async () => {
    // The shape engine/enrollments/rulesRun.ts queues for `webhook post URL`.
    await u.db.sql.begin((tx) => enqueueMessages(tx, [{ kind: "webhook", template: "rule.hook_on_payment", dedupeKey: "rule:9:0", subscriptionId: 1, recipient: receiver.url, payload: { rule_id: "hook_on_payment", subscription_id: 1, status: "active" }, createdOn: "2026-03-02" }]))
    const tries = () => receiver.received.length

    await tickAt(at("2026-03-02T09:00:00Z"))
    expect(tries()).toBe(1)
    // The backoff runs from the tick's business instant, whatever the database's clock says.
    expect(await hook()).toMatchObject({ status: "queued", attempts: 1, next_attempt_at: new Date("2026-03-02T09:01:00Z"), last_error: "HTTP 503" })
    await tickAt(at("2026-03-02T09:00:59Z"))
    expect(tries()).toBe(1)
    await tickAt(at("2026-03-02T09:01:00Z"))
    expect(tries()).toBe(2)
    await tickAt(at("2026-03-02T09:02:59Z"))
    expect(tries()).toBe(2)
    await tickAt(at("2026-03-02T09:03:00Z"))
    expect(tries()).toBe(3)
    expect((await hook()).next_attempt_at).toEqual(new Date("2026-03-02T09:07:00Z"))

    // The simulator's days (noon of each date): one more try each while the 3 days from the first try last.
    await tickAt(dayTime("2026-03-02" as CalendarDate))
    expect(tries()).toBe(4)
    await tickAt(dayTime("2026-03-03" as CalendarDate))
    await tickAt(dayTime("2026-03-04" as CalendarDate))
    expect(tries()).toBe(6)
    expect(await hook()).toMatchObject({ status: "queued", attempts: 6, last_error: "HTTP 503" })
    // Noon of 2026-03-05 is past 09:00 of 2026-03-02 plus 3 days: no try, given up.
    await tickAt(dayTime("2026-03-05" as CalendarDate))
    expect(tries()).toBe(6)
    expect(await hook()).toMatchObject({ status: "failed", attempts: 6, last_error: "HTTP 503" })
    await tickAt(dayTime("2026-03-10" as CalendarDate))
    expect(tries()).toBe(6)
    expect(new Set(receiver.received.map((r) => r.key))).toEqual(new Set(["rule:9:0"]))

    // `outbox retry ID`: queued again, sent on the next tick under the same delivery key.
    await retryOutboxMessage(u.db.sql, (await hook()).id)
    expect(await hook()).toMatchObject({ status: "queued", attempts: 0, last_error: null })
    receiver.answer(200)
    const summary = await tickAt(dayTime("2026-03-10" as CalendarDate))
    expect(summary.delivered).toBe(1)
    expect(tries()).toBe(7)
    expect(receiver.received.at(-1)!.key).toBe("rule:9:0")
    expect(await hook()).toMatchObject({ status: "sent", attempts: 1 })
  })
})
