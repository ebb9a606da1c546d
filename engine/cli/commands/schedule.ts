import { Console, Effect } from "effect"
import { Command } from "effect/cli"

export const scheduleCommand = Command.make("schedule", {}, () => Console.log("todo"))
