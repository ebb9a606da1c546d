/**
 * Decoding flag values at the edge, each failure a `UsageError` (exit 2) that
 * names the flag and what was expected.
 */
import { Effect } from "effect"
import { parseCalendarDate } from "../billing/index.ts"
import type { CalendarDate, Frequency } from "../domain/index.ts"
import { frequencyNames, parseFrequency } from "../domain/index.ts"
import { UsageError } from "./CliFailure.ts"

export const parseDateFlag = (flag: string, value: string): Effect.Effect<CalendarDate, UsageError> => {
  const d = parseCalendarDate(value)
  return d === undefined
    ? Effect.fail(new UsageError({ message: `${flag}: "${value}" is not a calendar date (expected YYYY-MM-DD, a day that exists)` }))
    : Effect.succeed(d)
}

export const parseFrequencyFlag = (flag: string, value: string): Effect.Effect<Frequency, UsageError> => {
  const f = parseFrequency(value)
  return f === undefined
    ? Effect.fail(new UsageError({ message: `${flag}: unknown frequency "${value}" (expected ${frequencyNames.join(", ")} or every-N-days|weeks|months|years)` }))
    : Effect.succeed(f)
}

/** A whole number above zero. */
export const parseCountFlag = (flag: string, value: string): Effect.Effect<number, UsageError> => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n > 0
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `${flag}: expected a whole number greater than 0, got "${value}"` }))
}

/** A whole number of zero or more. */
export const parseNonNegativeFlag = (flag: string, value: string): Effect.Effect<number, UsageError> => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n)
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `${flag}: expected a whole number of 0 or more, got "${value}"` }))
}
