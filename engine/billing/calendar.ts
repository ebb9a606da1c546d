/**
 * The billing calendar: pure date math on calendar dates (no time of day, no
 * zone). It owns how billing dates follow from an anchor; it knows nothing of
 * SQL, clocks or subscriptions.
 *
 * Every billing date is computed from the anchor each time, never by adding a
 * period to the previous date: a monthly anchor on Jan 31 bills Feb 28 (29),
 * Mar 31, Apr 30, … and never drifts to the 28th. A month-based date clamps to
 * the last day of its month (as Stripe and Kill Bill do), so an annual Feb 29
 * anchor bills Feb 28 in common years and Feb 29 in leap years.
 *
 * Dates are plain `YYYY-MM-DD` strings at the edges; inside, a day number
 * (days since 1970-01-01) makes the arithmetic exact and fast.
 */
import type { CalendarDate, Frequency } from "../domain/index.ts"

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
export const dayNumber = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = (month + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

export interface CivilDate {
  readonly year: number
  readonly month: number
  readonly day: number
}

/** The civil date of a day number (Hinnant's civil_from_days). */
export const civilFromDayNumber = (n: number): CivilDate => {
  const z = n + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

export const daysInMonth = (year: number, month: number): number =>
  month === 2 && isLeapYear(year) ? 29 : monthLengths[month - 1]!

const pad2 = (n: number) => (n < 10 ? "0" + n : String(n))
const pad4 = (n: number) => (n < 10 ? "000" + n : n < 100 ? "00" + n : n < 1000 ? "0" + n : String(n))

export const formatCivil = (d: CivilDate): CalendarDate => `${pad4(d.year)}-${pad2(d.month)}-${pad2(d.day)}` as CalendarDate

const digit = (text: string, i: number): number => {
  const c = text.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1000
}

/** Parses `YYYY-MM-DD`; undefined for anything else, including impossible dates such as 2026-02-30. */
export const parseCivil = (text: string): CivilDate | undefined => {
  // Hand-rolled instead of a regex: this sits in the engine's hottest loop.
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3)
  const month = digit(text, 5) * 10 + digit(text, 6)
  const day = digit(text, 8) * 10 + digit(text, 9)
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  return { year, month, day }
}

/**
 * The years a date given as input (a flag, an import's start) may lie in. Billing dates run on from
 * it (a fixed term of payments, years ahead) and every one must stay a date the calendar and the store
 * hold; no real subscription starts before 1900 or after 2999.
 */
export const inputYears = { min: 1900, max: 2999 } as const

/** Why an input date is out of range, or undefined when it is within `inputYears`. */
export const inputDateProblem = (date: CalendarDate): string | undefined => {
  const year = Number(date.slice(0, 4))
  return year < inputYears.min || year > inputYears.max ? `${date} is out of range (years ${inputYears.min} to ${inputYears.max})` : undefined
}

export const parseCalendarDate = (text: string): CalendarDate | undefined =>
  parseCivil(text) === undefined ? undefined : (text as CalendarDate)

const civilOf = (date: CalendarDate): CivilDate => {
  const c = parseCivil(date)
  if (c === undefined) throw new RangeError(`not a calendar date: ${date}`)
  return c
}

export const toDayNumber = (date: CalendarDate): number => {
  const c = civilOf(date)
  return dayNumber(c.year, c.month, c.day)
}

export const fromDayNumber = (n: number): CalendarDate => formatCivil(civilFromDayNumber(n))

export const addDays = (date: CalendarDate, days: number): CalendarDate => fromDayNumber(toDayNumber(date) + days)

/** `months` after a civil date, clamped to the end of the target month. */
export const addMonthsClampedCivil = (c: CivilDate, months: number): CivilDate => {
  const index = c.year * 12 + (c.month - 1) + months
  const year = Math.floor(index / 12)
  const month = index - year * 12 + 1
  const dim = daysInMonth(year, month)
  return { year, month, day: c.day < dim ? c.day : dim }
}

export const addMonthsClamped = (date: CalendarDate, months: number): CalendarDate =>
  formatCivil(addMonthsClampedCivil(civilOf(date), months))

/** The step of a frequency in its own unit: days or months. */
export interface Step {
  readonly unit: "day" | "month"
  readonly size: number
}

export const stepOf = (frequency: Frequency): Step => {
  switch (frequency.unit) {
    case "day":
      return { unit: "day", size: frequency.count }
    case "week":
      return { unit: "day", size: 7 * frequency.count }
    case "month":
      return { unit: "month", size: frequency.count }
    case "year":
      return { unit: "month", size: 12 * frequency.count }
  }
}

/**
 * A billing schedule compiled from an anchor and a frequency: the k-th billing
 * date (k = 0 is the anchor) is always computed from the anchor.
 */
export class BillingSchedule {
  readonly anchor: CalendarDate
  readonly step: Step
  readonly #anchorCivil: CivilDate
  readonly #anchorDay: number
  readonly #anchorMonthIndex: number

  constructor(anchor: CalendarDate, frequency: Frequency) {
    this.anchor = anchor
    this.step = stepOf(frequency)
    this.#anchorCivil = civilOf(anchor)
    this.#anchorDay = dayNumber(this.#anchorCivil.year, this.#anchorCivil.month, this.#anchorCivil.day)
    this.#anchorMonthIndex = this.#anchorCivil.year * 12 + this.#anchorCivil.month - 1
  }

  /** Day number of the k-th billing date. */
  dayAt(k: number): number {
    if (this.step.unit === "day") return this.#anchorDay + k * this.step.size
    const index = this.#anchorMonthIndex + k * this.step.size
    const year = Math.floor(index / 12)
    const month = index - year * 12 + 1
    const dim = daysInMonth(year, month)
    const day = this.#anchorCivil.day < dim ? this.#anchorCivil.day : dim
    return dayNumber(year, month, day)
  }

  dateAt(k: number): CalendarDate {
    return fromDayNumber(this.dayAt(k))
  }

  /** The first `count` billing dates. */
  dates(count: number): Array<CalendarDate> {
    const out = new Array<CalendarDate>(count)
    for (let k = 0; k < count; k++) out[k] = this.dateAt(k)
    return out
  }

  /** The smallest k whose billing date is on or after the given day (0 for days before the anchor). */
  indexOnOrAfter(day: number): number {
    if (day <= this.#anchorDay) return 0
    let k: number
    if (this.step.unit === "day") {
      k = Math.ceil((day - this.#anchorDay) / this.step.size)
    } else {
      const c = civilFromDayNumber(day)
      const monthsBetween = c.year * 12 + c.month - 1 - this.#anchorMonthIndex
      k = Math.max(0, Math.floor(monthsBetween / this.step.size))
      // The estimate is at most one step early; clamping can only move a date earlier within its month.
      while (this.dayAt(k) < day) k++
      while (k > 0 && this.dayAt(k - 1) >= day) k--
    }
    return k
  }

  /** The first billing date on or after `date`. */
  nextOnOrAfter(date: CalendarDate): CalendarDate {
    return this.dateAt(this.indexOnOrAfter(toDayNumber(date)))
  }

  /** The first billing date strictly after `date`. */
  nextAfter(date: CalendarDate): CalendarDate {
    return this.dateAt(this.indexOnOrAfter(toDayNumber(date) + 1))
  }

  /**
   * The billing period holding `date`, half-open `[start, end)`: period k runs
   * from date k up to (not including) date k + 1. Undefined before the anchor.
   */
  periodContaining(date: CalendarDate): BillingPeriod | undefined {
    const day = toDayNumber(date)
    if (day < this.#anchorDay) return undefined
    let k = this.indexOnOrAfter(day)
    if (this.dayAt(k) > day) k--
    return { index: k, start: this.dateAt(k), end: this.dateAt(k + 1) }
  }

  /** The end date of fixed terms of `payments` payments: the (N+1)-th billing date. */
  endDate(payments: number): CalendarDate {
    return this.dateAt(payments)
  }

  /**
   * Billing that goes on from `date` after periods were skipped (a pause, an unpaid spell): the first billing
   * date on or after it, and for fixed terms with `remainingPayments` still to bill, the end date that keeps
   * them all. Skipped periods are not payments, so the end moves later by the periods skipped (a buyer on 6
   * payments gets 6 deliveries); with nothing left to bill the term ends on that next date.
   */
  goingOnFrom(date: CalendarDate, remainingPayments: number | undefined): { readonly next: CalendarDate; readonly endDate: CalendarDate | undefined } {
    const k = this.indexOnOrAfter(toDayNumber(date))
    return { next: this.dateAt(k), endDate: remainingPayments === undefined ? undefined : this.dateAt(k + Math.max(0, remainingPayments)) }
  }
}

export interface BillingPeriod {
  /** 0 for the period that starts on the anchor. */
  readonly index: number
  readonly start: CalendarDate
  /** Exclusive: the next billing date. */
  readonly end: CalendarDate
}

/**
 * The days a billing period covers, as a person reads them: its first and its last day. A period is half-open: its
 * end (an invoice's `period_end`, a `BillingPeriod`'s `end`) is the next billing date, the first day not covered,
 * which the next invoice bills. Printed as a range, that end reads as if it were paid twice ("1 March – 1 April"), so
 * whatever shows a period to a person shows the day before it, as commercial invoices do ("1 March – 31 March").
 * A period of one day (a checkout's one-time invoice: start = end) covers that day, never ending before it starts.
 * Machine-readable fields (the API, events, the export) keep the stored end.
 */
export const coveredDays = (start: CalendarDate, end: CalendarDate): { readonly first: CalendarDate; readonly last: CalendarDate } =>
  ({ first: start, last: toDayNumber(end) > toDayNumber(start) ? addDays(end, -1) : start })

export const billingDates = (anchor: CalendarDate, frequency: Frequency, count: number): Array<CalendarDate> =>
  new BillingSchedule(anchor, frequency).dates(count)

/** A delayed start: a fixed date, or N days or N months after the purchase date. */
export type StartDelay =
  | { readonly _tag: "Date"; readonly date: CalendarDate }
  | { readonly _tag: "Days"; readonly days: number }
  | { readonly _tag: "Months"; readonly months: number }

export const startDate = (purchase: CalendarDate, delay: StartDelay | undefined): CalendarDate => {
  if (delay === undefined) return purchase
  switch (delay._tag) {
    case "Date":
      return delay.date
    case "Days":
      return addDays(purchase, delay.days)
    case "Months":
      return addMonthsClamped(purchase, delay.months)
  }
}

/** Days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: CalendarDate, to: CalendarDate): number => toDayNumber(to) - toDayNumber(from)
