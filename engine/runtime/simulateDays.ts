/**
 * The engine runs that move the store's clock. `engine --once` runs one tick
 * at the command's day. The simulator (`billcycle simulate`) runs the engine day by day on a
 * virtual clock and moves the store's test clock with it, so an interrupted
 * run leaves the store on the last day it ran. It starts at the command's day
 * (already checked against the store's day) or, when the engine already ran
 * that day, the day after the last simulated day: no day runs twice, and none
 * runs before the store's day.
 */
import { Effect } from "effect"
import { addDays } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import { runSql } from "../sql/index.ts"
import { loadSettings, readStoreClock, BusinessClock, dayTime } from "../account/index.ts"
import { runTick } from "./Engine.ts"
import type { TickSummary } from "./Engine.ts"
import { advanceStoreClock, resolveCommandTime } from "./StoreClock.ts"
import type { GivenNow } from "./StoreClock.ts"

export type SimulationTotals = Omit<TickSummary, "today">

export const emptyTotals = (): SimulationTotals => ({
  activated: 0, canceled: 0, resumed: 0, expired: 0, invoiced: 0, charged: 0, failed: 0, unknown: 0, pending: 0,
  retried: 0, overdue: 0, reminders: 0, parked: 0, rules: 0, delivered: 0
})

/** The first day a simulation runs: today (the command's business day), or the day after the last simulated day. */
export const simulationStart = Effect.gen(function*() {
  const clock = yield* BusinessClock
  const { state, timeZone } = yield* runSql(async (sql) => ({ state: await readStoreClock(sql), timeZone: (await loadSettings(sql)).timezone }))
  const today = yield* clock.today(timeZone)
  return state.simulatedThrough !== undefined && state.simulatedThrough >= today ? addDays(state.simulatedThrough, 1) : today
})

/** Runs `days` days from `from`, one tick a day, moving the store's clock after each. */
export const simulateDays = (options: {
  readonly from: CalendarDate
  readonly days: number
  readonly batch: number
  readonly onDay?: (day: CalendarDate, done: number, totals: SimulationTotals) => void
}) =>
  Effect.gen(function*() {
    const totals = emptyTotals()
    const virtual = yield* BusinessClock
    for (let i = 0; i < options.days; i++) {
      const day = addDays(options.from, i)
      yield* virtual.set(dayTime(day))
      // A day, the store's clock moved past it and its report, as one: a Ctrl-C lands between two days, so what the
      // command says it simulated is what the store's clock says (an interrupt after the clock moved but before the
      // report named the day before as the last one simulated).
      yield* Effect.gen(function*() {
        // The clock first, as engine --once does (below): an engine that moved the store past this day meanwhile stops
        // the simulation before the day is billed, not after.
        yield* advanceStoreClock(day, { ranEngine: false, source: "simulate" })
        const s = yield* runTick({ batch: options.batch })
        for (const k of Object.keys(totals) as Array<keyof SimulationTotals>) totals[k] += s[k]
        yield* advanceStoreClock(day, { ranEngine: true, source: "simulate" })
        options.onDay?.(day, i + 1, totals)
      }).pipe(Effect.uninterruptible)
    }
    return totals
  }).pipe(Effect.provide(BusinessClock.fixed(dayTime(options.from)))) // the simulator owns a virtual clock

/** `engine --once`: one tick at the command's day; `--now` (or a test clock) leaves the store's clock on that day. */
export const engineOnce = <E, R>(now: GivenNow | undefined, tick: Effect.Effect<TickSummary, E, R>) =>
  Effect.gen(function*() {
    const time = yield* resolveCommandTime(now)
    const moves = now !== undefined || time.onTestClock
    // The clock moves to the day before the tick, under the clock's lock: an engine at an earlier day that passed its
    // check meanwhile (two started at once) is refused when it moves the clock, before it bills. Moved only after the
    // tick, the earlier one billed and journaled its day after the later day's work, then exited 2.
    if (moves) yield* advanceStoreClock(time.today, { ranEngine: false, source: now?.source ?? "engine" })
    const summary = yield* tick
    if (moves) yield* advanceStoreClock(time.today, { ranEngine: true, source: now?.source ?? "engine" })
    return summary
  })
