import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  discountBeforeTax,
  discountOff,
  invoiceTotal,
  lineAmounts,
  normalizedMonthlyAmount,
  parsePercentPpm,
  PricingError,
  roundHalfAwayFromZero,
  summarize,
  totalsOf
} from "../../../engine/billing/index.ts"
import { groupIntoSubscriptions } from "../../../engine/billing/index.ts"
import type { CalendarDate, LineItem, MinorUnits } from "../../../engine/domain/index.ts"
import { autoRenew, fixedPayments, formatMajorAmount, maxInvoiceAmount, maxLineAmount, maxQuantity, minorUnitExponent, namedFrequencies, parseMajorAmount } from "../../../engine/domain/index.ts"

const item = (over: Omit<Partial<LineItem>, "unitPrice"> & { unitPrice: number }): LineItem => ({
  name: "Coffee",
  quantity: 1,
  oneTime: false,
  ...over,
  unitPrice: over.unitPrice as MinorUnits
})

describe("pricing: lines", () => {
  it("line amount is unit price × quantity less the unit discount", () => {
    const a = lineAmounts(item({ unitPrice: 2500, quantity: 2, discount: { _tag: "Amount", amount: 500 as MinorUnits } }))
    expect(a).toMatchObject({ gross: 5000, discount: 1000, net: 4000, tax: 0, total: 4000, unitDiscount: 500 })
  })

  it("tax applies to the discounted amount", () => {
    const a = lineAmounts(item({ unitPrice: 10000, quantity: 1, discount: { _tag: "Percent", ppm: 100_000 }, taxRate: 250_000 }))
    expect(a).toMatchObject({ net: 9000, tax: 2250, total: 11250 })
  })

  it("rounds once per line, half away from zero: 3 × 0.333 rounds the line, not each unit", () => {
    // 1.00 with 66.7% off leaves 0.333 per unit; three units are 0.999 → 1.00 (per-unit rounding would give 0.99).
    const a = lineAmounts(item({ unitPrice: 100, quantity: 3, discount: { _tag: "Percent", ppm: 667_000 } }))
    expect(a.net).toBe(100)
    // exactly half a cent rounds up: 0.05 × 10% = 0.005 tax → 0.01
    expect(lineAmounts(item({ unitPrice: 5, quantity: 1, taxRate: 100_000 })).tax).toBe(1)
    expect(roundHalfAwayFromZero(-5n, 10n)).toBe(-1n)
    expect(roundHalfAwayFromZero(4n, 10n)).toBe(0n)
  })

  it("rejects a quantity of 0, a discount above 100% and an amount discount above the unit price", () => {
    expect(() => lineAmounts(item({ unitPrice: 100, quantity: 0 }))).toThrow(PricingError)
    expect(() => lineAmounts(item({ unitPrice: 100, quantity: 1.5 }))).toThrow(/whole number/)
    expect(() => lineAmounts(item({ unitPrice: 100, discount: { _tag: "Percent", ppm: 1_200_000 } }))).toThrow(/100%/)
    expect(() => lineAmounts(item({ unitPrice: 100, discount: { _tag: "Amount", amount: 101 as MinorUnits } }))).toThrow(/unit price/)
  })

  it("a 100% discount makes a line free, never negative", () => {
    expect(lineAmounts(item({ unitPrice: 1999, quantity: 3, discount: { _tag: "Percent", ppm: 1_000_000 }, taxRate: 250_000 })).total).toBe(0)
  })

  it("parses percents and major amounts with each currency's exponent", () => {
    expect(parsePercentPpm("25%")).toBe(250_000)
    expect(parsePercentPpm("12.5%")).toBe(125_000)
    expect(parsePercentPpm("abc")).toBeUndefined()
    expect(minorUnitExponent("USD")).toBe(2)
    expect(minorUnitExponent("JPY")).toBe(0)
    expect(minorUnitExponent("KWD")).toBe(3)
    expect(parseMajorAmount("25.00", "USD")).toBe(2500)
    expect(parseMajorAmount("12.5", "USD")).toBe(1250)
    expect(parseMajorAmount("1000", "JPY")).toBe(1000)
    expect(parseMajorAmount("1.5", "JPY")).toMatch(/no minor unit/)
    expect(parseMajorAmount("1.234", "KWD")).toBe(1234)
    expect(parseMajorAmount("12.345", "USD")).toMatch(/2 decimals/)
    expect(formatMajorAmount(2500, "USD")).toBe("25.00")
    expect(formatMajorAmount(5, "USD")).toBe("0.05")
    expect(formatMajorAmount(1234, "KWD")).toBe("1.234")
    expect(formatMajorAmount(-1000, "JPY")).toBe("-1000")
  })
})

const lineArb = fc.record({
  unitPrice: fc.integer({ min: 0, max: 10_000_000 }),
  quantity: fc.integer({ min: 1, max: 1000 }),
  discountKind: fc.constantFrom("none", "percent", "amount"),
  ppm: fc.integer({ min: 0, max: 1_000_000 }),
  amountFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  taxRate: fc.option(fc.integer({ min: 0, max: 500_000 }), { nil: undefined }),
  oneTime: fc.boolean()
}).map((r): LineItem => item({
  unitPrice: r.unitPrice,
  quantity: r.quantity,
  oneTime: r.oneTime,
  ...(r.taxRate === undefined ? {} : { taxRate: r.taxRate }),
  ...(r.discountKind === "percent"
    ? { discount: { _tag: "Percent" as const, ppm: r.ppm } }
    : r.discountKind === "amount"
    ? { discount: { _tag: "Amount" as const, amount: Math.floor(r.unitPrice * r.amountFraction) as MinorUnits } }
    : {})
}))

describe("pricing: properties", () => {
  it("discounts never make a line negative or larger than its gross", () => {
    fc.assert(fc.property(lineArb, (l) => {
      const a = lineAmounts(l)
      expect(a.net).toBeGreaterThanOrEqual(0)
      expect(a.net).toBeLessThanOrEqual(a.gross)
      expect(a.tax).toBeGreaterThanOrEqual(0)
      expect(a.total).toBe(a.net + a.tax)
      expect(a.gross - a.discount).toBe(a.net)
    }))
  })

  it("rounding happens once per line: the net is the exact amount rounded, within half a minor unit", () => {
    fc.assert(fc.property(lineArb, (l) => {
      const a = lineAmounts(l)
      const exactPerUnit = l.discount === undefined
        ? l.unitPrice
        : l.discount._tag === "Percent"
        ? l.unitPrice * (1 - l.discount.ppm / 1_000_000)
        : l.unitPrice - l.discount.amount
      expect(Math.abs(a.net - exactPerUnit * l.quantity)).toBeLessThanOrEqual(0.5 + 1e-6 * l.quantity * l.unitPrice / 1e6 + 1e-6)
      if (l.taxRate !== undefined) expect(Math.abs(a.tax - (a.net * l.taxRate) / 1_000_000)).toBeLessThanOrEqual(0.5 + 1e-9)
    }))
  })

  it("totals equal the sum of their lines", () => {
    fc.assert(fc.property(fc.array(lineArb, { maxLength: 20 }), fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 3 }), (lines, fees) => {
      const amounts = lines.map(lineAmounts)
      const t = totalsOf(amounts, fees)
      const sum = (f: (x: typeof amounts[number]) => number) => amounts.reduce((s, a) => s + f(a), 0)
      expect(t.subtotal).toBe(sum((a) => a.gross))
      expect(t.discount).toBe(sum((a) => a.discount))
      expect(t.tax).toBe(sum((a) => a.tax))
      expect(t.fees).toBe(fees.reduce((s, x) => s + x, 0))
      expect(t.total).toBe(t.subtotal - t.discount + t.tax + t.fees)
    }))
  })

  it("one-time lines and fees count only in what is due now; a total exists only for fixed terms", () => {
    fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 10 }), fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }), fc.boolean(), fc.integer({ min: 0, max: 5000 }), (lines, payments, dueNow, fee) => {
      const s = summarize({ items: lines, fees: [{ name: "setup", amount: fee }], firstPaymentDueNow: dueNow, ...(payments === undefined ? {} : { payments }) })
      const recurring = lines.filter((l) => !l.oneTime).map(lineAmounts)
      const oneTime = lines.filter((l) => l.oneTime).map(lineAmounts)
      expect(s.perPayment.total).toBe(recurring.reduce((x, a) => x + a.total, 0))
      const oneTimeTotal = oneTime.reduce((x, a) => x + a.total, 0) + fee
      expect(s.dueNow.total).toBe(oneTimeTotal + (dueNow ? s.perPayment.total : 0))
      if (recurring.length > 0 && payments === undefined) expect(s.total).toBeUndefined()
      if (payments !== undefined && recurring.length > 0) {
        expect(s.total).toBe(oneTimeTotal + s.perPayment.total * payments)
      }
    }))
  })
})

describe("pricing: the money maximum (amounts stay exact integers)", () => {
  it("90071992547409.91 × 3 is refused, never charged a cent off; 25% tax on the largest line adds up exactly", () => {
    expect(parseMajorAmount("90071992547409.91", "USD")).toMatch(/^amount out of range: "90071992547409.91" is more than 10000000000000.00/)
    expect(() => lineAmounts(item({ unitPrice: 3_002_399_751_580_330, quantity: 3 }))).toThrow(PricingError)
    expect(() => lineAmounts(item({ unitPrice: maxLineAmount / 2 + 1, quantity: 2 }))).toThrow("at most 100000000000000 minor units")
    expect(() => lineAmounts(item({ unitPrice: 1, quantity: maxQuantity + 1 }))).toThrow("quantity must be at most 1000000000")
    const top = lineAmounts(item({ unitPrice: 33_333_333_333_333, quantity: 3, taxRate: 250_000 }))
    expect([top.gross, top.net, top.tax, top.total]).toEqual([99_999_999_999_999, 99_999_999_999_999, 25_000_000_000_000, 124_999_999_999_999])
    const lines = Array.from({ length: 8 }, () => item({ unitPrice: 33_333_333_333_333, quantity: 3, taxRate: 250_000 }))
    expect(invoiceTotal(lines)).toBe(999_999_999_999_992)
    expect(() => invoiceTotal([...lines, item({ unitPrice: 9, quantity: 1 })])).toThrow("the most one invoice can hold")
    expect(() => totalsOf(lines.map(lineAmounts), [9])).toThrow(PricingError)
  })

  const currencies = ["USD", "JPY", "KWD", "BHD"] as const
  // Prices near the limits as often as ordinary ones: small, near a line's maximum, and exactly at it.
  const priceArb = fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: maxLineAmount - 10_000, max: maxLineAmount }), fc.integer({ min: 1, max: maxLineAmount }))
  const quantityArb = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: maxQuantity }))
  const discountArb = fc.oneof(
    fc.constant(undefined),
    fc.constant({ _tag: "Percent" as const, ppm: 1_000_000 }),
    fc.integer({ min: 0, max: 1_000_000 }).map((ppm) => ({ _tag: "Percent" as const, ppm })),
    fc.integer({ min: 0, max: maxLineAmount + 10 }).map((amount) => ({ _tag: "Amount" as const, amount: amount as MinorUnits }))
  )
  const taxArb = fc.oneof(fc.constant(undefined), fc.constant(1_000_000), fc.integer({ min: 0, max: 1_000_000 }))
  const edgeLineArb = fc.record({ currency: fc.constantFrom(...currencies), unitPrice: priceArb, quantity: quantityArb, discount: discountArb, taxRate: taxArb })

  it("every line is refused or exact, and every accepted total equals the sum of its lines (USD, JPY, KWD, BHD)", () => {
    fc.assert(fc.property(fc.array(edgeLineArb, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 0, max: maxLineAmount }), { maxLength: 2 }), (specs, fees) => {
      const accepted: Array<ReturnType<typeof lineAmounts>> = []
      for (const l of specs) {
        const line = item({ unitPrice: l.unitPrice, quantity: l.quantity, ...(l.discount === undefined ? {} : { discount: l.discount }), ...(l.taxRate === undefined ? {} : { taxRate: l.taxRate }) })
        const gross = BigInt(l.unitPrice) * BigInt(l.quantity)
        const tooBig = gross > BigInt(maxLineAmount)
        const discountTooBig = l.discount?._tag === "Amount" && l.discount.amount > l.unitPrice
        if (tooBig || discountTooBig) {
          expect(() => lineAmounts(line)).toThrow(PricingError)
          continue
        }
        const a = lineAmounts(line)
        for (const v of Object.values(a)) expect(Number.isSafeInteger(v)).toBe(true)
        expect(BigInt(a.gross)).toBe(gross)
        expect(a.gross - a.discount).toBe(a.net)
        expect(a.total).toBe(a.net + a.tax)
        expect(a.net).toBeGreaterThanOrEqual(0)
        expect(a.tax).toBeLessThanOrEqual(a.net)
        if (l.discount?._tag === "Percent" && l.discount.ppm === 1_000_000) expect(a.total).toBe(0)
        if (l.discount?._tag === "Amount" && l.discount.amount === l.unitPrice) expect(a.total).toBe(0)
        // The price reads back in major units of its currency (0, 2 or 3 decimals) to the same minor units.
        expect(parseMajorAmount(formatMajorAmount(l.unitPrice, l.currency), l.currency)).toBe(l.unitPrice)
        accepted.push(a)
      }
      const exact = accepted.reduce((s, a) => s + BigInt(a.total), 0n) + fees.reduce((s, f) => s + BigInt(f), 0n)
      if (exact > BigInt(maxInvoiceAmount)) {
        expect(() => totalsOf(accepted, fees)).toThrow(PricingError)
      } else {
        const t = totalsOf(accepted, fees)
        expect(BigInt(t.total)).toBe(exact)
        expect(BigInt(t.subtotal)).toBe(accepted.reduce((s, a) => s + BigInt(a.gross), 0n))
        expect(BigInt(t.tax)).toBe(accepted.reduce((s, a) => s + BigInt(a.tax), 0n))
        expect(t.total).toBe(t.subtotal - t.discount + t.tax + t.fees)
      }
    }), { numRuns: 500 })
  })

  it("the maximum an invoice holds parses in every currency and one minor unit more is refused", () => {
    for (const c of currencies) {
      const text = formatMajorAmount(maxInvoiceAmount, c)
      expect(parseMajorAmount(text, c)).toBe(maxInvoiceAmount)
      expect(parseMajorAmount(formatMajorAmount(maxInvoiceAmount + 1, c), c)).toMatch(/^amount out of range/)
      expect(parseMajorAmount("9".repeat(30), c)).toMatch(/^amount out of range/)
    }
  })
})

describe("pricing: summary and normalisation", () => {
  it("a delayed start charges only one-time items now; future payments follow", () => {
    const s = summarize({
      items: [item({ unitPrice: 2500 }), item({ unitPrice: 1000, oneTime: true })],
      payments: 6,
      firstPaymentDueNow: false
    })
    expect(s.dueNow.total).toBe(1000)
    expect(s.futurePayments).toBe(6)
    expect(s.total).toBe(1000 + 6 * 2500)
  })

  it("normalises a period's amount to a month", () => {
    expect(normalizedMonthlyAmount(1200, namedFrequencies.weekly)).toBeCloseTo(5200, 9)
    expect(normalizedMonthlyAmount(1800, namedFrequencies.biweekly)).toBeCloseTo(3900, 9)
    expect(normalizedMonthlyAmount(3000, namedFrequencies.quarterly)).toBe(1000)
    expect(normalizedMonthlyAmount(6000, namedFrequencies.semiannually)).toBe(1000)
    expect(normalizedMonthlyAmount(12000, namedFrequencies.annually)).toBe(1000)
    expect(normalizedMonthlyAmount(2500, namedFrequencies.monthly)).toBe(2500)
  })
})

describe("grouping line items into subscriptions", () => {
  const start = "2026-03-01" as CalendarDate
  it("one monthly and one yearly item make two subscriptions", () => {
    const groups = groupIntoSubscriptions([
      { sku: "a", frequency: namedFrequencies.monthly, terms: autoRenew, startDate: start },
      { sku: "b", frequency: namedFrequencies.annually, terms: autoRenew, startDate: start },
      { sku: "c", frequency: namedFrequencies.monthly, terms: autoRenew, startDate: start }
    ])
    expect(groups.map((g) => g.map((i) => i.sku))).toEqual([["a", "c"], ["b"]])
  })

  it("a different number of payments or start date splits the group", () => {
    const groups = groupIntoSubscriptions([
      { sku: "a", frequency: namedFrequencies.monthly, terms: fixedPayments(6), startDate: start },
      { sku: "b", frequency: namedFrequencies.monthly, terms: fixedPayments(12), startDate: start },
      { sku: "c", frequency: namedFrequencies.monthly, terms: fixedPayments(6), startDate: "2026-04-01" as CalendarDate }
    ])
    expect(groups).toHaveLength(3)
  })
})

describe("pricing: whole-payment discounts before tax (discountBeforeTax)", () => {
  const lineArb = fc.record({
    net: fc.integer({ min: 0, max: 10_000_000 }),
    taxRate: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined })
  })
  const offArb = fc.option(fc.oneof(
    fc.integer({ min: 0, max: 1_000_000 }).map((ppm) => ({ _tag: "Percent" as const, ppm })),
    fc.integer({ min: 0, max: 20_000_000 }).map((amount) => ({ _tag: "Amount" as const, amount }))
  ), { nil: undefined })

  it("an order discount of 2.00 on a taxed and an untaxed line: shared pro rata, the taxed line taxed on what is left", () => {
    // Coffee 50.00 at 25% and a mug 12.00 untaxed; 2.00 off: 50/62 of it (1.61) off the coffee, 0.39 off the mug.
    const p = discountBeforeTax([{ net: 5000, taxRate: 250_000 }, { net: 1200 }], [{ _tag: "Amount", amount: 200 }])
    expect(p.shares).toEqual([161, 39])
    expect(p.taxes).toEqual([1210, 0]) // 25% of 48.39 (12.0975), rounded half up
    expect(p.total).toBe(6200 - 200 + 1210)
  })

  it("two discounts in turn: the code is off what the order discount left", () => {
    const p = discountBeforeTax([{ net: 5000, taxRate: 250_000 }, { net: 1200 }], [{ _tag: "Amount", amount: 200 }, { _tag: "Percent", ppm: 100_000 }])
    expect(p.discounts).toEqual([200, 600])
    expect(p.shares.reduce((s, x) => s + x, 0)).toBe(800)
    expect(p.total).toBe(6200 - 800 + p.taxes[0]!)
  })

  it("property: the shares add up to the discounts, no line gives more than its net, and the taxes are each line's rate on what is left", () => {
    fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 8 }), fc.array(offArb, { maxLength: 3 }), (lines, offs) => {
      const p = discountBeforeTax(lines, offs)
      const net = lines.reduce((s, l) => s + l.net, 0)
      const discount = p.discounts.reduce((s, d) => s + d, 0)
      expect(p.net).toBe(net)
      expect(discount).toBeLessThanOrEqual(net)
      expect(p.shares.reduce((s, x) => s + x, 0)).toBe(discount)
      lines.forEach((l, i) => {
        expect(p.shares[i]!).toBeGreaterThanOrEqual(0)
        expect(p.shares[i]!).toBeLessThanOrEqual(l.net)
        // Pro rata: within one cent of the exact share.
        if (net > 0) expect(Math.abs(p.shares[i]! - (discount * l.net) / net)).toBeLessThan(1)
        const left = l.net - p.shares[i]!
        expect(p.taxes[i]).toBe(l.taxRate === undefined ? 0 : lineAmounts({ unitPrice: left as MinorUnits, quantity: 1, taxRate: l.taxRate }).tax)
      })
      expect(p.total).toBe(net - discount + p.taxes.reduce((s, t) => s + t, 0))
      expect(p.total).toBeGreaterThanOrEqual(0)
    }), { numRuns: 500 })
  })

  it("property: without tax it is the old rule, discountOff of the payment; without discounts the taxes are lineAmounts' taxes", () => {
    fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 8 }), offArb, (lines, off) => {
      const untaxed = lines.map((l) => ({ net: l.net }))
      const net = lines.reduce((s, l) => s + l.net, 0)
      expect(discountBeforeTax(untaxed, [off]).total).toBe(net - discountOff(net, off))
      const plain = discountBeforeTax(lines, [])
      expect(plain.taxes).toEqual(lines.map((l) => (l.taxRate === undefined ? 0 : lineAmounts({ unitPrice: l.net as MinorUnits, quantity: 1, taxRate: l.taxRate }).tax)))
    }), { numRuns: 300 })
  })
})
