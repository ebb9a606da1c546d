import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"
import { tickAt } from "../runtime/engineHarness.ts"
import { listWebhookEndpoints } from "../../../engine/account/index.ts"
import { buildReports, reportKinds } from "../../../reports/index.ts"

let api: ApiUnderTest
beforeEach(async () => {
  api = await startApi()
}, 60_000)
afterEach(async () => {
  await api.close()
})

const setUp = async () => {
  expect((await api.call("POST", "/v1/products", { body: { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD" } })).status).toBe(201)
  expect((await api.call("POST", "/v1/contacts", { body: { email: "ana@example.com", name: "Ana", payment_method: "pm_ok" } })).status).toBe(201)
}

describe("HTTP API resources", () => {
  it("creates a contact, a product and a subscription, and shows them with money in one shape", async () => {
    await setUp()
    const created = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE,qty=2"], terms: "fixed:6" } })
    expect(created.status).toBe(201)
    const sub = created.json.data[0]
    expect(sub.amount_per_payment).toEqual({ amount: 2500, currency: "USD", formatted: "25.00 USD" })
    const shown = await api.call("GET", `/v1/subscriptions/${sub.id}`)
    expect(shown.status).toBe(200)
    expect(shown.json).toMatchObject({ id: sub.id, status: "active", email: "ana@example.com", amount_per_payment: { amount: 2500, currency: "USD" } })
    const products = await api.call("GET", "/v1/products")
    expect(products.json.data[0].unit_price).toEqual({ amount: 1250, currency: "USD", formatted: "12.50 USD" })
    const contact = await api.call("GET", "/v1/contacts/ana@example.com")
    expect(contact.json.subscriptions).toHaveLength(1)
  })

  it("a contact's field sent as null on update is cleared, as \"\" clears it; it was ignored with a 200 and the card kept", async () => {
    await setUp()
    const cleared = await api.call("POST", "/v1/contacts/ana@example.com", { body: { payment_method: null, name: null } })
    expect(cleared.status).toBe(200)
    expect(cleared.json).toMatchObject({ payment_method: null, name: null, changes: { payment_method: { from: "pm_ok", to: null }, name: { from: "Ana", to: null } } })
    expect((await api.call("GET", "/v1/contacts/ana@example.com")).json).toMatchObject({ payment_method: null, name: null })
    // A field left out is kept.
    expect((await api.call("POST", "/v1/contacts/ana@example.com", { body: { language: "nb" } })).json).toMatchObject({ language: "nb", payment_method: null })
    // An email cannot be cleared: refused naming it, nothing changed.
    const email = await api.call("POST", "/v1/contacts/ana@example.com", { body: { email: null } })
    expect([email.status, email.json.field]).toEqual([400, "email"])
    expect((await api.call("GET", "/v1/contacts/ana@example.com")).status).toBe(200)
  })

  it("a product named in the path that does not exist is 404 not_found, as a contact, subscription or link is (it was 400 resource_missing)", async () => {
    await setUp()
    for (const [path, body] of [["/v1/products/NOPE", { price: "1.00" }], ["/v1/products/NOPE/archive", {}]] as const) {
      const r = await api.call("POST", path, { body })
      expect([r.status, r.json.code, r.json.field], path).toEqual([404, "not_found", "sku"])
      expect(r.json.message).toMatch(/^sku: no product with SKU "NOPE"/)
    }
    // A SKU named in the body stays the body's fault: 400 naming the field.
    const sub = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=NOPE"] } })
    expect([sub.status, sub.json.code, sub.json.field]).toEqual([400, "resource_missing", "items[0]"])
    expect((await api.call("GET", "/v1/products")).json.data).toHaveLength(1)
  })

  it("walks a subscription through pause, resume, cancel at period end, and refuses to delete it while active", async () => {
    await setUp()
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"] } })).json.data[0].id
    const paused = await api.call("POST", `/v1/subscriptions/${id}/pause`, { body: { resume_on: "2026-05-01" } })
    expect(paused.status).toBe(200)
    expect(paused.json).toMatchObject({ status: "paused", resume_on: "2026-05-01" })
    const again = await api.call("POST", `/v1/subscriptions/${id}/pause`, { body: {} })
    expect(again.status).toBe(409)
    expect(again.headers.get("content-type")).toBe("application/problem+json")
    expect(again.json.code).toBe("transition_refused")
    expect((await api.call("POST", `/v1/subscriptions/${id}/resume`)).json.status).toBe("active")
    const updated = await api.call("POST", `/v1/subscriptions/${id}`, { body: { items: ["sku=COFFEE,qty=3"] } })
    expect(updated.status).toBe(200)
    expect((updated.json.next_items ?? updated.json.current_items).amount_per_payment.amount).toBe(3750)
    const deleted = await api.call("DELETE", `/v1/subscriptions/${id}`)
    expect(deleted.status).toBe(409)
    const canceled = await api.call("POST", `/v1/subscriptions/${id}/cancel`, { body: { at_period_end: true } })
    expect(canceled.status).toBe(200)
    expect(canceled.json.cancel_at).not.toBeNull()
    const events = await api.call("GET", `/v1/events?subscription=${id}&limit=100`)
    expect(events.json.data.map((e: any) => e.source)).toContain("api:shop")
  })

  it("refuses a next billing date inside a period already invoiced: 400 naming next_billing_date, nothing changed", async () => {
    await setUp()
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"] } })).json.data[0].id
    await tickAt(api.db, "2026-03-01")
    const before = (await api.call("GET", `/v1/subscriptions/${id}`)).json
    const r = await api.call("POST", `/v1/subscriptions/${id}`, { body: { next_billing_date: "2026-03-10", items: ["sku=COFFEE,qty=2"] } })
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({ code: "invalid_input", field: "next_billing_date" })
    expect(r.json.message).toMatch(/^next_billing_date: 2026-03-10 is inside 2026-03-01\.\.2026-03-31, already invoiced \(\S+\); give 2026-04-01 or later$/)
    expect((await api.call("GET", `/v1/subscriptions/${id}`)).json).toEqual(before)
    expect((await api.call("POST", `/v1/subscriptions/${id}`, { body: { next_billing_date: "2026-04-01" } })).status).toBe(200)
  })

  it("answers bad input with problem+json naming the field, and writes nothing", async () => {
    await setUp()
    const r = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], terms: "fixed:0" } })
    expect(r.status).toBe(400)
    expect(r.headers.get("content-type")).toBe("application/problem+json")
    expect(r.json).toMatchObject({ code: "invalid_input", field: "terms" })
    expect(r.json.message).toMatch(/^terms: /)
    const unknownSku = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=NOPE"] } })
    expect(unknownSku.status).toBe(400)
    expect(unknownSku.json.field).toBe("items[0]")
    const missing = await api.call("GET", "/v1/subscriptions/999")
    expect(missing.status).toBe(404)
    expect(missing.json.code).toBe("not_found")
    expect((await api.call("GET", "/v1/subscriptions")).json.data).toEqual([])
  })

  it("refuses a start before today with 400 naming start, writing nothing; today itself is a start", async () => {
    await setUp()
    const events = async () => (await api.call("GET", "/v1/events?limit=100")).json.data.length
    const before = await events()
    const past = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], start: "2026-02-28" } })
    expect(past.status).toBe(400)
    expect(past.json).toMatchObject({
      code: "invalid_input", field: "start",
      message: "start: 2026-02-28 is before today (2026-03-01); a subscription starts today or later, billing never reaches back"
    })
    expect((await api.call("GET", "/v1/subscriptions")).json.data).toEqual([])
    expect(await events()).toBe(before)
    const today = await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], start: "2026-03-01" } })
    expect(today.status).toBe(201)
    expect(today.json.data[0]).toMatchObject({ start_date: "2026-03-01", next_billing_date: "2026-03-01", status: "active", item_count: 1 })
    // Named as the list names them: no camelCase key in the API.
    expect(Object.keys(today.json.data[0]).filter((k) => /[A-Z]/.test(k))).toEqual([])
  })

  it("lists invoices and pays one; events follow the journal with after=ID", async () => {
    await setUp()
    await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], collection: "invoice:net-30" } })
    const all = await api.call("GET", "/v1/events?limit=100")
    expect(all.status).toBe(200)
    const last = all.json.data.at(-1).id
    expect((await api.call("GET", "/v1/events?after=0&limit=100")).json.data).toEqual(all.json.data)
    expect((await api.call("GET", `/v1/events?after=${last}`)).json.data).toEqual([])
    // A bad cursor names the parameter the client sent: it said "starting_after" for ?after=abc.
    for (const bad of ["abc", "-1"]) {
      const r = await api.call("GET", `/v1/events?after=${bad}`)
      expect(r.status).toBe(400)
      expect(r.json).toMatchObject({ code: "invalid_input", field: "after", message: `after: expected a whole number from 0, got "${bad}"` })
    }
    expect((await api.call("GET", "/v1/events?starting_after=abc")).json).toMatchObject({ field: "starting_after" })
    const invoices = await api.call("GET", "/v1/invoices")
    expect(invoices.status).toBe(200)
    expect(invoices.json).toMatchObject({ object: "list", has_more: false })
    expect((await api.call("GET", "/v1/invoices/12345")).status).toBe(404)
    expect((await api.call("POST", "/v1/invoices/12345/pay", { body: {} })).status).toBe(404)
    expect((await api.call("GET", "/v1/outbox?status=failed")).json).toMatchObject({ object: "list", data: [] })
    expect((await api.call("GET", "/v1/outbox?status=lost")).json.field).toBe("status")
    expect((await api.call("POST", "/v1/outbox/77/retry")).status).toBe(404)
    expect((await api.call("GET", "/v1/settings")).json).toMatchObject({ object: "settings", currency: "USD" })
  })

  it("adds, lists and deletes webhook endpoints through the store functions of billcycle webhooks add|list|remove", async () => {
    const made = await api.call("POST", "/v1/webhook_endpoints", { body: { url: "https://crm.example.com/billcycle", events: ["invoice.paid", "subscription.*"] } })
    expect(made.status).toBe(201)
    expect(made.json).toMatchObject({ object: "webhook_endpoint", url: "https://crm.example.com/billcycle", events: ["invoice.paid", "subscription.*"], created_on: "2026-03-01" })
    expect((await listWebhookEndpoints(api.db.db.sql)).map((e) => e.id)).toEqual([made.json.id])
    // The same receiver, written otherwise: 409, the endpoint it has.
    const twice = await api.call("POST", "/v1/webhook_endpoints", { body: { url: "HTTPS://CRM.example.com:443/billcycle", events: ["payment.*"] } })
    expect([twice.status, twice.json.code, twice.json.field]).toEqual([409, "already_exists", "url"])
    expect(twice.json.message).toContain(`url: webhook endpoint ${made.json.id} (invoice.paid,subscription.*) receives https://crm.example.com/billcycle already`)
    const badUrl = await api.call("POST", "/v1/webhook_endpoints", { body: { url: "http://crm.example.com/", events: ["invoice.paid"] } })
    expect(badUrl.status).toBe(400)
    expect(badUrl.json).toMatchObject({ code: "invalid_input", field: "url" })
    const badEvents = await api.call("POST", "/v1/webhook_endpoints", { body: { url: "https://crm.example.com/", events: [] } })
    expect(badEvents.json.field).toBe("events")
    expect((await api.call("POST", "/v1/webhook_endpoints", { key: api.readOnlyKey, body: { url: "https://crm.example.com/", events: ["*"] } })).status).toBe(403)
    const listed = await api.call("GET", "/v1/webhook_endpoints", { key: api.readOnlyKey })
    expect(listed.json).toMatchObject({ object: "list", has_more: false, data: [{ id: made.json.id }] })
    const removed = await api.call("DELETE", `/v1/webhook_endpoints/${made.json.id}`)
    expect(removed.status).toBe(200)
    expect(removed.json).toMatchObject({ object: "webhook_endpoint", id: made.json.id, deleted: true })
    expect((await api.call("GET", "/v1/webhook_endpoints")).json.data).toEqual([])
    const again = await api.call("DELETE", `/v1/webhook_endpoints/${made.json.id}`)
    expect(again.status).toBe(404)
    expect(again.headers.get("content-type")).toBe("application/problem+json")
  })

  it("serves each report of billcycle report as JSON with the CLI's columns, from/to/currency, to a read-only key", async () => {
    // A subscription since January, made on its start day (a start before today is refused).
    await api.close()
    api = await startApi("2026-01-01")
    await setUp()
    expect((await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE,qty=2"], start: "2026-01-01" } })).status).toBe(201)
    for (const name of reportKinds) {
      const r = await api.call("GET", `/v1/reports/${name}?from=2026-01&to=2026-03`, { key: api.readOnlyKey })
      expect(r.status, name).toBe(200)
      const rows = (await buildReports(api.db.db.sql, { from: "2026-01", to: "2026-03", currency: "USD" }))[name]
      expect(r.json).toMatchObject({ object: "report", name, from: "2026-01", to: "2026-03", currency: "USD", data: rows, unconverted: [] })
      expect(r.json.columns).toEqual([...new Set(rows.flatMap((row) => Object.keys(row)))])
    }
    const mrr = await api.call("GET", "/v1/reports/mrr?from=2026-01&to=2026-03")
    expect(mrr.json.columns).toEqual(["month", "mrr", "arr", "subscribers", "arpa", "paused", "ltv"])
    expect(mrr.json.data.at(-1)).toMatchObject({ month: "2026-03", mrr: 25, subscribers: 1 })
    const details = await api.call("GET", "/v1/reports/movements?from=2026-01&to=2026-03&details=true")
    expect(details.json.columns).toEqual(["date", "customer", "kind", "amount"])
    const eur = await api.call("GET", "/v1/reports/mrr?from=2026-01&to=2026-01&currency=eur")
    expect(eur.json).toMatchObject({ currency: "EUR", unconverted: ["USD"] })
    const badMonth = await api.call("GET", "/v1/reports/mrr?from=2026-13&to=2026-03")
    expect(badMonth.status).toBe(400)
    expect(badMonth.json).toMatchObject({ code: "invalid_input", field: "from" })
    expect((await api.call("GET", "/v1/reports/mrr?from=2026-03&to=2026-01")).json.field).toBe("from")
    expect((await api.call("GET", "/v1/reports/mrr?from=2026-01&to=2026-03&currency=XX")).json.field).toBe("currency")
    expect((await api.call("GET", "/v1/reports/mrr?from=2026-01&to=2026-03&details=true")).json.field).toBe("details")
    expect((await api.call("GET", "/v1/reports/mrr?to=2026-03")).status).toBe(400)
    const unknown = await api.call("GET", "/v1/reports/profit?from=2026-01&to=2026-03")
    expect(unknown.status).toBe(404)
    expect(unknown.json.field).toBe("name")
  })

  it("shows money in one shape: an invoice's list row and the invoice shown agree field for field", async () => {
    await setUp()
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE,qty=2"], collection: "invoice:net-30" } })).json.data[0].id
    await tickAt(api.db, "2026-03-01")
    const listed = await api.call("GET", `/v1/invoices?subscription=${id}`)
    expect(listed.json.data).toHaveLength(1)
    const row = listed.json.data[0]
    const shown = (await api.call("GET", `/v1/invoices/${row.id}`)).json
    const usd = (amount: number) => ({ amount, currency: "USD", formatted: `${(amount / 100).toFixed(2)} USD` })
    expect(row).toMatchObject({ object: "invoice", total: usd(2500), amount_paid: usd(0), amount_refunded: usd(0) })
    for (const [k, v] of Object.entries(row)) expect(shown[k], k).toEqual(v)
    expect(shown).toMatchObject({ subtotal: usd(2500), discount: usd(0), tax: usd(0), fees: usd(0) })
    expect(shown.lines[0]).toMatchObject({ unit_price: usd(1250), unit_discount: usd(0), amount: usd(2500), tax: usd(0) })
    const sub = (await api.call("GET", `/v1/subscriptions/${id}`)).json
    expect(sub.invoices).toEqual([row])
    const paid = await api.call("POST", `/v1/invoices/${row.id}/pay`, { body: { amount: "10.00" } })
    expect(paid.json).toMatchObject({ amount: usd(1000), remaining: usd(1500) })
  })

  it("an invoice paid in two parts journals each payment with its own amount, every event as the API key", async () => {
    await setUp()
    const id = (await api.call("POST", "/v1/subscriptions", { body: { contact: "ana@example.com", items: ["sku=COFFEE"], collection: "invoice:net-30" } })).json.data[0].id
    await tickAt(api.db, "2026-03-01")
    const invoice = (await api.call("GET", `/v1/invoices?subscription=${id}`)).json.data[0]
    const after = (await api.call("GET", `/v1/events?subscription=${id}&limit=100`)).json.data.at(-1).id
    expect((await api.call("POST", `/v1/invoices/${invoice.id}/pay`, { body: { amount: "5.00" } })).json).toMatchObject({ paid: false, amount: { amount: 500 } })
    expect((await api.call("POST", `/v1/invoices/${invoice.id}/pay`, { body: {} })).json).toMatchObject({ paid: true, amount: { amount: 750 } })
    const events = (await api.call("GET", `/v1/events?subscription=${id}&after=${after}&limit=100`)).json.data
    expect(events.map((e: any) => [e.type, e.source, e.data.amount ?? e.data.total])).toEqual([
      ["invoice.payment_recorded", "api:shop", 500],
      ["payment.succeeded", "api:shop", 750],
      ["invoice.paid", "api:shop", 1250]
    ])
  })
})
