/**
 * Event webhooks without rules (issue #16): `webhooks add --url --events`
 * sends every journal event of the subscribed types through the outbox,
 * signed, with the event's id in its dedupe key, exactly once per event and
 * endpoint. Bad URLs and unknown event types exit 2 naming the flag.
 */
import { createHmac } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, runCliAsync } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"
import { startWebhookReceiver } from "../../delivery/webhookReceiver.ts"

describe("event webhooks", () => {
  it("deliver each subscribed event once, signed, with its event id; other types are not sent", async () => {
    const { db, env } = freshCliDatabase()
    const here = mkdtempSync(join(tmpdir(), "billcycle-hooks-"))
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env, cwd: here })
    const receiver = await startWebhookReceiver()
    try {
      expect(cli("settings", "set", "webhook-secret", "s3cret").code).toBe(0)
      const added = cli("webhooks", "add", "--url", receiver.url, "--events", "invoice.paid, subscription.*", "--json")
      expect(added.code, added.stderr).toBe(0)
      expect(JSON.parse(added.stdout)).toMatchObject({ id: 1, url: receiver.url, events: ["invoice.paid", "subscription.*"] })
      expect(cli("webhooks", "list").stdout).toContain("invoice.paid,subscription.*")

      expect(cli("products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
      expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
      expect(cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=COFFEE").code).toBe(0)
      const ran = await runCliAsync(["engine", "--once", "--db", db, "--now", "2026-03-01"], { env, cwd: here })
      expect(ran.code, ran.stderr).toBe(0)
      // Twice on the same day changes nothing: no event is sent again.
      expect((await runCliAsync(["engine", "--once", "--db", db, "--now", "2026-03-01"], { env, cwd: here })).code).toBe(0)

      const events = JSON.parse(cli("events", "list", "--json").stdout) as Array<{ id: number; type: string }>
      const subscribed = events.filter((e) => e.type === "invoice.paid" || e.type.startsWith("subscription."))
      expect(subscribed.map((e) => e.type)).toEqual(expect.arrayContaining(["subscription.created", "subscription.status_changed", "invoice.paid"]))
      const bodies = receiver.received.map((r) => ({ ...r, json: JSON.parse(r.body) as { id: string; type: string; data: { event_id: number } } }))
      expect(bodies.map((b) => b.json.data.event_id).sort((a, b) => a - b)).toEqual(subscribed.map((e) => e.id).sort((a, b) => a - b))
      expect(bodies.map((b) => b.json.type)).not.toContain("invoice.created")
      expect(bodies.map((b) => b.json.type)).not.toContain("contact.created")
      for (const b of bodies) {
        expect(b.json.id).toBe(`event.${b.json.data.event_id}.endpoint.1`)
        expect(b.key).toBe(b.json.id)
        const [t, v1] = b.signature.split(",").map((p) => p.split("=")[1]!)
        expect(v1).toBe(createHmac("sha256", "s3cret").update(`${t}.${b.body}`).digest("hex"))
      }

      // Removed: later events are not sent.
      // --json: one JSON document, as every command gives.
      const removed = cli("webhooks", "remove", "1", "--json")
      expect(removed.code, removed.stderr).toBe(0)
      expect(JSON.parse(removed.stdout)).toEqual({ id: 1, removed_on: "2026-03-01" })
      expect(cli("subscriptions", "pause", "1").code).toBe(0)
      const before = receiver.received.length
      expect((await runCliAsync(["engine", "--once", "--db", db, "--now", "2026-03-01"], { env, cwd: here })).code).toBe(0)
      expect(receiver.received.length).toBe(before)
    } finally {
      await receiver.close()
    }
  }, 600_000)

  it("refuse a plain-http URL to another machine and an unknown event type, naming the flag, and add nothing", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    const http = cli("webhooks", "add", "--url", "http://crm.example.com/hook", "--events", "invoice.paid")
    expect(http.code).toBe(2)
    expect(http.stderr).toContain("--url: expected an https:// URL")
    const unknown = cli("webhooks", "add", "--url", "https://crm.example.com/hook", "--events", "invoice.payed")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--events: unknown event "invoice.payed"')
    expect(cli("webhooks", "list", "--json").stdout.trim()).toBe("[]")
  }, 300_000)

  it("one endpoint per URL, however it is written: a second one delivered every event to the receiver twice", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    const first = cli("webhooks", "add", "--url", "HTTPS://Hooks.Example.com:443/crm", "--events", "invoice.*", "--json")
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ id: 1, url: "https://hooks.example.com/crm" })
    for (const url of ["https://hooks.example.com/crm", "https://HOOKS.example.com/crm"]) {
      const again = cli("webhooks", "add", "--url", url, "--events", "payment.*")
      expect([again.code, again.stdout], url).toEqual([2, ""])
      expect(again.stderr).toContain("--url: webhook endpoint 1 (invoice.*) receives https://hooks.example.com/crm already")
    }
    expect(JSON.parse(cli("webhooks", "list", "--json").stdout)).toHaveLength(1)
    // Another path is another receiver; a removed endpoint's URL may be added again.
    expect(cli("webhooks", "add", "--url", "https://hooks.example.com/billing", "--events", "payment.*").code).toBe(0)
    expect(cli("webhooks", "remove", "1").code).toBe(0)
    const readded = cli("webhooks", "add", "--url", "https://hooks.example.com/crm", "--events", "invoice.*,payment.*", "--json")
    expect(readded.code, readded.stderr).toBe(0)
    expect(JSON.parse(readded.stdout)).toMatchObject({ id: 3, url: "https://hooks.example.com/crm", events: ["invoice.*", "payment.*"] })
  }, 300_000)
})
