/** Every top-level command of billcycle, in the order `--help` lists them. */
import { scheduleCommand } from "./schedule.ts"

export const commands = [scheduleCommand] as const
