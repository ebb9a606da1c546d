/** Every top-level command of billcycle, in the order `--help` lists them. */
import { dbCommand, settingsCommand } from "./settings.ts"
import { scheduleCommand } from "./schedule.ts"
import { engineCommands } from "./engine.ts"
import { clockCommand } from "./clock.ts"
import { contactsCommand, productsCommand } from "./people.ts"
import { eventsCommand, subscriptionsCommand } from "./subscriptions.ts"
import { exportCommand, importCommand } from "./importExport.ts"
import { renderCommand, templatesCommand } from "./templates.ts"
import { demoCommand } from "./demo.ts"
import { rulesCommand } from "./rules.ts"
import { enrollmentsCommand } from "./enrollments.ts"
import { reportCommand } from "./report.ts"
import { serveCommand } from "./serve.ts"
import { apiKeysCommand } from "./apiKeys.ts"
import { webhooksCommand } from "./webhooks.ts"
import { invoicesCommand, listsCommand, outboxCommand, tasksCommand } from "./invoices.ts"

export const commands = [settingsCommand, dbCommand, productsCommand, contactsCommand, subscriptionsCommand, importCommand, exportCommand, scheduleCommand, ...engineCommands, clockCommand, invoicesCommand, renderCommand, templatesCommand, eventsCommand, outboxCommand, tasksCommand, listsCommand, rulesCommand, enrollmentsCommand, reportCommand, serveCommand, apiKeysCommand, webhooksCommand, demoCommand] as const
