/**
 * Delivering the outbox: claim queued messages, render each, hand it to the
 * sender, record the outcome. A message that fails to render or to send is
 * retried with backoff and finally marked failed (visible in `outbox list`,
 * re-queued by `outbox retry`); it never stops the engine.
 */
import { Context, Effect, Layer } from "effect"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { ClaimedMessage, DeliveryOutcome } from "../store/index.ts"
import { claimOutbox, Database, DatabaseError, messageOf, recordDeliveries } from "../store/index.ts"
import { failpoint } from "./failpoint.ts"

export interface RenderedMessage {
  readonly subject: string
  readonly text: string
  readonly html: string
}

/** Turns a queued message into what is sent. The templates room provides the real one. */
export class MessageRenderer extends Context.Service<MessageRenderer, {
  readonly render: (message: ClaimedMessage) => Effect.Effect<RenderedMessage, Error, Database>
}>()("billcycle/engine/runtime/MessageRenderer") {
  /** A plain summary of the message: what it is about and its data. */
  static readonly plain = Layer.succeed(MessageRenderer, {
    render: (m) =>
      Effect.succeed({
        subject: `${(m.template ?? m.kind).replaceAll("_", " ")}${m.subscription_id === null ? "" : ` (subscription ${m.subscription_id})`}`,
        text: Object.entries(m.payload).map(([k, v]) => `${k}: ${String(v)}`).join("\n"),
        html: `<p>${Object.entries(m.payload).map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(String(v))}`).join("<br>")}</p>`
      })
  })
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export class MessageSender extends Context.Service<MessageSender, {
  readonly send: (message: ClaimedMessage, rendered: RenderedMessage) => Effect.Effect<DeliveryOutcome>
}>()("billcycle/engine/runtime/MessageSender") {
  /**
   * Writes each message as a file under `dir`, named by its delivery key and
   * written atomically (temp file + rename): a re-delivery after a crash
   * overwrites the same file instead of adding a second one.
   */
  static readonly files = (dir: string) =>
    Layer.succeed(MessageSender, {
      send: (m, r) =>
        Effect.sync((): DeliveryOutcome => {
          try {
            mkdirSync(dir, { recursive: true })
            const name = m.dedupe_key.replace(/[^A-Za-z0-9._-]+/g, "_")
            const file = join(dir, `${name}.eml`)
            const boundary = `billcycle-${m.id}`
            const body = [
              `Message-ID: <${name}@billcycle.local>`,
              `To: ${m.recipient}`,
              `Subject: ${r.subject}`,
              "MIME-Version: 1.0",
              `Content-Type: multipart/alternative; boundary="${boundary}"`,
              "",
              `--${boundary}`,
              "Content-Type: text/plain; charset=utf-8",
              "",
              r.text,
              `--${boundary}`,
              "Content-Type: text/html; charset=utf-8",
              "",
              r.html,
              `--${boundary}--`,
              ""
            ].join("\r\n")
            writeFileSync(file + ".tmp", body)
            renameSync(file + ".tmp", file)
            return { _tag: "Sent", providerId: file }
          } catch (e) {
            return { _tag: "Retry", error: messageOf(e) }
          }
        })
    })
}

/** Delivers everything that is due; returns how many were sent. */
export const deliverOutbox = Effect.fn("deliverOutbox")(function*(owner: string, batch = 200) {
  const { sql } = yield* Database
  const renderer = yield* MessageRenderer
  const sender = yield* MessageSender
  let sent = 0
  for (;;) {
    const claimed = yield* Effect.tryPromise({ try: () => claimOutbox(sql, owner, batch), catch: (cause) => new DatabaseError({ message: `claiming messages: ${messageOf(cause)}`, cause }) })
    if (claimed.length === 0) return sent
    const results = yield* Effect.forEach(claimed, (message) =>
      renderer.render(message).pipe(
        Effect.flatMap((rendered) => sender.send(message, rendered)),
        Effect.catch((e: Error) => Effect.succeed<DeliveryOutcome>({ _tag: "Retry", error: `render ${message.template ?? message.kind}: ${e.message}` })),
        Effect.map((outcome) => ({ message, outcome }))
      ), { concurrency: 10 })
    failpoint("after-delivery-send")
    yield* Effect.tryPromise({ try: () => recordDeliveries(sql, owner, results), catch: (cause) => new DatabaseError({ message: `recording deliveries: ${messageOf(cause)}`, cause }) })
    sent += results.filter((r) => r.outcome._tag === "Sent").length
    if (claimed.length < batch) return sent
  }
})
