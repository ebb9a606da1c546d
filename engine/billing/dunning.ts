/**
 * Dunning: what a failed charge does to its subscription. The first failure
 * makes it unpaid and starts the retry schedule; each retry day is counted
 * from the first failure (`retryDays`, days after it), never today or
 * earlier; when the schedule runs out, the account's policy applies: keep it
 * unpaid, cancel it (billing stops), or pause it.
 */
import type { CalendarDate } from "../domain/index.ts"
import { addDays } from "./calendar.ts"

export type AfterRetries = "keep-unpaid" | "cancel" | "pause"

/** The subscription as the failure finds it. */
export interface DunningState {
  readonly status: string
  readonly retryCount: number
  readonly unpaidSince: CalendarDate | null
}

export interface DunningOutcome {
  readonly status: "unpaid" | "canceled" | "paused"
  /** Retries used so far: 0 after the first failure. */
  readonly retriesMade: number
  /** The day of the first failure, from which retry days count. */
  readonly unpaidSince: CalendarDate
  /** The next retry, always after today; null when the schedule has run out. */
  readonly nextRetryOn: CalendarDate | null
  /** The schedule ran out with this failure: the policy (`status`) applied. */
  readonly exhausted: boolean
}

export const afterFailedCharge = (
  state: DunningState,
  today: CalendarDate,
  retryDays: ReadonlyArray<number>,
  afterRetries: AfterRetries
): DunningOutcome => {
  const firstFailure = state.status !== "unpaid"
  const unpaidSince = firstFailure ? today : state.unpaidSince ?? today
  const retriesMade = firstFailure ? 0 : state.retryCount + 1
  const offset = retryDays[retriesMade]
  if (offset === undefined) {
    const status = afterRetries === "cancel" ? "canceled" : afterRetries === "pause" ? "paused" : "unpaid"
    return { status, retriesMade, unpaidSince, nextRetryOn: null, exhausted: true }
  }
  const scheduled = addDays(unpaidSince, offset)
  const nextRetryOn = scheduled <= today ? addDays(today, 1) : scheduled
  return { status: "unpaid", retriesMade, unpaidSince, nextRetryOn, exhausted: false }
}
