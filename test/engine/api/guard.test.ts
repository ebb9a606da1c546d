import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"
import { apiKeyTtlMs } from "../../../engine/api/index.ts"

let api: ApiUnderTest
beforeEach(async () => {
  api = await startApi()
  await api.call("POST", "/v1/products", { body: { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD" } })
  await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", payment_method: "pm_ok" } })
}, 60_000)
afterEach(async () => {
  await api.close()
})

const count = async (table: string) => Number((await api.db.db.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!["n"])
const subscription = { contact: "ana@example.com", items: ["sku=COFFEE"] }

describe("API keys", () => {
  it("refuses a request without a key, with a wrong key and with a revoked key (401), and a write with a read-only key (403)", async () => {
    const none = await api.call("GET", "/v1/contacts", { key: null })
    expect(none.status).toBe(401)
    expect(none.headers.get("content-type")).toBe("application/problem+json")
    expect(none.json.code).toBe("unauthorized")
    expect((await api.call("GET", "/v1/contacts", { key: "bc_rw_wrong" })).status).toBe(401)
    expect((await api.call("GET", "/v1/contacts", { key: api.readOnlyKey })).status).toBe(200)
    const write = await api.call("POST", "/v1/subscriptions", { key: api.readOnlyKey, body: subscription })
    expect(write.status).toBe(403)
    expect(write.json.code).toBe("read_only_key")
    await api.db.db.sql`update api_keys set revoked_at = now() where name = 'reports'`
    // The server remembers a live key for at most apiKeyTtlMs (1 s): past that, the revoked key is refused.
    await new Promise((r) => setTimeout(r, apiKeyTtlMs + 100))
    expect((await api.call("GET", "/v1/contacts", { key: api.readOnlyKey })).status).toBe(401)
    expect(await count("subscriptions")).toBe(0)
  })

  it("keeps only the hash of a key", async () => {
    const rows = await api.db.db.sql`select key_hash from api_keys`
    expect(rows.map((r) => r["key_hash"])).not.toContain(api.key)
  })
})

describe("Idempotency-Key", () => {
  it("replays the first response, errors included, and refuses the key for a different request (422)", async () => {
    const headers = { "idempotency-key": "order-1" }
    const first = await api.call("POST", "/v1/subscriptions", { body: subscription, headers })
    expect(first.status).toBe(201)
    expect(first.headers.get("idempotent-replayed")).toBeNull()
    const again = await api.call("POST", "/v1/subscriptions", { body: subscription, headers })
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json).toEqual(first.json)
    expect(await count("subscriptions")).toBe(1)
    const other = await api.call("POST", "/v1/subscriptions", { body: { ...subscription, terms: "fixed:3" }, headers })
    expect(other.status).toBe(422)
    expect(other.json.code).toBe("idempotency_key_reused")
    const bad = { "idempotency-key": "order-2" }
    const failed = await api.call("POST", "/v1/subscriptions", { body: { ...subscription, items: ["sku=NOPE"] }, headers: bad })
    expect(failed.status).toBe(400)
    const failedAgain = await api.call("POST", "/v1/subscriptions", { body: { ...subscription, items: ["sku=NOPE"] }, headers: bad })
    expect(failedAgain.status).toBe(400)
    expect(failedAgain.headers.get("idempotent-replayed")).toBe("true")
    expect(await count("subscriptions")).toBe(1)
  })

  it("the same request sent again with its JSON keys in another order or other whitespace is the same request: replayed, not 422", async () => {
    const headers = { "idempotency-key": "order-reordered" }
    const first = await api.call("POST", "/v1/subscriptions", { rawBody: JSON.stringify({ contact: "ana@example.com", items: ["sku=COFFEE"], terms: "fixed:3" }), headers })
    expect(first.status).toBe(201)
    // A retry from another process or library serializes the same object otherwise; it was refused as "a different request",
    // and a client that then retried under a new key made a second subscription.
    const again = await api.call("POST", "/v1/subscriptions", { rawBody: `{ "terms": "fixed:3",\n  "items": [ "sku=COFFEE" ], "contact": "ana@example.com" }`, headers })
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json).toEqual(first.json)
    const changed = await api.call("POST", "/v1/subscriptions", { rawBody: JSON.stringify({ contact: "ana@example.com", items: ["sku=COFFEE"], terms: "fixed:4" }), headers })
    expect(changed.status).toBe(422)
    const reordered = await api.call("POST", "/v1/subscriptions", { rawBody: JSON.stringify({ contact: "ana@example.com", items: ["sku=COFFEE", "sku=COFFEE,qty=2"] }), headers: { "idempotency-key": "order-items" } })
    expect(reordered.status).toBe(201)
    // The order of an array's elements is part of the request: other items in another order are another request.
    const swapped = await api.call("POST", "/v1/subscriptions", { rawBody: JSON.stringify({ contact: "ana@example.com", items: ["sku=COFFEE,qty=2", "sku=COFFEE"] }), headers: { "idempotency-key": "order-items" } })
    expect(swapped.status).toBe(422)
    expect(await count("subscriptions")).toBe(2)
  })

  it("two concurrent identical requests make one subscription: the other is a 409 or a replay, never a second one", async () => {
    const headers = { "idempotency-key": "order-3" }
    const answers = await Promise.all([1, 2, 3].map(() => api.call("POST", "/v1/subscriptions", { body: subscription, headers })))
    expect(await count("subscriptions")).toBe(1)
    const created = answers.filter((a) => a.status === 201 && a.headers.get("idempotent-replayed") === null)
    expect(created).toHaveLength(1)
    for (const a of answers) expect([201, 409]).toContain(a.status)
  })

  it("a client that hangs up before its answer and retries with the same key gets one subscription per key, whenever it hung up", async () => {
    const delays = [0, 1, 3, 6, 10, 20, 40]
    const hungUp = await Promise.all(delays.map(async (ms) => {
      const abort = new AbortController()
      const timer = setTimeout(() => abort.abort(), ms)
      try {
        const r = await fetch(`${api.url}/v1/subscriptions`, {
          method: "POST", signal: abort.signal, body: JSON.stringify(subscription),
          headers: { authorization: `Bearer ${api.key}`, "content-type": "application/json", "idempotency-key": `gone-${ms}` }
        })
        await r.text()
        return "answered"
      } catch {
        return "hung up"
      } finally {
        clearTimeout(timer)
      }
    }))
    expect(hungUp).toContain("hung up")
    const retries = []
    for (const ms of delays) {
      // While the first is still running the key answers 409; the client tries again.
      for (let attempt = 0; ; attempt++) {
        const r = await api.call("POST", "/v1/subscriptions", { body: subscription, headers: { "idempotency-key": `gone-${ms}` } })
        if (r.status !== 409 || attempt === 50) {
          retries.push(r)
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    for (const r of retries) expect(r.status).toBe(201)
    expect(await count("subscriptions")).toBe(delays.length)
    const owners = await api.db.db.sql`select count(distinct subscription_id)::int as n from events where type = 'subscription.created'`
    expect(owners[0]!["n"]).toBe(delays.length)
  })

  it("a change the domain refuses under a key rolls back alone: its 409 is stored with the key and replayed, and nothing else is written", async () => {
    const id = (await api.call("POST", "/v1/subscriptions", { body: subscription })).json.data[0].id
    const events = await count("events")
    const headers = { "idempotency-key": "resume-1" }
    const refused = await api.call("POST", `/v1/subscriptions/${id}/resume`, { headers })
    expect(refused.status).toBe(409)
    expect(refused.json.code).toBe("transition_refused")
    const replayed = await api.call("POST", `/v1/subscriptions/${id}/resume`, { headers })
    expect(replayed.status).toBe(409)
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")
    expect(replayed.json).toEqual(refused.json)
    expect(await count("events")).toBe(events)
    const [row] = await api.db.db.sql`select response_status from idempotency_keys where key = 'resume-1'`
    expect(row!["response_status"]).toBe(409)
  })

  it("takes over a key older than 24 hours", async () => {
    const headers = { "idempotency-key": "order-4" }
    await api.call("POST", "/v1/subscriptions", { body: subscription, headers })
    await api.db.db.sql`update idempotency_keys set created_at = now() - interval '25 hours'`
    const later = await api.call("POST", "/v1/subscriptions", { body: subscription, headers })
    expect(later.status).toBe(201)
    expect(later.headers.get("idempotent-replayed")).toBeNull()
    expect(await count("subscriptions")).toBe(2)
  })
})

describe("pagination", () => {
  it("pages by cursor with has_more, and stays stable while rows are added", async () => {
    for (let i = 0; i < 5; i++) await api.call("POST", "/v1/contacts", { body: { email: `c${i}@example.com` } })
    const first = await api.call("GET", "/v1/contacts?limit=2")
    expect(first.json.data.map((c: any) => c.email)).toEqual(["ana@example.com", "c0@example.com"])
    expect(first.json.has_more).toBe(true)
    await api.call("POST", "/v1/contacts", { body: { email: "late@example.com" } })
    const seen: Array<string> = first.json.data.map((c: any) => c.email)
    let after = first.json.data.at(-1).id
    for (;;) {
      const page = await api.call("GET", `/v1/contacts?limit=2&starting_after=${after}`)
      seen.push(...page.json.data.map((c: any) => c.email))
      if (!page.json.has_more) break
      after = page.json.data.at(-1).id
    }
    expect(seen).toEqual(["ana@example.com", "c0@example.com", "c1@example.com", "c2@example.com", "c3@example.com", "c4@example.com", "late@example.com"])
    for (const limit of ["0", "101", "x"]) {
      const r = await api.call("GET", `/v1/contacts?limit=${limit}`)
      expect(r.status).toBe(400)
      expect(r.json.field).toBe("limit")
    }
  })
})

describe("hostile input", () => {
  it("answers malformed JSON, unknown fields, wrong types and a 10 MB body with the right 4xx, and writes nothing", async () => {
    const malformed = await api.call("POST", "/v1/subscriptions", { rawBody: "{\"contact\": " })
    expect(malformed.status).toBe(400)
    expect(malformed.headers.get("content-type")).toBe("application/problem+json")
    const unknown = await api.call("POST", "/v1/subscriptions", { body: { ...subscription, colour: "red" } })
    expect(unknown.status).toBe(400)
    // In the client's words, naming the field: not the schema library's.
    expect(unknown.json).toMatchObject({ code: "invalid_request", field: "colour", message: 'body: unknown field "colour"' })
    const unknownQuery = await api.call("GET", "/v1/contacts?colour=red")
    expect(unknownQuery.json).toMatchObject({ code: "invalid_request", field: "colour", message: 'query: unknown parameter "colour"' })
    const typo = await api.call("GET", "/v1/events?type=invoice.payed")
    expect(typo.status).toBe(400)
    expect(typo.json).toMatchObject({ field: "type" })
    expect(typo.json.message).toMatch(/^type: unknown event type "invoice.payed" \(did you mean "invoice.paid"\?\)/)
    expect((await api.call("GET", "/v1/events?type=invoice.paid")).status).toBe(200)
    const missing = await api.call("POST", "/v1/contacts", { body: { name: "No Email" } })
    expect(missing.json).toMatchObject({ code: "invalid_request", field: "email", message: "email: required" })
    const wrongType = await api.call("POST", "/v1/subscriptions", { body: { ...subscription, items: "sku=COFFEE" } })
    expect(wrongType.status).toBe(400)
    expect(wrongType.json).toMatchObject({ code: "invalid_request", field: "items", message: "items: expected an array" })
    // In the same words whatever the type (found by an audit: 'body: Expected string | null at ["name"]').
    const nullable = await api.call("POST", "/v1/contacts", { body: { email: "x@example.com", name: 123 } })
    expect(nullable.json).toMatchObject({ code: "invalid_request", field: "name", message: "name: expected a string or null" })
    const integer = await api.call("POST", "/v1/discount_codes", { body: { code: "HALF", off: "5%", max_redemptions: 1.5 } })
    expect(integer.json).toMatchObject({ code: "invalid_request", field: "max_redemptions", message: "max_redemptions: expected an integer" })
    expect(JSON.stringify(wrongType.json)).not.toMatch(/at .*\.ts:\d+/)
    const huge = await api.call("POST", "/v1/subscriptions", { rawBody: JSON.stringify({ ...subscription, note: "x".repeat(10 * 1024 * 1024) }) })
    expect(huge.status).toBe(413)
    const sql = await api.call("POST", "/v1/subscriptions", { body: { contact: "'; drop table subscriptions; --", items: ["sku=COFFEE' or '1'='1"] } })
    expect(sql.status).toBe(400)
    const sqlPath = await api.call("GET", "/v1/contacts/' or 1=1 --")
    expect(sqlPath.status).toBe(404)
    const unicode = await api.call("POST", "/v1/contacts", { body: { email: "zoë@例え.jp", name: "Zoë 🌸 Ærø" } })
    expect([201, 400]).toContain(unicode.status)
    expect(await count("subscriptions")).toBe(0)
    const named = await api.call("POST", "/v1/contacts", { body: { email: "zoe@example.com", name: "Zoë 🌸 Ærø" } })
    expect(named.json.name).toBe("Zoë 🌸 Ærø")
  })
})

describe("the integrator's usual slips", () => {
  it("an unknown path is a 404 naming it, never a 500; nothing is written", async () => {
    for (const [method, path] of [["GET", "/v1/subscription"], ["POST", "/v1/nope"], ["DELETE", "/v1/contacts/1/nope"]] as const) {
      const r = await api.call(method, path, method === "GET" || method === "DELETE" ? {} : { body: { name: "x" } })
      expect(r.status, `${method} ${path}`).toBe(404)
      expect(r.headers.get("content-type")).toBe("application/problem+json")
      expect(r.headers.get("allow")).toBeNull()
      expect(r.json).toMatchObject({ code: "not_found", message: `no ${method} ${path} in this API: /openapi.json lists each route and its method` })
    }
    expect(await count("contacts")).toBe(1)
  })

  it("a method a known path does not take is 405 with Allow listing the ones it takes (it was a 404, as if the path did not exist); nothing is written", async () => {
    const cases = [
      ["DELETE", "/v1/contacts", "GET, HEAD, OPTIONS, POST"],
      ["PATCH", "/v1/contacts/1", "GET, HEAD, OPTIONS, POST"],
      ["DELETE", "/v1/contacts/1", "GET, HEAD, OPTIONS, POST"],
      ["PUT", "/v1/subscriptions/1", "DELETE, GET, HEAD, OPTIONS, POST"],
      ["GET", "/v1/subscriptions/1/cancel", "OPTIONS, POST"],
      ["POST", "/v1/settings", "GET, HEAD, OPTIONS"],
      ["PUT", "/v1/payment_links/abc?x=1", "DELETE, GET, HEAD, OPTIONS, POST"]
    ] as const
    for (const [method, path, allow] of cases) {
      const r = await api.call(method, path, method === "GET" || method === "DELETE" ? {} : { body: { email: "x@example.com" } })
      expect([r.status, r.headers.get("allow")], `${method} ${path}`).toEqual([405, allow])
      expect(r.headers.get("content-type")).toBe("application/problem+json")
      const bare = path.split("?")[0]
      expect(r.json).toEqual({
        type: "about:blank", status: 405, title: "Method Not Allowed", code: "method_not_allowed",
        message: `${method} is not a method of ${bare}: it takes ${allow} (/openapi.json lists each route and its method)`
      })
    }
    expect(await count("contacts")).toBe(1)
  })

  it("Allow lists every method a path answers: HEAD where GET is, and OPTIONS, which answers 204 with it (it was a 405 listing neither)", async () => {
    for (const [path, allow] of [["/v1/contacts", "GET, HEAD, OPTIONS, POST"], ["/v1/subscriptions/1/cancel", "OPTIONS, POST"], ["/v1/settings", "GET, HEAD, OPTIONS"]] as const) {
      const options = await api.call("OPTIONS", path)
      expect([options.status, options.headers.get("allow")], `OPTIONS ${path}`).toEqual([204, allow])
    }
    const head = await api.call("HEAD", "/v1/contacts")
    expect(head.status).toBe(200)
    expect((await api.call("OPTIONS", "/v1/nope")).status).toBe(404)
    expect(await count("contacts")).toBe(1)
  })

  it("the Bearer scheme is read whatever its case and spacing (RFC 9110)", async () => {
    for (const authorization of [`bearer ${api.key}`, `BEARER ${api.key}`, `Bearer  ${api.key}`]) {
      const r = await api.call("GET", "/v1/contacts", { key: null, headers: { authorization } })
      expect(r.status, authorization).toBe(200)
    }
  })

  it("a blank payment-method token is a 400 naming payment_method, on contacts and subscriptions, and nothing is saved", async () => {
    const contact = await api.call("POST", "/v1/contacts", { body: { email: "bo@example.com", payment_method: "" } })
    expect(contact.status).toBe(400)
    expect(contact.json).toMatchObject({ code: "invalid_input", field: "payment_method", message: "payment_method: a payment-method token cannot be empty" })
    const created = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], payment_method: " " } })
    expect(created.status).toBe(400)
    expect(created.json).toMatchObject({ field: "payment_method" })
    expect(await count("subscriptions")).toBe(0)
    expect((await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"] } })).status).toBe(201)
    const updated = await api.call("POST", "/v1/subscriptions/1", { body: { payment_method: " " } })
    expect(updated.status).toBe(400)
    expect(updated.json).toMatchObject({ field: "payment_method" })
    expect(await count("contacts")).toBe(1)
  })

  it("a refused subscription names its JSON field and code, in the CLI's words (found by an audit: no field, a missing contact invalid_input)", async () => {
    const noContact = await api.call("POST", "/v1/subscriptions", { body: { contact: "nobody@example.com", items: ["sku=COFFEE"] } })
    expect([noContact.status, noContact.json.code, noContact.json.field]).toEqual([400, "resource_missing", "contact"])
    expect(noContact.json.message).toMatch(/^contact: no contact with email nobody@example.com/)
    const noItems = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: [] } })
    expect([noItems.status, noItems.json.field]).toEqual([400, "items"])
    expect((await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"] } })).status).toBe(201)
    const pause = await api.call("POST", "/v1/subscriptions/1/pause", { body: { resume_on: "2026-02-01" } })
    expect([pause.status, pause.json.field]).toEqual([400, "resume_on"])
    const nothing = await api.call("POST", "/v1/subscriptions/1", { body: {} })
    expect(nothing.status).toBe(400)
    expect(nothing.json.message).toMatch(/^nothing to update/)
    expect((await api.call("POST", "/v1/subscriptions/1/cancel", { body: {} })).status).toBe(200)
    expect((await api.call("DELETE", "/v1/subscriptions/1")).status).toBe(200)
    const gone = await api.call("GET", "/v1/subscriptions/1")
    expect([gone.status, gone.json.code]).toEqual([404, "not_found"])
  })

  it("a POST with no body on a route whose fields are all optional is taken as {} (cancel, pause), not a 400 naming no field", async () => {
    expect((await api.call("POST", "/v1/subscriptions", { body: subscription })).status).toBe(201)
    // `curl -X POST .../cancel` with no -d: it was 400 "body: Expected object", naming no field.
    const pause = await api.call("POST", "/v1/subscriptions/1/pause")
    expect(pause.status).toBe(200)
    expect(pause.json.status).toBe("paused")
    const nothing = await api.call("POST", "/v1/subscriptions/1")
    expect([nothing.status, nothing.json.code]).toEqual([400, "invalid_input"])
    expect(nothing.json.message).toMatch(/^nothing to update/)
    const cancel = await api.call("POST", "/v1/subscriptions/1/cancel", { rawBody: "" })
    expect(cancel.status).toBe(200)
    expect(cancel.json.status).toBe("canceled")
    // A route that needs fields still names the first one missing.
    const contact = await api.call("POST", "/v1/contacts")
    expect(contact.json).toMatchObject({ code: "invalid_request", field: "email", message: "email: required" })
    expect(await count("contacts")).toBe(1)
  })

  it("a body that is not sent as JSON is a 415 that says which header to send", async () => {
    for (const type of ["application/x-www-form-urlencoded", "text/plain"]) {
      const r = await api.call("POST", "/v1/contacts", { rawBody: JSON.stringify({ email: "ana@example.com" }), headers: { "content-type": type } })
      expect(r.status, type).toBe(415)
      expect(r.json).toMatchObject({ code: "unsupported_media_type", field: "content-type", message: "send the body as JSON, with the header Content-Type: application/json" })
    }
    // `curl -d 'email=…'` (a form, curl's default type) or `curl -d @file.xml`: the type is the mistake, not the JSON
    // (it was a 400 "the request body is not valid JSON").
    for (const [type, rawBody] of [["application/x-www-form-urlencoded", "email=bo%40example.com&name=Bo"], ["application/xml", "<contact/>"]] as const) {
      const r = await api.call("POST", "/v1/contacts", { rawBody, headers: { "content-type": type } })
      expect(r.status, type).toBe(415)
      expect(r.json).toMatchObject({ code: "unsupported_media_type", field: "content-type" })
    }
    // Malformed JSON sent as JSON is still the body's fault.
    expect((await api.call("POST", "/v1/contacts", { rawBody: "email=bo" })).json).toMatchObject({ code: "malformed_json" })
    expect(await count("contacts")).toBe(1)
  })
})

describe("OpenAPI", () => {
  it("serves /openapi.json (3.1) listing every route served, errors as the problem+json they are sent as, and /docs offline", async () => {
    const doc = await api.call("GET", "/openapi.json", { key: null })
    expect(doc.status).toBe(200)
    expect(doc.json.openapi).toMatch(/^3\.1/)
    const routes = [
      ["post", "/v1/contacts"], ["get", "/v1/contacts"], ["get", "/v1/contacts/{contact}"], ["post", "/v1/contacts/{contact}"],
      ["post", "/v1/products"], ["get", "/v1/products"], ["post", "/v1/products/{sku}"], ["post", "/v1/products/{sku}/archive"],
      ["post", "/v1/subscriptions"], ["get", "/v1/subscriptions"], ["get", "/v1/subscriptions/{id}"], ["post", "/v1/subscriptions/{id}"],
      ["post", "/v1/subscriptions/{id}/cancel"], ["post", "/v1/subscriptions/{id}/pause"], ["post", "/v1/subscriptions/{id}/resume"], ["delete", "/v1/subscriptions/{id}"],
      ["get", "/v1/invoices"], ["get", "/v1/invoices/{id}"], ["post", "/v1/invoices/{id}/pay"], ["get", "/v1/events"],
      ["get", "/v1/outbox"], ["post", "/v1/outbox/{id}/retry"], ["get", "/v1/settings"],
      ["post", "/v1/payment_links"], ["get", "/v1/payment_links"], ["get", "/v1/payment_links/{link}"], ["post", "/v1/payment_links/{link}"],
      ["post", "/v1/payment_links/{link}/clone"], ["post", "/v1/payment_links/{link}/off"], ["post", "/v1/payment_links/{link}/on"],
      ["delete", "/v1/payment_links/{link}"], ["get", "/v1/payment_links/{link}/preview"],
      ["post", "/v1/discount_codes"], ["get", "/v1/discount_codes"], ["get", "/v1/discount_codes/{code}"], ["post", "/v1/discount_codes/{code}"],
      ["post", "/v1/discount_codes/{code}/off"], ["post", "/v1/discount_codes/{code}/on"], ["delete", "/v1/discount_codes/{code}"],
      ["post", "/v1/webhook_endpoints"], ["get", "/v1/webhook_endpoints"], ["delete", "/v1/webhook_endpoints/{id}"], ["get", "/v1/reports/{name}"]
    ]
    const paths = doc.json.paths as Record<string, Record<string, any>>
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
    expect(documented.sort()).toEqual(routes.map(([m, p]) => `${m} ${p}`).sort())
    const resolve = (schema: any): any => (schema?.$ref === undefined ? schema : doc.json.components.schemas[schema.$ref.split("/").pop()])
    const problemKeys = ["type", "status", "title", "code", "message", "field"]
    for (const [method, path] of routes) {
      const op = paths[path!]![method!]
      expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }])
      // Every error a route can answer is described as sent: problem+json with its status and a stable code.
      for (const status of ["400", "401", "404", "409", "413", "415", "500"]) {
        const content = op.responses[status]?.content
        expect(Object.keys(content ?? {}), `${method} ${path} ${status}`).toEqual(["application/problem+json"])
        const schema = resolve(content["application/problem+json"].schema)
        expect(Object.keys(schema.properties).sort()).toEqual([...problemKeys].sort())
        expect(schema.properties.status.enum).toEqual([Number(status)])
        expect(schema.required).toEqual(["type", "status", "title", "code", "message"])
      }
      if (method !== "get") expect(op.responses["403"]?.content["application/problem+json"], `${method} ${path} 403`).toBeDefined()
      // Each documented route is served, and what it answers is what the document says.
      const r = await api.call(method!.toUpperCase(), path!.replace(/\{[a-z]+\}/g, "1"), method === "get" || method === "delete" ? {} : { body: {} })
      expect(r.json.code, `${method} ${path}`).not.toBe("route_not_found")
      expect(Object.keys(op.responses), `${method} ${path} answered ${r.status}`).toContain(String(r.status))
      if (r.status >= 400) {
        expect(r.headers.get("content-type")).toBe("application/problem+json")
        expect(Object.keys(r.json).every((k) => problemKeys.includes(k)), JSON.stringify(r.json)).toBe(true)
        expect(r.json).toMatchObject({ type: "about:blank", status: r.status, code: expect.any(String), message: expect.any(String) })
      }
    }
    const docs = await api.call("GET", "/docs", { key: null })
    expect(docs.status).toBe(200)
    // Scalar's script is inlined: the page loads no script from elsewhere.
    expect(docs.json).not.toMatch(/<script[^>]+src=/)
  })
})
