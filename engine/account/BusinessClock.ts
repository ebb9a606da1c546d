/**
 * The one time source of billcycle: business time. `--now` / BILLCYCLE_NOW
 * fix it for a command; the simulator moves it day by day; otherwise it is
 * the real clock. "Today" is always the date in the account's time zone.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { calendarDateInZone, parseCalendarDate } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"

export interface BusinessClockService {
  /** The current instant, epoch milliseconds. */
  readonly now: Effect.Effect<number>
  /** Today's date in `timeZone`. */
  readonly today: (timeZone: string) => Effect.Effect<CalendarDate>
  /** Moves a virtual clock (the simulator); the real clock refuses. */
  readonly set: (time: FixedTime) => Effect.Effect<void>
}

export class BusinessClock extends Context.Service<BusinessClock, BusinessClockService>()("billcycle/engine/account/BusinessClock") {
  /** The real clock. */
  static readonly real = Layer.succeed(BusinessClock, {
    now: Effect.sync(() => Date.now()),
    today: (tz) => Effect.sync(() => calendarDateInZone(Date.now(), tz)),
    set: () => Effect.die(new Error("the real clock cannot be moved"))
  })

  /**
   * A fixed (and movable) clock. A bare date means that date on the account's
   * calendar, whatever its zone: noon of that date is used as the instant.
   */
  static readonly fixed = (value: FixedTime) =>
    Layer.effect(
      BusinessClock,
      Effect.gen(function*() {
        const ref = yield* Ref.make(value)
        return {
          now: Ref.get(ref).pipe(Effect.map((v) => v.epochMillis)),
          today: (tz: string) => Ref.get(ref).pipe(Effect.map((v) => v.date ?? calendarDateInZone(v.epochMillis, tz))),
          set: (time: FixedTime) => Ref.set(ref, time)
        }
      })
    )
}

export interface FixedTime {
  readonly epochMillis: number
  /** Set when the clock was given as a calendar date: today is that date in every zone. */
  readonly date: CalendarDate | undefined
}

/** A business day as a fixed time: that date on the account's calendar, whatever its zone. */
export const dayTime = (date: CalendarDate): FixedTime => ({ epochMillis: Date.parse(date + "T12:00:00Z"), date })

/** Parses `YYYY-MM-DD` or an ISO timestamp; undefined when it is neither. */
export const parseNow = (text: string): FixedTime | undefined => {
  const date = parseCalendarDate(text)
  if (date !== undefined) return dayTime(date)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : { epochMillis: ms, date: undefined }
}
