/**
 * `billcycle serve [--port 8080] [--host 127.0.0.1] [--engine] [--analytics [--analytics-dir DIR]]`: the HTTP API
 * (engine/api). It holds the database like the engine does (a long-running
 * command: on the embedded database it becomes the owner and serves other
 * billcycle commands as guests through its loopback socket). `--engine` runs
 * the billing loop in the same process; `--analytics` refreshes the analytics
 * copy after each of its ticks (as `engine --analytics`), and /reports answers
 * from the copy (also without the flag when the embedded database's folder
 * has one). SIGTERM stops taking connections,
 * lets the requests in hand finish (and the tick in hand), then exits 0.
 */
import { Console, Context, Effect, Layer, Option, Schedule } from "effect"
import { existsSync } from "node:fs"
import { Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import { BusinessClock, settingsTtlMs } from "../../account/index.ts"
import { realTimeEngineRefusal, resolveCommandTime, runTick, storeFollowingClock } from "../../runtime/index.ts"
import { engineLayers, outlastingOutages, stopCancelsLockWaits } from "./engine.ts"
import { Database } from "../../sql/index.ts"
import { givenNow, withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { parseNonNegativeFlag } from "../flagParsers.ts"
import { Json } from "../GlobalFlags.ts"
import { runsUntilSignalled } from "../stopSignal.ts"
import { analyticsDirFlag, analyticsFile, refreshAfterTick } from "./analytics.ts"

export const serveCommand = Command.make(
  "serve",
  {
    port: Flag.String("port").pipe(Flag.withDescription("the TCP port to listen on (default 8080; 0: any free port, printed)"), Flag.optional),
    host: Flag.String("host").pipe(Flag.withDescription("the address to listen on (default 127.0.0.1, this machine only)"), Flag.optional),
    engine: Flag.Boolean("engine").pipe(Flag.withDescription("also run the billing engine loop in this process (every 5 seconds)"), Flag.withDefault(false)),
    analytics: Flag.Boolean("analytics").pipe(Flag.withDescription("keep the analytics copy: /reports answers from it, and --engine refreshes it after each tick"), Flag.withDefault(false)),
    analyticsDir: analyticsDirFlag
  },
  Effect.fn("serve")(function*(flags) {
    // A signal is how serve ends (stopSignal.ts): a clean exit.
    runsUntilSignalled()
    const port = Option.isSome(flags.port) ? yield* parseNonNegativeFlag("--port", flags.port.value, 65_535) : 8080
    const host = Option.getOrElse(flags.host, () => "127.0.0.1")
    // As `engine --analytics`: checked before the database is opened; a server needs a folder for the copy.
    const json = yield* Json
    const defaultCopy = yield* analyticsFile(Option.none())
    const copyFile = flags.analytics ? yield* analyticsFile(flags.analyticsDir) : defaultCopy !== undefined && existsSync(defaultCopy) ? defaultCopy : undefined
    if (flags.analytics && copyFile === undefined) return yield* new UsageError({ message: "--analytics-dir: a server database (or an in-memory one) keeps its analytics copy in a folder you give (--analytics-dir DIR or BILLCYCLE_ANALYTICS_DIR)" })
    if (!flags.analytics && Option.isSome(flags.analyticsDir)) return yield* new UsageError({ message: "--analytics-dir: only with --analytics" })
    const now = yield* givenNow
    const program = Effect.gen(function*() {
      // Loaded here, not at start: the HTTP API (effect/http-api, the Node HTTP server) is serve's alone.
      const { apiServer } = yield* Effect.promise(() => import("../../api/index.ts"))
      const context = yield* Effect.context<Database | BusinessClock>()
      // Without --now, each request runs at the store's day as a command would then (clock set, engine --now), not at the day serve started.
      const given = Layer.succeedContext(context)
      const requestClock = now === undefined ? storeFollowingClock(settingsTtlMs).pipe(Layer.provide(given)) : given
      const server = apiServer({ port, host, analyticsFile: copyFile }).pipe(Layer.provide(requestClock), Layer.provide(given))
      const engine = flags.engine
        ? Effect.gen(function*() {
          const time = yield* resolveCommandTime(now)
          const refusal = now === undefined ? realTimeEngineRefusal(time) : undefined
          if (refusal !== undefined) return yield* new UsageError({ message: `--engine: ${refusal}` })
          // A tick is not interrupted half way: SIGTERM finishes the batch in hand first.
          // The same loop as `billcycle engine`: it outlasts a database outage.
          const billed = yield* stopCancelsLockWaits(runTick({ batch: 500 }).pipe(Effect.uninterruptible))
          // After the tick's work is committed: the copy follows the store; its refresh never stops billing.
          const tick = copyFile === undefined || !flags.analytics ? billed : billed.pipe(Effect.tap(() => refreshAfterTick(copyFile, json)))
          yield* Effect.repeat(outlastingOutages(tick), Schedule.spaced("5 seconds"))
        }).pipe(Effect.scoped, Effect.provide(engineLayers(undefined)))
        : Effect.never
      yield* Effect.scoped(Effect.gen(function*() {
        const built = yield* Layer.build(server).pipe(
          Effect.catchCause((cause) => Effect.fail(new UsageError({ message: `--port: cannot listen on ${host}:${port} (${String(cause).split("\n")[0]})` })))
        )
        const address = HttpServer.formatAddress(Context.get(built, HttpServer.HttpServer).address)
        yield* Console.log(`billcycle serve: listening on ${address.replace(/\/$/, "")} (API under /v1, reference at /docs, OpenAPI at /openapi.json, buyer pages at /p, /i, /l and /c, revenue dashboard at /reports?from=YYYY-MM&to=YYYY-MM); SIGTERM or Ctrl-C stops`)
        yield* engine
      }))
    })
    yield* withApp(program, { longRunning: true })
  })
).pipe(Command.withDescription("Serve the HTTP API (API keys: billcycle api-keys create); --engine also runs the billing loop; other commands keep working meanwhile"))
