import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compileRules, parseRules } from "../../../dsl/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { writeJournal } from "../../../engine/sql/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { enrollFromJournal, runDueEnrollments } from "../../../engine/enrollments/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { createSubscription } from "./engineHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

const rules = compileRules(parseRules(`rule unpaid
  when subscription.status becomes "unpaid"
  reenroll
  unenroll when subscription.status is "active"
then
  send email payment_failed to contact
  wait 3 days
  notify team "finance" "{{subscription.name}} still unpaid"
end
rule renewal
  when subscription.end_date becomes known
then
  add contact to list "renewals"
  wait until 30 days before subscription.end_date
  send email renewal_offer to contact
end`).file.rules)

const ctxAt = async (date: string, failpoint: (name: string) => void = () => {}): Promise<EngineContext> =>
  makeEngineContext(await loadSettings(t.db.sql), date as CalendarDate, { owner: "test", failpoint })

const tick = async (date: string, failpoint?: (name: string) => void) => {
  const ctx = await ctxAt(date, failpoint)
  await enrollFromJournal(t.db.sql, ctx, rules, 1000)
  return runDueEnrollments(t.db.sql, ctx, 1000, ctx.failpoint)
}

const setStatus = async (id: number, from: string, to: string, on: string) => {
  await t.db.sql`update subscriptions set status = ${to} where id = ${id}`
  await t.db.sql.begin((tx) => writeJournal(tx, [{ type: "subscription.status_changed", subscriptionId: id, occurredOn: on, data: { from, to } }]))
}

const emails = async (id: number, template: string) =>
  (await t.db.sql`select count(*)::int as n from outbox where subscription_id = ${id} and template = ${template}`)[0]!["n"]

describe(`rules in the engine (${backend})`, () => {
  it("becomes fires once on the transition, not on unrelated changes; re-enrolls on the next transition; unenrolls during a wait", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-03-01" })
    await tick("2026-03-01")
    await setStatus(id, "active", "unpaid", "2026-03-02")
    await t.db.sql.begin((tx) => writeJournal(tx, [{ type: "subscription.property_changed", subscriptionId: id, occurredOn: "2026-03-02", data: { property: "owner", from: null, to: "x" } }]))
    await tick("2026-03-02")
    expect(await emails(id, "payment_failed")).toBe(1)
    // Back to active during the 3-day wait: unenrolled, the notification never goes out.
    await setStatus(id, "unpaid", "active", "2026-03-03")
    await tick("2026-03-05")
    expect(await emails(id, "internal_notification")).toBe(0)
    const [e] = await t.db.sql`select status from enrollments where subscription_id = ${id} and rule_id = 'unpaid'`
    expect(e!["status"]).toBe("unenrolled")
    // Unpaid again: a new enrollment (reenroll), and this time it runs to the end.
    await setStatus(id, "active", "unpaid", "2026-04-02")
    await tick("2026-04-02")
    await tick("2026-04-05")
    expect(await emails(id, "payment_failed")).toBe(2)
    expect(await emails(id, "internal_notification")).toBe(1)
  })

  it("wait until 30 days before the end date; a date already past continues at once", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-01-15", payments: 6 })
    await t.db.sql.begin((tx) => writeJournal(tx, [{ type: "subscription.property_changed", subscriptionId: id, occurredOn: "2026-01-15", data: { property: "end_date", from: null, to: "2026-07-15" } }]))
    await tick("2026-01-15")
    const [member] = await t.db.sql`select count(*)::int as n from list_members where list_name = 'renewals'`
    expect(member!["n"]).toBeGreaterThanOrEqual(1)
    await tick("2026-06-14")
    expect(await emails(id, "renewal_offer")).toBe(0)
    await tick("2026-06-15")
    expect(await emails(id, "renewal_offer")).toBe(1)
  })

  it("a crash during a step does not repeat its email", async () => {
    const id = await createSubscription(t.db.sql, { start: "2026-05-01" })
    await tick("2026-05-01")
    await setStatus(id, "active", "unpaid", "2026-05-02")
    const crash = (name: string) => { if (name === "after-rule-step") throw new Error("power cut") }
    await expect(tick("2026-05-02", crash)).rejects.toThrow("power cut")
    expect(await emails(id, "payment_failed")).toBe(0)
    await tick("2026-05-02")
    await tick("2026-05-02")
    expect(await emails(id, "payment_failed")).toBe(1)
  })
})

describe(`rules explain (${backend})`, () => {
  it("says for each rule whether it would enroll, with old and new values", async () => {
    const { explainRules } = await import("../../../dsl/index.ts")
    const { explainContexts } = await import("../../../engine/enrollments/index.ts")
    const id = await createSubscription(t.db.sql, { start: "2026-08-01" })
    await setStatus(id, "active", "unpaid", "2026-08-02")
    const contexts = (await explainContexts(t.db.sql, id))!
    const [unpaid, renewal] = explainRules(rules, contexts.byType, contexts.current)
    expect(unpaid).toMatchObject({ rule: "unpaid", event: "subscription.status_changed", triggered: true, wouldEnroll: true })
    expect(unpaid!.conditions[0]).toMatchObject({ condition: 'subscription.status becomes "unpaid"', old: "active", new: "unpaid", result: true })
    expect(renewal).toMatchObject({ rule: "renewal", wouldEnroll: false })
  })
})

describe(`date triggers (${backend})`, () => {
  it("enroll once per date value on the day the offset date is reached", async () => {
    const { enrollDateTriggers } = await import("../../../engine/enrollments/index.ts")
    const dated = compileRules(parseRules(`rule before_billing
  when 3 days before subscription.next_billing_date
then
  send email reminder to contact
end`).file.rules)
    const id = await createSubscription(t.db.sql, { start: "2026-10-20" })
    const count = async () => (await t.db.sql`select count(*)::int as n from enrollments where rule_id = 'before_billing' and subscription_id = ${id}`)[0]!["n"]
    await enrollDateTriggers(t.db.sql, await ctxAt("2026-10-16"), dated, 100)
    expect(await count()).toBe(0)
    await enrollDateTriggers(t.db.sql, await ctxAt("2026-10-17"), dated, 100)
    await enrollDateTriggers(t.db.sql, await ctxAt("2026-10-18"), dated, 100)
    expect(await count()).toBe(1)
    // Enrolled on the business day the trigger fired, not the wall clock's (which `simulate` and a test clock are not on).
    const { enrollmentRecordOf, enrollmentsQuery } = await import("../../../engine/enrollments/index.ts")
    expect((await enrollmentsQuery(t.db.sql, { subscriptionId: id, ruleId: "before_billing" })).map((r) => enrollmentRecordOf(r).enrolledOn)).toEqual(["2026-10-17"])
  })
})

describe(`imported history (${backend})`, () => {
  it("starts no workflow: the rules read past replayed events, and what happens afterwards enrolls as usual", async () => {
    const { importHistory } = await import("../../../engine/imports/index.ts")
    const { fileURLToPath } = await import("node:url")
    const dir = fileURLToPath(new URL("../../reports/fixtures/independent/", import.meta.url))
    await tick("2026-07-15") // the journal so far
    await importHistory(t.db.sql, dir, { today: "2026-07-15" as CalendarDate })
    // The history holds customers who became unpaid (c03 still is): the unpaid rule would match them.
    const imported = (await t.db.sql<Array<{ id: number; status: string }>>`select id, status from subscriptions where external_id is not null`)
    expect(imported.filter((s) => s.status === "unpaid").length).toBeGreaterThan(0)
    const [last] = await t.db.sql<Array<{ id: number }>>`select max(id)::int8 as id from events where source = 'history'`
    await tick("2026-07-15")
    const enrolled = async () => (await t.db.sql`select count(*)::int as n from enrollments where subscription_id = any(${imported.map((s) => s.id)})`)[0]!["n"]
    expect(await enrolled()).toBe(0)
    const [offset] = await t.db.sql<Array<{ last_event_id: number }>>`select last_event_id from journal_offsets where consumer = 'rules'`
    expect(Number(offset!.last_event_id)).toBeGreaterThanOrEqual(Number(last!.id))
    // A payment failing now, after the import, is ours: the rule enrolls.
    const active = imported.find((s) => s.status === "active")!
    await setStatus(active.id, "active", "unpaid", "2026-07-16")
    await tick("2026-07-16")
    expect(await enrolled()).toBe(1)
  })
})
