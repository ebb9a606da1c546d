/**
 * Decoding flag values at the edge, each failure a `UsageError` (exit 2) that
 * names the flag and what was expected.
 */
import { Effect } from "effect"
import { inputDateProblem, parseCalendarDate } from "../billing/index.ts"
import type { CalendarDate, Frequency } from "../domain/index.ts"
import { frequencyNames, parseFrequency } from "../domain/index.ts"
import { UsageError } from "./CliFailure.ts"

export const parseDateFlag = (flag: string, value: string): Effect.Effect<CalendarDate, UsageError> => {
  const d = parseCalendarDate(value)
  if (d === undefined) return Effect.fail(new UsageError({ message: `${flag}: "${value}" is not a calendar date (expected YYYY-MM-DD, a day that exists)` }))
  const problem = inputDateProblem(d)
  return problem === undefined ? Effect.succeed(d) : Effect.fail(new UsageError({ message: `${flag}: ${problem}` }))
}

/** The largest count a flag takes: the store keeps counts in 32-bit integers. */
export const maxFlagCount = 2_147_483_647

export const parseFrequencyFlag = (flag: string, value: string): Effect.Effect<Frequency, UsageError> => {
  const f = parseFrequency(value)
  return f === undefined
    ? Effect.fail(new UsageError({ message: `${flag}: unknown frequency "${value}" (expected ${frequencyNames.join(", ")} or every-N-days|weeks|months|years)` }))
    : Effect.succeed(f)
}

/** A whole number above zero. */
export const parseCountFlag = (flag: string, value: string, max = maxFlagCount): Effect.Effect<number, UsageError> => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n > 0 && n <= max
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `${flag}: expected a whole number from 1 to ${max}, got "${value}"` }))
}

/** A whole number of zero or more. */
export const parseNonNegativeFlag = (flag: string, value: string, max = maxFlagCount): Effect.Effect<number, UsageError> => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n <= max
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `${flag}: expected a whole number from 0 to ${max}, got "${value}"` }))
}
