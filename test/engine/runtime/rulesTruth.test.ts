/**
 * The findings of issue #15 (runtime side), each as the ops person saw it:
 * rules see the truth at the event, cascades finish in the same run, a newly
 * loaded rule does not replay history, explain tells what happened.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compileRules, explainRules, parseRules } from "../../../dsl/index.ts"
import type { CompiledRuleSet } from "../../../dsl/index.ts"
import { autoRenew, parseItemSpec } from "../../../engine/domain/index.ts"
import type { CalendarDate, ItemSpec } from "../../../engine/domain/index.ts"
import { EngineState, runRulesTick, runTick, TickHooks } from "../../../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { addContact } from "../../../engine/catalogue/index.ts"
import { explainContexts } from "../../../engine/enrollments/index.ts"
import { createSubscriptions, updateSubscription } from "../../../engine/subscriptions/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { contextAt } from "./engineHarness.ts"

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase()
})
afterAll(async () => {
  await t.close()
})

let n = 0
const item = (text: string): ItemSpec => parseItemSpec(text) as ItemSpec

/** A contact and its subscription, written by the same code the CLI calls (events included). */
const subscribe = async (on: string, opts: { items?: Array<string>; country?: string; paymentMethod?: string } = {}) => {
  const email = `truth${++n}-${Date.now()}@example.com`
  const ctx = await contextAt(t, on)
  await addContact(t.db.sql, { email, name: `Buyer ${n}`, paymentMethod: opts.paymentMethod ?? "pm_ok", country: opts.country }, on)
  const [s] = await createSubscriptions(t.db.sql, ctx, {
    contactEmail: email, items: (opts.items ?? ["name=Beans,price=25.00,frequency=monthly"]).map(item), start: { _tag: "Today" }, terms: autoRenew,
    collection: "charge", paymentTerms: undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false
  })
  return s!.id
}

const rulesOf = (text: string) => compileRules(parseRules(text).file.rules)

/** One engine tick at `date` with these rules plugged in, as `engine --once --rules` runs it. */
const tick = (date: string, set: CompiledRuleSet, options: { enrollExisting?: boolean } = {}) => {
  const hooks = Layer.succeed(TickHooks, {
    runRules: (ctx) => runRulesTick(() => set, ctx, 1000, options).pipe(Effect.provide(t.layer)),
    deliverOutbox: () => Effect.succeed(0)
  })
  const layer = Layer.mergeAll(t.layer, BusinessClock.fixed(dayTime(date as CalendarDate)), hooks, Gateway.simulated.pipe(Layer.provide(t.layer)), EngineState.layer)
  return Effect.runPromise(runTick({ batch: 100 }).pipe(Effect.provide(layer)))
}

const enrollments = async (id: number, rule: string) =>
  t.db.sql<Array<{ status: string; trigger_event_id: number | null }>>`select status, trigger_event_id from enrollments where subscription_id = ${id} and rule_id = ${rule} order by id`

const inList = async (id: number, list: string) =>
  (await t.db.sql`select count(*)::int as n from list_members m join subscriptions s on s.contact_id = m.contact_id where s.id = ${id} and m.list_name = ${list}`)[0]!["n"] as number

describe(`rules see the truth at the event (${backend})`, () => {
  it("subscription.frequency and contact.country are filled: an annual Norwegian subscription matches, not (frequency is annually) does not", async () => {
    const set = rulesOf(`rule yearly_no
  when event subscription.created
  where subscription.frequency is "annually" and contact.country is "NO"
then
  add contact to list "yearly_no"
end
rule not_yearly
  when event subscription.created
  where not (subscription.frequency is "annually")
then
  add contact to list "not_yearly"
end`)
    await tick("2026-01-01", set)
    const id = await subscribe("2026-01-02", { items: ["name=Beans,price=250.00,frequency=annually"], country: "NO" })
    await tick("2026-01-02", set)
    expect(await enrollments(id, "yearly_no")).toHaveLength(1)
    expect(await enrollments(id, "not_yearly")).toHaveLength(0)
  })

  it("subscription.mrr becomes >= 30.00 fires after an upgrade (items_changed carries the new mrr)", async () => {
    const set = rulesOf(`rule big_spender
  when subscription.mrr becomes >= 30.00
then
  add contact to list "big"
end`)
    await tick("2026-02-01", set)
    const id = await subscribe("2026-02-01")
    await tick("2026-02-01", set)
    expect(await enrollments(id, "big_spender")).toHaveLength(0)
    await updateSubscription(t.db.sql, await contextAt(t, "2026-02-10"), id, { items: [item("name=Beans,price=35.00,frequency=monthly")] })
    await tick("2026-02-10", set)
    expect(await enrollments(id, "big_spender")).toHaveLength(1)
    expect(await inList(id, "big")).toBe(1)
  })

  it("a rule reacting to another rule's change enrolls and runs in the same engine run", async () => {
    const set = rulesOf(`rule assign
  when event subscription.created
then
  set subscription.owner to "anna@beanthere.example"
end
rule owner_welcome
  when subscription.owner becomes "anna@beanthere.example"
then
  add contact to list "anna"
end`)
    await tick("2026-03-01", set)
    const id = await subscribe("2026-03-01")
    await tick("2026-03-01", set)
    expect(await enrollments(id, "owner_welcome")).toHaveLength(1)
    expect(await inList(id, "anna")).toBe(1)
  })

  it("event subscription.created where status is active: judged at the event, not after the same run's failed first charge", async () => {
    const set = rulesOf(`rule active_welcome
  when event subscription.created
  where subscription.status is "active"
then
  add contact to list "welcomed"
end`)
    await tick("2026-04-01", set)
    const id = await subscribe("2026-04-01", { paymentMethod: "pm_declined" })
    await tick("2026-04-01", set)
    const [s] = await t.db.sql`select status from subscriptions where id = ${id}`
    expect(s!["status"]).toBe("unpaid")
    expect(await enrollments(id, "active_welcome")).toHaveLength(1)
    // explain reasons from the same truth: the status at the creation event, not today's.
    const [x] = explainRules(set, (await explainContexts(t.db.sql, id))!)
    expect(x!.filterTree).toMatchObject({ condition: "subscription.status is \"active\"", value: "active", result: true })
  })

  it("a newly loaded rule does not enroll existing records; --enroll-existing replays them", async () => {
    const id = await subscribe("2026-05-01")
    const first = rulesOf(`rule late_rule
  when event subscription.created
then
  add contact to list "late"
end`)
    await tick("2026-05-02", first)
    expect(await enrollments(id, "late_rule")).toHaveLength(0)
    // A subscription created after the rule was loaded enrolls as usual.
    const later = await subscribe("2026-05-03")
    await tick("2026-05-03", first)
    expect(await enrollments(later, "late_rule")).toHaveLength(1)
    // Another new rule, loaded with --enroll-existing, replays history: both enroll, once.
    const second = rulesOf(`rule late_rule
  when event subscription.created
then
  add contact to list "late"
end
rule replayed
  when event subscription.created
then
  add contact to list "replayed"
end`)
    await tick("2026-05-04", second, { enrollExisting: true })
    expect(await enrollments(id, "replayed")).toHaveLength(1)
    expect(await enrollments(later, "replayed")).toHaveLength(1)
    // The rule already in force does not replay what it has seen.
    expect(await enrollments(id, "late_rule")).toHaveLength(0)
    expect(await enrollments(later, "late_rule")).toHaveLength(1)
  })

  it("explain of a rule the engine has not loaded yet says what the engine will do: it starts after the journal, so an existing subscription does not enroll", async () => {
    const id = await subscribe("2026-05-10")
    const set = rulesOf(`rule never_loaded
  when event subscription.created
then
  add contact to list "never_loaded"
end`)
    const [before] = explainRules(set, (await explainContexts(t.db.sql, id))!)
    expect(before!.wouldEnroll).toBe(false)
    expect(before!.reason).toContain("not been loaded")
    expect(before!.reason).toContain("--enroll-existing")
    // What the engine then does, loading it without --enroll-existing: the explanation was the truth.
    await tick("2026-05-10", set)
    expect(await enrollments(id, "never_loaded")).toHaveLength(0)
    const [after] = explainRules(set, (await explainContexts(t.db.sql, id))!)
    expect(after!.wouldEnroll).toBe(false)
    expect(after!.reason).toContain("before the rule was loaded")
  })

  it("explain says a once-only rule already enrolled the subscription (when, by which event, where it is now), and shows the filter as its tree", async () => {
    const set = rulesOf(`rule onboard
  when event subscription.created
  where subscription.status is "active" and (subscription.mrr >= 20.00 or not (contact.country is "NO"))
then
  add contact to list "onboard"
  wait 1 month
  add contact to list "onboard2"
end`)
    await tick("2026-06-01", set)
    const id = await subscribe("2026-06-01", { country: "SE" })
    await tick("2026-06-01", set)
    const contexts = await explainContexts(t.db.sql, id)
    const [x] = explainRules(set, contexts!)
    expect(x!.enrollment).toMatchObject({ status: "waiting", event: "subscription.created", wakeOn: "2026-07-01" })
    expect(x!.enrollment!.remaining).toEqual(["add contact to list \"onboard2\""])
    expect(x!.wouldEnroll).toBe(false)
    expect(x!.filterTree).toMatchObject({
      op: "and", result: true,
      children: [
        { condition: "subscription.status is \"active\"", value: "active", result: true },
        { op: "or", result: true, children: [
          { condition: "subscription.mrr >= 20.00", value: 25, result: true },
          { op: "not", result: true, children: [{ condition: "contact.country is \"NO\"", value: "SE", result: false }] }
        ] }
      ]
    })
  })
})
