/**
 * Two writers making a contact of one email in different case at the same moment (`Bo@x.test` and `bo@x.test`):
 * contacts are found by email in any case, but the unique key compares case, so both look-ups used to see nothing
 * and both inserted: the buyer had two contacts, and later look-ups picked one of them. Each path that looks an
 * email up and then makes a contact with it takes the email's lock first (catalogue.ts `lockContactEmails`); the
 * second writer waits for the first's commit and finds its contact. Made deterministic: the first writer's
 * transaction takes the lock, inserts its contact and is held uncommitted; the request is sent, and the first
 * commits once the request waits on the lock.
 */
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { lockContactEmails } from "../../../engine/catalogue/index.ts"
import { createPaymentLink, settleCheckoutAttempts } from "../../../engine/checkout/index.ts"
import type { CheckoutAttempt } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { dayTime, loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { importCsv, importHistory } from "../../../engine/imports/index.ts"
import { runCliAsync } from "../../cliRunner.ts"
import { useApi } from "../api/apiHarness.ts"
import { engineLayer } from "../runtime/engineHarness.ts"
import { getPage, monthlyWithSetup, recordAttemptAsPage } from "../checkout/buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
const apiOf = useApi(today)
const sql = () => apiOf().db.db.sql

/** Until a statement of this database waits on an advisory lock (the held email's), or `answered`. */
const untilWaitingOnLock = async (answered: () => boolean) => {
  while (!answered()) {
    const [waiting] = await sql()`
      select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`
    if (waiting !== undefined) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * `request`, sent while another writer holds a contact of `email` uncommitted (the email's lock taken, as every
 * writer of a contact takes it), then that writer committed once the request waits (or has answered: the old code
 * did not wait). The held contact's id and the request's answer.
 */
const racing = async <A>(email: string, request: () => Promise<A>): Promise<{ held: number; answer: A }> => {
  let commit!: () => void
  const committing = new Promise<void>((r) => (commit = r))
  let inserted!: (id: number) => void
  const rowHeld = new Promise<number>((r) => (inserted = r))
  const other = sql().begin(async (tx) => {
    await lockContactEmails(tx, [email])
    const [row] = await tx<Array<{ id: number }>>`insert into contacts (email) values (${email}) returning id::int as id`
    inserted(row!.id)
    await committing
  })
  const held = await rowHeld
  let done = false
  const answer = request().finally(() => (done = true))
  await untilWaitingOnLock(() => done)
  commit()
  await other
  return { held, answer: await answer }
}

const contactsOf = async (email: string) =>
  (await sql()<Array<{ id: number; email: string }>>`select id::int as id, email from contacts where lower(email) = lower(${email}) order by id`)

describe("two writers of one email in different case at the same moment make one contact", () => {
  it("POST /v1/contacts of bo@x.test while Bo@x.test is being added: 409, the words of an email found taken, one contact", async () => {
    const { held, answer } = await racing("Bo@x.test", () => apiOf().call("POST", "/v1/contacts", { body: { email: "bo@x.test", name: "Bo" } }))
    expect([answer.status, answer.json.code, answer.json.field], JSON.stringify(answer.json)).toEqual([409, "already_exists", "email"])
    expect(answer.json.message).toMatch(/^email: a contact with email bo@x\.test exists already$/)
    expect(await contactsOf("bo@x.test")).toEqual([{ id: held, email: "Bo@x.test" }])
  })

  it("contacts add --email go@x.test on the command line while Go@x.test is being added: exit 2, the words of an email found taken, one contact", async () => {
    const [{ schema }] = await sql()<[{ schema: string }]>`select current_schema() as schema`
    const { held, answer } = await racing("Go@x.test", () =>
      runCliAsync(["contacts", "add", "--email", "go@x.test", "--name", "Go", "--db", process.env["DATABASE_URL"]!], { env: { BILLCYCLE_DB_SCHEMA: schema } }))
    expect([answer.code, answer.stderr.trim()]).toEqual([2, "billcycle: --email: a contact with email go@x.test exists already"])
    expect(await contactsOf("go@x.test")).toEqual([{ id: held, email: "Go@x.test" }])
  })

  it("a contact's new email ed@x.test while Ed@x.test is being added: 409, the contact keeps its email, one contact of ed@x.test", async () => {
    expect((await apiOf().call("POST", "/v1/contacts", { body: { email: "dy@x.test" } })).status).toBe(201)
    const { held, answer } = await racing("Ed@x.test", () => apiOf().call("POST", "/v1/contacts/dy@x.test", { body: { email: "ed@x.test" } }))
    expect([answer.status, answer.json.code, answer.json.field], JSON.stringify(answer.json)).toEqual([409, "already_exists", "email"])
    expect(answer.json.message).toMatch(/^email: a contact with email ed@x\.test exists already$/)
    expect(await contactsOf("ed@x.test")).toEqual([{ id: held, email: "Ed@x.test" }])
    expect(await contactsOf("dy@x.test")).toHaveLength(1)
  })

  it("a checkout's buyer cy@x.test paying while Cy@x.test is being added: the checkout completes on that contact, one contact", async () => {
    const link = await createPaymentLink(sql(), today, monthlyWithSetup, { slug: "case-race" })
    const opened = await getPage(apiOf(), `/l/${link.slug}`)
    const attempt: CheckoutAttempt = await recordAttemptAsPage(apiOf(), today, opened.headers.get("location")!.slice(3), "cy@x.test")
    const ctx = makeEngineContext(await loadSettings(sql()), today, { now: dayTime(today).epochMillis })
    const settle = () =>
      Effect.runPromise(settleCheckoutAttempts(ctx, [attempt], false).pipe(Effect.provide(engineLayer(apiOf().db, today))) as Effect.Effect<ReadonlyArray<{ _tag: string }>, never, never>)
    const { held, answer } = await racing("Cy@x.test", settle)
    expect(answer.map((s) => s._tag)).toEqual(["Completed"])
    expect(await contactsOf("cy@x.test")).toEqual([{ id: held, email: "Cy@x.test" }])
    const [session] = await sql()<Array<{ contact_id: number }>>`select contact_id::int as contact_id from checkout_sessions where id = ${attempt.sessionId}`
    expect(session!.contact_id).toBe(held)
    // The contact found is not the checkout's to announce: no contact.created of its own.
    const [created] = await sql()<Array<{ n: number }>>`select count(*)::int as n from events where type = 'contact.created' and contact_id = ${held}`
    expect(created!.n).toBe(0)
  })

  it("an import of twenty contacts, fa@x.test among them, while Fa@x.test is being added: that one unchanged, nineteen made, one contact", async () => {
    const emails = Array.from({ length: 20 }, (_, i) => (i === 7 ? "fa@x.test" : `import-${i}@x.test`))
    const ctx = makeEngineContext(await loadSettings(sql()), today, { now: dayTime(today).epochMillis })
    const { held, answer } = await racing("Fa@x.test", () => importCsv(sql(), ctx, "contacts.csv", ["email", ...emails].join("\n") + "\n"))
    expect(answer).toMatchObject({ kind: "contacts", rows: 20, created: 19, unchanged: 1 })
    expect(await contactsOf("fa@x.test")).toEqual([{ id: held, email: "Fa@x.test" }])
  })

  it("a history import whose customer di@example.com is being added as Di@example.com: refused as a contact made before it, one contact", async () => {
    const fixture = fileURLToPath(new URL("../imports/fixtures/history/", import.meta.url))
    const { held, answer } = await racing("Di@example.com", () => importHistory(sql(), fixture, { today: "2025-12-31" }).then(() => "", (e: Error) => e.message))
    expect(answer).toBe("customers.csv:5:email: a contact with email Di@example.com exists already, made before this history (1 of this file's customers do): import the history first, into a store without them, then the contacts that are new")
    expect(await contactsOf("di@example.com")).toEqual([{ id: held, email: "Di@example.com" }])
    expect(await contactsOf("ana@example.com")).toEqual([])
  })
})
