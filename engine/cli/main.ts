/**
 * billcycle's command line: composes every command, the global options and
 * the platform layer, and maps failures to exit codes (0 ok, 1 a check found
 * a problem, 2 bad usage or bad input, 130/143 stopped by SIGINT/SIGTERM before
 * it finished: stopSignal.ts) with a one-line message on stderr.
 * Stdout carries only what the command was asked for (with `--json`, one JSON
 * document); help for bad usage, logs and progress go to stderr.
 */
import { enableCompileCache } from "node:module"
// Before the command tree loads: Node keeps the compiled modules on disk, so a
// second start skips most of the parsing (bin/billcycle also sets NODE_COMPILE_CACHE).
enableCompileCache?.()

// The embedded database's WebAssembly compiles on V8's background threads while the command line
// loads (embeddedWasm.ts), when this command may open it.
{
  const { compileEmbeddedWasm, mayOpenEmbedded } = await import("../sql/embeddedWasm.ts")
  if (mayOpenEmbedded(process.argv.slice(2))) void compileEmbeddedWasm()
}

// `billcycle events list | head`: the reader closed the pipe. What it read is what it wanted; the rest is not
// written, and the command ends as if it had finished (no stack trace of a write to a closed pipe).
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0)
  throw e
})

// A query of the postgres driver on a connection that died (a database restart, a network cut) can
// reject with nobody left to handle it: the step that sent it has failed already and rolled back, and
// the engine reports the outage itself. Only such rejections are let go; any other still ends the process.
const { connectionLost } = await import("../sql/Database.ts")
process.on("unhandledRejection", (reason) => {
  if (connectionLost(reason)) return
  throw reason
})

// Deep imports: the package's index would also load its Redis, HTTP and cluster modules, and a
// dynamic import of effect's (or effect/cli's) index keeps every module it names in the bundle's start.
const [{ runMain }, NodeServices, Cause, Effect, Exit, Layer, Logger, CliOutput, Command, { commands }, { globalFlags }, { version }, { namedAsGiven, usageErrorLine }, { examplesFor }] = await Promise.all([
  import("@effect/platform-node/NodeRuntime"),
  import("@effect/platform-node/NodeServices"),
  import("effect/Cause"),
  import("effect/Effect"),
  import("effect/Exit"),
  import("effect/Layer"),
  import("effect/Logger"),
  import("effect/cli/CliOutput"),
  import("effect/cli/Command"),
  import("./commands/index.ts"),
  import("./GlobalFlags.ts"),
  import("./version.ts"),
  import("./usageError.ts"),
  import("./examples.ts")
])

const billcycle = Command.make("billcycle").pipe(
  Command.withDescription("Subscription billing and workflow engine"),
  Command.withSubcommands(commands),
  Command.withGlobalFlags(globalFlags)
)

// Bad usage prints one line naming the flag (below), not the whole help page;
// help gains the command's example (examples.ts) when the command has none of its own.
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.void
      : CliOutput.defaultPresenter.present(
        event._tag === "Help" && (event.helpDoc.examples ?? []).length === 0
          ? { ...event, helpDoc: { ...event.helpDoc, examples: examplesFor(event.commandPath) } }
          : event
      )
})

const fail = (code: number, message: string) =>
  Effect.sync(() => {
    process.stderr.write(`billcycle: ${namedAsGiven(message, process.argv.slice(2))}\n`)
    process.exitCode = code
  })

const main = Command.runWith(billcycle, { version })(process.argv.slice(2)).pipe(
  Effect.catch((e: { readonly _tag: string; readonly message: string }) => {
    switch (e._tag) {
      case "ShowHelp": {
        const { commandPath, errors } = e as unknown as { readonly commandPath: ReadonlyArray<string>; readonly errors: ReadonlyArray<{ readonly _tag: string; readonly message: string }> }
        return errors.length === 0 ? Effect.void : fail(2, usageErrorLine(commandPath, errors))
      }
      case "CheckFailed":
        return fail(1, e.message)
      case "DatabaseError":
        return fail(1, e.message)
      default:
        // UsageError and every parse error of effect/cli: bad usage or bad input.
        return fail(2, e.message)
    }
  }),
  Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause) ? Effect.void : fail(1, `internal error: ${Cause.pretty(cause)}`)
  ),
  // Logs (warnings of the engine, errors of rules) never mix into stdout, which may be a JSON document.
  Effect.provide([NodeServices.layer, presenter, Layer.succeed(Logger.LogToStderr, true)])
)

const { noteStopSignals, stoppedExitCode } = await import("./stopSignal.ts")
noteStopSignals()
runMain(main, {
  disableErrorReporting: true,
  // SIGTERM/SIGINT interrupt the main fiber. The engine and serve finish the batch in hand first and end cleanly (0);
  // any other command stopped so did not finish: 130 or 143, as shells report it (stopSignal.ts).
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? Number(process.exitCode ?? 0) : Cause.hasInterruptsOnly(exit.cause) ? Number(process.exitCode ?? stoppedExitCode()) : 1)
})
