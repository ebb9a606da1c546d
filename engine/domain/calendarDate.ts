import { Schema } from "effect"

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/
const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

const isRealDate = (s: string): boolean => {
  const m = datePattern.exec(s)
  if (m === null) return false
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3])
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const dim = month === 2 && leap ? 29 : monthLengths[month - 1]!
  return day <= dim
}

/** A calendar date `YYYY-MM-DD` that exists (2026-02-30 does not). */
export const CalendarDate = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => isRealDate(s) || `expected a real calendar date YYYY-MM-DD, got "${s}"`)),
  Schema.brand("CalendarDate")
)
export type CalendarDate = typeof CalendarDate.Type

/** A calendar month `YYYY-MM`. */
export const CalendarMonth = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^\d{4}-(0[1-9]|1[0-2])$/, { message: "expected a month YYYY-MM" })),
  Schema.brand("CalendarMonth")
)
export type CalendarMonth = typeof CalendarMonth.Type
