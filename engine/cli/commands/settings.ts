/** `billcycle settings show|set` and `billcycle db migrate`. */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { migrate, runSql } from "../../sql/index.ts"
import { Account } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { Json } from "../GlobalFlags.ts"
import { wordAccountRefusals } from "../refusals.ts"

const show = Command.make("show", {}, () =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const rows = yield* (yield* Account).settings
    if (json) {
      yield* Console.log(JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, r.value]))))
      return
    }
    const width = Math.max(...rows.map((r) => r.key.length))
    yield* Console.log(rows.map((r) => `${r.key.padEnd(width)}  ${r.value}${r.isDefault ? "  (default)" : ""}`).join("\n"))
  }))).pipe(Command.withDescription("Show every account setting, its value and whether it is the default"))

const set = Command.make(
  "set",
  { key: Argument.String("key").pipe(Argument.withDescription("a setting: timezone, language, locale, currency, retry-days, after-retries, … (see settings show)")), value: Argument.String("value").pipe(Argument.withDescription("its new value, e.g. Europe/Oslo or 1,3,5,7")) },
  ({ key, value }) =>
    withApp(Effect.gen(function*() {
      const kept = yield* (yield* Account).setSetting(key, value).pipe(wordAccountRefusals)
      yield* Console.log((yield* Json) ? JSON.stringify({ key, value: kept }) : `${key} = ${kept}`)
    }))
).pipe(Command.withDescription("Set an account setting: timezone, language, locale, reminder-days, retry-days, after-retries, unpaid-catch-up, auto-email-invoices, seller-name, seller-tax-id, …"))

export const settingsCommand = Command.make("settings").pipe(
  Command.withDescription("Account settings"),
  Command.withSubcommands([show, set])
)

const migrateCommand = Command.make("migrate", {}, () =>
  withApp(Effect.gen(function*() {
    const applied = yield* runSql(migrate)
    const json = yield* Json
    yield* Console.log(json ? JSON.stringify({ applied }) : applied.length === 0 ? "database is up to date" : `applied migrations ${applied.join(", ")}`)
  }), { creates: true })).pipe(Command.withDescription("Apply pending schema migrations (also done automatically on first use); the only command besides import that makes a new embedded database at a --db path"))

export const dbCommand = Command.make("db").pipe(
  Command.withDescription("Database maintenance"),
  Command.withSubcommands([migrateCommand])
)
