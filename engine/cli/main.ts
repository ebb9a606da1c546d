/**
 * billcycle's command line: composes every command, the global options and
 * the platform layer, and maps failures to exit codes (0 ok, 1 a check found
 * a problem, 2 bad usage or bad input) with a one-line message on stderr.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect } from "effect"
import { Command } from "effect/cli"
import { commands } from "./commands/index.ts"
import { globalFlags } from "./GlobalFlags.ts"
import { version } from "./version.ts"

const billcycle = Command.make("billcycle").pipe(
  Command.withDescription("Subscription billing and workflow engine"),
  Command.withSubcommands(commands),
  Command.withGlobalFlags(globalFlags)
)

const fail = (code: number, message: string) =>
  Effect.sync(() => {
    process.stderr.write(`billcycle: ${message}\n`)
    process.exitCode = code
  })

const main = Command.runWith(billcycle, { version, renderErrors: false })(process.argv.slice(2)).pipe(
  Effect.catchTags({
    ShowHelp: (e) => e.errors.length === 0 ? Effect.void : fail(2, e.errors.map((x) => x.message).join("; ")),
    UsageError: (e) => fail(2, e.message),
    CheckFailed: (e) => fail(1, e.message)
  }),
  Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause) ? Effect.void : fail(1, `internal error: ${Cause.pretty(cause)}`)
  ),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
