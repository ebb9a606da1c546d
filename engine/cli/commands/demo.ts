/** `billcycle demo`: the coffee-shop example on a fresh embedded database (what `npm start` runs). */
import { Console, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { CalendarDate } from "../../domain/index.ts"
import { revenueReportHtml } from "../../../reports/index.ts"
import { advanceStoreClock, EngineState, engineHooksLayer, loadRuleDirectory } from "../../runtime/index.ts"
import { Gateway } from "../../payments/index.ts"
import { Database, describeOwner, inspectEmbeddedDir, liveOwner, makeDirs, runSql } from "../../sql/index.ts"
import { loadSettings, BusinessClock, dayTime } from "../../account/index.ts"
import { UsageError } from "../CliFailure.ts"
import { demoExampleDir, loadDemoRunner } from "../demoRunner.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag } from "../flagParsers.ts"

export const demoCommand = Command.make(
  "demo",
  {
    customers: Flag.String("customers").pipe(Flag.withDescription("how many customers (default 200)"), Flag.optional),
    months: Flag.String("months").pipe(Flag.withDescription("how many months to simulate (default 12)"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("where invoices, emails and the report go (default ./out)"), Flag.withDefault("out")),
    dir: Flag.String("data-dir").pipe(Flag.withDescription("the demo's embedded database, wiped first (default ./.billcycle/demo)"), Flag.withDefault(".billcycle/demo"))
  },
  (flags) =>
    Effect.gen(function*() {
      const customers = Option.isSome(flags.customers) ? yield* parseCountFlag("--customers", flags.customers.value) : 200
      const months = Option.isSome(flags.months) ? yield* parseCountFlag("--months", flags.months.value) : 12
      const json = yield* Json
      const start = "2026-01-01" as CalendarDate
      // The demo wipes its folder first: never one that holds other files, nor one a live process has open.
      const state = inspectEmbeddedDir(flags.dir)
      if (state._tag === "Other") return yield* new UsageError({ message: `--data-dir: ${flags.dir} holds other files, not a billcycle database; the demo wipes its folder, so give a new one` })
      if (state._tag === "Unusable") return yield* new UsageError({ message: `--data-dir: cannot keep the embedded database in ${flags.dir}: ${state.reason}` })
      const owner = liveOwner(flags.dir)
      if (owner !== undefined) return yield* new UsageError({ message: `--data-dir: the demo's database ${flags.dir} is open in ${describeOwner(owner)}; stop it first (the demo starts from an empty database)` })
      rmSync(flags.dir, { recursive: true, force: true })
      makeDirs(flags.out)
      const t0 = performance.now()
      const demoRules = loadRuleDirectory(join(demoExampleDir, "rules"))
      const runDemo = yield* Effect.promise(loadDemoRunner)
      const db = Database.layer({ _tag: "Embedded", dataDir: flags.dir, longRunning: true })
      const layers = Layer.mergeAll(Gateway.simulated, engineHooksLayer(() => demoRules.ruleSet, join(flags.out, "mail"), { enrollExisting: true }), EngineState.layer).pipe(Layer.provideMerge(db), Layer.provideMerge(BusinessClock.fixed(dayTime(start))))
      // The demo's store stays on a test clock at the demo's last day, so commands on it later (--db) go on from there.
      const leaveOnLastDay = Effect.gen(function*() {
        const timeZone = (yield* runSql(loadSettings)).timezone
        const day = yield* (yield* BusinessClock).today(timeZone)
        yield* advanceStoreClock(day, { ranEngine: true, source: "demo" })
      })
      const result = yield* runDemo({ customers, months, start, outDir: flags.out, progress: process.stderr.isTTY === true && !json }).pipe(Effect.tap(() => leaveOnLastDay), Effect.provide(layers))
      const reportFile = join(flags.out, "report.html")
      const r = result.reports
      writeFileSync(reportFile, revenueReportHtml({
        title: "Bean There Coffee Co. — recurring revenue", kind: "movements", currency: "USD",
        from: String(r.mrr[0]?.["month"] ?? ""), to: String(r.mrr[r.mrr.length - 1]?.["month"] ?? ""),
        mrr: r.mrr, movements: r.movements, cohorts: r.cohorts, table: r.movements
      }))
      if (json) return yield* Console.log(JSON.stringify({ totals: result.totals, mrr: result.mrr, movements: result.reports.movements, invoices: result.invoiceFiles, report: reportFile }))
      yield* Console.log([...result.lines, `Revenue report:  ${reportFile}`].join("\n"))
      yield* Console.error(`(demo took ${((performance.now() - t0) / 1000).toFixed(1)} s)`)
    })
).pipe(Command.withDescription("The coffee-shop demo: a year of billing on a fresh embedded database, invoices and emails under ./out, the revenue table"))
