/** Every top-level command of billcycle, in the order `--help` lists them. */
import { dbCommand, settingsCommand } from "./settings.ts"
import { scheduleCommand } from "./schedule.ts"
import { engineCommands } from "./engine.ts"
import { invoicesCommand, listsCommand, outboxCommand, tasksCommand } from "./invoices.ts"

export const commands = [settingsCommand, dbCommand, scheduleCommand, ...engineCommands, invoicesCommand, outboxCommand, tasksCommand, listsCommand] as const
