/**
 * A rule's webhook goes out through the engine's real renderer and sender:
 * posted as signed JSON with its payload, never rendered as an email; the
 * rule's notifications in the same batch still go out as emails.
 */
import { createHmac } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverOutbox, MessageSender, templateRendererLayer } from "../../engine/runtime/index.ts"
import { enqueueMessages } from "../../engine/sql/index.ts"
import { saveSetting } from "../../engine/account/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"
import { createSubscription } from "../engine/runtime/engineHarness.ts"
import { startWebhookReceiver } from "./webhookReceiver.ts"
import type { WebhookReceiver } from "./webhookReceiver.ts"

let t: TestDatabase
let receiver: WebhookReceiver
const secretBefore = process.env["BILLCYCLE_WEBHOOK_SECRET"]
beforeAll(async () => {
  t = await openTestDatabase()
  receiver = await startWebhookReceiver(200)
  // The account's webhook-secret setting signs webhooks when BILLCYCLE_WEBHOOK_SECRET is not set.
  delete process.env["BILLCYCLE_WEBHOOK_SECRET"]
  await saveSetting(t.db.sql, "webhook-secret", "whsec_rules")
})
afterAll(async () => {
  if (secretBefore === undefined) delete process.env["BILLCYCLE_WEBHOOK_SECRET"]
  else process.env["BILLCYCLE_WEBHOOK_SECRET"] = secretBefore
  await receiver.close()
  await t.close()
})

describe(`rule webhooks through the engine's renderer (${backend})`, () => {
  it("a rule's webhook is posted as JSON signed with the account's webhook-secret with its payload and marked sent; its notification is still an email", async () => {
    const subscriptionId = await createSubscription(t.db.sql, { start: "2026-03-01" })
    // The shapes engine/enrollments/rulesRun.ts queues for `webhook post URL` and `notify team "…" "…"`.
    await t.db.sql.begin((tx) => enqueueMessages(tx, [
      { kind: "webhook", template: "rule.hook_on_payment", dedupeKey: "rule:5:0", subscriptionId, recipient: receiver.url, payload: { rule_id: "hook_on_payment", subscription_id: subscriptionId, status: "active" }, createdOn: "2026-03-02" },
      { kind: "notification", template: "internal_notification", dedupeKey: "rule:5:1", subscriptionId, recipient: "finance@example.com", language: "en", locale: "en-US", payload: { message: "Coffee was paid", team: "finance", rule_id: "hook_on_payment" }, createdOn: "2026-03-02" }
    ]))
    const dir = mkdtempSync(join(tmpdir(), "billcycle-mail-"))
    const [store] = await t.db.sql<Array<{ id: string }>>`select id from store_identity`
    const file = `rule_5_1.${store!.id.slice(0, 12)}.eml`
    const sent = await Effect.runPromise(deliverOutbox("engine-a", Date.parse("2026-03-02T12:00:00Z")).pipe(
      Effect.provide(Layer.mergeAll(t.layer, templateRendererLayer(undefined), MessageSender.files(dir)))))

    const rows = await t.db.sql<Array<{ dedupe_key: string; status: string; last_error: string | null; provider_id: string }>>`
      select dedupe_key, status, last_error, provider_id from outbox order by dedupe_key`
    expect(rows).toEqual([
      { dedupe_key: "rule:5:0", status: "sent", last_error: null, provider_id: "200" },
      { dedupe_key: "rule:5:1", status: "sent", last_error: null, provider_id: join(dir, file) }
    ])
    expect(sent).toBe(2)

    expect(receiver.received).toHaveLength(1)
    const { signature, key, contentType, body } = receiver.received[0]!
    expect(contentType).toBe("application/json")
    expect(key).toBe("rule:5:0")
    const [stamp, v1] = signature.split(",").map((p) => p.split("=")[1]!)
    expect(v1).toBe(createHmac("sha256", "whsec_rules").update(`${stamp}.${body}`).digest("hex"))
    expect(JSON.parse(body)).toEqual({
      id: "rule:5:0", type: "rule.hook_on_payment", created_on: "2026-03-02",
      data: { rule_id: "hook_on_payment", subscription_id: subscriptionId, status: "active" }
    })

    // Only the notification became a file: a webhook is never written as an email.
    expect(readdirSync(dir)).toEqual([file])
    const mail = readFileSync(join(dir, file), "utf8")
    expect(mail).toMatch(/^Subject: Notification from billcycle\r?$/m)
    expect(mail).toContain("Coffee was paid")
  })
})
