/**
 * How a command says it failed. The CLI's main maps these to exit codes:
 * `UsageError` (bad usage or bad input, exit 2, names the flag/file/line/row)
 * and `CheckFailed` (the command ran and found a problem, exit 1).
 */
import { Schema } from "effect"

export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

export class CheckFailed extends Schema.TaggedError<CheckFailed>()("CheckFailed", {
  message: Schema.String
}) {}
