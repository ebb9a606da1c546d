/**
 * Delivering the outbox: claim queued messages, render each, hand it to the
 * sender, record the outcome. A message that fails to render or to send is
 * retried with backoff for its kind's retry window (`email-retry-window`,
 * `webhook-retry-window`) and then marked failed (visible in `outbox list`,
 * re-queued by `outbox retry`); it never stops the engine. Emails and
 * notifications are rendered from our templates; a webhook is its payload as
 * signed JSON, never a template.
 */
import { Context, Effect, Fiber, Layer } from "effect"
import { createHmac } from "node:crypto"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import type nodemailerModule from "nodemailer"
import type { SendMailOptions } from "nodemailer"
import type MailComposerClass from "nodemailer/lib/mail-composer/index.js"
import { join } from "node:path"
import type { ClaimedMessage, DeliveryOutcome, RetryWindows, Sql } from "../sql/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { AccountSettings } from "../account/index.ts"
import {
  claimOutbox, Database, DatabaseError, expireOutbox, holdsOutboxLease, messageOf, recordDeliveries, renewOutboxLeases,
  sendingLeaseOwners
} from "../sql/index.ts"
import { loadSettings } from "../account/index.ts"
import { loadEmailDataBatch, loadInvoiceDocument } from "../invoicing/index.ts"
import { renderEmail, renderInvoice } from "../../templates/index.ts"
import { openPdfPrinter, type PdfPrinter } from "../../templates/pdf.ts"
import { calendarDateInZone, languageOf, localeOf } from "../billing/index.ts"
import { failpoint } from "../sql/index.ts"
import { deadLocalOwner } from "./leaseOwners.ts"

// nodemailer is required on first delivery, not when the command line starts.
const require = createRequire(import.meta.url)
const nodemailer = (): typeof nodemailerModule => require("nodemailer")
const MailComposer = (): typeof MailComposerClass => require("nodemailer/lib/mail-composer/index.js")

export interface RenderedMessage {
  /** The sender's address (the account's seller email); the transport's default when absent. */
  readonly from?: string
  readonly subject: string
  readonly text: string
  readonly html: string
  /** Webhooks: the HMAC key to sign with (BILLCYCLE_WEBHOOK_SECRET, else the account's webhook-secret setting). Never logged. */
  readonly signingSecret?: string
  /** The email's `Date:`: the business time it is sent at (the engine's clock, a simulated day included). */
  readonly date?: Date
  /** Files attached to the email (the invoice's PDF when attach-pdf is on). */
  readonly attachments?: ReadonlyArray<{ readonly filename: string; readonly content: Buffer; readonly contentType: string }>
}

/** What nodemailer is given for an email: the same for a file and for SMTP. */
const mailOf = (m: ClaimedMessage, r: RenderedMessage, from: string): SendMailOptions => ({
  from: r.from ?? from, to: m.recipient, subject: r.subject, text: r.text, html: r.html, messageId: messageIdOf(m),
  headers: { "X-Billcycle-Delivery-Key": m.dedupe_key },
  ...(r.date === undefined ? {} : { date: r.date }),
  ...(r.attachments === undefined || r.attachments.length === 0 ? {} : { attachments: r.attachments.map((a) => ({ ...a })) })
})

/** A message rendered, or why it could not be (that message alone is retried). */
export type RenderResult = RenderedMessage | Error

/**
 * Turns a claimed batch of queued messages into what is sent, one result per
 * message, in order. The templates room provides the real one.
 */
export class MessageRenderer extends Context.Service<MessageRenderer, {
  readonly render: (messages: ReadonlyArray<ClaimedMessage>) => Effect.Effect<Array<RenderResult>, never, Database>
}>()("billcycle/engine/runtime/MessageRenderer") {
  /** A renderer from a function of one message (each failure stays with its message). */
  static readonly each = (renderOne: (message: ClaimedMessage) => Effect.Effect<RenderedMessage, Error, Database>) => ({
    render: (messages: ReadonlyArray<ClaimedMessage>) =>
      Effect.forEach(messages, (m) => renderOne(m).pipe(Effect.catch((e: Error) => Effect.succeed<RenderResult>(e))))
  })

  /** A plain summary of the message: what it is about and its data. */
  static readonly plain = Layer.succeed(MessageRenderer, MessageRenderer.each((m) =>
    Effect.succeed({
      subject: `${(m.template ?? m.kind).replaceAll("_", " ")}${m.subscription_id === null ? "" : ` (subscription ${m.subscription_id})`}`,
      text: Object.entries(m.payload).map(([k, v]) => `${k}: ${String(v)}`).join("\n"),
      html: `<p>${Object.entries(m.payload).map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(String(v))}`).join("<br>")}</p>`
    })))
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export class MessageSender extends Context.Service<MessageSender, {
  readonly send: (message: ClaimedMessage, rendered: RenderedMessage) => Effect.Effect<DeliveryOutcome>
}>()("billcycle/engine/runtime/MessageSender") {
  /**
   * Writes each email as an RFC 5322 file (multipart/alternative, built by
   * nodemailer's MIME composer) under `dir`, named by its delivery key and its
   * store (`mailFileName`) and written atomically (temp file + rename): a
   * re-delivery after a crash overwrites the same file instead of adding a
   * second one, and another store writing to the same folder never does.
   */
  static readonly files = (dir: string, from = "billing@example.com") => {
    let madeDir = false
    const write = (file: string, mime: Buffer) => {
      if (!madeDir) {
        mkdirSync(dir, { recursive: true })
        madeDir = true
      }
      try {
        writeFileSync(file + ".tmp", mime)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
        mkdirSync(dir, { recursive: true }) // the folder was removed while the engine ran
        writeFileSync(file + ".tmp", mime)
      }
      renameSync(file + ".tmp", file)
    }
    return Layer.succeed(MessageSender, {
      send: (m, r) =>
        m.kind === "webhook"
          ? postWebhook(m, r)
          : Effect.tryPromise({
            try: async (): Promise<DeliveryOutcome> => {
              const file = join(dir, mailFileName(m))
              const mime = await compose(mailOf(m, r, from))
              write(file, mime)
              return { _tag: "Sent", providerId: file }
            },
            catch: (e) => e
          }).pipe(Effect.catch((e) => Effect.succeed<DeliveryOutcome>({ _tag: "Retry", error: messageOf(e) })))
    })
  }

  /** Sends through an SMTP server (SMTP_URL); the Message-ID is the delivery key, so a receiver can drop a repeat. */
  static readonly smtp = (url: string, from = "billing@example.com") =>
    Layer.effect(MessageSender, Effect.gen(function*() {
      const transport = yield* Effect.acquireRelease(Effect.sync(() => nodemailer().createTransport(withSmtpTimeouts(url))), (t) => Effect.sync(() => t.close()))
      return {
        send: (m: ClaimedMessage, r: RenderedMessage) =>
          m.kind === "webhook"
            ? postWebhook(m, r)
            : Effect.tryPromise({
              try: async (): Promise<DeliveryOutcome> => {
                const info = await transport.sendMail(mailOf(m, r, from))
                return info.rejected.length > 0 ? { _tag: "Failed", error: `rejected: ${info.rejected.join(", ")}` } : { _tag: "Sent", providerId: info.messageId }
              },
              catch: (e) => e
            }).pipe(Effect.catch((e) => Effect.succeed<DeliveryOutcome>({ _tag: "Retry", error: messageOf(e) })))
      }
    }))
}

/**
 * Bounded waits for every SMTP step: nodemailer waits 2 minutes for a connection, 30 s for the greeting
 * and 10 minutes on a silent socket by default, so one server that accepts and never answers held a
 * tick (and a SIGTERM) for about 600 s. A message that times out is retried later like any failure.
 * The URL may set its own (`?socketTimeout=60000`, milliseconds).
 */
export const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const

export const withSmtpTimeouts = (url: string): string => {
  const u = new URL(url)
  for (const [key, ms] of Object.entries(smtpTimeouts)) if (!u.searchParams.has(key)) u.searchParams.set(key, String(ms))
  return u.toString()
}

const deliveryName = (m: Pick<ClaimedMessage, "dedupe_key">) => m.dedupe_key.replace(/[^A-Za-z0-9._-]+/g, "_")
/**
 * The sender as an RFC 5322 mailbox: the seller's name quoted, so that a comma, an angle bracket or a quote in
 * it stays part of the name (`Berg, Lund & Co` was read as two addresses, the first dropped; `Fjord & Co <AS>`
 * made the sender's address "AS"). Mail software encodes the name when it is not ASCII.
 */
export const mailbox = (name: string, address: string) => `"${name.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, " ")}" <${address}>`

/**
 * An email's Message-ID: its delivery key in this store (`<email_receipt_42.5f3a…@billcycle.local>`), the same when
 * a crash makes the engine send it again, so the receiver can drop the repeat, and no other store's: the key alone
 * is the same in every store, and a receiver dropped a second seller's receipt 42 as a repeat of the first's.
 */
export const messageIdOf = (m: Pick<ClaimedMessage, "dedupe_key" | "store_id">) => `<${deliveryName(m)}.${m.store_id}@billcycle.local>`

/**
 * An email's file name in the mail folder: its delivery key, then a tag of its store's random id
 * (`email_receipt_42.5f3a9c0e1b2d.eml`). The same for a re-send of the same message, so it overwrites its own
 * file; never another store's: each store numbers its messages from 1, and two engines delivering into one folder
 * (two embedded databases, or two schemas, run from one directory) wrote the second store's receipt 1 over the
 * first's, a buyer's email lost while the outbox said sent. Twelve hex digits: the random head of the id (a
 * version-4 UUID's first 48 bits), short enough to read, with about one chance in 10^14 that two stores share it.
 */
const mailFileName = (m: Pick<ClaimedMessage, "dedupe_key" | "store_id">) => `${deliveryName(m)}.${m.store_id.slice(0, 12)}.eml`

const compose = (mail: SendMailOptions) =>
  new Promise<Buffer>((resolve, reject) => new (MailComposer())(mail).compile().build((err, message) => (err === null ? resolve(message) : reject(err))))

/** Signs a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe does. */
export const signWebhook = (secret: string, body: string, unixSeconds: number) =>
  `t=${unixSeconds},v1=${createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex")}`

/** A webhook's body: the event (its template names the event type) with the message's payload as data. */
export const webhookBody = (m: ClaimedMessage): string =>
  JSON.stringify({ id: m.dedupe_key, type: m.template ?? "webhook", created_on: m.created_on, data: m.payload })

const postWebhook = (m: ClaimedMessage, r: RenderedMessage): Effect.Effect<DeliveryOutcome> =>
  Effect.promise(async (interrupted): Promise<DeliveryOutcome> => {
    const body = webhookBody(m)
    // The template renderer resolves the key (BILLCYCLE_WEBHOOK_SECRET, else the webhook-secret setting); a sender
    // handed a message rendered elsewhere falls back to the environment.
    const secret = r.signingSecret ?? process.env["BILLCYCLE_WEBHOOK_SECRET"] ?? ""
    try {
      const response = await fetch(m.recipient, {
        method: "POST",
        // Wall-clock signing time, not business time: receivers check it against their own clock to refuse replays, as Stripe's do.
        headers: { "content-type": "application/json", "idempotency-key": m.dedupe_key, "x-billcycle-signature": signWebhook(secret, body, Math.floor(Date.now() / 1000)) },
        body,
        // At most 10 s, and cut short when the engine is interrupted (SIGTERM).
        signal: AbortSignal.any([interrupted, AbortSignal.timeout(10_000)])
      })
      if (response.ok) return { _tag: "Sent", providerId: `${response.status}` }
      return response.status >= 500 || response.status === 429 ? { _tag: "Retry", error: `HTTP ${response.status}` } : { _tag: "Failed", error: `HTTP ${response.status}` }
    } catch (e) {
      return { _tag: "Retry", error: messageOf(e) }
    }
  })

/** Sends recorded together while a batch is delivered (see deliverOutbox). */
const recordEvery = 20

/**
 * Delivers everything due at business instant `now` (the tick's, epoch
 * milliseconds; `today` its business day, else the day of `now` in the
 * account's zone); returns how many were sent. Retries are scheduled from
 * `now` too, so a simulated run retries on its later ticks, and a message's
 * retry window runs from its first try's `now`.
 *
 * Leases: messages left `sending` by a dead process on this host are retaken
 * at once (as payment attempts are), not after their 2-minute lease; while a
 * batch is in hand its leases are renewed every 30 s, so a slow send is not
 * retaken by another engine; each message's lease is checked right before it
 * is sent, and only the sends recorded under our own lease are counted.
 */
export const deliverOutbox = Effect.fn("deliverOutbox")(function*(owner: string, now: number, batch = 200, today?: CalendarDate) {
  const { sql } = yield* Database
  const renderer = yield* MessageRenderer
  const sender = yield* MessageSender
  const db = <A>(what: string, work: () => Promise<A>) => Effect.tryPromise({ try: work, catch: (cause) => new DatabaseError({ message: `${what}: ${messageOf(cause)}`, cause }) })
  let sent = 0
  const settings = yield* db("loading settings", () => loadSettings(sql))
  const windows: RetryWindows = { emailSeconds: settings.emailRetrySeconds, webhookSeconds: settings.webhookRetrySeconds }
  const dead = (yield* db("reading leases", () => sendingLeaseOwners(sql))).filter((o) => deadLocalOwner(o, owner))
  // Messages whose retry window from their first try has passed since their last try (or while a dead engine
  // held them), and reminders whose payment date has passed, are given up, untried.
  yield* db("giving up messages", () => expireOutbox(sql, now, today ?? calendarDateInZone(now, settings.timezone), windows, dead))
  for (;;) {
    const claimed = yield* db("claiming messages", () => claimOutbox(sql, owner, batch, now, dead, windows))
    if (claimed.length === 0) return sent
    const ids = claimed.map((m) => m.id)
    // Heartbeat: the leases stay ours while the batch is rendered and sent (a failed renewal is retried on the next beat).
    const heartbeat = yield* Effect.forkChild(
      // Interruptible even inside the uninterruptible tick it is forked from, so that stopping it cannot hang.
      Effect.tryPromise(() => renewOutboxLeases(sql, owner, ids)).pipe(Effect.ignore, Effect.delay("30 seconds"), Effect.forever, Effect.interruptible)
    )
    const rendered = yield* renderer.render(claimed)
    // Each send is recorded soon after it finishes, a few at a time (`recordEvery`): a process killed mid-batch
    // (SIGKILL, a lost machine: nothing of it runs after) leaves at most those few sent but unrecorded, which the
    // next engine sends again; recorded once at the batch's end, a whole batch of 200 emails reached buyers twice.
    let unrecorded: Array<{ readonly message: ClaimedMessage; readonly outcome: DeliveryOutcome }> = []
    const flush = Effect.suspend(() => {
      const rows = unrecorded
      unrecorded = []
      return Effect.map(db("recording deliveries", () => recordDeliveries(sql, owner, rows, now, windows)), (n) => {
        sent += n
      })
    })
    yield* Effect.forEach(claimed, (message, i) => {
      const r = rendered[i]
      const outcome = r === undefined || r instanceof Error
        ? Effect.succeed<DeliveryOutcome>({ _tag: "Retry", error: `render ${message.template ?? message.kind}: ${r?.message ?? "no result"}` })
        : Effect.flatMap(
          Effect.tryPromise(() => holdsOutboxLease(sql, owner, message.id)).pipe(Effect.orElseSucceed(() => false)),
          // Another engine retook it (our lease ran out): it is theirs to send, not ours a second time.
          (held) => (held ? sender.send(message, { ...r, date: new Date(now) }) : Effect.succeed<DeliveryOutcome | undefined>(undefined))
        )
      return Effect.flatMap(outcome, (o) => {
        if (o === undefined) return Effect.void
        unrecorded.push({ message, outcome: o })
        return unrecorded.length >= recordEvery ? flush : Effect.void
      })
    }, { concurrency: 10, discard: true }).pipe(
      // The tick is uninterruptible so that state changes commit whole; sends are not state changes. A
      // SIGTERM here cuts a slow SMTP or webhook call short: the messages not yet sent stay leased to this
      // (then dead) process and the next engine retakes them at once, to send under the same delivery key.
      // The ones already sent are recorded first: an email has no delivery key, and its buyer got it twice.
      Effect.interruptible,
      Effect.onInterrupt(() => flush.pipe(Effect.ignore)),
      Effect.ensuring(Fiber.interrupt(heartbeat))
    )
    failpoint("after-delivery-send")
    yield* flush
    if (claimed.length < batch) return sent
  }
})

/**
 * A webhook is not rendered from a template (it has no subject or labels):
 * the sender posts its payload as JSON. Its "rendering" is that body, for
 * whoever looks at what was sent.
 */
const renderWebhook = (m: ClaimedMessage, signingSecret: string): RenderedMessage => {
  const body = webhookBody(m)
  return { subject: `${m.template ?? "webhook"} to ${m.recipient}`, text: body, html: `<pre>${escapeHtml(body)}</pre>`, signingSecret }
}

/**
 * The real renderer: emails and notifications (the internal_notification
 * email) from our Handlebars templates (or the account's), in the message's
 * language and locale, a batch's data in two queries; webhooks as their JSON.
 */
export const templateRendererLayer = (templatesDir: string | undefined) =>
  Layer.succeed(MessageRenderer, {
    render: (messages) =>
      Effect.gen(function*() {
        if (messages.length === 0) return []
        const emails = messages.filter((m) => m.kind !== "webhook")
        const { sql } = yield* Database
        const loaded = yield* Effect.tryPromise({
          try: async () => {
            const settings = await loadSettings(sql)
            return { settings, data: emails.length === 0 ? [] : await loadEmailDataBatch(sql, emails, settings) }
          },
          catch: (e) => (e instanceof Error ? e : new Error(String(e)))
        }).pipe(Effect.result)
        if (loaded._tag === "Failure") return messages.map((): RenderResult => loaded.failure)
        const { settings, data } = loaded.success
        // Webhooks are signed with BILLCYCLE_WEBHOOK_SECRET, else the account's webhook-secret setting.
        const signingSecret = process.env["BILLCYCLE_WEBHOOK_SECRET"] || settings.webhookSecret
        const from = mailbox(settings.sellerName, settings.sellerEmail)
        let next = 0
        const results = messages.map((m): RenderResult => {
          if (m.kind === "webhook") return renderWebhook(m, signingSecret)
          const d = data[next++]!
          try {
            const rendered = renderEmail(d.template, d, { language: languageOf({ invoice_language: m.language }, settings), locale: localeOf({ invoice_locale: m.locale }, settings), templatesDir: templatesDir ?? (settings.templatesDir || undefined) })
            return { ...rendered, from }
          } catch (e) {
            return e instanceof Error ? e : new Error(String(e))
          }
        })
        if (!settings.attachPdf) return results
        return yield* Effect.promise(() => attachInvoicePdfs(sql, messages, results, settings, templatesDir))
      })
  })

/**
 * attach-pdf: each invoice email (invoice_sent) carries its invoice as a PDF,
 * printed by one Chromium for the whole batch. A message whose PDF cannot be
 * made is not sent without it: it is retried like any render failure.
 */
const attachInvoicePdfs = async (sql: Sql, messages: ReadonlyArray<ClaimedMessage>, results: Array<RenderResult>, settings: AccountSettings, templatesDir: string | undefined): Promise<Array<RenderResult>> => {
  const wanted = messages.flatMap((m, i) => (m.kind !== "webhook" && m.template === "invoice_sent" && m.invoice_id !== null && !(results[i] instanceof Error) ? [i] : []))
  if (wanted.length === 0) return results
  let printer: PdfPrinter | undefined
  try {
    printer = await openPdfPrinter()
    for (const i of wanted) {
      const m = messages[i]!
      try {
        const doc = await loadInvoiceDocument(sql, m.invoice_id!, settings, m.created_on)
        const html = renderInvoice(doc.data, { language: doc.language, locale: doc.locale, templatesDir: templatesDir ?? (settings.templatesDir || undefined) })
        const content = await printer.print(html, doc.locale)
        const r = results[i] as RenderedMessage
        results[i] = { ...r, attachments: [{ filename: `${doc.data.number}.pdf`, content, contentType: "application/pdf" }] }
      } catch (e) {
        results[i] = new Error(`the invoice PDF: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
      }
    }
  } catch (e) {
    for (const i of wanted) results[i] = new Error(`the invoice PDF: cannot start Chromium: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
  } finally {
    await printer?.close().catch(() => {})
  }
  return results
}
