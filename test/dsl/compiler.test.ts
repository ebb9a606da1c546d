import { describe, expect, it } from "vitest"
import { advance, checkSource, compileRules, parseRules } from "../../dsl/index.ts"

const compile = (source: string) => compileRules(parseRules(source).file.rules)
const sub = (over: Record<string, unknown> = {}) => ({ id: 1, status: "active", currency: "USD", mrr: 2500, owner: null, end_date: null, ...over })

describe("compiled rules", () => {
  const set = compile(`rule unpaid
  when subscription.status becomes "unpaid"
  where subscription.mrr >= 20.00
then
  notify owner "x"
end
rule big
  when subscription.mrr becomes >= 100.00
then
  notify owner "y"
end
rule created
  when event subscription.created
  where contact.language in ["nb", "sv"] and subscription.owner is unknown
then
  send email welcome to contact
end`)

  it("becomes fires on the transition only, not on unrelated changes", () => {
    const changed = { event: { type: "subscription.status_changed" }, subscription: sub({ status: "unpaid" }), previous: { subscription: sub() } }
    expect(set.match(changed).map((r) => r.id)).toEqual(["unpaid"])
    const unrelated = { event: { type: "subscription.property_changed" }, subscription: sub({ status: "unpaid", owner: "x" }), previous: { subscription: sub({ status: "unpaid" }) } }
    expect(set.match(unrelated)).toEqual([])
  })

  it("a money literal finer than the currency's minor unit is compared as written, not rounded to the minor unit", () => {
    const [finer] = compile(`rule finer\n  when event subscription.created\n  where subscription.mrr > 10.005\nthen\n  notify owner "x"\nend`).rules
    const at = (currency: string, mrr: number) => finer!.where({ event: { type: "subscription.created" }, subscription: sub({ currency, mrr }) })
    // 10.01 USD is above 10.005; 10.00 is not.
    expect(at("USD", 1001)).toBe(true)
    expect(at("USD", 1000)).toBe(false)
    // 11 yen is above 10.005 yen; 10 is not.
    expect(at("JPY", 11)).toBe(true)
    expect(at("JPY", 10)).toBe(false)
    // A literal at the minor unit stays exact despite binary fractions: 0.29 USD is 29 cents.
    const [exact] = compile(`rule exact\n  when event subscription.created\n  where subscription.mrr > 0.29\nthen\n  notify owner "x"\nend`).rules
    expect(exact!.where({ event: { type: "subscription.created" }, subscription: sub({ mrr: 29 }) })).toBe(false)
    expect(exact!.where({ event: { type: "subscription.created" }, subscription: sub({ mrr: 30 }) })).toBe(true)
  })

  it("compares money in the subscription's currency; unknown values never match", () => {
    const cheap = { event: { type: "subscription.status_changed" }, subscription: sub({ status: "unpaid", mrr: 1999 }), previous: { subscription: sub({ mrr: 1999 }) } }
    expect(set.match(cheap)).toEqual([])
    const yen = { event: { type: "subscription.property_changed" }, subscription: sub({ currency: "JPY", mrr: 100 }), previous: { subscription: sub({ currency: "JPY", mrr: 99 }) } }
    expect(set.match(yen).map((r) => r.id)).toEqual(["big"])
    const unknown = { event: { type: "subscription.property_changed" }, subscription: sub({ mrr: null }), previous: { subscription: sub({ mrr: null }) } }
    expect(set.match(unknown)).toEqual([])
  })

  it("event triggers with in [...] and is unknown filters", () => {
    const ev = (language: string, owner: string | null) => ({ event: { type: "subscription.created" }, subscription: sub({ owner }), contact: { language } })
    expect(set.match(ev("nb", null)).map((r) => r.id)).toEqual(["created"])
    expect(set.match(ev("en", null))).toEqual([])
    expect(set.match(ev("sv", "ops"))).toEqual([])
    expect(set.rulesFor("payment.failed")).toEqual([])
  })
})

describe("rule programs", () => {
  const [rule] = compile(`rule r
  when event subscription.created
then
  send email welcome to contact
  wait 1 month
  if subscription.status is "unpaid" then
    notify team "finance" "{{subscription.name}} unpaid"
  else
    create task "Call {{contact.name}}" for owner due in 2 days
  end
  wait until 30 days before subscription.end_date
  add contact to list "renewals"
end`).rules
  const program = rule!.program

  it("runs step by step: actions, waits that clamp to month end, if/else, waits already past continue at once", () => {
    const ctx = { subscription: sub({ name: "Coffee", end_date: "2026-03-10" }), contact: { name: "Ana" } }
    const s1 = advance(program, 0, ctx, "2026-01-31")
    expect(s1).toMatchObject({ kind: "action", action: { kind: "SendEmail", template: "welcome" }, stepKey: "step-0" })
    const s2 = advance(program, (s1 as { next: number }).next, ctx, "2026-01-31")
    expect(s2).toMatchObject({ kind: "wait", until: "2026-02-28" })
    const s3 = advance(program, (s2 as { next: number }).next, ctx, "2026-02-28")
    expect(s3).toMatchObject({ kind: "action", action: { kind: "CreateTask", title: "Call Ana", dueOn: "2026-03-02" } })
    // 30 days before Mar 10 is Feb 8, already past on Feb 28: straight to the list.
    const s4 = advance(program, (s3 as { next: number }).next, ctx, "2026-02-28")
    expect(s4).toMatchObject({ kind: "action", action: { kind: "ListChange", op: "add", list: "renewals" } })
    expect(advance(program, (s4 as { next: number }).next, ctx, "2026-02-28")).toEqual({ kind: "done" })
    const unpaid = advance(program, 2, { ...ctx, subscription: sub({ name: "Coffee", status: "unpaid" }) }, "2026-02-28")
    expect(unpaid).toMatchObject({ kind: "action", action: { kind: "Notify", text: "Coffee unpaid" } })
  })

  it("fills money into texts as rules write it, in major units of its currency (2500 cents is 25.00), not minor units", () => {
    const [money] = compile(`rule money
  when event payment.failed
then
  notify team "finance" "mrr {{subscription.mrr}}, amount {{subscription.amount}}, failed {{event.amount}}, name {{subscription.name}}"
end`).rules
    const text = (currency: string, eventCurrency?: string) =>
      (advance(money!.program, 0, { subscription: sub({ currency, mrr: 2500, amount: 7500, name: "Coffee" }), event: { type: "payment.failed", amount: 1999, ...(eventCurrency === undefined ? {} : { currency: eventCurrency }) } }, "2026-01-01") as { action: { text: string } }).action.text
    expect(text("USD")).toBe("mrr 25.00, amount 75.00, failed 19.99, name Coffee")
    expect(text("JPY")).toBe("mrr 2500, amount 7500, failed 1999, name Coffee")
    expect(text("USD", "KWD")).toBe("mrr 25.00, amount 75.00, failed 1.999, name Coffee")
  })

  it("a text set to a property is filled in as a notification's is", () => {
    const [owner] = compile(`rule owner
  when event subscription.created
then
  set subscription.owner to "{{contact.email}} ({{subscription.mrr}})"
end`).rules
    expect(advance(owner!.program, 0, { subscription: sub(), contact: { email: "ana@example.com" } }, "2026-01-01")).toMatchObject({ kind: "action", action: { kind: "Set", property: "owner", value: "ana@example.com (25.00)" } })
  })

  it("a wait until a date still ahead waits until then", () => {
    const ctx = { subscription: sub({ end_date: "2026-12-31" }), contact: {} }
    const pc = program.findIndex((i) => i.op === "waitUntil")
    expect(advance(program, pc, ctx, "2026-06-01")).toMatchObject({ kind: "wait", until: "2026-12-01" })
  })

  it("a wait until a date not known (yet) keeps waiting, looking again each day, instead of going on at once (a renewal offer sent for a subscription with no end date)", () => {
    const ctx = { subscription: sub({ end_date: null }), contact: {} }
    const pc = program.findIndex((i) => i.op === "waitUntil")
    expect(advance(program, pc, ctx, "2026-06-01")).toEqual({ kind: "wait", until: "2026-06-02", next: pc })
    // Once it is known, the wait is until the date it gives.
    expect(advance(program, pc, { ...ctx, subscription: sub({ end_date: "2026-12-31" }) }, "2026-06-02")).toMatchObject({ kind: "wait", until: "2026-12-01", next: pc + 1 })
  })
})

describe("explain", () => {
  it("shows money as the rule writes it, in major units of the subscription's currency", async () => {
    const { explainRules } = await import("../../dsl/index.ts")
    const set = compile(`rule big_unpaid
  when subscription.status becomes "unpaid"
  where subscription.mrr > 20.00
then
  send email payment_failed to contact
end`)
    const ctx = (currency: string, mrr: number) => ({
      subscription: { id: 1, status: "unpaid", mrr, currency },
      previous: { subscription: { id: 1, status: "active", mrr, currency } },
      event: { type: "subscription.status_changed" }
    })
    const [usd] = explainRules(set, new Map([["subscription.status_changed", ctx("USD", 2500)]]), ctx("USD", 2500))
    expect(usd!.conditions[1]).toMatchObject({ condition: "subscription.mrr > 20.00", old: 25, new: 25, result: true })
    const [jpy] = explainRules(set, new Map([["subscription.status_changed", ctx("JPY", 1500)]]), ctx("JPY", 1500))
    expect(jpy!.conditions[1]).toMatchObject({ old: 1500, new: 1500, result: true })
    // The status, not money, is shown as it is.
    expect(usd!.conditions[0]).toMatchObject({ old: "active", new: "unpaid" })
  })

  it("judges the newest event the rule listens to, not the first trigger's", async () => {
    const { explainRules } = await import("../../dsl/index.ts")
    const set = compile(`rule welcome_back
  when event subscription.created or subscription.status becomes "active"
then
  send email welcome to contact
end`)
    const created = { subscription: sub({ status: "scheduled" }), previous: { subscription: sub({ status: "scheduled" }) }, event: { type: "subscription.created" } }
    const recovered = { subscription: sub({ status: "active" }), previous: { subscription: sub({ status: "unpaid" }) }, event: { type: "subscription.status_changed" } }
    const stale = { ...recovered, previous: { subscription: sub({ status: "active" }) } }
    const input = (changed: typeof recovered) => ({
      current: changed, byType: new Map<string, object>([["subscription.created", created], ["subscription.status_changed", changed]]),
      enrollments: [{ id: 1, ruleId: "welcome_back", ruleVersion: "v", subscriptionId: 1, status: "done", eventId: 2, eventType: "subscription.created", trigger: "event #2", enrolledOn: "2026-01-01", eventOn: "2026-01-01", position: 1, wakeOn: null, depth: 0, program: null, updatedOn: "2026-01-01", lastError: null, stepsDone: 1 }],
      eventIds: new Map([["subscription.created", 2], ["subscription.status_changed", 9]])
    })
    // The status change (#9) is newer than the creation (#2): the verdict is on it, whether it fires or not.
    expect(explainRules({ ...set, rules: set.rules.map((r) => ({ ...r, reenroll: true })) } as typeof set, input(recovered) as never)[0]).toMatchObject({ event: "subscription.status_changed", triggered: true })
    expect(explainRules(set, { ...input(stale), enrollments: [] } as never)[0]).toMatchObject({ event: "subscription.status_changed", triggered: false })
  })

  it("a once-only event the subscription already had is not promised as 'the next' one: it does not happen again", async () => {
    const { explainRules } = await import("../../dsl/index.ts")
    const set = compile(`rule hello
  when event subscription.created
  where subscription.mrr >= 100.00
then
  send email welcome to contact
end`)
    const created = { subscription: sub(), previous: { subscription: sub() }, event: { type: "subscription.created" } }
    const [x] = explainRules(set, { current: created, byType: new Map([["subscription.created", created]]), enrollments: [], eventIds: new Map([["subscription.created", 2]]) } as never)
    expect(x!.wouldEnroll).toBe(false)
    expect(x!.next).toEqual(["event subscription.created: happens once per subscription, and it has happened (#2): it does not fire again for this subscription"])
  })

  it("a date trigger's day that has passed: fired for that date, or enrolled by the engine's next run; not 'fires on' a past day", async () => {
    const { explainRules } = await import("../../dsl/index.ts")
    const set = compile(`rule soon
  when 14 days before subscription.next_billing_date
  reenroll
then
  notify owner "soon"
end`)
    const current = { subscription: sub({ next_billing_date: "2026-01-01" }), contact: {} }
    const next = (today: string | undefined, trigger?: string) => explainRules(set, {
      current, byType: new Map(), today,
      enrollments: trigger === undefined ? [] : [{ id: 1, ruleId: "soon", ruleVersion: "v", subscriptionId: 1, status: "done", eventId: null, eventType: null, trigger, enrolledOn: "2025-12-18", eventOn: null, position: 1, wakeOn: null, depth: 0, program: null, updatedOn: "2025-12-18", lastError: null, stepsDone: 1 }]
    })[0]!.next
    expect(next("2025-12-01")).toEqual(["14 days before subscription.next_billing_date: fires on 2025-12-18"])
    expect(next("2026-01-01")).toEqual(["14 days before subscription.next_billing_date: its day 2025-12-18 has passed; the engine's next run enrolls it if subscription.next_billing_date is still 2026-01-01"])
    expect(next("2026-01-01", "date 2026-01-01")).toEqual(["14 days before subscription.next_billing_date: fired for subscription.next_billing_date 2026-01-01 (on 2025-12-18); fires again when subscription.next_billing_date changes"])
  })
})

describe("the count of payments a payment.succeeded carries", () => {
  const source = `rule second_payment
  when event payment.succeeded
  where event.payments_made is 2
then
  notify owner "second payment"
end
`
  it("checks clean: a rule on payment.succeeded may read event.payments_made, as the journal writes it", () => {
    expect(checkSource(source)).toEqual([])
  })

  it("fires on the payment that makes the count, not on others nor on a payment that counted none (a checkout's one-time invoice)", () => {
    const set = compile(source)
    const paid = (payments_made: number | null) => ({ event: { type: "payment.succeeded", amount: 2500, currency: "USD", payments_made }, subscription: sub() })
    expect(set.match(paid(2)).map((r) => r.id)).toEqual(["second_payment"])
    expect(set.match(paid(1))).toEqual([])
    expect(set.match(paid(3))).toEqual([])
    expect(set.match(paid(null))).toEqual([])
  })
})

describe("an event field misspelt", () => {
  it("is refused naming the event, with the field it nearly is", () => {
    const [d] = checkSource(`rule second_payment
  when event payment.succeeded
  where event.payment_made is 2
then
  notify owner "second payment"
end
`)
    expect(d).toMatchObject({ code: "E112", message: '"event.payment_made" is not a field of payment.succeeded', hint: 'did you mean "event.payments_made"?' })
  })
})
