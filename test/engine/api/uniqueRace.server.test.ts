/**
 * Two clients writing the same key at the same moment: each use case looks
 * for the key first, and the one whose look-up saw nothing while the other's
 * row was not yet committed meets the database's unique key at its insert.
 * It is answered as if its look-up had found the row (409 naming the field,
 * the same words), not with the database's text and no field (found by a
 * probe). Made deterministic: the other client's row is inserted and held
 * uncommitted, the request is sent, and the row is committed once the
 * request's insert waits on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"
import type { TransactionSql } from "../../../engine/sql/index.ts"

let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi()
  expect((await api.call("POST", "/v1/products", { body: { name: "Tea", sku: "TEA", price: "5.00", currency: "USD" } })).status).toBe(201)
}, 600_000)
afterAll(async () => {
  await api?.close()
}, 600_000)

type Answer = Awaited<ReturnType<ApiUnderTest["call"]>>

/** Rows a refused request must leave as they were: contacts, products, payment links, discount codes, and the journal. */
const written = async () =>
  (await api.db.db.sql<Array<{ n: string }>>`
    select concat_ws(',', (select count(*) from contacts), (select count(*) from products), (select count(*) from payment_links),
      (select count(*) from discount_codes), (select count(*) from events)) as n`)[0]!.n

/** Until a statement of this database writing `<table>` (`insert into`, `update`) waits on a lock (the held row's key), or `answered`. */
const untilInsertWaits = async (table: string, answered: () => boolean) => {
  while (!answered()) {
    const [waiting] = await api.db.db.sql`
      select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ~* ${`^\\s*(insert\\s+into|update)\\s+${table}\\y`}`
    if (waiting !== undefined) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * `request`, sent while another transaction holds `insert` uncommitted, then that transaction committed once the
 * request's insert waits on it: the request's look-up saw nothing, its insert meets the unique key.
 */
const racing = async (table: string, insert: (tx: TransactionSql) => Promise<unknown>, request: () => Promise<Answer>): Promise<Answer> => {
  let commit!: () => void
  const held = new Promise<void>((r) => (commit = r))
  let inserted!: () => void
  const rowHeld = new Promise<void>((r) => (inserted = r))
  const other = api.db.db.sql.begin(async (tx) => {
    await insert(tx)
    inserted()
    await held
  })
  await rowHeld
  const before = await written()
  let done = false
  const answer = request().finally(() => (done = true))
  await untilInsertWaits(table, () => done)
  commit()
  await other
  const r = await answer
  // The other client's row is all that was written: the refused request left nothing, not even an event.
  const after = (await written()).split(",").map(Number)
  const expected = before.split(",").map(Number)
  expected[["contacts", "products", "payment_links", "discount_codes"].indexOf(table)]! += 1
  expect(after).toEqual(expected)
  return r
}

const expectTaken = (r: Answer, field: string, message: RegExp) => {
  expect([r.status, r.json.code, r.json.field], JSON.stringify(r.json)).toEqual([409, "already_exists", field])
  expect(r.json.message).toMatch(message)
}

describe("a write that loses a race for a unique key is refused as a taken key, never with the database's text", () => {
  it("a product SKU: 409 naming sku, the words of a SKU found taken", async () => {
    const r = await racing("products", (tx) => tx`insert into products (name, sku, unit_price, currency) values ('Mug', 'MUG', 900, 'USD')`,
      () => api.call("POST", "/v1/products", { body: { name: "Mug", sku: "MUG", price: "9.00", currency: "USD" } }))
    expectTaken(r, "sku", /^sku: a product with SKU "MUG" exists already$/)
  })

  it("a contact email: 409 naming email, the words of an email found taken", async () => {
    const r = await racing("contacts", (tx) => tx`insert into contacts (email) values ('bo@example.com')`,
      () => api.call("POST", "/v1/contacts", { body: { email: "bo@example.com", name: "Bo" } }))
    expectTaken(r, "email", /^email: a contact with email bo@example\.com exists already$/)
  })

  it("a contact's new email: 409 naming email, the words of an email found taken", async () => {
    expect((await api.call("POST", "/v1/contacts", { body: { email: "cy@example.com" } })).status).toBe(201)
    const r = await racing("contacts", (tx) => tx`insert into contacts (email) values ('di@example.com')`,
      () => api.call("POST", "/v1/contacts/cy@example.com", { body: { email: "di@example.com" } }))
    expectTaken(r, "email", /^email: a contact with email di@example\.com exists already$/)
    expect((await api.call("GET", "/v1/contacts/cy@example.com")).status).toBe(200)
  })

  it("a payment link slug: 409 naming slug, the words of a slug found taken", async () => {
    const r = await racing("payment_links",
      (tx) => tx`insert into payment_links (slug, name, currency, created_on, updated_on) values ('tea-race', 'Tea', 'USD', '2026-03-01', '2026-03-01')`,
      () => api.call("POST", "/v1/payment_links", { body: { name: "Tea", items: ["sku=TEA"], slug: "tea-race" } }))
    expectTaken(r, "slug", /^slug: the slug "tea-race" is taken/)
  })

  it("a discount code: 409 naming code, the words of a code found taken", async () => {
    const r = await racing("discount_codes",
      (tx) => tx`insert into discount_codes (code, percent_ppm, duration, created_on) values ('RACE', 100000, 'once', '2026-03-01')`,
      () => api.call("POST", "/v1/discount_codes", { body: { code: "race", off: "10%" } }))
    expectTaken(r, "code", /^code: the code race exists already$/)
  })
})
