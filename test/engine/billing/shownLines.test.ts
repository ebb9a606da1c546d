/**
 * What buyers and admins read adds up to what is charged (found by an audit: 3 × 999 JPY at 33% off showed a
 * discount of 330 a unit and a line of 2008, yet 3 × (999 − 330) = 2007). The rule: a unit discount in percent is
 * taken off the line once (billing/pricing.ts `lineNet`, what billing charges), and a line shows quantity × unit
 * price, less the line's discount as one amount, = its amount (`shownLine`), on the checkout page, `links preview`,
 * the invoice document, the pay page and `invoices show` alike; the totals under the lines start from their amounts
 * (`shownTotals`).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { discountBeforeTax, lineAmounts, shownLine, shownLineOf, shownTotals, totalsOf } from "../../../engine/billing/index.ts"
import { linkSummary } from "../../../engine/checkout/index.ts"
import type { CalendarDate, LinkItem, PaymentLink, UnitDiscount } from "../../../engine/domain/index.ts"
import { minorUnitExponent } from "../../../engine/domain/index.ts"

const today = "2026-03-01" as CalendarDate
const monthly = { unit: "month", count: 1 } as const

describe("shown lines add up to what is charged", () => {
  it("3 × 999 JPY and 3 × 9.99 EUR at 33% off: 2997 − 989 = 2008, 29.97 − 9.89 = 20.08, the amount billing charges", () => {
    const discount: UnitDiscount = { _tag: "Percent", ppm: 330_000 }
    // 999 minor units: 999 JPY (no decimals), 9.99 EUR.
    const line = { unitPrice: 999, quantity: 3, discount }
    expect(shownLineOf(line as never)).toEqual({ quantity: 3, unitPrice: 999, gross: 2997, discount: 989, amount: 2008 })
    expect(lineAmounts(line as never).net).toBe(2008)
  })

  it("for random unit prices, quantities, percents and currencies (JPY, EUR, KWD), each line's parts, today's lines, due today and every future payment add up to what is charged", () => {
    const itemArb = fc.record({
      units: fc.integer({ min: 1, max: 500_000 }),
      quantity: fc.integer({ min: 1, max: 50 }),
      // whole percents, and odd ppm such as 33.3333%
      ppm: fc.oneof(fc.integer({ min: 0, max: 100 }).map((p) => p * 10_000), fc.integer({ min: 0, max: 1_000_000 })),
      recurring: fc.boolean(),
      taxRate: fc.option(fc.constantFrom(0, 60_000, 150_000, 250_000), { nil: undefined })
    })
    fc.assert(fc.property(
      fc.constantFrom("JPY", "EUR", "KWD"), fc.array(itemArb, { minLength: 1, maxLength: 4 }), fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      (currency, specs, orderPpm) => {
        // A price in the currency's minor units: 999 JPY, 9.99 EUR, 9.990 KWD for units 999.
        const scale = 10 ** minorUnitExponent(currency) / (currency === "JPY" ? 1 : 100)
        const items: Array<LinkItem> = specs.map((s, i) => ({
          name: `Item ${i + 1}`, unitPrice: Math.round(s.units * scale), quantity: s.quantity, optional: false,
          frequency: s.recurring || i === 0 ? monthly : undefined, discount: { _tag: "Percent", ppm: s.ppm },
          ...(s.taxRate === undefined ? {} : { taxRate: s.taxRate })
        }))
        const link: Pick<PaymentLink, "items" | "currency" | "terms" | "start" | "orderDiscount"> = {
          items, currency, terms: { _tag: "Fixed", payments: 3 }, start: { _tag: "AtCheckout" },
          orderDiscount: orderPpm === undefined ? undefined : { _tag: "Percent", ppm: orderPpm }
        }
        const s = linkSummary(link, {}, today)
        for (const [i, l] of s.lines.entries()) {
          // The parts of a line add up to its amount, which is what billing charges for it.
          expect(l.quantity * l.unitPrice - l.discount).toBe(l.amount)
          expect(l.amount).toBe(lineAmounts(items[i]! as never).net)
          expect(l.discount).toBeGreaterThanOrEqual(0)
        }
        // Billing starts at checkout: every line is paid today, and today's amounts add up to the subtotal, then to due today.
        expect(s.lines.reduce((sum, l) => sum + l.amount, 0)).toBe(s.subtotal.amount)
        expect(s.subtotal.amount - s.orderDiscount.amount - s.codeDiscount.amount + s.tax.amount).toBe(s.dueToday.amount)
        // Each later payment is its recurring lines' amounts plus their tax (no code: nothing else comes off).
        const recurring = s.lines.filter((l) => !l.oneTime)
        const recurringTax = recurring.reduce((sum, l) => sum + lineAmounts(items[l.index]! as never).tax, 0)
        for (const f of s.futurePayments) expect(f.amount.amount).toBe(recurring.reduce((sum, l) => sum + l.amount, 0) + recurringTax)
        // An invoice of these lines, as billing records it (totalsOf, discountBeforeTax) and as documents show it.
        const amounts = items.map((i) => lineAmounts(i as never))
        const recorded = totalsOf(amounts)
        const payment = discountBeforeTax(amounts.map((a, i) => ({ net: a.net, taxRate: items[i]!.taxRate })), s.discountsToday)
        const shown = amounts.map((a, i) => shownLine({ unitPrice: items[i]!.unitPrice, quantity: items[i]!.quantity, net: a.net }))
        const totals = shownTotals(shown, { subtotal: recorded.subtotal, discount: recorded.discount + payment.discounts.reduce((sum, d) => sum + d, 0) })
        expect(shown.reduce((sum, l) => sum + l.amount, 0)).toBe(totals.subtotal)
        expect(totals.subtotal - totals.discount + payment.tax).toBe(payment.total)
        expect(payment.total).toBe(s.dueToday.amount)
      }
    ), { numRuns: 500 })
  })
})
