import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { importHistory } from "../../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

const fixture = fileURLToPath(new URL("./fixtures/history/", import.meta.url))
const statusPath = async (externalId: string, db: TestDatabase) =>
  (await db.db.sql<Array<{ to_status: string; effective_on: string }>>`
    select h.to_status, h.effective_on from status_history h join subscriptions s on s.id = h.subscription_id
    where s.external_id = ${externalId} order by h.effective_on, h.id`).map((r) => `${r.effective_on} ${r.to_status}`)

const headers = {
  customers: "customer_id,name,email,currency",
  subscriptions: "subscription_id,customer_id,currency,frequency,terms,collection,created_on,start_date",
  line_items: "subscription_id,version,effective_from,line_no,name,unit_price,quantity,discount,tax_rate,one_time",
  events: "event_id,subscription_id,type,requested_on,effective_on,version,note"
}

/**
 * A history directory of monthly USD subscriptions, one customer each: `subs` rows are
 * `id,created_on,start_date[,terms]`, each with one version-1 line from its start date.
 */
const historyDir = (subs: ReadonlyArray<string>, events: ReadonlyArray<string>, extraLines: ReadonlyArray<string> = []) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-history-"))
  const rows = subs.map((s) => {
    const [id, created, start, terms] = s.split(",")
    return { id: id!, created: created!, start: start!, terms: terms ?? "auto-renew" }
  })
  const file = (name: keyof typeof headers, lines: ReadonlyArray<string>) => writeFileSync(join(dir, `${name}.csv`), [headers[name], ...lines].join("\n") + "\n")
  file("customers", rows.map((r) => `c-${r.id},Customer ${r.id},${r.id}@example.com,USD`))
  file("subscriptions", rows.map((r) => `${r.id},c-${r.id},USD,monthly,${r.terms},charge,${r.created},${r.start}`))
  file("line_items", [...rows.map((r) => `${r.id},1,${r.start},1,Plan,10.00,1,,,false`), ...extraLines])
  file("events", events)
  return dir
}

/** A fresh database for each test, so that its journal and counts are its own (the embedded one serves one at a time). */
const withDatabase = async (body: (db: TestDatabase) => Promise<void>) => {
  const db = await openTestDatabase()
  try {
    await body(db)
  } finally {
    await db.close()
  }
}

const failureOf = (db: TestDatabase, dir: string, today: string) => importHistory(db.db.sql, dir, { today }).then(() => "", (e: Error) => e.message)

const countOf = async (db: TestDatabase, table: "subscriptions" | "contacts" | "events") =>
  (await db.db.sql<Array<{ n: number }>>`select count(*)::int as n from ${db.db.sql(table)}`)[0]!.n

describe(`import history (${backend})`, () => {
  it("a file with a bad cell writes nothing and names file, row and column", () => withDatabase(async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-history-"))
    cpSync(fixture, dir, { recursive: true })
    writeFileSync(join(dir, "line_items.csv"), "subscription_id,version,effective_from,line_no,name,unit_price,quantity,discount,tax_rate,one_time\ns1,1,2025-01-10,1,X,12.50,0,,,false\ns9,1,2025-01-10,1,Y,1.00,1,,,false\n")
    const message = await importHistory(t.db.sql, dir, { today: "2025-12-31" }).then(() => "", (e: Error) => e.message)
    expect(message).toContain("line_items.csv:2:quantity: must be a whole number greater than 0")
    expect(message).toContain("line_items.csv:3:subscription_id: no subscription s9")
    expect((await t.db.sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(0)
    expect((await t.db.sql`select count(*)::int as n from contacts`)[0]!["n"]).toBe(0)
  }))

  it("replays history into the engine's tables: versions, status history, expiry, pending cancellations", () => withDatabase(async (t) => {
    const summary = await importHistory(t.db.sql, fixture, { today: "2025-12-31" })
    expect(summary).toMatchObject({ customers: 4, subscriptions: 4, lineItems: 6 })
    expect(await statusPath("s1", t)).toEqual(["2025-01-10 active", "2025-05-10 unpaid", "2025-05-13 active", "2025-06-20 paused", "2025-07-20 active"])
    // Fixed 3 monthly payments from Feb 1 expire on May 1.
    expect(await statusPath("s2", t)).toEqual(["2025-02-01 active", "2025-05-01 expired"])
    // Scheduled until Mar 15; overdue, paid; canceled at the period end after May 20 (June 15).
    expect(await statusPath("s3", t)).toEqual(["2025-03-01 scheduled", "2025-03-15 active", "2025-04-01 past_due", "2025-04-05 active", "2025-06-15 canceled"])
    // An annual subscription asked to cancel at period end: still active, canceling on Jan 1.
    expect(await statusPath("s4", t)).toEqual(["2025-01-01 active"])
    const [s4] = await t.db.sql`select status, cancel_at, next_billing_date from subscriptions where external_id = 's4'`
    expect(s4).toMatchObject({ status: "active", cancel_at: "2026-01-01", next_billing_date: "2026-01-01" })
    const versions = await t.db.sql`select v.version, v.effective_from from item_versions v join subscriptions s on s.id = v.subscription_id where s.external_id = 's1' order by 1`
    expect(versions.map((v) => `${v["version"]}@${v["effective_from"]}`)).toEqual(["1@2025-01-10", "2@2025-04-10"])
    const types = await t.db.sql`select e.type, count(*)::int as n from events e group by 1 order by 1`
    expect(Object.fromEntries(types.map((r) => [r["type"], r["n"]]))).toMatchObject({
      "subscription.created": 4, "subscription.items_changed": 1, "subscription.expired": 1, "subscription.canceled": 1, "payment.failed": 1, "invoice.overdue": 1
    })
    await expect(importHistory(t.db.sql, fixture, { today: "2025-12-31" })).rejects.toThrow(/^customers\.csv:2:customer_id: customer c1 was imported before \(4 of this file's customers were\): a history is imported once/)
  }))

  it("a customer whose email is a contact made before (by an import of contacts) is refused as that, not as a history imported twice", () =>
    withDatabase(async (db) => {
      await db.db.sql`insert into contacts (email, name) values ('b@example.com', 'Bee')`
      const message = await failureOf(db, historyDir(["a,2025-01-05,2025-01-05", "b,2025-01-05,2025-01-05"], []), "2025-12-31")
      expect(message).toBe("customers.csv:3:email: a contact with email b@example.com exists already, made before this history (1 of this file's customers do): import the history first, into a store without them, then the contacts that are new")
    }))

  it("names the live subscriptions that charge a customer the history gives no payment method (their next charge would fail)", () =>
    withDatabase(async (db) => {
      const dir = historyDir(["live,2025-01-05,2025-01-05", "gone,2025-01-05,2025-01-05", "later,2025-12-01,2026-02-01"], ["e1,gone,cancel_immediately,2025-03-01,2025-03-01,,"])
      const summary = await importHistory(db.db.sql, dir, { today: "2025-12-31" })
      expect(summary.withoutPaymentMethod).toEqual([{ subscription: "live", email: "live@example.com" }, { subscription: "later", email: "later@example.com" }])
    }))

  it("a scheduled subscription canceled before its start date stays canceled and is never billed", () =>
    withDatabase(async (db) => {
      await importHistory(db.db.sql, historyDir(["s1,2025-01-05,2025-02-01"], ["e1,s1,cancel_immediately,2025-01-20,2025-01-20,,changed my mind"]), { today: "2025-12-31" })
      expect(await statusPath("s1", db)).toEqual(["2025-01-05 scheduled", "2025-01-20 canceled"])
      const [s1] = await db.db.sql`select status, payments_made, next_billing_date, canceled_on from subscriptions where external_id = 's1'`
      expect(s1).toMatchObject({ status: "canceled", payments_made: 0, next_billing_date: null, canceled_on: "2025-01-20" })
    }))

  it("a subscription with a currency that is not ISO 4217 is one problem naming its cell, not a crash on its lines", () =>
    withDatabase(async (db) => {
      const dir = historyDir(["s1,2025-01-01,2025-01-01", "s2,2025-01-01,2025-01-01"], [])
      const subs = join(dir, "subscriptions.csv")
      writeFileSync(subs, [headers.subscriptions, "s1,c-s1,XYZ1,monthly,auto-renew,charge,2025-01-01,2025-01-01", "s2,c-s2,USD,monthly,auto-renew,charge,2025-01-01,2025-01-01"].join("\n") + "\n")
      const message = await failureOf(db, dir, "2025-12-31")
      expect(message.split("\n")).toEqual(['subscriptions.csv:2:currency: "XYZ1" is not an ISO 4217 currency code such as USD'])
      expect(await countOf(db, "subscriptions")).toBe(0)
    }))

  it("an event the status it meets does not allow is bad input: row and column named, nothing written", () =>
    withDatabase(async (db) => {
      const dir = historyDir(
        ["s1,2025-01-01,2025-01-01", "s2,2025-01-01,2025-01-01", "s3,2025-01-01,2025-01-01", "s4,2025-01-01,2025-01-01", "s5,2025-01-01,2025-03-01",
          "s6,2025-01-01,2025-01-01", "s7,2025-01-01,2025-01-01", "s8,2025-01-01,2025-01-01,fixed:2", "s9,2025-01-01,2025-01-01"],
        [
          "e1,s1,resume,2025-03-01,2025-03-01,,",
          "e2,s2,payment_recovered,2025-03-01,,,",
          "e3,s3,payment_failed,2025-03-01,2025-03-01,,",
          "e4,s3,invoice_overdue,2025-03-05,2025-03-05,,",
          "e5,s4,cancel_immediately,2025-04-01,2025-04-01,,",
          "e6,s4,pause,2025-05-01,2025-05-01,,",
          "e7,s5,pause,2025-02-01,2025-02-01,,",
          "e8,s6,pause,2025-02-01,2025-02-01,,",
          "e9,s6,invoice_paid,2025-02-10,2025-02-10,,",
          // Valid: `subscriptions pause` accepts an unpaid subscription, so the import does too.
          "e10,s7,payment_failed,2025-02-01,2025-02-01,,",
          "e11,s7,pause,2025-02-05,2025-02-05,,",
          "e12,s7,resume,2025-03-01,2025-03-01,,",
          "e13,s8,payment_failed,2025-03-10,2025-03-10,,",
          "e14,s9,cancel_immediately,2025-06-01,2025-06-01,,",
          "e15,s9,pause,2026-02-01,,,"
        ]
      )
      const message = await failureOf(db, dir, "2025-12-31")
      expect(message.split("\n")).toEqual([
        "events.csv:2:type: resume needs a paused subscription, but s1 is active on 2025-03-01",
        "events.csv:3:type: payment_recovered needs an unpaid or past-due subscription, but s2 is active on 2025-03-01",
        "events.csv:5:type: invoice_overdue needs an active subscription, but s3 is unpaid on 2025-03-05",
        "events.csv:7:effective_on: s4 ended on 2025-04-01 (canceled): no event can follow, got one on 2025-05-01",
        "events.csv:8:type: pause needs an active, past-due or unpaid subscription, but s5 is scheduled on 2025-02-01",
        "events.csv:10:type: invoice_paid needs an unpaid or past-due subscription, but s6 is paused on 2025-02-10",
        "events.csv:14:effective_on: s8 ended on 2025-03-01 (expired): no event can follow, got one on 2025-03-10",
        "events.csv:16:requested_on: s9 ended on 2025-06-01 (canceled): no event can follow, got one on 2026-02-01"
      ])
      expect(await countOf(db, "subscriptions")).toBe(0)
      expect(await countOf(db, "contacts")).toBe(0)
      expect(await countOf(db, "events")).toBe(0)
    }))

  it("a subscription in another currency than its customer's is refused, naming both currencies, file and row; nothing is written", () =>
    withDatabase(async (db) => {
      const dir = historyDir(["s1,2025-01-01,2025-01-01", "s2,2025-01-01,2025-01-01"], [])
      writeFileSync(join(dir, "customers.csv"), [headers.customers, "c-s1,Customer s1,s1@example.com,EUR", "c-s2,Customer s2,s2@example.com,USD"].join("\n") + "\n")
      const message = await failureOf(db, dir, "2025-12-31")
      expect(message.split("\n")).toEqual([
        "subscriptions.csv:2:currency: s1 bills in USD, but its customer c-s1 is in EUR (customers.csv row 2): a subscription bills in its customer's currency"
      ])
      expect(await countOf(db, "subscriptions")).toBe(0)
      expect(await countOf(db, "contacts")).toBe(0)
    }))

  it("update_items switches on its version's effective_from, and no version starts before its subscription", () =>
    withDatabase(async (db) => {
      const dir = historyDir(
        ["s1,2025-01-10,2025-01-10", "s2,2025-01-01,2025-02-01", "s3,2025-01-10,2025-01-10"],
        ["e1,s1,update_items,2025-04-02,2025-04-12,2,", "e2,s3,update_items,2025-05-01,,2,", "e3,s3,update_items,2025-05-10,,2,again"],
        ["s1,2,2025-04-10,1,Bigger plan,20.00,1,,,false", "s2,2,2025-01-15,1,Early plan,20.00,1,,,false", "s3,2,2025-05-10,1,Bigger plan,20.00,1,,,false"]
      )
      const message = await failureOf(db, dir, "2025-12-31")
      expect(message.split("\n")).toEqual([
        "line_items.csv:6:effective_from: version 2 starts 2025-01-15, before the subscription's start_date 2025-02-01",
        "events.csv:2:effective_on: update_items switches to version 2 on 2025-04-12, but version 2 starts on 2025-04-10 (effective_from in line_items.csv)",
        "events.csv:3:requested_on: update_items switches to version 2 on 2025-05-01, but version 2 starts on 2025-05-10 (effective_from in line_items.csv)",
        "events.csv:4:version: version 2 is switched to again (first on row 3)"
      ])
      expect(await countOf(db, "subscriptions")).toBe(0)
    }))

  it("versions out of date order price the journal as billing does (versionInForce: the highest version effective by the day); a switch to a version never in force is refused", () =>
    withDatabase(async (db) => {
      // Version 3 from March, version 2 from April: by the billing's rule version 3 bills from March on, version 2 never.
      const lines = ["s1,3,2025-03-10,1,Plan v3,30.00,1,,,false", "s1,2,2025-04-10,1,Plan v2,20.00,1,,,false"]
      const dir = historyDir(["s1,2025-01-10,2025-01-10"], ["e1,s1,payment_failed,2025-05-10,2025-05-10,,", "e2,s1,payment_recovered,2025-05-12,2025-05-12,,"], lines)
      expect(await failureOf(db, dir, "2025-12-31")).toBe("")
      const amounts = await db.db.sql<Array<{ type: string; amount: number }>>`
        select e.type, (e.data->>'amount')::int as amount from events e join subscriptions s on s.id = e.subscription_id
        where s.external_id = 's1' and e.type in ('payment.failed', 'payment.succeeded') order by e.id`
      expect(amounts).toEqual([{ type: "payment.failed", amount: 3000 }, { type: "payment.succeeded", amount: 3000 }])
    }))

  it("an update_items row switching to a version that never comes into force (a higher version is effective by its date) is refused, naming the row; nothing is written", () =>
    withDatabase(async (db) => {
      const lines = ["s1,3,2025-03-10,1,Plan v3,30.00,1,,,false", "s1,2,2025-04-10,1,Plan v2,20.00,1,,,false"]
      const dir = historyDir(["s1,2025-01-10,2025-01-10"], ["e1,s1,update_items,2025-03-01,2025-03-10,3,", "e2,s1,update_items,2025-04-01,2025-04-10,2,"], lines)
      expect((await failureOf(db, dir, "2025-12-31")).split("\n")).toEqual([
        "events.csv:3:version: update_items switches to version 2 on 2025-04-10, but version 3 (effective_from 2025-03-10 in line_items.csv) is in force then: " +
        "a higher version effective on or before a version's date replaces it, so version 2 never bills"
      ])
      expect(await countOf(db, "subscriptions")).toBe(0)
    }))

  it("a subscription whose version 1 starts after its start_date (no price for its first periods) is refused, naming the row; nothing is written", () =>
    withDatabase(async (db) => {
      const dir = historyDir(["s1,2025-02-01,2025-02-01", "s2,2025-02-01,2025-02-01"], [])
      writeFileSync(join(dir, "line_items.csv"), [headers.line_items, "s1,1,2025-03-01,1,Plan,10.00,1,,,false", "s2,1,2025-02-01,1,Plan,10.00,1,,,false"].join("\n") + "\n")
      const message = await failureOf(db, dir, "2025-12-31")
      expect(message.split("\n")).toEqual([
        "line_items.csv:2:effective_from: version 1 starts 2025-03-01, after the subscription's start_date 2025-02-01: no version prices its billing from 2025-02-01 (a version is the set of lines billed from its effective_from; version 1 starts on start_date)"
      ])
      expect(await countOf(db, "subscriptions")).toBe(0)
      expect(await countOf(db, "contacts")).toBe(0)
    }))

  it("the imported journal is in date order: event ids increase with occurred_on", () =>
    withDatabase(async (db) => {
      await importHistory(db.db.sql, fixture, { today: "2025-12-31" })
      const days = (await db.db.sql<Array<{ occurred_on: string }>>`select occurred_on from events order by id`).map((r) => r.occurred_on)
      expect(days.length).toBeGreaterThan(20)
      expect(days).toEqual([...days].sort())
      // Within a subscription and a day, the journal keeps the replay's order: created, then its status.
      const s3 = await db.db.sql<Array<{ type: string }>>`select e.type from events e join subscriptions s on s.id = e.subscription_id where s.external_id = 's3' and e.occurred_on = '2025-03-01' order by e.id`
      expect(s3.map((r) => r.type)).toEqual(["subscription.created", "subscription.status_changed"])
    }))

  it("payments_made counts billing dates up to today, before a cancellation or expiry, none while paused; a pause moves a fixed term's expiry", () =>
    withDatabase(async (db) => {
      const dir = historyDir(
        ["s1,2025-01-10,2025-01-10", "s2,2025-01-01,2025-01-01", "s3,2025-01-01,2025-01-01,fixed:3", "s4,2025-01-01,2025-01-01,fixed:3", "s5,2025-01-20,2025-01-20", "s6,2025-03-01,2025-03-01"],
        [
          // Canceled on a billing date: that date is not billed.
          "e1,s1,cancel_immediately,2025-04-10,2025-04-10,,",
          // Paused over Apr 1, May 1 and Jun 1; billed again from Jul 1.
          "e2,s2,pause,2025-03-05,2025-03-05,,",
          "e3,s2,resume,2025-06-15,2025-06-15,,",
          // Feb 1 and Mar 1 skipped: the three payments are Jan 1, Apr 1, May 1, so the terms end Jun 1, not Apr 1.
          "e4,s3,pause,2025-01-15,2025-01-15,,",
          "e5,s3,resume,2025-03-15,2025-03-15,,",
          // At the period end, Dec 20: not billed.
          "e6,s5,cancel_at_period_end,2025-12-01,,,"
        ]
      )
      await importHistory(db.db.sql, dir, { today: "2025-12-31" })
      const rows = await db.db.sql<Array<{ external_id: string; status: string; payments_made: number; end_date: string | null }>>`
        select external_id, status, payments_made, end_date from subscriptions order by external_id`
      expect(rows.map((r) => `${r.external_id} ${r.status} ${r.payments_made} ${r.end_date}`)).toEqual([
        "s1 canceled 3 null",
        "s2 active 9 null",
        "s3 expired 3 2025-06-01",
        "s4 expired 3 2025-04-01",
        "s5 canceled 11 null",
        "s6 active 10 null"
      ])
      expect(await statusPath("s3", db)).toEqual(["2025-01-01 active", "2025-01-15 paused", "2025-03-15 active", "2025-06-01 expired"])
    }))

  it("imported journal events carry the data EVENTS.md documents", () =>
    withDatabase(async (db) => {
      await importHistory(db.db.sql, fixture, { today: "2025-12-31" })
      const journal = async (externalId: string) =>
        (await db.db.sql<Array<{ type: string; occurred_on: string; data: Record<string, unknown> }>>`
          select e.type, e.occurred_on, e.data from events e join subscriptions s on s.id = e.subscription_id where s.external_id = ${externalId} order by e.id`)
          .map((e) => ({ type: e.type, on: e.occurred_on, data: e.data }))
      const s1 = await journal("s1")
      expect(s1[0]).toEqual({
        type: "subscription.created", on: "2025-01-10",
        data: {
          name: "Coffee casual – 250 g", currency: "USD", frequency: "monthly", terms: "auto-renew", start_date: "2025-01-10", end_date: null,
          next_billing_date: "2025-01-10", collection_method: "charge", status: "active", amount: 1250,
          items: [{ name: "Coffee casual – 250 g", sku: null, unit_price: 1250, quantity: 1, one_time: false, discount: null, tax_rate_ppm: null }]
        }
      })
      expect(s1[1]).toEqual({ type: "subscription.status_changed", on: "2025-01-10", data: { from: null, to: "active", reason: "created" } })
      // Asked for on Apr 2, effective Apr 10: journaled when asked, as `subscriptions update` does.
      expect(s1).toContainEqual({
        type: "subscription.items_changed", on: "2025-04-02",
        data: {
          version: 2, effective_from: "2025-04-10", note: "upgrade to 1 kg",
          items: [{ name: "Just one more cup – 1 kg", sku: null, unit_price: 2500, quantity: 1, one_time: false, discount: { _tag: "Percent", ppm: 100000 }, tax_rate_ppm: 250000 }]
        }
      })
      // 25.00 − 10% = 22.50, + 25% tax = 28.13 per payment of version 2.
      expect(s1).toContainEqual({
        type: "payment.failed", on: "2025-05-10",
        data: { invoice_id: null, number: null, attempt: null, reason: null, amount: 2813, currency: "USD", next_retry_on: null, note: "card expired" }
      })
      expect(s1).toContainEqual({ type: "payment.succeeded", on: "2025-05-13", data: { invoice_id: null, number: null, amount: 2813, currency: "USD", via: null } })
      expect(s1).toContainEqual({ type: "invoice.paid", on: "2025-05-13", data: { invoice_id: null, number: null, total: 2813, currency: "USD" } })
      expect(s1).toContainEqual({ type: "subscription.status_changed", on: "2025-05-13", data: { from: "unpaid", to: "active", reason: "payment_recovered" } })
      expect(s1).toContainEqual({ type: "subscription.paused", on: "2025-06-20", data: { resume_on: null } })
      expect(s1).toContainEqual({ type: "subscription.resumed", on: "2025-07-20", data: { next_billing_date: "2025-08-10" } })
      expect(s1).toContainEqual({ type: "subscription.status_changed", on: "2025-07-20", data: { from: "paused", to: "active", reason: "resumed" } })
      const s3 = await journal("s3")
      expect(s3[0]!.data).toMatchObject({ status: "scheduled", amount: 1600, items: [{ discount: { _tag: "Amount", amount: 200 } }, { name: "Grinder setup", one_time: true }] })
      expect(s3).toContainEqual({ type: "subscription.status_changed", on: "2025-03-15", data: { from: "scheduled", to: "active", reason: "start_date_reached" } })
      expect(s3).toContainEqual({ type: "invoice.overdue", on: "2025-04-01", data: { invoice_id: null, number: null, total: 1600, currency: "USD", due_date: null } })
      expect(s3.filter((e) => e.on >= "2025-05-20")).toEqual([
        { type: "subscription.cancel_requested", on: "2025-05-20", data: { at_period_end: true, effective_on: "2025-06-15" } },
        { type: "subscription.property_changed", on: "2025-05-20", data: { property: "cancel_at", from: null, to: "2025-06-15" } },
        { type: "subscription.canceled", on: "2025-06-15", data: { at_period_end: true, effective_on: "2025-06-15" } },
        { type: "subscription.status_changed", on: "2025-06-15", data: { from: "active", to: "canceled", reason: "canceled_at_period_end" } }
      ])
      expect(await journal("s2")).toContainEqual({ type: "subscription.expired", on: "2025-05-01", data: { end_date: "2025-05-01" } })
      // Still pending on Dec 31: the request is in the journal, the cancellation is not yet.
      expect((await journal("s4")).slice(2)).toEqual([
        { type: "subscription.cancel_requested", on: "2025-06-01", data: { at_period_end: true, effective_on: "2026-01-01", note: "moving abroad" } },
        { type: "subscription.property_changed", on: "2025-06-01", data: { property: "cancel_at", from: null, to: "2026-01-01" } }
      ])
    }))
  it("a discount written as CLI.md spells it, \"2.50 per unit\", is an amount off each unit, as \"2.50\" is", () =>
    withDatabase(async (t) => {
      const dir = historyDir(["s1,2025-01-10,2025-01-10"], [], ["s1,2,2025-03-10,1,Plan,20.00,2,2.50 per unit,,false"])
      expect(await failureOf(t, dir, "2025-03-31")).toBe("")
      const lines = await t.db.sql<Array<{ discount_amount: number; quantity: number }>>`
        select l.discount_amount, l.quantity from line_items l join subscriptions s on s.id = l.subscription_id
        where s.external_id = 's1' and l.version = 2`
      expect(lines).toEqual([{ discount_amount: 250, quantity: 2 }])
    }))
  it("a column the history format does not have is refused, naming file, row and column, not dropped without a word; nothing is written", () =>
    withDatabase(async (t) => {
      const dir = historyDir(["s1,2025-01-10,2025-01-10"], [])
      writeFileSync(join(dir, "line_items.csv"), `${headers.line_items},discount_amount\ns1,1,2025-01-10,1,Plan,10.00,1,,,false,2.00\n`)
      expect(await failureOf(t, dir, "2025-03-31")).toBe(
        `line_items.csv:1:11: unknown column "discount_amount" (columns: ${headers.line_items.split(",").join(", ")})`)
      expect(await countOf(t, "subscriptions")).toBe(0)
    }))
  it("a bad cell in a subscription's only version-1 line is the one problem named, not also \"no line items of version 1\"", () =>
    withDatabase(async (t) => {
      const dir = historyDir([], [])
      writeFileSync(join(dir, "customers.csv"), `${headers.customers}\nc1,C,c1@example.com,USD\n`)
      writeFileSync(join(dir, "subscriptions.csv"), `${headers.subscriptions}\ns1,c1,USD,monthly,auto-renew,charge,2025-01-10,2025-01-10\n`)
      writeFileSync(join(dir, "line_items.csv"), `${headers.line_items}\ns1,1,2025-01-10,1,Plan,10.005,1,,,false\n`)
      expect(await failureOf(t, dir, "2025-03-31")).toBe('line_items.csv:2:unit_price: USD has 2 decimals; got "10.005"')
    }))
  it("an event dated after the import's today is refused, naming its row and column, not skipped (a cancellation to come was dropped and its subscription billed on)", () =>
    withDatabase(async (t) => {
      const dir = historyDir(["s1,2025-01-10,2025-01-10", "s2,2025-01-10,2025-01-10", "s3,2025-01-10,2025-01-10"], [
        "e1,s1,cancel_immediately,2025-04-01,,,",
        "e2,s2,pause,2025-03-01,2025-04-15,,",
        // A cancellation at period end asked for before today and due after it stays a pending cancellation.
        "e3,s3,cancel_at_period_end,2025-03-20,,,"
      ])
      expect((await failureOf(t, dir, "2025-03-31")).split("\n")).toEqual([
        "events.csv:2:requested_on: cancel_immediately of s1 on 2025-04-01 is after today (2025-03-31): a history holds what has happened; a change to come is made after the import (subscriptions cancel, pause, update) or, for a cancellation at period end, kept as cancel_at_period_end",
        "events.csv:3:effective_on: pause of s2 on 2025-04-15 is after today (2025-03-31): a history holds what has happened; a change to come is made after the import (subscriptions cancel, pause, update) or, for a cancellation at period end, kept as cancel_at_period_end"
      ])
      expect(await countOf(t, "subscriptions")).toBe(0)
      const ok = historyDir(["s3,2025-01-10,2025-01-10"], ["e3,s3,cancel_at_period_end,2025-03-20,,,"])
      expect(await failureOf(t, ok, "2025-03-31")).toBe("")
      const [s3] = await t.db.sql<Array<{ cancel_at: string; status: string }>>`select cancel_at::text, status from subscriptions where external_id = 's3'`
      expect(s3).toEqual({ cancel_at: "2025-04-10", status: "active" })
    }))
})

