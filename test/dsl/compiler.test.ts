import { describe, expect, it } from "vitest"
import { advance, compileRules, parseRules } from "../../dsl/index.ts"

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

  it("a wait until a date still ahead waits until then", () => {
    const ctx = { subscription: sub({ end_date: "2026-12-31" }), contact: {} }
    const pc = program.findIndex((i) => i.op === "waitUntil")
    expect(advance(program, pc, ctx, "2026-06-01")).toMatchObject({ kind: "wait", until: "2026-12-01" })
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
})
