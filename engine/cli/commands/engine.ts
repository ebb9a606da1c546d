/**
 * `billcycle engine` (continuous, or `--once`) and `billcycle simulate --until DATE`.
 * Both move the store's test clock forward (`engine --now`, `simulate`), and the
 * real-time engine refuses a store on a test clock (business time never runs back).
 */
import { Console, Effect, Layer, Option, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { addDays, parseCalendarDate, toDayNumber } from "../../billing/index.ts"
import type { CalendarDate } from "../../domain/index.ts"
import { advanceStoreClock, describeTick, engineHooksLayer, engineOnce, EngineState, loadRuleDirectory, realTimeEngineRefusal, resolveCommandTime, ruleFilesIn, runTick, simulateDays, simulationStart, watchRules } from "../../runtime/index.ts"
import type { GatewayUnavailable } from "../../payments/index.ts"
import { Gateway } from "../../payments/index.ts"
import type { TickSummary } from "../../runtime/index.ts"
import { givenNow, withApp } from "../AppLayer.ts"
import { CheckFailed, UsageError } from "../CliFailure.ts"
import { existsSync, statSync } from "node:fs"
import type { CompiledRuleSet } from "../../../dsl/index.ts"
import { Json } from "../GlobalFlags.ts"
import { runsUntilSignalled } from "../stopSignal.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { analyticsDirFlag, analyticsFile, refreshAfterTick } from "./analytics.ts"
import { cancelOwnLockWaits, connectionLost, Database, runSql, statementCancelled } from "../../sql/index.ts"
import { loadSettings, placeholderWarning } from "../../account/index.ts"
import type { DatabaseError } from "../../sql/index.ts"

const batchFlag = Flag.String("batch").pipe(Flag.withDescription("how many records a step claims at once (default 500)"), Flag.optional)
const rulesFlag = Flag.String("rules").pipe(Flag.withDescription("a directory of *.rules files to run"), Flag.optional)
const enrollExistingFlag = Flag.Boolean("enroll-existing").pipe(Flag.withDescription("a rule loaded for the first time also enrolls on past events (by default it starts after them)"), Flag.withDefault(false))
const logFormatFlag = Flag.String("log-format").pipe(Flag.withDescription("text (default) or json: one JSON object per tick"), Flag.optional)

/** --enroll-existing is about rules loaded for the first time: without --rules it would do nothing, silently. */
const enrollExistingNeedsRules = (flags: { readonly enrollExisting: boolean; readonly rules: Option.Option<string> }) =>
  flags.enrollExisting && Option.isNone(flags.rules)
    ? Effect.fail(new UsageError({ message: "--enroll-existing: only with --rules DIR (it lets rules loaded for the first time enroll on past events)" }))
    : Effect.void

const batchOf = (flag: Option.Option<string>) =>
  Option.isSome(flag) ? parseCountFlag("--batch", flag.value) : Effect.succeed(500)

/** Loads --rules (refusing to start on any error) and watches it while the engine runs. */
const loadRules = (dir: string | undefined, watchForChanges: boolean) =>
  Effect.gen(function*() {
    if (dir === undefined) return undefined
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return yield* new UsageError({ message: `--rules: ${dir} is not a directory` })
    // An engine with no rule enrolls nobody, silently: a directory without rule files is a wrong path or wrong names.
    if (ruleFilesIn(dir).length === 0) return yield* new UsageError({ message: `--rules: ${dir} holds no *.rules file` })
    const loaded = yield* Effect.try({ try: () => loadRuleDirectory(dir), catch: (e) => new CheckFailed({ message: `the engine will not start: ${(e as Error).message}` }) })
    if (!watchForChanges) return () => loaded.ruleSet
    // A running engine follows edits to its rule files; the watcher closes with the engine.
    const watcher = yield* Effect.acquireRelease(
      Effect.sync(() => watchRules(dir, loaded, (line) => process.stderr.write(line + "\n"))),
      (w) => Effect.sync(() => w.close())
    )
    return () => watcher.get().ruleSet
  })

export const engineLayers = (rules: (() => CompiledRuleSet) | undefined, enrollExisting = false) =>
  Layer.mergeAll(Gateway.simulated, engineHooksLayer(rules, undefined, { enrollExisting }), EngineState.layer)

/** What each figure of a simulate summary counts, printed beside it. */
const figureMeanings: Record<keyof Omit<TickSummary, "today">, string> = {
  activated: "scheduled subscriptions that started",
  canceled: "subscriptions canceled (at period end, or when retries ran out)",
  resumed: "paused subscriptions that resumed",
  expired: "fixed-term subscriptions that ended after their last payment",
  invoiced: "invoices created",
  charged: "charges that succeeded",
  failed: "charges declined by the gateway",
  unknown: "charges whose gateway reply was lost (settled later under the same key, never charged twice)",
  pending: "bank debits the bank has not settled yet (asked about again each day until they succeed or fail)",
  retried: "retries of a failed charge",
  overdue: "sent invoices that passed their due date",
  reminders: "reminders of an upcoming payment queued",
  parked: "subscriptions set aside after repeated errors (see subscriptions show)",
  rules: "steps run by rules",
  delivered: "messages delivered from the outbox (emails, notifications, webhooks)"
}

/**
 * The continuous engine outlasts its database: a tick that lost its
 * connection (a restart, a network outage) has rolled back what it had in
 * hand; the engine says so in one line, waits (1, 2, 4 … up to 60 s while the
 * outage lasts; SIGTERM still stops it at once) and carries on. Any other
 * failure still stops the engine.
 */
export const outlastingOutages = <A, R>(tick: Effect.Effect<A, DatabaseError | GatewayUnavailable, R>) => {
  let failures = 0
  return tick.pipe(
    Effect.tap(() => Effect.sync(() => { failures = 0 })),
    // Any step's error whose cause is a lost connection: the store's, or the simulated gateway's ledger.
    Effect.catch((e) => {
      if (!connectionLost(e)) return Effect.fail(e)
      const wait = Math.min(60, 2 ** failures)
      failures++
      return Console.error(`billcycle: database unavailable (${e.message}); the tick was rolled back; trying again in ${wait} s`).pipe(
        Effect.andThen(Effect.sleep(`${wait} seconds`))
      )
    })
  )
}

/**
 * A stop (SIGTERM, SIGINT) lets the batch in hand finish, but never waits
 * out a lock held by another session (a zombie engine; lock_timeout is 30 s):
 * from a second after the signal on, this process's statements waiting for a
 * lock are cancelled, which rolls their transaction back. The tick that lost
 * its batch so says one line and the engine stops cleanly (exit 0); what it
 * had in hand is due again for the next run. Wrap the tick inside the scope
 * of the engine's Database.
 */
export const stopCancelsLockWaits = <A, E, R>(tick: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const db = yield* Database
    if (db.kind !== "server") return tick
    let stopping = false
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        let timer: ReturnType<typeof setInterval> | undefined
        const onStop = () => {
          stopping = true
          timer ??= setInterval(() => void cancelOwnLockWaits(db.sql).catch(() => 0), 1000)
        }
        process.on("SIGTERM", onStop)
        process.on("SIGINT", onStop)
        return () => {
          process.off("SIGTERM", onStop)
          process.off("SIGINT", onStop)
          if (timer !== undefined) clearInterval(timer)
        }
      }),
      (dispose) => Effect.sync(dispose)
    )
    return tick.pipe(
      Effect.catch((e) =>
        stopping && statementCancelled(e)
          ? Console.error("billcycle: stopped while waiting for a lock held by another session; the batch in hand was rolled back and stays due for the next run").pipe(
            Effect.andThen(Effect.interrupt)
          )
          : Effect.fail(e)
      ),
      // The stop is pending by then: the line is said before the fiber gives in to it.
      Effect.uninterruptible
    )
  })

const engine = Command.make(
  "engine",
  { once: Flag.Boolean("once").pipe(Flag.withDescription("do everything due today (--now, or the store's test clock), then exit"), Flag.withDefault(false)), batch: batchFlag, rules: rulesFlag, enrollExisting: enrollExistingFlag, logFormat: logFormatFlag, interval: Flag.String("interval").pipe(Flag.withDescription("seconds between ticks when running continuously (default 5)"), Flag.optional),
    analytics: Flag.Boolean("analytics").pipe(Flag.withDescription("refresh the analytics copy after each tick (a failed refresh is logged; billing goes on)"), Flag.withDefault(false)),
    analyticsDir: analyticsDirFlag },
  Effect.fn("engine")(function*(flags) {
    // A signal is how the engine ends, after the batch in hand: a clean exit (stopSignal.ts).
    runsUntilSignalled()
    yield* enrollExistingNeedsRules(flags)
    const batch = yield* batchOf(flags.batch)
    const json = (yield* Json) || Option.getOrUndefined(flags.logFormat) === "json"
    if (Option.isSome(flags.logFormat) && !["json", "text"].includes(flags.logFormat.value)) {
      return yield* new UsageError({ message: `--log-format: expected text or json, got "${flags.logFormat.value}"` })
    }
    const interval = Option.isSome(flags.interval) ? yield* parseCountFlag("--interval", flags.interval.value) : 5
    // Checked before the database is opened, as `analytics refresh` does: a server needs a folder for the copy.
    const copyFile = flags.analytics ? yield* analyticsFile(flags.analyticsDir) : undefined
    if (flags.analytics && copyFile === undefined) return yield* new UsageError({ message: "--analytics-dir: a server database (or an in-memory one) keeps its analytics copy in a folder you give (--analytics-dir DIR or BILLCYCLE_ANALYTICS_DIR)" })
    if (!flags.analytics && Option.isSome(flags.analyticsDir)) return yield* new UsageError({ message: "--analytics-dir: only with --analytics" })
    const report = (s: TickSummary) => Console.log(json ? JSON.stringify({ level: "info", msg: "tick", ...s }) : describeTick(s))
    // A tick is not interrupted half way: SIGTERM/SIGINT finish the batch in hand, then the engine exits.
    const now = yield* givenNow
    const program = Effect.gen(function*() {
      const billed = yield* stopCancelsLockWaits(runTick({ batch }).pipe(Effect.uninterruptible, Effect.tap(report)))
      // After the tick's work is committed: the copy follows the store; its refresh never stops billing.
      const tick = copyFile === undefined ? billed : billed.pipe(Effect.tap(() => refreshAfterTick(copyFile, json)))
      if (flags.once) return yield* engineOnce(now, tick)
      // A refused real-time start was turned away before the engine's layers were built (refusedStart below).
      const time = yield* resolveCommandTime(now)
      // engine --now leaves the store's clock on its day.
      if (now !== undefined) yield* advanceStoreClock(time.today, { ranEngine: false, source: now.source })
      const placeholders = placeholderWarning(yield* runSql(loadSettings))
      if (placeholders !== undefined) yield* Console.error(`billcycle: ${placeholders}`)
      yield* Effect.repeat(outlastingOutages(tick), Schedule.spaced(`${interval} seconds`))
    }).pipe(Effect.scoped)
    // The real-time engine's refusal comes before the engine's layers are built: building them marks the rules
    // loaded (where they start in the journal), which a refused start must not do.
    const refusedStart = Effect.gen(function*() {
      if (flags.once) return
      const refusal = now === undefined ? realTimeEngineRefusal(yield* resolveCommandTime(now)) : undefined
      if (refusal !== undefined) return yield* new UsageError({ message: refusal })
    })
    yield* Effect.scoped(Effect.gen(function*() {
      const rules = yield* loadRules(Option.getOrUndefined(flags.rules), !flags.once)
      yield* withApp(Effect.andThen(refusedStart, program.pipe(Effect.provide(engineLayers(rules, flags.enrollExisting)))), { longRunning: !flags.once })
    }))
  })
).pipe(Command.withDescription("Run the billing engine: continuously at the real time, or --once for everything due today (--now, or the store's test clock); --now also moves the store's clock to that day"))

const simulate = Command.make(
  "simulate",
  { until: Flag.String("until").pipe(Flag.withDescription("the last day to simulate, YYYY-MM-DD (the first is the day after the last simulated day, or --now's day)")), batch: batchFlag, rules: rulesFlag, enrollExisting: enrollExistingFlag },
  Effect.fn("simulate")(function*(flags) {
    const until = parseCalendarDate(flags.until)
    if (until === undefined) return yield* new UsageError({ message: `--until: "${flags.until}" is not a calendar date YYYY-MM-DD` })
    yield* enrollExistingNeedsRules(flags)
    const batch = yield* batchOf(flags.batch)
    const json = yield* Json
    const program = Effect.gen(function*() {
      const from = yield* simulationStart
      if (toDayNumber(from) > toDayNumber(until)) {
        return yield* new UsageError({ message: `--until: ${until} is before the next day to simulate (${from}); business time never runs backwards` })
      }
      const days = toDayNumber(until) - toDayNumber(from) + 1
      const tty = process.stderr.isTTY === true && !json
      let through: CalendarDate | undefined
      // Said before the first day, on stderr (stdout stays the summary): what will run, and how to stop it.
      yield* Console.error(`simulate: ${from} .. ${until} (${days} day${days === 1 ? "" : "s"}); Ctrl-C stops after the day in hand`)
      const totals = yield* simulateDays({
        from, days, batch,
        onDay: (day, done, totals) => {
          through = day
          if (!tty) return
          const width = 30
          const filled = Math.round((done / days) * width)
          process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${day}  invoices ${totals.invoiced}  charged ${totals.charged}  failed ${totals.failed} `)
        }
      }).pipe(
        // Ctrl-C stops between days (a day's work is never cut in half): say where it stopped.
        Effect.onInterrupt(() => Effect.sync(() => {
          // 130: stopped by Ctrl-C before --until, as shells report it.
          process.exitCode = 130
          process.stderr.write(`${tty ? "\n" : ""}simulate: interrupted; ${through === undefined ? `no day was simulated; the next run starts on ${from}` : `simulated ${from} .. ${through}; the next run continues from ${addDays(through, 1)}`}\n`)
        }))
      )
      if (tty) process.stderr.write("\n")
      if (json) {
        yield* Console.log(JSON.stringify({ from, until, days, ...totals }))
      } else {
        const width = Math.max(...Object.values(totals).map((v) => String(v).length))
        const lines = (Object.entries(totals) as Array<[keyof typeof totals, number]>).filter(([, v]) => v > 0)
          .map(([k, v]) => `  ${k.padEnd(10)} ${String(v).padStart(width)}  ${figureMeanings[k]}`)
        yield* Console.log([`simulated ${days} day${days === 1 ? "" : "s"}: ${from} .. ${until}`, ...(lines.length === 0 ? ["  nothing was due"] : lines)].join("\n"))
      }
    })
    yield* Effect.scoped(Effect.gen(function*() {
      const rules = yield* loadRules(Option.getOrUndefined(flags.rules), false)
      yield* withApp(program.pipe(Effect.provide(engineLayers(rules, flags.enrollExisting))), { longRunning: true })
    }))
  })
).pipe(Command.withDescription("Advance the store's test clock day by day to --until, running all due work each day: from --now, else the day after the last simulated day (or the store's clock, or today); never backwards; prints what each figure counts"))

export const engineCommands = [engine, simulate] as const
