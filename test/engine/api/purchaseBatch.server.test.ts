/**
 * On a server's pool, `POST /v1/subscriptions` requests with an Idempotency-Key that arrive together are
 * answered together (api/purchaseBatch.ts): one transaction, the keys claimed in one statement, the
 * purchases made in two. Each request must be answered exactly as if it had come alone: its own
 * subscription, its refusal kept with its key, a second request with a key in use refused (409), every
 * answer replayed; and a batch in which one request failed keeps nothing of the batch: each request is
 * then answered on its own, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { autoRenew, parseItemSpec } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings } from "../../../engine/account/index.ts"
import { addContact, addProduct } from "../../../engine/catalogue/index.ts"
import { createSubscriptions } from "../../../engine/subscriptions/index.ts"
import { purchaseBatcher } from "../../../engine/api/purchaseBatch.ts"
import type { Sql } from "../../../engine/sql/index.ts"
import { openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

describe("purchases arriving together over HTTP (server)", () => {
  let api: ApiUnderTest
  beforeAll(async () => {
    api = await startApi()
    expect((await api.call("POST", "/v1/products", { body: { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD", frequency: "monthly" } })).status).toBe(201)
    expect((await api.call("POST", "/v1/products", { body: { name: "Beans", sku: "YEARLY", price: "250.00", currency: "USD", frequency: "annually" } })).status).toBe(201)
    for (let i = 0; i < 5; i++) {
      expect((await api.call("POST", "/v1/contacts", { body: { email: `buyer${i}@example.com`, payment_method: "pm_ok" } })).status).toBe(201)
    }
  })
  afterAll(async () => {
    await api.close()
  })

  it("answers each of 60 requests sent at once as it would alone: its own subscriptions, its refusal kept, a key in use 409, every answer replayed", async () => {
    type Sent = { readonly key: string; readonly body: Record<string, unknown>; readonly expect: "created" | "two" | "unknown_sku" | "no_contact" | "dup" }
    const sent: Array<Sent> = []
    for (let i = 0; i < 60; i++) {
      const key = `together-${i}`
      const contact = `buyer${i % 5}@example.com`
      if (i % 10 === 3) sent.push({ key, body: { contact, items: ["sku=NOPE"] }, expect: "unknown_sku" })
      else if (i % 10 === 7) sent.push({ key, body: { contact: `nobody${i}@example.com`, items: ["sku=COFFEE"] }, expect: "no_contact" })
      else if (i % 10 === 5) sent.push({ key, body: { contact, items: ["sku=COFFEE", "sku=YEARLY"] }, expect: "two" })
      else sent.push({ key, body: { contact, items: [`sku=COFFEE,qty=${1 + (i % 4)}`] }, expect: "created" })
    }
    // The same key twice among them, the same request: one is answered, the other finds the key in use (or replays it).
    sent.push({ key: "together-0", body: sent[0]!.body, expect: "dup" })
    const answers = await Promise.all(sent.map((s) => api.call("POST", "/v1/subscriptions", { body: s.body, headers: { "idempotency-key": s.key } })))
    const ids: Array<number> = []
    sent.forEach((s, i) => {
      const a = answers[i]!
      if (s.expect === "dup") {
        expect([201, 409]).toContain(a.status)
        return
      }
      if (s.expect === "unknown_sku") {
        expect(a.status).toBe(400)
        expect(a.json.message).toContain("NOPE")
        return
      }
      if (s.expect === "no_contact") {
        expect(a.status).toBe(400)
        expect(a.json.message).toContain(`nobody${i}@example.com`)
        return
      }
      expect(a.status).toBe(201)
      expect(a.headers.get("idempotent-replayed")).toBeNull()
      expect(a.json.data).toHaveLength(s.expect === "two" ? 2 : 1)
      const qty = Number(/qty=(\d)/.exec(String((s.body["items"] as Array<string>)[0]))?.[1] ?? 1)
      if (s.expect === "created") expect(a.json.data[0].amount_per_payment.amount).toBe(1250 * qty)
      ids.push(...a.json.data.map((d: { id: number }) => d.id))
    })
    expect(new Set(ids).size).toBe(ids.length)
    const sql = api.db.db.sql
    // Each subscription belongs to the request that answered it: its buyer, its items, its two events, by the key's name.
    const rows = await sql<Array<{ id: number; email: string; lines: number; events: number; sources: Array<string> }>>`
      select s.id, c.email, (select count(*)::int from line_items l where l.subscription_id = s.id) as lines,
             (select count(*)::int from events e where e.subscription_id = s.id) as events,
             (select array_agg(distinct source) from events e where e.subscription_id = s.id) as sources
      from subscriptions s join contacts c on c.id = s.contact_id order by s.id`
    expect(rows.map((r) => Number(r.id))).toEqual([...ids].sort((a, b) => a - b))
    for (const r of rows) {
      expect(r.events).toBe(2)
      expect(r.lines).toBe(1)
      expect(r.sources).toEqual(["api:shop"])
    }
    sent.forEach((s, i) => {
      if (s.expect !== "created" && s.expect !== "two") return
      const answered = answers[i]!.json.data.map((d: { id: number }) => Number(d.id))
      for (const id of answered) expect(rows.find((r) => Number(r.id) === id)!.email).toBe(s.body["contact"])
    })
    // Every answer, refusals included, is kept with its key and replayed as it was.
    const again = await Promise.all(sent.slice(0, 60).map((s) => api.call("POST", "/v1/subscriptions", { body: s.body, headers: { "idempotency-key": s.key } })))
    again.forEach((a, i) => {
      expect(a.headers.get("idempotent-replayed")).toBe("true")
      expect(a.status).toBe(answers[i]!.status)
      expect(a.json).toEqual(answers[i]!.json)
    })
    expect((await sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(ids.length)
  })
})

describe("a batch with a failed request (server)", () => {
  let t: TestDatabase
  let ctx: EngineContext
  const items = (...texts: Array<string>) => texts.map((x) => parseItemSpec(x) as ItemSpec)
  const base = { start: { _tag: "Today" } as const, terms: autoRenew, collection: "charge" as const, paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false }
  beforeAll(async () => {
    t = await openTestDatabase()
    ctx = { today: "2026-03-01" as CalendarDate, settings: await loadSettings(t.db.sql), owner: "test", failpoint: () => {} }
    await addProduct(t.db.sql, { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD", frequency: "monthly" })
    await addContact(t.db.sql, { email: "ana@example.com", name: "Ana", paymentMethod: "pm_ok" }, "2026-03-01")
    await t.db.sql`insert into api_keys (name, key_hash, read_only) values ('shop', 'not-a-real-hash', false)`
  })
  afterAll(async () => {
    await t.close()
  })

  it("keeps nothing of the batch, then answers each request on its own, once", async () => {
    const apiKeyId = (await t.db.sql<Array<{ id: number }>>`select id from api_keys where name = 'shop'`)[0]!.id
    let commits = 0
    const batcher = purchaseBatcher<{ status: number; body: string }>(t.db.sql, { inFlight: 1, size: 32, beforeCommit: () => commits++ })
    const runs = new Map<number, number>()
    const request = (i: number) => ({
      key: `k-${i}`,
      requestHash: `h-${i}`,
      run: async (tx: Sql) => {
        runs.set(i, (runs.get(i) ?? 0) + 1)
        const created = await createSubscriptions(tx, ctx, { ...base, contactEmail: "ana@example.com", items: items(`sku=COFFEE,qty=${i + 1}`) })
        // Request 3 fails the first time it runs (a 500: nothing of it may be kept), as a failed database would.
        if (i === 3 && runs.get(i) === 1) return { answer: { status: 500, body: "failed" }, keep: false }
        return { answer: { status: 201, body: JSON.stringify(created.map((c) => c.id)) }, keep: true }
      }
    })
    // Sent in one turn of the event loop: one batch.
    const outcomes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => batcher.answer(Number(apiKeyId), request(i))))
    for (const o of outcomes) expect(o).toMatchObject({ _tag: "Answered", kept: true, answer: { status: 201 } })
    // The batch ran every request once and never reached its commit; then each ran alone and committed.
    expect([...runs.values()]).toEqual([2, 2, 2, 2, 2, 2])
    expect(commits).toBe(6)
    const subscriptions = await t.db.sql<Array<{ id: number; quantity: number }>>`
      select s.id, l.quantity from subscriptions s join line_items l on l.subscription_id = s.id order by l.quantity`
    expect(subscriptions.map((s) => s.quantity)).toEqual([1, 2, 3, 4, 5, 6])
    outcomes.forEach((o, i) => {
      expect(o._tag === "Answered" && JSON.parse(o.answer.body)).toEqual([Number(subscriptions[i]!.id)])
    })
    expect((await t.db.sql`select count(*)::int as n from events where subscription_id is not null`)[0]!["n"]).toBe(12)
    expect((await t.db.sql`select count(*)::int as n from idempotency_keys where response_status = 201`)[0]!["n"]).toBe(6)
  })
})
