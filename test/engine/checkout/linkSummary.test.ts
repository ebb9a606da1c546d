/**
 * The summary a buyer sees on a payment link (reference, "Payment links", "Summary"): due today, the future
 * payments, and a total only when the number of payments is fixed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chooseItems, linkSummary, lowestChoices, minimumDueAtCheckout } from "../../../engine/checkout/index.ts"
import { planPurchase } from "../../../engine/billing/index.ts"
import type { CalendarDate, DiscountCode, LinkItem, PaymentLink } from "../../../engine/domain/index.ts"
import { BuyerChoiceRefused } from "../../../engine/domain/index.ts"

const today = "2026-03-01" as CalendarDate
const monthly = { unit: "month", count: 1 } as const
const yearly = { unit: "year", count: 1 } as const
const item = (over: Partial<LinkItem>): LinkItem => ({ name: "Beans", unitPrice: 2500, quantity: 1, frequency: monthly, optional: false, ...over })
type Summarised = Pick<PaymentLink, "items" | "currency" | "terms" | "start" | "orderDiscount">
const link = (items: Array<LinkItem>, over: Partial<Summarised> = {}): Summarised => ({
  items, currency: "USD", terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, ...over
})
const code = (over: Partial<DiscountCode>): DiscountCode => ({
  id: 1, code: "SAVE", off: { _tag: "Percent", ppm: 100_000 }, duration: { _tag: "Once" }, expiresOn: undefined, maxRedemptions: undefined,
  redemptions: 0, active: true, createdOn: today, ...over
})

describe("linkSummary", () => {
  it("a one-time item: due today is its price, no future payments, and the total is what is due today", () => {
    const s = linkSummary(link([item({ frequency: undefined, unitPrice: 4000, quantity: 2 })]), {}, today)
    expect(s.dueToday).toEqual({ amount: 8000, currency: "USD" })
    expect(s.futurePayments).toEqual([])
    expect(s.total).toEqual({ amount: 8000, currency: "USD" })
  })

  it("auto-renew monthly: the first payment is due today, the rest are future payments with no end and no total", () => {
    const s = linkSummary(link([item({})]), {}, today)
    expect(s.dueToday.amount).toBe(2500)
    expect(s.futurePayments).toEqual([
      { subscription: 0, name: "Beans", frequency: monthly, firstDate: "2026-04-01", amount: { amount: 2500, currency: "USD" }, payments: undefined }
    ])
    expect(s.total).toBeUndefined()
  })

  it("six fixed monthly payments: one today, five later, a total of six", () => {
    const s = linkSummary(link([item({})], { terms: { _tag: "Fixed", payments: 6 } }), {}, today)
    expect(s.dueToday.amount).toBe(2500)
    expect(s.futurePayments.map((f) => [f.firstDate, f.amount.amount, f.payments])).toEqual([["2026-04-01", 2500, 5]])
    expect(s.total).toEqual({ amount: 15_000, currency: "USD" })
  })

  it("a monthly and a yearly item are two subscriptions, two streams of future payments, as planPurchase plans them", () => {
    const l = link([item({ name: "Monthly beans" }), item({ name: "Yearly grinder service", unitPrice: 12_000, frequency: yearly })], { terms: { _tag: "Fixed", payments: 2 } })
    const s = linkSummary(l, {}, today)
    expect(s.dueToday.amount).toBe(14_500)
    expect(s.futurePayments.map((f) => [f.subscription, f.name, f.firstDate, f.amount.amount, f.payments])).toEqual([
      [0, "Monthly beans", "2026-04-01", 2500, 1],
      [1, "Yearly grinder service", "2027-03-01", 12_000, 1]
    ])
    expect(s.total!.amount).toBe(29_000)
    const plan = planPurchase(s.items, { terms: l.terms, startDate: s.startDate, today })
    expect(plan._tag === "Planned" && plan.subscriptions.length).toBe(2)
  })

  it("a delayed start: only one-time items are due today; the first payment is on the start date", () => {
    const l = link([item({}), item({ name: "Deposit", frequency: undefined, unitPrice: 1000 })], { start: { _tag: "DelayMonths", months: 1 }, terms: { _tag: "Fixed", payments: 3 } })
    const s = linkSummary(l, {}, today)
    expect(s.dueToday.amount).toBe(1000)
    expect(s.futurePayments.map((f) => [f.firstDate, f.amount.amount, f.payments])).toEqual([["2026-04-01", 2500, 3]])
    expect(s.total!.amount).toBe(1000 + 3 * 2500)
  })

  it("a start 14 days after checkout and on a date", () => {
    expect(linkSummary(link([item({})], { start: { _tag: "DelayDays", days: 14 } }), {}, today).futurePayments[0]!.firstDate).toBe("2026-03-15")
    expect(linkSummary(link([item({})], { start: { _tag: "Date", date: "2026-05-31" as CalendarDate } }), {}, today).futurePayments[0]!.firstDate).toBe("2026-05-31")
  })

  it("a start date that has passed starts billing at checkout: the first payment is due today, no period before it", () => {
    const s = linkSummary(link([item({})], { start: { _tag: "Date", date: "2026-01-15" as CalendarDate }, terms: { _tag: "Fixed", payments: 3 } }), {}, today)
    expect(s.startDate).toBe(today)
    expect(s.dueToday.amount).toBe(2500)
    expect(s.futurePayments.map((f) => [f.firstDate, f.payments])).toEqual([["2026-04-01", 2]])
  })

  it("a unit discount applies to every payment; the one-time order discount only to what is due today", () => {
    const l = link([item({ discount: { _tag: "Percent", ppm: 200_000 } })], { orderDiscount: { _tag: "Amount", amount: 500 }, terms: { _tag: "Fixed", payments: 3 } })
    const s = linkSummary(l, {}, today)
    expect(s.subtotal.amount).toBe(2000)
    expect(s.orderDiscount.amount).toBe(500)
    expect(s.dueToday.amount).toBe(1500)
    expect(s.futurePayments.map((f) => [f.amount.amount, f.payments])).toEqual([[2000, 2]])
    expect(s.total!.amount).toBe(1500 + 4000)
  })

  it("optional items count only when ticked; editable quantities and own prices as chosen", () => {
    const l = link([
      item({ name: "Beans" }),
      item({ name: "Mug", frequency: undefined, unitPrice: 1200, optional: true }),
      item({ name: "Filters", frequency: undefined, unitPrice: 300, editableQuantity: { min: 1, max: 10 } }),
      item({ name: "Tip", frequency: monthly, unitPrice: 500, ownPrice: { minimum: 100 } })
    ])
    expect(linkSummary(l, {}, today).dueToday.amount).toBe(2500 + 300 + 500)
    const chosen = linkSummary(l, { items: new Map([[1, { include: true }], [2, { quantity: 4 }], [3, { unitPrice: 2000 }]]) }, today)
    expect(chosen.dueToday.amount).toBe(2500 + 1200 + 1200 + 2000)
    expect(chosen.futurePayments.map((f) => f.amount.amount)).toEqual([4500])
  })

  it("refuses a quantity outside min..max, a price under the minimum, and changes the link does not allow", () => {
    const l = link([item({ editableQuantity: { min: 2, max: 5 }, quantity: 2 }), item({ ownPrice: { minimum: 100 } }), item({ name: "Fixed" })])
    const refusal = (choices: Parameters<typeof chooseItems>[1]) => {
      try {
        chooseItems(l, choices)
        return undefined
      } catch (e) {
        expect(e).toBeInstanceOf(BuyerChoiceRefused)
        return (e as BuyerChoiceRefused).reason
      }
    }
    expect(refusal({ items: new Map([[0, { quantity: 6 }]]) })).toBe("QuantityOutOfRange")
    expect(refusal({ items: new Map([[0, { quantity: 2.5 }]]) })).toBe("QuantityOutOfRange")
    expect(refusal({ items: new Map([[1, { unitPrice: 99 }]]) })).toBe("PriceBelowMinimum")
    // More than one line can hold: refused as a choice (it threw a PricingError: a 500 page, a 500 preview).
    expect(refusal({ items: new Map([[1, { unitPrice: 999_999_999_999_900 }]]) })).toBe("PriceAboveMaximum")
    expect(refusal({ items: new Map([[2, { quantity: 3 }]]) })).toBe("QuantityNotEditable")
    expect(refusal({ items: new Map([[2, { unitPrice: 1 }]]) })).toBe("PriceNotOwn")
    expect(refusal({ items: new Map([[2, { include: false }]]) })).toBe("NotOptional")
    expect(refusal({ items: new Map([[7, { include: true }]]) })).toBe("NoSuchItem")
    expect(refusal({ items: new Map([[0, { quantity: 5 }], [1, { unitPrice: 100 }]]) })).toBeUndefined()
  })

  it("a code once: off today's payment only; for 3 payments: today's and the next two; forever: every payment", () => {
    const l = link([item({ unitPrice: 1000 })], { terms: { _tag: "Fixed", payments: 6 } })
    const once = linkSummary(l, { discountCode: code({}) }, today)
    expect([once.dueToday.amount, once.futurePayments.map((f) => [f.amount.amount, f.payments])]).toEqual([900, [[1000, 5]]])
    const three = linkSummary(l, { discountCode: code({ duration: { _tag: "Payments", payments: 3 } }) }, today)
    expect([three.dueToday.amount, three.futurePayments.map((f) => [f.firstDate, f.amount.amount, f.payments])]).toEqual([900, [["2026-04-01", 900, 2], ["2026-06-01", 1000, 3]]])
    expect(three.total!.amount).toBe(3 * 900 + 3 * 1000)
    const forever = linkSummary(link([item({ unitPrice: 1000 })]), { discountCode: code({ off: { _tag: "Amount", amount: 250, currency: "USD" }, duration: { _tag: "Forever" } }) }, today)
    expect([forever.dueToday.amount, forever.futurePayments.map((f) => [f.amount.amount, f.payments])]).toEqual([750, [[750, undefined]]])
  })

  it("a code for N payments discounts N charges in all, today's checkout charge the first, whether billing starts at checkout or a month later; once is 1; forever every payment", () => {
    // A 10.00 setup today, then 30.00 monthly from a month later; 50% off.
    const delayed = link([item({ name: "Plan", unitPrice: 3000 }), item({ name: "Setup", unitPrice: 1000, frequency: undefined })], {
      start: { _tag: "DelayMonths", months: 1 }
    })
    const half = (duration: DiscountCode["duration"]) => ({ discountCode: code({ off: { _tag: "Percent", ppm: 500_000 }, duration }) })
    const runs = (s: ReturnType<typeof linkSummary>) => [s.dueToday.amount, s.futurePayments.map((f) => [f.firstDate, f.amount.amount, f.payments])]
    expect(runs(linkSummary(delayed, half({ _tag: "Once" }), today))).toEqual([500, [["2026-04-01", 3000, undefined]]])
    expect(runs(linkSummary(delayed, half({ _tag: "Payments", payments: 1 }), today))).toEqual([500, [["2026-04-01", 3000, undefined]]])
    expect(runs(linkSummary(delayed, half({ _tag: "Payments", payments: 2 }), today))).toEqual([500, [["2026-04-01", 1500, 1], ["2026-05-01", 3000, undefined]]])
    expect(runs(linkSummary(delayed, half({ _tag: "Forever" }), today))).toEqual([500, [["2026-04-01", 1500, undefined]]])
    // Billed from checkout: today's payment is the first of the two.
    const immediate = link([item({ name: "Plan", unitPrice: 3000 })])
    expect(runs(linkSummary(immediate, half({ _tag: "Payments", payments: 2 }), today))).toEqual([1500, [["2026-04-01", 1500, 1], ["2026-05-01", 3000, undefined]]])
    expect(runs(linkSummary(immediate, half({ _tag: "Once" }), today))).toEqual([1500, [["2026-04-01", 3000, undefined]]])
    // Fixed terms: the total counts N discounted charges (today's setup and one plan payment of three).
    expect(linkSummary({ ...delayed, terms: { _tag: "Fixed", payments: 3 } }, half({ _tag: "Payments", payments: 2 }), today).total!.amount).toBe(500 + 1500 + 2 * 3000)
  })

  it("an amount code in another currency takes nothing off", () => {
    const s = linkSummary(link([item({})]), { discountCode: code({ off: { _tag: "Amount", amount: 500, currency: "EUR" } }) }, today)
    expect(s.dueToday.amount).toBe(2500)
  })

  it("the least due at checkout is 0.50 in the currency's major unit: 50 cents, 1 yen, 500 fils", () => {
    expect([minimumDueAtCheckout("USD"), minimumDueAtCheckout("JPY"), minimumDueAtCheckout("KWD")]).toEqual([50, 1, 500])
  })

  it("the lowest choices leave optional items out and take minimum quantities and prices", () => {
    const l = link([item({ optional: true }), item({ editableQuantity: { min: 2, max: 9 }, quantity: 3, unitPrice: 100 }), item({ ownPrice: { minimum: 70 } })])
    expect(linkSummary(l, lowestChoices(l), today).dueToday.amount).toBe(270)
  })

  const itemArb = fc.record({
    unitPrice: fc.integer({ min: 1, max: 1_000_000 }),
    quantity: fc.integer({ min: 1, max: 50 }),
    frequency: fc.constantFrom(undefined, monthly, yearly, { unit: "week", count: 2 } as const),
    percent: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
    taxRate: fc.option(fc.constantFrom(60_000, 120_000, 250_000), { nil: undefined })
  }).map((r): LinkItem => item({
    unitPrice: r.unitPrice, quantity: r.quantity, frequency: r.frequency, discount: r.percent === undefined ? undefined : { _tag: "Percent", ppm: r.percent },
    ...(r.taxRate === undefined ? {} : { taxRate: r.taxRate })
  }))

  it("property: a fixed-term total is what is due today plus every future payment; auto-renew with recurring items has none", () => {
    fc.assert(fc.property(
      fc.array(itemArb, { minLength: 1, maxLength: 6 }),
      fc.option(fc.integer({ min: 1, max: 36 }), { nil: undefined }),
      fc.constantFrom<Summarised["start"]>({ _tag: "AtCheckout" }, { _tag: "DelayDays", days: 10 }, { _tag: "DelayMonths", months: 2 }),
      fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
      fc.option(fc.record({ ppm: fc.integer({ min: 1, max: 1_000_000 }), n: fc.integer({ min: 1, max: 12 }) }), { nil: undefined }),
      (items, payments, start, orderPpm, codeSpec) => {
        const l = link(items, { terms: payments === undefined ? { _tag: "AutoRenew" } : { _tag: "Fixed", payments }, start, ...(orderPpm === undefined ? {} : { orderDiscount: { _tag: "Percent", ppm: orderPpm } }) })
        const s = linkSummary(l, codeSpec === undefined ? {} : { discountCode: code({ off: { _tag: "Percent", ppm: codeSpec.ppm }, duration: { _tag: "Payments", payments: codeSpec.n } }) }, today)
        const recurs = items.some((i) => i.frequency !== undefined)
        expect(s.dueToday.amount).toBe(s.subtotal.amount - s.orderDiscount.amount - s.codeDiscount.amount + s.tax.amount)
        expect(s.dueToday.amount).toBeGreaterThanOrEqual(0)
        for (const f of s.futurePayments) expect(f.amount.amount).toBeGreaterThanOrEqual(0)
        if (recurs && payments === undefined) {
          expect(s.total).toBeUndefined()
        } else {
          expect(s.total!.amount).toBe(s.dueToday.amount + s.futurePayments.reduce((sum, f) => sum + f.amount.amount * f.payments!, 0))
          // Each subscription makes exactly `payments` payments in all, today's included.
          if (recurs) {
            const paidToday = s.startDate === today ? 1 : 0
            for (const sub of new Set(s.futurePayments.map((f) => f.subscription))) {
              expect(s.futurePayments.filter((f) => f.subscription === sub).reduce((n, f) => n + f.payments!, 0) + paidToday).toBe(payments)
            }
          }
        }
        // Without discounts, a fixed-term total is the undiscounted lines' amounts times the payments.
        if (codeSpec === undefined && orderPpm === undefined && payments !== undefined) {
          const plain = linkSummary(link(items, { terms: { _tag: "Fixed", payments }, start }), {}, today)
          const oneTime = plain.items.filter((i) => i.frequency === undefined)
          const recurring = plain.items.filter((i) => i.frequency !== undefined)
          const perPayment = recurring.reduce((sum, i) => sum + linkSummary(link([items[i.index]!], { terms: { _tag: "Fixed", payments: 1 } }), {}, today).dueToday.amount, 0)
          const once = oneTime.reduce((sum, i) => sum + linkSummary(link([items[i.index]!]), {}, today).dueToday.amount, 0)
          expect(plain.total!.amount).toBe(once + perPayment * payments)
        }
      }
    ), { numRuns: 300 })
  })
})

describe("discountCodeUsable", () => {
  const l = { currency: "USD", allowDiscountCodes: true }
  it("refuses an expired, used-up, switched-off or other-currency code, and any code on a link without codes", async () => {
    const { discountCodeUsable } = await import("../../../engine/checkout/index.ts")
    expect(discountCodeUsable(code({}), l, today)).toBeUndefined()
    expect(discountCodeUsable(code({ expiresOn: "2026-02-28" as CalendarDate }), l, today)?.reason).toBe("Expired")
    expect(discountCodeUsable(code({ expiresOn: today }), l, today)).toBeUndefined()
    expect(discountCodeUsable(code({ maxRedemptions: 3, redemptions: 3 }), l, today)?.reason).toBe("UsedUp")
    expect(discountCodeUsable(code({ active: false }), l, today)?.reason).toBe("Inactive")
    expect(discountCodeUsable(code({ off: { _tag: "Amount", amount: 100, currency: "EUR" } }), l, today)?.reason).toBe("Currency")
    expect(discountCodeUsable(code({}), { ...l, allowDiscountCodes: false }, today)?.reason).toBe("NotAllowedOnLink")
  })
})
