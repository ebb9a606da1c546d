/**
 * `billcycle engine` (continuous, or `--once`) and `billcycle simulate --until DATE`.
 */
import { Console, Effect, Layer, Option, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { parseCalendarDate, addDays, toDayNumber } from "../../billing/index.ts"
import type { CalendarDate } from "../../domain/index.ts"
import { BusinessClock, dayTime } from "../../runtime/BusinessClock.ts"
import { describeTick, runTick } from "../../runtime/Engine.ts"
import type { TickSummary } from "../../runtime/Engine.ts"
import { Gateway } from "../../runtime/Gateway.ts"
import { engineHooksLayer } from "../../runtime/hooks.ts"
import { loadSettings, runSql } from "../../store/index.ts"
import { withApp } from "../AppLayer.ts"
import { CheckFailed, UsageError } from "../CliFailure.ts"
import { existsSync, statSync } from "node:fs"
import type { CompiledRuleSet } from "../../../dsl/index.ts"
import { loadRuleDirectory, watchRules } from "../../runtime/RulesRuntime.ts"
import { Json, Now } from "../GlobalFlags.ts"
import { parseCountFlag } from "../flagParsers.ts"

const batchFlag = Flag.String("batch").pipe(Flag.withDescription("how many records a step claims at once (default 500)"), Flag.optional)
const rulesFlag = Flag.String("rules").pipe(Flag.withDescription("a directory of *.rules files to run"), Flag.optional)
const logFormatFlag = Flag.String("log-format").pipe(Flag.withDescription("text (default) or json: one JSON object per tick"), Flag.optional)

const batchOf = (flag: Option.Option<string>) =>
  Option.isSome(flag) ? parseCountFlag("--batch", flag.value) : Effect.succeed(500)

/** Loads --rules (refusing to start on any error) and watches it while the engine runs. */
const loadRules = (dir: string | undefined, watchForChanges: boolean) =>
  Effect.gen(function*() {
    if (dir === undefined) return undefined
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return yield* new UsageError({ message: `--rules: ${dir} is not a directory` })
    const loaded = yield* Effect.try({ try: () => loadRuleDirectory(dir), catch: (e) => new CheckFailed({ message: `the engine will not start: ${(e as Error).message}` }) })
    if (!watchForChanges) return () => loaded.ruleSet
    // A running engine follows edits to its rule files; the watcher closes with the engine.
    const watcher = yield* Effect.acquireRelease(
      Effect.sync(() => watchRules(dir, loaded, (line) => process.stderr.write(line + "\n"))),
      (w) => Effect.sync(() => w.close())
    )
    return () => watcher.get().ruleSet
  })

const engineLayers = (rules: (() => CompiledRuleSet) | undefined) =>
  Layer.mergeAll(Gateway.simulated, engineHooksLayer(rules))

const emptyTotals = (): Omit<TickSummary, "today"> => ({
  activated: 0, canceled: 0, resumed: 0, expired: 0, invoiced: 0, charged: 0, failed: 0, unknown: 0,
  retried: 0, overdue: 0, reminders: 0, parked: 0, rules: 0, delivered: 0
})

const addInto = (totals: Omit<TickSummary, "today">, s: TickSummary) => {
  for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += s[k]
}

const engine = Command.make(
  "engine",
  { once: Flag.Boolean("once").pipe(Flag.withDescription("do everything due at --now, then exit"), Flag.withDefault(false)), batch: batchFlag, rules: rulesFlag, logFormat: logFormatFlag, interval: Flag.String("interval").pipe(Flag.withDescription("seconds between ticks when running continuously (default 5)"), Flag.optional) },
  Effect.fn("engine")(function*(flags) {
    const batch = yield* batchOf(flags.batch)
    const json = (yield* Json) || Option.getOrUndefined(flags.logFormat) === "json"
    if (Option.isSome(flags.logFormat) && !["json", "text"].includes(flags.logFormat.value)) {
      return yield* new UsageError({ message: `--log-format: expected text or json, got "${flags.logFormat.value}"` })
    }
    const interval = Option.isSome(flags.interval) ? yield* parseCountFlag("--interval", flags.interval.value) : 5
    const report = (s: TickSummary) => Console.log(json ? JSON.stringify({ level: "info", msg: "tick", ...s }) : describeTick(s))
    // A tick is not interrupted half way: SIGTERM/SIGINT finish the batch in hand, then the engine exits.
    const tick = runTick({ batch }).pipe(Effect.uninterruptible, Effect.tap(report))
    const program = flags.once ? tick : Effect.repeat(tick, Schedule.spaced(`${interval} seconds`)).pipe(Effect.asVoid)
    yield* Effect.scoped(Effect.gen(function*() {
      const rules = yield* loadRules(Option.getOrUndefined(flags.rules), !flags.once)
      yield* withApp(program.pipe(Effect.provide(engineLayers(rules))), { longRunning: !flags.once })
    }))
  })
).pipe(Command.withDescription("Run the billing engine: continuously, or --once for everything due at --now"))

const storedSimulatedDay = "simulated_through"

const simulate = Command.make(
  "simulate",
  { until: Flag.String("until").pipe(Flag.withDescription("the last day to simulate, YYYY-MM-DD")), batch: batchFlag, rules: rulesFlag },
  Effect.fn("simulate")(function*(flags) {
    const until = parseCalendarDate(flags.until)
    if (until === undefined) return yield* new UsageError({ message: `--until: "${flags.until}" is not a calendar date YYYY-MM-DD` })
    const batch = yield* batchOf(flags.batch)
    const json = yield* Json
    const nowFlag = yield* Now
    const program = Effect.gen(function*() {
      const clock = yield* BusinessClock
      const start = yield* runSql(async (q) => {
        const settings = await loadSettings(q)
        const [stored] = await q<Array<{ value: string }>>`select value from engine_state where key = ${storedSimulatedDay}`
        if (stored !== undefined) return { from: addDays(stored.value as CalendarDate, 1), settings }
        return { from: undefined, settings }
      })
      const from = start.from ?? (yield* clock.today(start.settings.timezone))
      // The stored day wins over the clock: say so when the clock was set to another day.
      if (start.from !== undefined && (Option.isSome(nowFlag) || process.env["BILLCYCLE_NOW"])) {
        const asked = yield* clock.today(start.settings.timezone)
        if (asked !== start.from) yield* Console.error(`simulate continues from the day after the last simulated day (${start.from}); the clock's ${asked} is not used`)
      }
      if (toDayNumber(from) > toDayNumber(until)) {
        return yield* new UsageError({ message: `--until: ${until} is before the next day to simulate (${from})` })
      }
      const days = toDayNumber(until) - toDayNumber(from) + 1
      const totals = emptyTotals()
      const tty = process.stderr.isTTY === true && !json
      // The simulator owns a virtual clock, whatever clock the command was given.
      const loop = Effect.gen(function*() {
        const virtual = yield* BusinessClock
        for (let i = 0; i < days; i++) {
          const day = addDays(from, i)
          yield* virtual.set(dayTime(day))
          const s = yield* runTick({ batch }).pipe(Effect.uninterruptible)
          addInto(totals, s)
          yield* runSql((q) => q`insert into engine_state (key, value) values (${storedSimulatedDay}, ${day})
            on conflict (key) do update set value = excluded.value`)
          if (tty) {
            const width = 30
            const done = Math.round(((i + 1) / days) * width)
            process.stderr.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${day}  invoices ${totals.invoiced}  charged ${totals.charged}  failed ${totals.failed} `)
          }
        }
      })
      yield* loop.pipe(Effect.provide(BusinessClock.fixed(dayTime(from))))
      if (tty) process.stderr.write("\n")
      if (json) {
        yield* Console.log(JSON.stringify({ from, until, days, ...totals }))
      } else {
        const lines = Object.entries(totals).filter(([, v]) => v > 0).map(([k, v]) => `  ${k.padEnd(10)} ${v}`)
        yield* Console.log([`simulated ${days} day${days === 1 ? "" : "s"}: ${from} .. ${until}`, ...(lines.length === 0 ? ["  nothing was due"] : lines)].join("\n"))
      }
    })
    yield* Effect.scoped(Effect.gen(function*() {
      const rules = yield* loadRules(Option.getOrUndefined(flags.rules), false)
      yield* withApp(program.pipe(Effect.provide(engineLayers(rules))), { longRunning: true })
    }))
  })
).pipe(Command.withDescription("Advance a virtual clock day by day from the last simulated day, running all due work each day"))

export const engineCommands = [engine, simulate] as const
