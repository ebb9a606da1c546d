import { Effect, Fiber, Layer } from "effect"
import { spawnSync } from "node:child_process"
import { hostname } from "node:os"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverOutbox, MessageRenderer, MessageSender, messageIdOf } from "../../../engine/runtime/index.ts"
import type { DeliveryOutcome } from "../../../engine/sql/index.ts"
import { enqueueMessages, retryDelaySeconds } from "../../../engine/sql/index.ts"
import { retryOutboxMessage } from "../../../engine/invoicing/index.ts"
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
    // One file, named by the key and a tag of this store: the re-send overwrote it.
    const [store] = await t.db.sql<Array<{ id: string }>>`select id from store_identity`
    expect(readdirSync(dir)).toEqual([`email_receipt_1.${store!.id.slice(0, 12)}.eml`])
    const [row] = await t.db.sql`select status, attempts from outbox where dedupe_key = 'email:receipt:1'`
    expect(row).toMatchObject({ status: "sent", attempts: 2 })
  })

  it("an email's Message-ID is its key in this store: the same on a re-send, and another store's receipt 77 is another", async () => {
    await queue("email:receipt:77")
    const ids: Array<string> = []
    const capturing = Layer.succeed(MessageSender, {
      send: (m) => Effect.sync((): DeliveryOutcome => {
        if (m.dedupe_key === "email:receipt:77") ids.push(messageIdOf(m))
        return { _tag: "Sent", providerId: "x" }
      })
    })
    const again = async () => {
      // Queued again as never tried (a crash after the send, or another store's message under the same key).
      await t.db.sql`update outbox set status = 'queued', attempts = 0 where dedupe_key = 'email:receipt:77'`
      await deliver(capturing)
    }
    await deliver(capturing)
    const [store] = await t.db.sql<Array<{ id: string }>>`select id from store_identity`
    expect(ids[0]).toBe(`<email_receipt_77.${store!.id}@billcycle.local>`)
    expect(store!.id).toMatch(/^[0-9a-f]{32}$/)
    // A re-send from this store keeps its id: the receiver can drop the repeat.
    await again()
    expect(ids[1]).toBe(ids[0])
    // Another store (its own random id) sends its receipt 77 under another id: a receiver keeps both.
    await t.db.sql`update store_identity set id = ${"0".repeat(32)}`
    try {
      await again()
      expect(ids[2]).toBe(`<email_receipt_77.${"0".repeat(32)}@billcycle.local>`)
    } finally {
      await t.db.sql`update store_identity set id = ${store!.id}`
    }
  })

  it("a failing sender retries with backoff on business time, then marks the message failed once its retry window has passed; outbox retry queues it again", async () => {
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
    for (let n = 1; n < 6; n++) {
      at += retryDelaySeconds(n) * 1000
      await deliver(failing, "engine-a", at - 1000)
      expect(tries).toBe(n)
      await deliver(failing, "engine-a", at)
      expect(tries).toBe(n + 1)
    }
    const read = async () =>
      (await t.db.sql<Array<{ id: number; status: string; last_error: string; attempts: number }>>`select id, status, last_error, attempts from outbox where dedupe_key = 'email:receipt:2'`)[0]!
    // Six tries in 31 minutes no longer give up (email-retry-window, 5 days from the first try).
    expect(await read()).toMatchObject({ status: "queued", last_error: "smtp 451 try later", attempts: 6 })
    // An engine back 6 days later: past the window, failed without another try.
    await deliver(failing, "engine-a", day + 6 * 86_400_000)
    expect(tries).toBe(6)
    const row = await read()
    expect(row).toMatchObject({ status: "failed", last_error: "smtp 451 try later", attempts: 6 })
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
  it("messages left sending by a dead process on this host are retaken at once, not after the lease; a live engine's are left alone", async () => {
    await queue("email:receipt:5")
    await queue("email:receipt:6")
    // A process that has exited: its pid no longer exists.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!
    const deadOwner = `${hostname()}/${deadPid}/deadbeef`
    await t.db.sql`update outbox set status = 'sending', lease_owner = ${deadOwner}, lease_until = now() + interval '2 minutes', attempts = 1 where dedupe_key = 'email:receipt:5'`
    await t.db.sql`update outbox set status = 'sending', lease_owner = 'other-host/1/live', lease_until = now() + interval '2 minutes', attempts = 1 where dedupe_key = 'email:receipt:6'`
    const sentKeys: Array<string> = []
    const ok = Layer.succeed(MessageSender, { send: (m) => Effect.sync((): DeliveryOutcome => {
      sentKeys.push(m.dedupe_key)
      return { _tag: "Sent", providerId: "x" }
    }) })
    expect(await deliver(ok, "engine-c")).toBe(1)
    expect(sentKeys).toEqual(["email:receipt:5"])
    const rows = await t.db.sql`select dedupe_key, status, lease_owner from outbox where dedupe_key in ('email:receipt:5', 'email:receipt:6') order by dedupe_key`
    expect(rows.map((r) => [r["status"], r["lease_owner"]])).toEqual([["sent", null], ["sending", "other-host/1/live"]])
    await t.db.sql`update outbox set status = 'sent', lease_owner = null, lease_until = null where dedupe_key = 'email:receipt:6'`
  })

  it("a message another engine retook before our send is not sent by us, and the tick counts only what it delivered", async () => {
    await queue("email:receipt:7")
    await queue("email:receipt:8")
    // While we render, our lease on :7 runs out and another engine claims it.
    const slow = Layer.succeed(MessageRenderer, {
      render: (messages) =>
        Effect.promise(async () => {
          await t.db.sql`update outbox set lease_owner = 'engine-z', lease_until = now() + interval '2 minutes' where dedupe_key = 'email:receipt:7'`
          return messages.map(() => ({ subject: "s", text: "t", html: "h" }))
        })
    })
    const sentKeys: Array<string> = []
    const ok = Layer.succeed(MessageSender, { send: (m) => Effect.sync((): DeliveryOutcome => {
      sentKeys.push(m.dedupe_key)
      return { _tag: "Sent", providerId: "x" }
    }) })
    const sent = await Effect.runPromise(deliverOutbox("engine-d", day).pipe(Effect.provide(Layer.mergeAll(t.layer, slow, ok))))
    expect(sentKeys).toEqual(["email:receipt:8"])
    expect(sent).toBe(1)
    const rows = await t.db.sql`select dedupe_key, status, lease_owner from outbox where dedupe_key in ('email:receipt:7', 'email:receipt:8') order by dedupe_key`
    expect(rows.map((r) => [r["status"], r["lease_owner"]])).toEqual([["sending", "engine-z"], ["sent", null]])
  })

  it("a sender whose lease was taken while it sent does not count the send as delivered by this tick", async () => {
    await queue("email:receipt:9")
    const stolenDuringSend = Layer.succeed(MessageSender, { send: () => Effect.promise(async (): Promise<DeliveryOutcome> => {
      await t.db.sql`update outbox set lease_owner = 'engine-y' where dedupe_key = 'email:receipt:9'`
      return { _tag: "Sent", providerId: "x" }
    }) })
    expect(await deliver(stolenDuringSend, "engine-e")).toBe(0)
  })
})

describe(`a stop in the middle of a batch (${backend})`, () => {
  it("records the messages already sent, so that the next engine sends only the others (an email has no delivery key)", async () => {
    await queue("email:receipt:stop-1")
    await queue("email:receipt:stop-2")
    let release: () => void = () => {}
    const stuck = new Promise<void>((resolve) => { release = resolve })
    // The first is sent at once; the second hangs (a slow SMTP server) until the engine is stopped.
    const sender = Layer.succeed(MessageSender, {
      send: (m) => m.dedupe_key === "email:receipt:stop-1"
        ? Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: "first" })
        : Effect.promise(() => stuck.then((): DeliveryOutcome => ({ _tag: "Sent", providerId: "never" })))
    })
    const fiber = Effect.runFork(deliverOutbox("engine-stop", day).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, sender))))
    for (let i = 0; i < 100; i++) {
      const [first] = await t.db.sql`select status from outbox where dedupe_key = 'email:receipt:stop-1'`
      const [second] = await t.db.sql`select status from outbox where dedupe_key = 'email:receipt:stop-2'`
      if (first!["status"] === "sending" && second!["status"] === "sending") break
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 100))
    await Effect.runPromise(Fiber.interrupt(fiber))
    release()
    const rows = await t.db.sql`select dedupe_key, status from outbox where dedupe_key like 'email:receipt:stop-%' order by dedupe_key`
    expect(rows.map((r) => [r["dedupe_key"], r["status"]])).toEqual([["email:receipt:stop-1", "sent"], ["email:receipt:stop-2", "sending"]])
  })
})

describe(`a process killed in the middle of a batch (${backend})`, () => {
  it("has recorded all but the last few of the sends it made, so a restart sends only those few again (not the whole batch)", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `email:receipt:kill-${String(i).padStart(2, "0")}`)
    for (const key of keys) await queue(key)
    // 50 go out at once; the rest hang (a server that stopped answering), and the process is killed meanwhile:
    // what it left in the store is what a restart finds, since nothing of a killed process runs after.
    const sends: Array<string> = []
    const sender = Layer.succeed(MessageSender, {
      send: (m) => {
        if (sends.length >= 50) return Effect.never
        sends.push(m.dedupe_key)
        return Effect.succeed<DeliveryOutcome>({ _tag: "Sent", providerId: m.dedupe_key })
      }
    })
    const fiber = Effect.runFork(deliverOutbox("engine-killed", day).pipe(Effect.provide(Layer.mergeAll(t.layer, MessageRenderer.plain, sender))))
    for (let i = 0; i < 200 && sends.length < 50; i++) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 300))
    expect(sends.length).toBe(50)
    const [left] = await t.db.sql<Array<{ sent: number; sending: number }>>`
      select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'sending')::int as sending
      from outbox where dedupe_key like 'email:receipt:kill-%'`
    // Recorded a few at a time: of the 50 sent, at most the last few are still 'sending', to be sent again.
    expect(left!.sent).toBeGreaterThanOrEqual(40)
    expect(left!.sent + left!.sending).toBe(60)
    await Effect.runPromise(Fiber.interrupt(fiber))
  })
})
