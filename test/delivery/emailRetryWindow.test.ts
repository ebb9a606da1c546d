/**
 * A mail server that is down delays emails, it does not lose them: an email
 * or admin notification that fails to send is retried for the account's
 * `email-retry-window` (5 days by default, as Postfix keeps a queued mail),
 * counted on business time from its first try, at most 6 hours between tries,
 * as webhooks are for theirs. A crashed engine's message left 'sending' is not
 * tried past its window either; a reminder whose payment date has passed is
 * given up rather than sent late.
 */
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addDays } from "../../engine/billing/index.ts"
import type { CalendarDate } from "../../engine/domain/index.ts"
import { Gateway } from "../../engine/payments/index.ts"
import { deliverOutbox, deliveryHooksLayer, EngineState, MessageRenderer, MessageSender, runTick } from "../../engine/runtime/index.ts"
import type { DeliveryOutcome, OutboxMessage } from "../../engine/sql/index.ts"
import { enqueueMessages, maxRetryDelaySeconds } from "../../engine/sql/index.ts"
import { retryOutboxMessage } from "../../engine/invoicing/index.ts"
import { BusinessClock, dayTime, saveSetting, validateSetting } from "../../engine/account/index.ts"
import { runCli } from "../cliRunner.ts"
import { backend, freshCliDatabase, openTestDatabase } from "../storeHarness.ts"
import type { TestDatabase } from "../storeHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

/** The mail relay (and, for the crash case, a webhook receiver): refuses every message handed to it before `upAt` (business time of the try), then accepts. */
const relay = { upAt: Number.POSITIVE_INFINITY, tries: new Map<string, number>(), sent: new Set<string>() }
const mailServer = Layer.succeed(MessageSender, {
  send: (m, r) => Effect.sync((): DeliveryOutcome => {
    relay.tries.set(m.dedupe_key, (relay.tries.get(m.dedupe_key) ?? 0) + 1)
    if (r.date === undefined || r.date.getTime() < relay.upAt) return { _tag: "Retry", error: "connect ECONNREFUSED 10.0.0.25:587" }
    relay.sent.add(m.dedupe_key)
    return { _tag: "Sent", providerId: `<${m.dedupe_key}>` }
  })
})

const deliverAt = (at: number) =>
  Effect.runPromise(deliverOutbox("engine-a", at).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, mailServer))))

/** One tick of the engine at business instant `at` (`engine --once --now`, a simulated day). */
const tickAt = (at: number) =>
  Effect.runPromise(runTick({ batch: 100 }).pipe(Effect.provide(Layer.mergeAll(
    t.layer,
    BusinessClock.fixed({ epochMillis: at, date: undefined }),
    EngineState.layer,
    Gateway.simulated.pipe(Layer.provide(t.layer)),
    deliveryHooksLayer(undefined).pipe(Layer.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, mailServer)))
  ))))

type Row = { id: number; status: string; attempts: number; next_attempt_at: Date; last_error: string | null }
const row = async (key: string): Promise<Row> =>
  (await t.db.sql<Array<Row>>`select id, status, attempts, next_attempt_at, last_error from outbox where dedupe_key = ${key}`)[0]!

/** What the engine queues in one night: a receipt, a payment-failed (dunning) email, a reminder, an admin notification. */
const nightsMail = (tag: string, createdOn: string, reminderFor = "2026-12-31"): Array<OutboxMessage> => [
  { kind: "email", template: "receipt", dedupeKey: `email:receipt:${tag}`, subscriptionId: null, recipient: "ana@example.com", payload: { invoice_id: 1 }, createdOn },
  { kind: "email", template: "payment_failed", dedupeKey: `email:payment_failed:${tag}`, subscriptionId: null, recipient: "ana@example.com", payload: { invoice_id: 1 }, createdOn },
  { kind: "email", template: "reminder", dedupeKey: `email:reminder:${tag}`, subscriptionId: null, recipient: "ana@example.com", payload: { next_billing_date: reminderFor, amount: 1000, currency: "USD" }, createdOn },
  { kind: "notification", template: "internal_notification", dedupeKey: `notification:${tag}`, subscriptionId: null, recipient: "admin@example.com", payload: { text: "unpaid" }, createdOn }
]
const queue = (messages: Array<OutboxMessage>) => t.db.sql.begin((tx) => enqueueMessages(tx, messages))
const keysOf = (messages: Array<OutboxMessage>) => messages.map((m) => m.dedupeKey)

describe(`emails survive a mail-server outage (${backend})`, () => {
  it("the SMTP relay down for 40 minutes one night, the engine ticking every minute: every receipt, dunning email, reminder and notification is sent when it is back, none failed", async () => {
    const mail = nightsMail("night", "2026-03-01")
    await queue(mail)
    const start = Date.parse("2026-03-01T02:00:00Z")
    relay.upAt = start + 40 * 60_000
    for (let at = start; at <= start + 3 * 3_600_000; at += 60_000) await deliverAt(at)
    for (const key of keysOf(mail)) expect(await row(key), key).toMatchObject({ status: "sent" })
    expect([...relay.sent].filter((k) => k.endsWith(":night")).sort()).toEqual(keysOf(mail).sort())
  })

  it("an engine ticking every hour with the mail server down for 2 days: sent when it is back, at most 6 hours between tries", async () => {
    const mail = nightsMail("hourly", "2026-03-05")
    await queue(mail)
    const start = Date.parse("2026-03-05T00:00:00Z")
    relay.upAt = start + 2 * 86_400_000
    const triedAt: Array<number> = []
    for (let at = start; at <= start + 3 * 86_400_000; at += 3_600_000) {
      const before = relay.tries.get("email:receipt:hourly") ?? 0
      await deliverAt(at)
      if ((relay.tries.get("email:receipt:hourly") ?? 0) > before) triedAt.push(at)
      if (at < relay.upAt) for (const key of keysOf(mail)) expect((await row(key)).status, `${key} at ${new Date(at).toISOString()}`).toBe("queued")
    }
    for (const key of keysOf(mail)) expect(await row(key), key).toMatchObject({ status: "sent" })
    for (let i = 1; i < triedAt.length; i++) expect(triedAt[i]! - triedAt[i - 1]!).toBeLessThanOrEqual(maxRetryDelaySeconds * 1000)
  })

  it("an engine ticking once a day (cron, simulate) with the mail server down for 2 days and then up: sent on the third day", async () => {
    const mail = nightsMail("daily", "2026-04-01")
    await queue(mail)
    relay.upAt = dayTime("2026-04-03" as CalendarDate).epochMillis
    for (const d of ["2026-04-01", "2026-04-02"] as Array<CalendarDate>) {
      await tickAt(dayTime(d).epochMillis)
      for (const key of keysOf(mail)) expect((await row(key)).status, `${key} on ${d}`).toBe("queued")
    }
    await tickAt(dayTime("2026-04-03" as CalendarDate).epochMillis)
    for (const key of keysOf(mail)) expect(await row(key), key).toMatchObject({ status: "sent", attempts: 3 })
  })

  it("down longer than the window (email-retry-window 3d, a daily engine): tried each day while the window lasts, failed after it, not before", async () => {
    await saveSetting(t.db.sql, "email-retry-window", "3d")
    const mail = nightsMail("long", "2026-05-01")
    await queue(mail)
    relay.upAt = Number.POSITIVE_INFINITY
    const triedOn: Array<string> = []
    for (let d = "2026-05-01" as CalendarDate, i = 0; i < 10; i++, d = addDays(d, 1)) {
      const before = relay.tries.get("email:payment_failed:long") ?? 0
      await tickAt(dayTime(d).epochMillis)
      if ((relay.tries.get("email:payment_failed:long") ?? 0) > before) triedOn.push(d)
      const status = (await row("email:payment_failed:long")).status
      expect(status, d).toBe(d < "2026-05-04" ? "queued" : "failed")
    }
    // The window's end (3 days after the first try) included, as for webhooks.
    expect(triedOn).toEqual(["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04"])
    for (const key of keysOf(mail)) expect(await row(key), key).toMatchObject({ status: "failed", attempts: 4, last_error: "connect ECONNREFUSED 10.0.0.25:587" })
    await saveSetting(t.db.sql, "email-retry-window", "5d")
  })

  it("by default an email is retried for 5 days of business time (backoff 1, 2, 4 … minutes, at most 6 hours apart), then failed; outbox retry opens a new window", async () => {
    const [receipt] = nightsMail("default", "2026-06-01")
    await queue([receipt!])
    relay.upAt = Number.POSITIVE_INFINITY
    const start = Date.parse("2026-06-01T12:00:00Z")
    const tries: Array<number> = []
    let at = start
    for (let i = 0; i < 200; i++) {
      await deliverAt(at)
      tries.push(at)
      const r = await row("email:receipt:default")
      if (r.status !== "queued") break
      at = r.next_attempt_at.getTime()
    }
    const hours = (tries.at(-1)! - start) / 3_600_000
    expect(hours).toBeGreaterThan(5 * 24 - 6)
    expect(hours).toBeLessThanOrEqual(5 * 24)
    expect(tries.slice(0, 6).map((x) => (x - start) / 60_000)).toEqual([0, 1, 3, 7, 15, 31])
    // 1, 2, 4 … 256 minutes, then every 6 hours: 28 tries, the last about 116.5 hours after the first.
    expect(tries).toHaveLength(28)
    for (let i = 1; i < tries.length; i++) expect(tries[i]! - tries[i - 1]!).toBeLessThanOrEqual(maxRetryDelaySeconds * 1000)
    // Each try counts once, as `outbox list` shows it.
    expect(await row("email:receipt:default")).toMatchObject({ status: "failed", attempts: tries.length })

    // Put back by hand long after: a new window from its next try, not the old one's end.
    const { id } = await row("email:receipt:default")
    await retryOutboxMessage(t.db.sql, id)
    const later = start + 20 * 86_400_000
    await deliverAt(later)
    expect(await row("email:receipt:default")).toMatchObject({ status: "queued", attempts: 1 })
    relay.upAt = later + 86_400_000
    await deliverAt(later + 86_400_000)
    expect(await row("email:receipt:default")).toMatchObject({ status: "sent", attempts: 2 })
  })
})

describe(`a message left 'sending' by a crashed engine is not tried past its retry window (${backend})`, () => {
  /** A message the dead engine had claimed: first tried at `firstTried`, its lease run out. */
  const crashed = (key: string, firstTried: number) =>
    t.db.sql`update outbox set status = 'sending', lease_owner = 'other-host/1/dead', lease_until = now() - interval '1 second',
      attempts = 3, first_tried_at = ${new Date(firstTried)}, last_error = 'connect ECONNREFUSED 10.0.0.25:587' where dedupe_key = ${key}`

  it("an email and a webhook retaken after their windows have passed are marked failed, not sent; within them they are sent", async () => {
    const first = Date.parse("2026-07-01T12:00:00Z")
    relay.upAt = 0
    await queue([
      { kind: "email", template: "receipt", dedupeKey: "email:receipt:crash-late", subscriptionId: null, recipient: "ana@example.com", payload: {}, createdOn: "2026-07-01" },
      { kind: "email", template: "receipt", dedupeKey: "email:receipt:crash-inside", subscriptionId: null, recipient: "ana@example.com", payload: {}, createdOn: "2026-07-01" },
      { kind: "webhook", template: "invoice.paid", dedupeKey: "webhook:crash-late", subscriptionId: null, recipient: "https://crm.example.com/hook", payload: {}, createdOn: "2026-07-01" }
    ])
    await crashed("email:receipt:crash-late", first)
    await crashed("webhook:crash-late", first)
    // Inside its window (5 days) on the same tick.
    await crashed("email:receipt:crash-inside", first + 2 * 86_400_000)

    const now = first + 5 * 86_400_000 + 60_000
    await Effect.runPromise(deliverOutbox("engine-b", now).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, mailServer))))
    expect(relay.sent.has("email:receipt:crash-late")).toBe(false)
    expect(relay.tries.has("webhook:crash-late")).toBe(false)
    for (const key of ["email:receipt:crash-late", "webhook:crash-late"]) {
      const r = await row(key)
      expect(r, key).toMatchObject({ status: "failed", attempts: 3 })
      expect(r.last_error, key).toMatch(/stopped while sending.*retry window/)
    }
    expect(relay.sent.has("email:receipt:crash-inside")).toBe(true)
    expect(await row("email:receipt:crash-inside")).toMatchObject({ status: "sent", attempts: 4 })
  })
})

describe(`a reminder is not sent once the payment it announces is due (${backend})`, () => {
  it("a reminder for 5 Dec held up by the mail server is still sent on 5 Dec", async () => {
    const mail = nightsMail("due-day", "2026-12-04", "2026-12-05")
    await queue(mail)
    relay.upAt = dayTime("2026-12-05" as CalendarDate).epochMillis
    await tickAt(dayTime("2026-12-04" as CalendarDate).epochMillis)
    expect((await row("email:reminder:due-day")).status).toBe("queued")
    await tickAt(dayTime("2026-12-05" as CalendarDate).epochMillis)
    for (const key of keysOf(mail)) expect(await row(key), key).toMatchObject({ status: "sent" })
  })

  it("a reminder for 5 Dec held up until 6 Dec is given up, saying why, not sent late; the receipt, dunning email and notification of the same night are sent", async () => {
    const mail = nightsMail("stale", "2026-12-04", "2026-12-05")
    await queue(mail)
    relay.upAt = dayTime("2026-12-06" as CalendarDate).epochMillis
    await tickAt(dayTime("2026-12-04" as CalendarDate).epochMillis)
    expect(await row("email:reminder:stale")).toMatchObject({ status: "queued", attempts: 1 })
    await tickAt(dayTime("2026-12-06" as CalendarDate).epochMillis)
    expect(relay.tries.get("email:reminder:stale")).toBe(1)
    expect(relay.sent.has("email:reminder:stale")).toBe(false)
    expect(await row("email:reminder:stale")).toMatchObject({ status: "failed", attempts: 1, last_error: "not sent: the payment it announces, on 2026-12-05, has passed" })
    for (const key of ["email:receipt:stale", "email:payment_failed:stale", "notification:stale"]) expect(await row(key), key).toMatchObject({ status: "sent" })
  })

  it("a reminder for 5 Dec that a crashed engine left 'sending' is not retaken and sent on 6 Dec", async () => {
    const [, , reminder] = nightsMail("stale-crash", "2026-12-04", "2026-12-05")
    await queue([reminder!])
    await t.db.sql`update outbox set status = 'sending', lease_owner = 'other-host/1/dead', lease_until = now() - interval '1 second', attempts = 1,
      first_tried_at = ${new Date(dayTime("2026-12-04" as CalendarDate).epochMillis)} where dedupe_key = 'email:reminder:stale-crash'`
    relay.upAt = 0
    await tickAt(dayTime("2026-12-06" as CalendarDate).epochMillis)
    expect(relay.tries.has("email:reminder:stale-crash")).toBe(false)
    expect(await row("email:reminder:stale-crash")).toMatchObject({ status: "failed", attempts: 1, last_error: "not sent: the payment it announces, on 2026-12-05, has passed" })
  })
})

describe("simulate with the mail server down (the real command line, SMTP to a closed port)", () => {
  it("the dunning email and admin notification of a declined charge wait in the queue while SMTP is down for 2 simulated days, none failed, and are sent when it is back", () => {
    const { db, env } = freshCliDatabase()
    const cwd = mkdtempSync(join(tmpdir(), "billcycle-sim-"))
    const run = (args: Array<string>, extra: Record<string, string> = {}) => {
      const r = runCli([...args, "--db", db], { env: { ...env, ...extra }, cwd })
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
      return r.stdout
    }
    const down = { SMTP_URL: "smtp://127.0.0.1:1" }
    run(["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_fail", "--now", "2026-03-01"])
    run(["subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Kaffe,price=25.00", "--now", "2026-03-01"])
    run(["simulate", "--now", "2026-03-01", "--until", "2026-03-03"], down)
    const outbox = () => JSON.parse(run(["outbox", "list", "--json"])) as Array<{ kind: string; template: string; status: string; attempts: number }>
    const queued = outbox()
    expect(queued.length).toBeGreaterThan(0)
    expect(queued.some((m) => m.template === "payment_failed")).toBe(true)
    expect(queued.every((m) => m.status === "queued"), JSON.stringify(queued)).toBe(true)
    // One try per simulated day: the first message was tried on each of the 3 days.
    expect(queued[0]!.attempts).toBe(3)
    run(["simulate", "--until", "2026-03-04"])
    const after = outbox()
    expect(after.every((m) => m.status === "sent"), JSON.stringify(after)).toBe(true)
    expect(readdirSync(join(cwd, "out", "mail")).length).toBeGreaterThanOrEqual(queued.length)
  })
})

describe("the email-retry-window setting", () => {
  it("takes a duration from 1m to 30d, like webhook-retry-window", () => {
    expect(validateSetting("email-retry-window", "5d")).toBeUndefined()
    expect(validateSetting("email-retry-window", "12h")).toBeUndefined()
    expect(validateSetting("email-retry-window", "31d")).toBe('setting email-retry-window: expected a duration from 1m to 30d such as 5d, 12h or 30m, got "31d"')
    expect(validateSetting("email-retry-window", "0m")).toMatch(/^setting email-retry-window: expected a duration/)
  })

  it("settings show lists it beside webhook-retry-window; settings set refuses a bad one with exit 2 and keeps the old value", () => {
    const { db, env } = freshCliDatabase()
    expect(runCli(["settings", "show", "--db", db], { env }).stdout).toMatch(/email-retry-window\s+5d\s+\(default\)/)
    const bad = runCli(["settings", "set", "email-retry-window", "2w", "--db", db], { env })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('setting email-retry-window: expected a duration from 1m to 30d such as 5d, 12h or 30m, got "2w"')
    expect(runCli(["settings", "set", "email-retry-window", "2d", "--db", db], { env }).stdout.trim()).toBe("email-retry-window = 2d")
    expect(runCli(["settings", "show", "--db", db], { env }).stdout).toMatch(/email-retry-window\s+2d\n/)
  })
})
