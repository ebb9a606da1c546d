/** `billcycle rules check FILE|DIR...` and `billcycle rules fmt FILE... [--check]`. */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { ruleFilesIn } from "../../runtime/RulesRuntime.ts"
import { checkSource, compileRules, explainRules, formatDiagnostic, formatRules, parseRules } from "../../../dsl/index.ts"
import { explainContexts, InputError, runSql } from "../../store/index.ts"
import { withApp } from "../AppLayer.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { CheckFailed, UsageError } from "../CliFailure.ts"
import { Json } from "../GlobalFlags.ts"

/** Every *.rules file named or found (recursively) in the named directories. */
const ruleFiles = (paths: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    for (const p of paths) {
      if (!existsSync(p)) return yield* new UsageError({ message: `${p}: no such file or directory` })
      if (statSync(p).isDirectory()) out.push(...ruleFilesIn(p))
      else out.push(p)
    }
    return out
  })

const check = Command.make("check", { paths: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them"), Argument.atLeast(1)) }, ({ paths }) =>
  Effect.gen(function*() {
    const json = yield* Json
    const files = yield* ruleFiles(paths)
    let errors = 0
    let warnings = 0
    const report: Array<{ file: string; diagnostics: ReturnType<typeof checkSource> }> = []
    for (const file of files) {
      const source = readFileSync(file, "utf8")
      const diagnostics = checkSource(source)
      errors += diagnostics.filter((d) => d.severity === "error").length
      warnings += diagnostics.filter((d) => d.severity === "warning").length
      report.push({ file, diagnostics })
      // The diagnostics are this command's output: stdout, like the summary line after them.
      if (!json) for (const d of diagnostics) yield* Console.log(formatDiagnostic(d, file, source) + "\n")
    }
    if (json) yield* Console.log(JSON.stringify({ files: report, errors, warnings }))
    else yield* Console.log(`${files.length} file${files.length === 1 ? "" : "s"} checked: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`)
    if (errors > 0) return yield* new CheckFailed({ message: `${errors} error${errors === 1 ? "" : "s"} in rule files` })
  })).pipe(Command.withDescription("Check rule files: diagnostics as file:line:col: error: message [CODE]; exit 1 on any error"))

const fmt = Command.make(
  "fmt",
  { paths: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them"), Argument.atLeast(1)), check: Flag.Boolean("check").pipe(Flag.withDescription("only report files that are not formatted"), Flag.withDefault(false)) },
  (flags) =>
    Effect.gen(function*() {
      const files = yield* ruleFiles(flags.paths)
      const changed: Array<string> = []
      for (const file of files) {
        const source = readFileSync(file, "utf8")
        const formatted = formatRules(source)
        if (formatted === undefined) return yield* new CheckFailed({ message: `${file}: cannot format a file with syntax errors (run: billcycle rules check ${file})` })
        if (formatted !== source) {
          changed.push(file)
          if (!flags.check) writeFileSync(file, formatted)
        }
      }
      if (yield* Json) yield* Console.log(JSON.stringify({ files: files.length, changed, written: !flags.check }))
      if (flags.check) {
        if (!(yield* Json)) for (const f of changed) yield* Console.log(`${f}: not formatted`)
        if (changed.length > 0) return yield* new CheckFailed({ message: `${changed.length} file${changed.length === 1 ? " is" : "s are"} not formatted (run: billcycle rules fmt)` })
      } else if (!(yield* Json)) yield* Console.log(`${changed.length} of ${files.length} file${files.length === 1 ? "" : "s"} reformatted`)
    })
).pipe(Command.withDescription("Format rule files canonically (--check to only report)"))

const explain = Command.make(
  "explain",
  { file: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them")), subscription: Flag.String("subscription").pipe(Flag.withDescription("the subscription to explain the rules for")) },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const files = yield* ruleFiles([flags.file])
      const sources = files.map((f) => ({ file: f, source: readFileSync(f, "utf8") }))
      const errors = sources.flatMap(({ file, source }) => checkSource(source).filter((d) => d.severity === "error").map((d) => formatDiagnostic(d, file, source)))
      if (errors.length > 0) {
        for (const e of errors) yield* Console.error(e + "\n")
        return yield* new CheckFailed({ message: `${errors.length} error${errors.length === 1 ? "" : "s"} in rule files` })
      }
      const id = yield* parseCountFlag("--subscription", flags.subscription)
      const set = compileRules(sources.flatMap(({ source }) => parseRules(source).file.rules))
      const contexts = yield* runSql(async (sql) => {
        const c = await explainContexts(sql, id)
        if (c === undefined) throw new InputError(`--subscription: subscription ${id} does not exist`)
        return c
      })
      const explanations = explainRules(set, contexts.byType, contexts.current)
      if (json) return yield* Console.log(JSON.stringify(explanations))
      const lines: Array<string> = []
      for (const x of explanations) {
        lines.push(`${x.rule}: ${x.wouldEnroll ? "would enroll" : "would not enroll"}${x.event === undefined ? " (no relevant event yet)" : ` on ${x.event}`}`)
        lines.push(`  trigger ${x.triggered ? "fires" : "does not fire"}; filter ${x.filter ? "true" : "false"}`)
        for (const c of x.conditions) lines.push(`  ${c.result ? "true " : "false"}  ${c.condition}  (was ${JSON.stringify(c.old)}, now ${JSON.stringify(c.new)})`)
      }
      yield* Console.log(lines.join("\n"))
    }))
).pipe(Command.withDescription("For each rule: would it enroll this subscription now, and why not"))

export const rulesCommand = Command.make("rules").pipe(Command.withDescription("Enrollment-trigger rules"), Command.withSubcommands([check, fmt, explain]))
