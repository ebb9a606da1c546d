import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { PurchaseItem } from "../../../engine/billing/index.ts"
import { planPurchase } from "../../../engine/billing/index.ts"
import type { CalendarDate, Frequency, MinorUnits } from "../../../engine/domain/index.ts"
import { autoRenew, fixedPayments, namedFrequencies } from "../../../engine/domain/index.ts"

const today = "2026-03-01" as CalendarDate
const item = (name: string, currency: string, frequency: Frequency | undefined, unitPrice = 1000): PurchaseItem & { id: string } => ({
  id: name, currency, frequency, line: { name, unitPrice: unitPrice as MinorUnits, quantity: 1, oneTime: frequency === undefined }
})
const names = (plan: ReturnType<typeof planPurchase<PurchaseItem & { id: string }>>) =>
  plan._tag === "Planned" ? plan.subscriptions.map((s) => s.items.map((i) => i.id)) : plan.refusal

describe("planPurchase: the one planner of a purchase", () => {
  it("groups by frequency; one-time items ride with the first subscription, in its currency only", () => {
    const plan = planPurchase([
      item("a", "USD", namedFrequencies.monthly, 2500), item("b", "EUR", namedFrequencies.annually), item("c", "USD", undefined, 1500),
      item("d", "EUR", undefined), item("e", "USD", namedFrequencies.monthly, 350)
    ], { terms: fixedPayments(6), startDate: "2026-04-01" as CalendarDate, today })
    expect(names(plan)).toEqual([["a", "e", "c"], ["b"]])
    expect(plan._tag === "Planned" && plan.subscriptions.map((s) => [s.name, s.currency, s.status, s.endDate, s.amountPerPayment])).toEqual([
      ["a + 2 more", "USD", "scheduled", "2026-10-01", 2850],
      ["b", "EUR", "scheduled", "2032-04-01", 1000]
    ])
  })

  it("refuses a purchase of one-time items only, and items billed together in two currencies naming the item", () => {
    expect(names(planPurchase([item("a", "USD", undefined)], { terms: autoRenew, startDate: today, today }))).toEqual({ _tag: "NoRecurringItem", item: 0 })
    expect(names(planPurchase([item("a", "USD", undefined), item("b", "USD", namedFrequencies.monthly), item("c", "EUR", namedFrequencies.monthly)], { terms: autoRenew, startDate: today, today })))
      .toEqual({ _tag: "MixedCurrencies", currencies: ["USD", "EUR"], item: 2 })
  })

  it("every recurring item lands on exactly one subscription of its frequency and currency; each one-time item at most once", () => {
    const frequencies = [namedFrequencies.monthly, namedFrequencies.quarterly, namedFrequencies.annually, undefined]
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom("USD", "EUR"), fc.constantFrom(...frequencies)), { minLength: 1, maxLength: 12 }), (specs) => {
      const items = specs.map(([currency, frequency], i) => item(`i${i}`, currency, frequency))
      const plan = planPurchase(items, { terms: autoRenew, startDate: today, today })
      if (plan._tag === "Refused") return
      const placed = plan.subscriptions.flatMap((s) => s.items)
      expect(new Set(placed.map((p) => p.id)).size).toBe(placed.length)
      for (const r of items.filter((i) => i.frequency !== undefined)) expect(placed).toContain(r)
      for (const s of plan.subscriptions) {
        expect(new Set(s.items.map((i) => i.currency))).toEqual(new Set([s.currency]))
        expect(s.items.filter((i) => i.frequency !== undefined).every((i) => i.frequency === s.frequency)).toBe(true)
      }
      expect(plan.subscriptions.slice(1).every((s) => s.items.every((i) => i.frequency !== undefined))).toBe(true)
    }))
  })
})
