/**
 * Calendar dates in an account's IANA time zone. "Today" for an account is the
 * date on its wall calendar, so a billing date never moves with DST: the date
 * is what is due, not an instant 24 hours after the last one.
 */
import type { CalendarDate } from "../domain/index.ts"

const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    formatters.set(timeZone, f)
  }
  return f
}

export const isValidTimeZone = (timeZone: string): boolean => {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

/**
 * A zone's canonical IANA name as the account keeps it (`europe/oslo` is `Europe/Oslo`); undefined for what is not
 * a named zone, a UTC offset such as `+05:00` included (it knows no summer time, so Oslo's calendar would drift).
 */
export const canonicalTimeZone = (timeZone: string): string | undefined => {
  if (!/^[A-Za-z]/.test(timeZone)) return undefined
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

/** The calendar date on the wall in `timeZone` at the instant `epochMillis`. */
export const calendarDateInZone = (epochMillis: number, timeZone: string): CalendarDate => {
  const parts = formatterFor(timeZone).formatToParts(epochMillis)
  let y = "", m = "", d = ""
  for (const p of parts) {
    if (p.type === "year") y = p.value
    else if (p.type === "month") m = p.value
    else if (p.type === "day") d = p.value
  }
  return `${y}-${m}-${d}` as CalendarDate
}
