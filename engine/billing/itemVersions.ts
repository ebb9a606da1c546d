/**
 * Which item version a subscription bills on a day. A change of items is a
 * new version effective from a date (the next billing date when asked); the
 * period starting on day D bills the highest version effective on or before
 * D, which is the rule of the billing run (engine/invoicing/billingRun.ts picks the
 * same in SQL). `subscriptions show` and `update` read versions through these.
 */
import type { CalendarDate } from "../domain/index.ts"

export interface ItemVersionRef {
  readonly version: number
  readonly effectiveFrom: CalendarDate
}

/** The version billed for a period starting on `on`: the highest version effective on or before it; undefined when none is yet. */
export const versionInForce = <V extends ItemVersionRef>(versions: ReadonlyArray<V>, on: CalendarDate): V | undefined => {
  let best: V | undefined
  for (const v of versions) if (v.effectiveFrom <= on && (best === undefined || v.version > best.version)) best = v
  return best
}

/**
 * The version that takes over after `today`: on the first later effective
 * date where the version in force changes. A version replaced before its
 * date ever came (a later version effective earlier) is never next.
 */
export const nextVersionAfter = <V extends ItemVersionRef>(versions: ReadonlyArray<V>, today: CalendarDate): V | undefined => {
  const current = versionInForce(versions, today)
  const dates = [...new Set(versions.filter((v) => v.effectiveFrom > today).map((v) => v.effectiveFrom))].sort()
  for (const d of dates) {
    const v = versionInForce(versions, d)
    if (v !== undefined && v !== current) return v
  }
  return undefined
}
