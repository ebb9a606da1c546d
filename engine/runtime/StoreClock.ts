/**
 * Business time of a command on a store: business time never runs backwards.
 * A command runs at its `--now` (or BILLCYCLE_NOW), else at the store's test
 * clock when the store has one (`billcycle clock set`), else at the real
 * clock. Whichever it is, its day may not come before the store's day (the
 * stored clock, the last simulated day, the latest date in the journal): such
 * a command is refused before it touches anything; only a BILLCYCLE_NOW (set for
 * a session) behind a store on a test clock gives way: the command runs at the
 * store's day, as it would without one. A command without either on a store
 * whose day is ahead of the real date runs at the store's day. Owns the decision only;
 * the stored clock's SQL lives in the store (businessDay.ts).
 */
import { Effect, Layer, Schema } from "effect"
import { calendarDateInZone } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { StoreClockState, FixedTime } from "../account/index.ts"
import { Database, runSql } from "../sql/index.ts"
import { moveStoreClock, readStoreClockAndSettings, storeDay, BusinessClock, dayTime } from "../account/index.ts"

/** A command asked for a business day before the store's day. */
export class BusinessTimeRefused extends Schema.TaggedError<BusinessTimeRefused>()("BusinessTimeRefused", {
  message: Schema.String
}) {}

/** A clock given for one command: the time, what the user wrote, and where (`--now` or BILLCYCLE_NOW). */
export interface GivenNow {
  readonly time: FixedTime
  readonly text: string
  readonly source: string
}

export type CommandTime =
  | {
    readonly _tag: "Run"
    /** Undefined: the real clock. */
    readonly time: FixedTime | undefined
    readonly today: CalendarDate
    /** The store is on a stored test clock. */
    readonly onTestClock: boolean
  }
  | { readonly _tag: "Refused"; readonly message: string }

/** The day of a given time on the account's calendar. */
export const dayOf = (time: FixedTime, timeZone: string): CalendarDate => time.date ?? calendarDateInZone(time.epochMillis, timeZone)

/** When a command runs on a store, or why it may not. Pure: the store's state and the real time are given. */
export const commandTime = (input: {
  readonly now: GivenNow | undefined
  readonly state: StoreClockState
  readonly timeZone: string
  readonly realMillis: number
}): CommandTime => {
  const { now, state, timeZone } = input
  const current = storeDay(state)
  const onTestClock = state.clock !== undefined
  // BILLCYCLE_NOW is set once for a whole session (a script, a test run): once simulate or engine --now moved the
  // store's test clock past it, the session goes on at the store's day, as a command without --now does. An explicit
  // --now before the store's day is refused, below.
  const sessionBehind = now !== undefined && now.source === "BILLCYCLE_NOW" && onTestClock && current !== undefined && dayOf(now.time, timeZone) < current
  if (now !== undefined && !sessionBehind) {
    const day = dayOf(now.time, timeZone)
    if (current !== undefined && day < current) {
      const shown = now.text === day ? day : `${now.text} (${day} in ${timeZone})`
      return { _tag: "Refused", message: `${now.source}: ${shown} is before the store's day ${current}: business time never runs backwards (billcycle clock show)` }
    }
    return { _tag: "Run", time: now.time, today: day, onTestClock }
  }
  // On a test clock the store's day is today: the stored clock, or a later day the store has already recorded.
  if (onTestClock) return { _tag: "Run", time: dayTime(current!), today: current!, onTestClock }
  // On the real clock, a store whose day is ahead of the real date (a command ran with a later --now) is worked in
  // at its day, as on a test clock: after `contacts add --now 2027-01-01`, `contacts list` lists it (it was
  // refused until the real date caught up), and what a command records is never journaled before the store's day.
  const real = calendarDateInZone(input.realMillis, timeZone)
  if (current !== undefined && real < current) return { _tag: "Run", time: dayTime(current), today: current, onTestClock }
  return { _tag: "Run", time: undefined, today: real, onTestClock }
}

/** Reads the store's clock and settings and decides the command's time; fails when it is refused. */
export const resolveCommandTime = (now: GivenNow | undefined) =>
  Effect.gen(function*() {
    const { state, timeZone } = yield* runSql(async (sql) => {
      const { state, settings } = await readStoreClockAndSettings(sql)
      return { state, timeZone: settings.timezone }
    })
    const decided = commandTime({ now, state, timeZone, realMillis: Date.now() })
    if (decided._tag === "Refused") return yield* new BusinessTimeRefused({ message: decided.message })
    return { ...decided, state, timeZone }
  })

/** The business clock of a command on the store (needs the database): refused before the command runs. */
export const storeClockLayer = (now: GivenNow | undefined) =>
  Layer.unwrap(Effect.gen(function*() {
    const decided = yield* resolveCommandTime(now)
    return decided.time === undefined ? BusinessClock.real : BusinessClock.fixed(decided.time)
  }))

/**
 * The business clock of a long-running door started without `--now` (`billcycle serve`): it follows the
 * store as every command does, for each request and not once at start. On a test clock (`billcycle clock
 * set`, `engine --now`) today is the store's day; on the real clock it is the real date, or the store's day
 * when that is later (business time never runs backwards: a request is not journaled before what the store
 * already recorded). The store's clock is read at most every `ttlMs`; when it cannot be read, the last one
 * read stands (or the real clock).
 */
export const storeFollowingClock = (ttlMs: number, elapsed: () => number = Date.now) =>
  Layer.effect(
    BusinessClock,
    Effect.gen(function*() {
      const db = yield* Database
      let remembered: { readonly state: StoreClockState; readonly until: number } | undefined
      const state = Effect.suspend(() => {
        const at = elapsed()
        if (remembered !== undefined && remembered.until > at) return Effect.succeed(remembered.state)
        return runSql(async (sql) => (await readStoreClockAndSettings(sql)).state).pipe(
          Effect.provideService(Database, db),
          Effect.tap((read) => Effect.sync(() => { remembered = { state: read, until: at + ttlMs } })),
          Effect.catch(() => Effect.succeed(remembered?.state))
        )
      })
      const timeIn = (tz: string) =>
        Effect.map(state, (read): FixedTime | undefined => {
          if (read === undefined) return undefined
          // A command's rule (commandTime): a store whose day is after the real date runs at its day, so a request is
          // never journaled before what the store recorded.
          const decided = commandTime({ now: undefined, state: read, timeZone: tz, realMillis: Date.now() })
          return decided._tag === "Run" ? decided.time : dayTime(storeDay(read)!)
        })
      return {
        now: Effect.map(timeIn("UTC"), (t) => t?.epochMillis ?? Date.now()),
        today: (tz: string) => Effect.map(timeIn(tz), (t) => t?.date ?? calendarDateInZone(Date.now(), tz)),
        set: () => Effect.die(new Error("a server's clock follows the store: billcycle clock set moves it"))
      }
    })
  )

/**
 * After the engine ran at the command's day: `engine --now DAY` (and any engine
 * run on a test clock) leaves the store's clock on that day; `ranEngine` also
 * records that the engine ran through it (engine --once, simulate).
 */
export const advanceStoreClock = (day: CalendarDate, options: { readonly ranEngine: boolean; readonly source: string }) =>
  runSql((sql) => moveStoreClock(sql, day, { ranEngine: options.ranEngine })).pipe(
    Effect.flatMap((moved) =>
      moved._tag === "Moved"
        ? Effect.void
        : Effect.fail(new BusinessTimeRefused({ message: `${options.source}: ${day} is before the store's day ${moved.storeDay}: business time never runs backwards` }))
    )
  )

/** Why the real-time engine may not start on this store (a test clock), or undefined when it may. */
export const realTimeEngineRefusal = (time: { readonly onTestClock: boolean; readonly today: CalendarDate; readonly timeZone: string }): string | undefined => {
  // The real-time engine would bill at the real date, before or after the store's test clock (or its day, ahead of the real date).
  const real = calendarDateInZone(Date.now(), time.timeZone)
  if (time.today > real) {
    return `the store's clock is on ${time.today}, in the future (today's real date is ${real}): the real-time engine will not start; run engine --once or simulate --until DATE, or wait for the real date${time.onTestClock ? " and run billcycle clock real" : ""}`
  }
  return time.onTestClock ? `the store is on a test clock (${time.today}): the real-time engine will not start; billcycle clock real puts the store back on the real clock` : undefined
}
