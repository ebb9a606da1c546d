/** `billcycle import FILE.csv`, `billcycle import history DIR`, `billcycle export subscriptions`. */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readFileSync, statSync } from "node:fs"
import { writeOutFile } from "../outFile.ts"
import { languagesInWords } from "../../billing/index.ts"
import type { ExportProperties, HeaderLanguage } from "../../imports/index.ts"
import { decodeCsv, headerLanguages, Imports } from "../../imports/index.ts"
import { commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { Json } from "../GlobalFlags.ts"

const history = Command.make("history", { dir: Argument.String("dir").pipe(Argument.withDescription("a directory with customers.csv, subscriptions.csv, line_items.csv and events.csv")) }, ({ dir }) =>
  withApp(Effect.gen(function*() {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return yield* new UsageError({ message: `import history: ${dir} is not a directory` })
    const ctx = yield* commandContext
    const summary = yield* (yield* Imports).importHistory(dir, ctx.today)
    yield* Console.log((yield* Json) ? JSON.stringify(summary) : `imported history from ${dir}: ${summary.customers} customers, ${summary.subscriptions} subscriptions, ${summary.lineItems} line items, ${summary.events} journal events`)
    const missing = summary.withoutPaymentMethod
    if (missing.length > 0) {
      const first = missing[0]!
      yield* Console.error(`warning: ${missing.length} live subscription${missing.length === 1 ? "" : "s"} charge${missing.length === 1 ? "s" : ""} a customer without a payment method (the history gives none), e.g. ${first.subscription} of ${first.email}: the next charge fails and the customer is emailed, unless one is set first (billcycle contacts update ${first.email} --payment-method TOKEN)`)
    }
  }), { creates: true })).pipe(Command.withDescription("Import subscription history from a previous billing system (customers, subscriptions, line_items, events CSVs)"))

export const importCommand = Command.make("import", { file: Argument.String("file").pipe(Argument.withDescription("a CSV file of contacts, products or subscriptions (the header says which)")) }, ({ file }) =>
  withApp(Effect.gen(function*() {
    if (!existsSync(file) || !statSync(file).isFile()) return yield* new UsageError({ message: `import: ${file}: no such file` })
    const ctx = yield* commandContext
    const { text, problem } = decodeCsv(readFileSync(file))
    if (problem !== undefined) return yield* new UsageError({ message: `${file}:${problem.line}:${problem.column}: ${problem.message}` })
    const summary = yield* (yield* Imports).importCsv(ctx, file, text)
    const rows = (n: number) => `${n} row${n === 1 ? "" : "s"}`
    const unchanged = summary.unchanged === 0 ? "" : summary.created === 0
      ? summary.unchanged === 1 ? "; its 1 row was imported before with the same data: nothing changed" : `; all ${rows(summary.unchanged)} were imported before with the same data: nothing changed`
      : `; ${rows(summary.unchanged)} ${summary.unchanged === 1 ? "was" : "were"} imported before with the same data and left as ${summary.unchanged === 1 ? "it is" : "they are"}`
    const created = `${summary.created} ${summary.created === 1 ? summary.kind.replace(/s$/, "") : summary.kind}`
    yield* Console.log((yield* Json) ? JSON.stringify(summary) : `imported ${created} from ${rows(summary.rows)} of ${file}${unchanged}`)
  }), { creates: true })).pipe(
    Command.withDescription("Import contacts, products or subscriptions from a CSV file: all rows or none. Idempotent: records imported before with the same data (same email, SKU or subscription key) are left alone; the same key with other data is refused"),
    Command.withSubcommands([history])
  )

const exportSubs = Command.make(
  "subscriptions",
  {
    format: Flag.String("format").pipe(Flag.withDescription("csv (the only format)"), Flag.withDefault("csv")),
    headerLanguage: Flag.String("header-language").pipe(Flag.withDescription(`${languagesInWords}: the language of the column headers`), Flag.withDefault("en")),
    properties: Flag.String("properties").pipe(Flag.withDescription("view, all or all-with-associations"), Flag.withDefault("view")),
    out: Flag.String("out").pipe(Flag.withDescription("write to FILE instead of stdout"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      if (flags.format !== "csv") return yield* new UsageError({ message: `--format: only csv is supported, got "${flags.format}"` })
      // The export is a CSV file: --json would get something other than what it asks for.
      if (yield* Json) return yield* new UsageError({ message: "--json: export subscriptions writes CSV only; for JSON, use subscriptions list --json --all" })
      if (!(headerLanguages as ReadonlyArray<string>).includes(flags.headerLanguage)) return yield* new UsageError({ message: `--header-language: expected one of ${headerLanguages.join(", ")}, got "${flags.headerLanguage}"` })
      if (!["view", "all", "all-with-associations"].includes(flags.properties)) return yield* new UsageError({ message: `--properties: expected view, all or all-with-associations, got "${flags.properties}"` })
      const ctx = yield* commandContext
      const csv = yield* (yield* Imports).exportSubscriptions(flags.properties as ExportProperties, flags.headerLanguage as HeaderLanguage, ctx.today)
      if (Option.isSome(flags.out)) {
        yield* writeOutFile(flags.out.value, csv)
        yield* Console.error(`wrote ${flags.out.value}`)
      } else {
        process.stdout.write(csv)
      }
    }))
).pipe(Command.withDescription("Export subscriptions as CSV, headers in a chosen language"))

export const exportCommand = Command.make("export").pipe(Command.withDescription("Export records"), Command.withSubcommands([exportSubs]))
