/** An invoice's period as the command line prints it to a person: the days it covers, as the invoice document shows them. */
import { coveredDays } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"

/**
 * Its first to its last day covered (`coveredDays`: the stored `period_end` is the next billing date, not covered),
 * a period of one day (a checkout's one-time invoice) as that day alone. `--json` keeps the stored end.
 */
export const periodText = (invoice: { readonly period_start: string; readonly period_end: string }, separator: string): string => {
  const { first, last } = coveredDays(invoice.period_start as CalendarDate, invoice.period_end as CalendarDate)
  return first === last ? first : `${first}${separator}${last}`
}
