/**
 * `billcycle clock set DATE | show | real`: the store's test clock (Stripe's
 * "test clocks"). On a test clock every command runs at the store's day unless
 * `--now` is given; business time never runs backwards (StoreClock.ts), so
 * neither `clock set` nor `clock real` may move the store before its day.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import { calendarDateInZone } from "../../billing/index.ts"
import { dayOf } from "../../runtime/index.ts"
import type { StoreClockState } from "../../account/index.ts"
import { runSql } from "../../sql/index.ts"
import { clearStoreClock, loadSettings, moveStoreClock, readStoreClock, storeDay, parseNow } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { Json, Now } from "../GlobalFlags.ts"

/** What `clock show` prints (and `clock set` / `clock real` after a change). */
const clockReport = (state: StoreClockState, timeZone: string) => {
  const realDate = calendarDateInZone(Date.now(), timeZone)
  const day = storeDay(state) ?? null
  const onTestClock = state.clock !== undefined
  return {
    clock: onTestClock ? "test" as const : "real" as const,
    // The day a command without --now runs at: the store's day on a test clock, or when it is ahead of the real date.
    today: onTestClock || (day !== null && realDate < day) ? day : realDate,
    storeDay: day,
    realDate,
    timezone: timeZone,
    simulatedThrough: state.simulatedThrough ?? null
  }
}

const printReport = (report: ReturnType<typeof clockReport>) =>
  Effect.gen(function*() {
    if (yield* Json) return yield* Console.log(JSON.stringify(report))
    const rows: Array<[string, string]> = [
      ["clock", report.clock === "test" ? "test clock (billcycle clock real returns to the real clock)" : "real"],
      ["today", report.today ?? `none: the store's day ${report.storeDay} is after the real date; give --now or billcycle clock set ${report.storeDay}`],
      ["store's day", report.storeDay ?? "none yet (nothing recorded)"],
      ["real date", `${report.realDate} (${report.timezone})`],
      ["simulated through", report.simulatedThrough ?? "never simulated"]
    ]
    yield* Console.log(rows.map(([k, v]) => `${k.padEnd(17)}  ${v}`).join("\n"))
  })

// The clock commands read and move the stored clock: a one-command --now has no meaning for them.
const refuseNow = Effect.gen(function*() {
  if (Option.isSome(yield* Now)) return yield* new UsageError({ message: "--now: the clock commands do not take --now; billcycle clock set DATE moves the store's clock" })
})

const withStore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.andThen(refuseNow, withApp(effect, { time: "real" }))

const show = Command.make("show", {}, () =>
  withStore(Effect.gen(function*() {
    const { state, timeZone } = yield* runSql(async (sql) => ({ state: await readStoreClock(sql), timeZone: (await loadSettings(sql)).timezone }))
    yield* printReport(clockReport(state, timeZone))
  }))).pipe(Command.withDescription("Show the store's clock: test or real, today, the store's day (no command may run before it), the real date"))

const set = Command.make(
  "set",
  { date: Argument.String("date").pipe(Argument.withDescription("the store's new day, YYYY-MM-DD (or an ISO timestamp: its date in the account's time zone)")) },
  ({ date }) =>
    withStore(Effect.gen(function*() {
      const time = parseNow(date)
      if (time === undefined) return yield* new UsageError({ message: `DATE: "${date}" is not a date YYYY-MM-DD or an ISO timestamp` })
      const timeZone = yield* runSql(async (sql) => (await loadSettings(sql)).timezone)
      const day = dayOf(time, timeZone)
      const moved = yield* runSql((sql) => moveStoreClock(sql, day))
      if (moved._tag === "Refused") {
        return yield* new UsageError({ message: `DATE: ${day} is before the store's day ${moved.storeDay}: business time never runs backwards` })
      }
      yield* printReport(clockReport(moved.after, timeZone))
    }))
).pipe(Command.withDescription("Put the store on a test clock at DATE, or move it forward: every command without --now then runs at that day. Moves time only; billcycle simulate --until DATE runs the days between"))

const real = Command.make("real", {}, () =>
  withStore(Effect.gen(function*() {
    const timeZone = yield* runSql(async (sql) => (await loadSettings(sql)).timezone)
    const realDate = calendarDateInZone(Date.now(), timeZone)
    const cleared = yield* runSql((sql) => clearStoreClock(sql, realDate))
    if (cleared._tag === "Refused") {
      return yield* new UsageError({ message: `clock real: the store's day ${cleared.storeDay} is after today's real date ${realDate}: business time never runs backwards; the store stays on its test clock until the real date reaches ${cleared.storeDay}` })
    }
    yield* printReport(clockReport(cleared.after, timeZone))
  }))).pipe(Command.withDescription("Put the store back on the real clock; refused while the store's day is after the real date"))

export const clockCommand = Command.make("clock").pipe(
  Command.withDescription("The store's business clock: a test clock for simulated time (set, show), or the real clock (real)"),
  Command.withSubcommands([set, show, real])
)
