/**
 * billcycle's command line: composes every command, the global options and
 * the platform layer, and maps failures to exit codes (0 ok, 1 a check found
 * a problem, 2 bad usage or bad input) with a one-line message on stderr.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import { CliOutput, Command } from "effect/cli"
import { commands } from "./commands/index.ts"
import { globalFlags } from "./GlobalFlags.ts"
import { version } from "./version.ts"

const billcycle = Command.make("billcycle").pipe(
  Command.withDescription("Subscription billing and workflow engine"),
  Command.withSubcommands(commands),
  Command.withGlobalFlags(globalFlags)
)

// Bad usage prints one line naming the flag (below), not the whole help page.
const presenter = CliOutput.layerPresenter({
  present: (event) => event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event)
})

const fail = (code: number, message: string) =>
  Effect.sync(() => {
    process.stderr.write(`billcycle: ${message}\n`)
    process.exitCode = code
  })

const main = Command.runWith(billcycle, { version, renderErrors: false })(process.argv.slice(2)).pipe(
  Effect.catch((e: { readonly _tag: string; readonly message: string }) => {
    switch (e._tag) {
      case "ShowHelp": {
        const errors = (e as unknown as { readonly errors: ReadonlyArray<{ readonly message: string }> }).errors
        return errors.length === 0 ? Effect.void : fail(2, errors.map((x) => x.message).join("; "))
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
  Effect.provide([NodeServices.layer, presenter])
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  // SIGTERM/SIGINT interrupt the main fiber; the engine finishes the batch in hand first,
  // so a stop by signal is a clean exit (0), not a failure.
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? Number(process.exitCode ?? 0) : Cause.hasInterruptsOnly(exit.cause) ? Number(process.exitCode ?? 0) : 1)
})
