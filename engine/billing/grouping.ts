/**
 * Grouping line items into subscriptions (reference, "Creation"): items with
 * the same billing frequency, billing terms, start date and number of payments
 * go on one subscription; others make separate subscriptions, so a purchase of
 * one monthly and one yearly item makes two.
 */
import type { BillingTerms, CalendarDate, Frequency } from "../domain/index.ts"
import { formatBillingTerms } from "../domain/index.ts"

export interface Groupable {
  readonly frequency: Frequency
  readonly terms: BillingTerms
  readonly startDate: CalendarDate
}

export const groupKey = (item: Groupable): string =>
  `${item.frequency.unit}:${item.frequency.count}|${formatBillingTerms(item.terms)}|${item.startDate}`

/** Groups items in order of first appearance; each group keeps its items' order. */
export const groupIntoSubscriptions = <T extends Groupable>(items: ReadonlyArray<T>): Array<Array<T>> => {
  const groups = new Map<string, Array<T>>()
  for (const item of items) {
    const key = groupKey(item)
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [item])
    else g.push(item)
  }
  return [...groups.values()]
}
