import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  addMonthsClamped,
  BillingSchedule,
  billingDates,
  calendarDateInZone,
  civilFromDayNumber,
  coveredDays,
  daysInMonth,
  fromDayNumber,
  parseCalendarDate,
  startDate,
  toDayNumber
} from "../../../engine/billing/index.ts"
import type { CalendarDate, Frequency } from "../../../engine/domain/index.ts"
import { namedFrequencies, parseFrequency } from "../../../engine/domain/index.ts"

const d = (s: string) => s as CalendarDate
const monthly = namedFrequencies.monthly

// Anchors between 1900 and 2200, as day numbers.
const anchorArb = fc.integer({ min: toDayNumber(d("1900-01-01")), max: toDayNumber(d("2200-12-31")) }).map(fromDayNumber)
const monthFamilyArb: fc.Arbitrary<Frequency> = fc.oneof(
  fc.constantFrom<Frequency>(namedFrequencies.monthly, namedFrequencies.quarterly, namedFrequencies.semiannually, namedFrequencies.annually),
  fc.record({ unit: fc.constant("month" as const), count: fc.integer({ min: 1, max: 36 }) }),
  fc.record({ unit: fc.constant("year" as const), count: fc.integer({ min: 1, max: 5 }) })
)
const frequencyArb: fc.Arbitrary<Frequency> = fc.oneof(
  monthFamilyArb,
  fc.record({ unit: fc.constantFrom("day" as const, "week" as const), count: fc.integer({ min: 1, max: 60 }) })
)
const monthsOf = (f: Frequency) => (f.unit === "year" ? 12 * f.count : f.count)

describe("billing calendar: seed facts", () => {
  it("monthly anchor Jan 31 bills Feb 28 in a common year, then Mar 31 and Apr 30", () => {
    expect(billingDates(d("2026-01-31"), monthly, 4)).toEqual(["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"])
  })

  it("monthly anchor Jan 31 bills Feb 29 in a leap year", () => {
    expect(billingDates(d("2028-01-31"), monthly, 3)).toEqual(["2028-01-31", "2028-02-29", "2028-03-31"])
  })

  it("six monthly payments from March 1 end on September 1", () => {
    const s = new BillingSchedule(d("2026-03-01"), monthly)
    expect(s.dates(6)).toEqual(["2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"])
    expect(s.endDate(6)).toBe("2026-09-01")
  })

  it("billing going on after skipped periods: the next anchor date, and a fixed term's end moved later by the periods skipped", () => {
    const s = new BillingSchedule(d("2028-01-31"), monthly)
    // Two of six payments billed, then paused until Apr 10: next on Apr 30, four payments left, the last May..Aug, ending Aug 31.
    expect(s.goingOnFrom(d("2028-04-10"), 4)).toEqual({ next: "2028-04-30", endDate: "2028-08-31" })
    expect(s.goingOnFrom(d("2028-04-30"), 4)).toEqual({ next: "2028-04-30", endDate: "2028-08-31" })
    expect(s.goingOnFrom(d("2028-04-10"), undefined)).toEqual({ next: "2028-04-30", endDate: undefined })
    // Nothing left to bill: the term ends on that next date.
    expect(s.goingOnFrom(d("2028-04-10"), 0)).toEqual({ next: "2028-04-30", endDate: "2028-04-30" })
  })

  it("eight quarterly payments bill every three months and end 24 months after the anchor", () => {
    const s = new BillingSchedule(d("2026-01-15"), namedFrequencies.quarterly)
    expect(s.dates(8)).toEqual([
      "2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15", "2027-01-15", "2027-04-15", "2027-07-15", "2027-10-15"
    ])
    expect(s.endDate(8)).toBe("2028-01-15")
  })

  it("an annual Feb 29 anchor bills Feb 28 in common years and Feb 29 in leap years", () => {
    expect(billingDates(d("2024-02-29"), namedFrequencies.annually, 5)).toEqual([
      "2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"
    ])
  })

  it("century years: 2100 is not a leap year, 2000 was", () => {
    expect(billingDates(d("2096-02-29"), { unit: "year", count: 4 }, 3)).toEqual(["2096-02-29", "2100-02-28", "2104-02-29"])
    expect(daysInMonth(2000, 2)).toBe(29)
  })

  it("biweekly bills every 14 days", () => {
    expect(billingDates(d("2026-12-24"), namedFrequencies.biweekly, 3)).toEqual(["2026-12-24", "2027-01-07", "2027-01-21"])
  })

  it("a monthly anchor on the 30th does not drift after February", () => {
    expect(billingDates(d("2026-01-30"), monthly, 4)).toEqual(["2026-01-30", "2026-02-28", "2026-03-30", "2026-04-30"])
  })

  it("next billing date after a day, and on or after it", () => {
    const s = new BillingSchedule(d("2026-01-31"), monthly)
    expect(s.nextAfter(d("2026-02-28"))).toBe("2026-03-31")
    expect(s.nextOnOrAfter(d("2026-02-28"))).toBe("2026-02-28")
    expect(s.nextOnOrAfter(d("2026-03-01"))).toBe("2026-03-31")
    expect(s.nextOnOrAfter(d("2025-06-01"))).toBe("2026-01-31")
  })

  it("periods are half-open: the next billing date starts a new period", () => {
    const s = new BillingSchedule(d("2026-01-31"), monthly)
    expect(s.periodContaining(d("2026-02-27"))).toEqual({ index: 0, start: "2026-01-31", end: "2026-02-28" })
    expect(s.periodContaining(d("2026-02-28"))).toEqual({ index: 1, start: "2026-02-28", end: "2026-03-31" })
    expect(s.periodContaining(d("2026-01-30"))).toBeUndefined()
  })

  it("delayed start by a date, N days or N months after purchase", () => {
    expect(startDate(d("2026-01-31"), { _tag: "Months", months: 1 })).toBe("2026-02-28")
    expect(startDate(d("2026-12-20"), { _tag: "Days", days: 14 })).toBe("2027-01-03")
    expect(startDate(d("2026-12-20"), { _tag: "Date", date: d("2027-02-01") })).toBe("2027-02-01")
    expect(startDate(d("2026-12-20"), undefined)).toBe("2026-12-20")
  })

  it("impossible dates are rejected", () => {
    expect(parseCalendarDate("2026-02-30")).toBeUndefined()
    expect(parseCalendarDate("2026-13-01")).toBeUndefined()
    expect(parseCalendarDate("2026-2-3")).toBeUndefined()
    expect(parseCalendarDate("2028-02-29")).toBe("2028-02-29")
    expect(parseCalendarDate("2027-02-29")).toBeUndefined()
  })

  it("parses named frequencies and every-N forms, rejects unknown ones", () => {
    expect(parseFrequency("biweekly")).toEqual({ unit: "week", count: 2 })
    expect(parseFrequency("every-10-days")).toEqual({ unit: "day", count: 10 })
    expect(parseFrequency("every 2 months")).toEqual({ unit: "month", count: 2 })
    expect(parseFrequency("fortnightly")).toBeUndefined()
    expect(parseFrequency("every-0-days")).toBeUndefined()
  })
})

describe("billing calendar: time zones", () => {
  it("today is the wall date in the account's zone, not UTC", () => {
    const instant = Date.parse("2026-03-01T06:30:00Z")
    expect(calendarDateInZone(instant, "America/Los_Angeles")).toBe("2026-02-28")
    expect(calendarDateInZone(instant, "Europe/Oslo")).toBe("2026-03-01")
    expect(calendarDateInZone(instant, "Pacific/Kiritimati")).toBe("2026-03-01")
  })

  it("DST never shifts a billing date: each local day of a DST month maps to one date", () => {
    for (const zone of ["America/Los_Angeles", "Europe/Oslo"]) {
      // Local noon every day across the spring and autumn transitions.
      const seen = new Set<string>()
      for (let h = 0; h < 24 * 400; h += 1) {
        seen.add(calendarDateInZone(Date.parse("2026-01-01T00:00:00Z") + h * 3_600_000, zone))
      }
      // 400 days of hours visit 400 or 401 distinct wall dates, none skipped or doubled.
      const days = [...seen].sort()
      for (let i = 1; i < days.length; i++) {
        expect(toDayNumber(d(days[i]!)) - toDayNumber(d(days[i - 1]!))).toBe(1)
      }
    }
  })

  it("a billing date stays the same calendar date across DST in Oslo and Los Angeles", () => {
    const s = new BillingSchedule(d("2026-03-08"), namedFrequencies.weekly)
    // 2026-03-08 is the US spring-forward day; 2026-03-29 the EU one.
    expect(s.dates(4)).toEqual(["2026-03-08", "2026-03-15", "2026-03-22", "2026-03-29"])
    expect(calendarDateInZone(Date.parse("2026-03-29T00:30:00Z"), "Europe/Oslo")).toBe("2026-03-29")
    expect(calendarDateInZone(Date.parse("2026-03-08T10:30:00Z"), "America/Los_Angeles")).toBe("2026-03-08")
  })
})

describe("billing calendar: properties", () => {
  it("day numbers round-trip through civil dates", () => {
    fc.assert(fc.property(fc.integer({ min: -719_000, max: 2_000_000 }), (n) => {
      const c = civilFromDayNumber(n)
      expect(toDayNumber(fromDayNumber(n))).toBe(n)
      expect(c.day).toBeLessThanOrEqual(daysInMonth(c.year, c.month))
    }))
  })

  it("billing dates strictly increase", () => {
    fc.assert(fc.property(anchorArb, frequencyArb, (anchor, f) => {
      const s = new BillingSchedule(anchor, f)
      for (let k = 1; k < 60; k++) expect(s.dayAt(k)).toBeGreaterThan(s.dayAt(k - 1))
    }))
  })

  it("each monthly-family date's day is min(anchor day, days in that month)", () => {
    fc.assert(fc.property(anchorArb, monthFamilyArb, fc.integer({ min: 0, max: 200 }), (anchor, f, k) => {
      const anchorDay = Number(anchor.slice(8, 10))
      const c = civilFromDayNumber(new BillingSchedule(anchor, f).dayAt(k))
      expect(c.day).toBe(Math.min(anchorDay, daysInMonth(c.year, c.month)))
    }))
  })

  it("no drift over 1,000 periods: date k equals the anchor plus k periods computed directly", () => {
    fc.assert(fc.property(anchorArb, monthFamilyArb, (anchor, f) => {
      const s = new BillingSchedule(anchor, f)
      for (const k of [1, 2, 3, 12, 59, 500, 999, 1000]) {
        expect(s.dateAt(k)).toBe(addMonthsClamped(anchor, k * monthsOf(f)))
      }
    }), { numRuns: 200 })
  })

  it("fixed N has exactly N dates and the end date is the (N+1)-th", () => {
    fc.assert(fc.property(anchorArb, frequencyArb, fc.integer({ min: 1, max: 120 }), (anchor, f, n) => {
      const s = new BillingSchedule(anchor, f)
      const dates = s.dates(n)
      expect(dates).toHaveLength(n)
      expect(new Set(dates).size).toBe(n)
      expect(s.endDate(n)).toBe(s.dateAt(n))
      expect(toDayNumber(s.endDate(n))).toBeGreaterThan(toDayNumber(dates[n - 1]!))
    }))
  })

  it("every day on or after the anchor falls in exactly one period", () => {
    fc.assert(fc.property(anchorArb, frequencyArb, fc.integer({ min: 0, max: 5000 }), (anchor, f, offset) => {
      const s = new BillingSchedule(anchor, f)
      const day = toDayNumber(anchor) + offset
      const p = s.periodContaining(fromDayNumber(day))!
      expect(toDayNumber(p.start)).toBeLessThanOrEqual(day)
      expect(toDayNumber(p.end)).toBeGreaterThan(day)
      expect(p.start).toBe(s.dateAt(p.index))
      expect(p.end).toBe(s.dateAt(p.index + 1))
      // the neighbouring periods do not hold it
      if (p.index > 0) expect(toDayNumber(s.dateAt(p.index))).toBeLessThanOrEqual(day)
      expect(toDayNumber(s.dateAt(p.index + 1))).toBeGreaterThan(day)
    }))
  })

  it("the next billing date on or after a day is the first date not before it", () => {
    fc.assert(fc.property(anchorArb, frequencyArb, fc.integer({ min: -400, max: 5000 }), (anchor, f, offset) => {
      const s = new BillingSchedule(anchor, f)
      const day = toDayNumber(anchor) + offset
      const k = s.indexOnOrAfter(day)
      expect(s.dayAt(k)).toBeGreaterThanOrEqual(day)
      if (k > 0) expect(s.dayAt(k - 1)).toBeLessThan(day)
    }))
  })
})

describe("billing calendar: the days a period covers, as a person reads them", () => {
  const period = (anchor: string, frequency: Frequency) => {
    const s = new BillingSchedule(d(anchor), frequency)
    return coveredDays(s.dateAt(0), s.dateAt(1))
  }

  it("a monthly period from March 1 covers March 1 to March 31: April 1, its stored end, is the next period's first day", () => {
    expect(period("2026-03-01", monthly)).toEqual({ first: "2026-03-01", last: "2026-03-31" })
  })

  it("a weekly period covers seven days, a yearly one the year up to the day before its anniversary", () => {
    expect(period("2026-03-02", namedFrequencies.weekly)).toEqual({ first: "2026-03-02", last: "2026-03-08" })
    expect(period("2026-03-01", namedFrequencies.annually)).toEqual({ first: "2026-03-01", last: "2027-02-28" })
    expect(period("2027-03-01", namedFrequencies.annually)).toEqual({ first: "2027-03-01", last: "2028-02-29" })
  })

  it("a month-end anchor: Jan 31's period ends the day before Feb 28, the next billing date", () => {
    expect(period("2026-01-31", monthly)).toEqual({ first: "2026-01-31", last: "2026-02-27" })
  })

  it("a period of one day (a checkout's one-time invoice: start = end) covers that day, never ending before it starts", () => {
    expect(coveredDays(d("2026-04-02"), d("2026-04-02"))).toEqual({ first: "2026-04-02", last: "2026-04-02" })
  })

  it("every period covers its days up to the next billing date, and the next period starts the day after its last", () => {
    fc.assert(fc.property(anchorArb, frequencyArb, fc.integer({ min: 0, max: 40 }), (anchor, frequency, k) => {
      const s = new BillingSchedule(anchor, frequency)
      const { first, last } = coveredDays(s.dateAt(k), s.dateAt(k + 1))
      expect(first).toBe(s.dateAt(k))
      expect(toDayNumber(last)).toBeGreaterThanOrEqual(toDayNumber(first))
      expect(toDayNumber(last) + 1).toBe(toDayNumber(s.dateAt(k + 1)))
    }))
  })
})
