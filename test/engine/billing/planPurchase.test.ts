import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { PurchaseItem } from "../../../engine/billing/index.ts"
import { addDays, BillingSchedule, fromDayNumber, planOneTimeOrder, planPurchase, toDayNumber } from "../../../engine/billing/index.ts"
import type { CalendarDate, Frequency, MinorUnits } from "../../../engine/domain/index.ts"
import { autoRenew, fixedPayments, namedFrequencies } from "../../../engine/domain/index.ts"

const today = "2026-03-01" as CalendarDate
const item = (name: string, currency: string, frequency: Frequency | undefined, unitPrice = 1000): PurchaseItem & { id: string } => ({
  id: name, currency, frequency, line: { name, unitPrice: unitPrice as MinorUnits, quantity: 1, oneTime: frequency === undefined }
})
const names = (plan: ReturnType<typeof planPurchase<PurchaseItem & { id: string }>>) =>
  plan._tag === "Planned" ? plan.subscriptions.map((s) => s.items.map((i) => i.id)) : plan.refusal

describe("planPurchase: the one planner of a purchase", () => {
  it("groups by frequency; a one-time item rides with the first subscription in its currency", () => {
    const plan = planPurchase([
      item("a", "USD", namedFrequencies.monthly, 2500), item("b", "EUR", namedFrequencies.annually), item("c", "USD", undefined, 1500),
      item("d", "EUR", undefined), item("e", "USD", namedFrequencies.monthly, 350)
    ], { terms: fixedPayments(6), startDate: "2026-04-01" as CalendarDate, today })
    expect(names(plan)).toEqual([["a", "e", "c"], ["b", "d"]])
    expect(plan._tag === "Planned" && plan.subscriptions.map((s) => [s.name, s.currency, s.status, s.endDate, s.amountPerPayment])).toEqual([
      ["a + 1 more", "USD", "scheduled", "2026-10-01", 2850],
      ["b", "EUR", "scheduled", "2032-04-01", 1000]
    ])
  })

  it("a one-time item in a currency no subscription of the purchase bills is refused, naming it, never dropped (found by an audit: a 5.00 USD setup fee beside a EUR plan vanished)", () => {
    const plan = planPurchase([item("plan", "EUR", namedFrequencies.monthly, 2500), item("setup", "USD", undefined, 500)], { terms: autoRenew, startDate: today, today })
    expect(names(plan)).toEqual({ _tag: "MixedCurrencies", currencies: ["EUR", "USD"], item: 1 })
  })

  it("names a subscription of several items in the buyer's language (found by an audit: 'Kaffeklubb måned + 1 more' in a Norwegian receipt)", () => {
    const items = [item("Kaffe", "NOK", namedFrequencies.monthly), item("Krus", "NOK", namedFrequencies.monthly), item("Filter", "NOK", namedFrequencies.monthly)]
    const nameIn = (language: string | undefined) => {
      const plan = planPurchase(items, { terms: autoRenew, startDate: today, today, language })
      return plan._tag === "Planned" ? plan.subscriptions[0]!.name : plan.refusal
    }
    expect([undefined, "en", "nb", "nl", "fr", "sv", "de"].map(nameIn)).toEqual([
      "Kaffe + 2 more", "Kaffe + 2 more", "Kaffe + 2 til", "Kaffe + 2 meer", "Kaffe + 2 autres", "Kaffe + 2 till", "Kaffe + 2 more"
    ])
    expect(planPurchase(items.slice(0, 2), { terms: autoRenew, startDate: today, today, language: "fr" })).toMatchObject({ subscriptions: [{ name: "Kaffe + 1 autre" }] })
  })

  it("'+ N more' counts the recurring items not named, never the one-time items riding with the first payment (found by an audit: 'Beans + 1 more' for beans and a setup fee)", () => {
    const nameOf = (items: ReadonlyArray<PurchaseItem>, language?: string) => {
      const plan = planPurchase(items, { terms: autoRenew, startDate: today, today, language })
      return plan._tag === "Planned" ? plan.subscriptions.map((s) => s.name) : plan.refusal
    }
    const setup = item("Setup", "NOK", undefined)
    expect(nameOf([item("Beans", "NOK", namedFrequencies.monthly), setup])).toEqual(["Beans"])
    // A one-time item listed first does not name the subscription either.
    expect(nameOf([setup, item("Beans", "NOK", namedFrequencies.monthly)], "nb")).toEqual(["Beans"])
    expect(nameOf([item("Beans", "NOK", namedFrequencies.monthly), setup, item("Mug", "NOK", undefined), item("Filter", "NOK", namedFrequencies.monthly)], "nb")).toEqual(["Beans + 1 til"])
    // An order of one-time items only counts them all: they are what it holds.
    expect(planOneTimeOrder([item("Mug", "NOK", undefined), setup], { startDate: today }).name).toBe("Mug + 1 more")
  })

  it("refuses a purchase of one-time items only, and items billed together in two currencies naming the item", () => {
    expect(names(planPurchase([item("a", "USD", undefined)], { terms: autoRenew, startDate: today, today }))).toEqual({ _tag: "NoRecurringItem", item: 0 })
    expect(names(planPurchase([item("a", "USD", undefined), item("b", "USD", namedFrequencies.monthly), item("c", "EUR", namedFrequencies.monthly)], { terms: autoRenew, startDate: today, today })))
      .toEqual({ _tag: "MixedCurrencies", currencies: ["USD", "EUR"], item: 2 })
  })

  it("every item lands on exactly one subscription of its currency, a recurring one of its frequency, a one-time one on the first in its currency", () => {
    const frequencies = [namedFrequencies.monthly, namedFrequencies.quarterly, namedFrequencies.annually, undefined]
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom("USD", "EUR"), fc.constantFrom(...frequencies)), { minLength: 1, maxLength: 12 }), (specs) => {
      const items = specs.map(([currency, frequency], i) => item(`i${i}`, currency, frequency))
      const plan = planPurchase(items, { terms: autoRenew, startDate: today, today })
      if (plan._tag === "Refused") return
      const placed = plan.subscriptions.flatMap((s) => s.items)
      expect(new Set(placed.map((p) => p.id)).size).toBe(placed.length)
      for (const r of items) expect(placed).toContain(r)
      for (const s of plan.subscriptions) {
        expect(new Set(s.items.map((i) => i.currency))).toEqual(new Set([s.currency]))
        expect(s.items.filter((i) => i.frequency !== undefined).every((i) => i.frequency === s.frequency)).toBe(true)
      }
      for (const o of items.filter((i) => i.frequency === undefined)) {
        expect(plan.subscriptions.find((s) => s.currency === o.currency)!.items).toContain(o)
      }
    }))
  })

  it("refuses a start before today, whatever the terms; today and later are planned, billing first on the start", () => {
    const monthly = [item("a", "USD", namedFrequencies.monthly)]
    expect(names(planPurchase(monthly, { terms: autoRenew, startDate: "2026-02-28" as CalendarDate, today })))
      .toEqual({ _tag: "StartsBeforeToday", startDate: "2026-02-28", today })
    expect(names(planPurchase(monthly, { terms: fixedPayments(6), startDate: "2025-03-01" as CalendarDate, today })))
      .toEqual({ _tag: "StartsBeforeToday", startDate: "2025-03-01", today })
    for (const startDate of [today, "2026-03-02" as CalendarDate]) {
      const plan = planPurchase(monthly, { terms: fixedPayments(6), startDate, today })
      expect(plan._tag === "Planned" && plan.subscriptions.map((s) => [s.startDate, s.nextBillingDate, s.periodsBilledBefore])).toEqual([[startDate, startDate, 0]])
    }
  })

  it("a migrated purchase keeps its past start as the anchor and bills next on the first anchor date on or after today", () => {
    const plan = (startDate: string, terms = autoRenew, frequency = namedFrequencies.monthly, on = "2027-05-01") =>
      planPurchase([item("a", "USD", frequency)], { terms, startDate: startDate as CalendarDate, today: on as CalendarDate, migrated: true })
    const planned = (p: ReturnType<typeof plan>) =>
      p._tag === "Planned" ? p.subscriptions.map((s) => [s.startDate, s.nextBillingDate, s.periodsBilledBefore, s.endDate, s.status]) : p.refusal
    // The tester's case: Nov 2026 to Apr 2027 were billed by the old system; May's period is the first billcycle bills.
    expect(planned(plan("2026-11-01"))).toEqual([["2026-11-01", "2027-05-01", 6, null, "active"]])
    expect(planned(plan("2026-11-15"))).toEqual([["2026-11-15", "2027-05-15", 6, null, "active"]])
    expect(planned(plan("2027-01-31", autoRenew, namedFrequencies.monthly, "2027-04-01"))).toEqual([["2027-01-31", "2027-04-30", 3, null, "active"]])
    // Fixed terms are the contract from the original start: its end date stays, the payments before today count.
    expect(planned(plan("2027-01-01", fixedPayments(6)))).toEqual([["2027-01-01", "2027-05-01", 4, "2027-07-01", "active"]])
    // Every payment made before today, the last period still running: nothing more to bill, it expires on its end date.
    expect(planned(plan("2026-12-01", fixedPayments(6), namedFrequencies.monthly, "2027-05-20"))).toEqual([["2026-12-01", "2027-06-01", 6, "2027-06-01", "active"]])
    // A term that ended before today has nothing left to bill: refused.
    expect(planned(plan("2026-01-01", fixedPayments(6)))).toEqual({ _tag: "TermEndedBeforeToday", endDate: "2026-07-01", today: "2027-05-01" })
    // A start today or later is planned as any purchase.
    expect(planned(plan("2027-05-01", fixedPayments(6)))).toEqual([["2027-05-01", "2027-05-01", 0, "2027-11-01", "active"]])
    expect(planned(plan("2027-06-01"))).toEqual([["2027-06-01", "2027-06-01", 0, null, "scheduled"]])
  })

  it("a migrated purchase never bills a period that began before today, and never more payments than its terms", () => {
    const frequencies = Object.values(namedFrequencies)
    fc.assert(fc.property(
      fc.integer({ min: toDayNumber("1990-01-01" as CalendarDate), max: toDayNumber("2030-12-31" as CalendarDate) }),
      fc.integer({ min: 0, max: 4000 }),
      fc.constantFrom(...frequencies),
      fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
      (startDay, daysLater, frequency, payments) => {
        const startDate = fromDayNumber(startDay)
        const on = addDays(startDate, daysLater)
        const terms = payments === undefined ? autoRenew : fixedPayments(payments)
        const plan = planPurchase([item("a", "USD", frequency)], { terms, startDate, today: on, migrated: true })
        const schedule = new BillingSchedule(startDate, frequency)
        if (plan._tag === "Refused") {
          // Only a fixed term whose end date is before today is refused.
          expect(plan.refusal).toEqual({ _tag: "TermEndedBeforeToday", endDate: schedule.endDate(payments!), today: on })
          expect(toDayNumber(schedule.endDate(payments!))).toBeLessThan(toDayNumber(on))
          return
        }
        const [s] = plan.subscriptions
        const k = s!.periodsBilledBefore
        // On the anchor's schedule, on or after today; the date before it (billed elsewhere) before today.
        expect(s!.nextBillingDate).toBe(schedule.dateAt(k))
        expect(toDayNumber(s!.nextBillingDate)).toBeGreaterThanOrEqual(toDayNumber(on))
        if (k > 0) expect(toDayNumber(schedule.dateAt(k - 1))).toBeLessThan(toDayNumber(on))
        expect(s!.startDate).toBe(startDate)
        if (payments !== undefined) {
          expect(k).toBeLessThanOrEqual(payments)
          expect(s!.endDate).toBe(schedule.endDate(payments))
        }
      }
    ))
  })
})
