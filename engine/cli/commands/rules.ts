/** `billcycle rules check FILE|DIR...` and `billcycle rules fmt FILE... [--check]`. */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { readdirSync } from "node:fs"
import { loadRuleDirectory, openRuleTestDatabase, readRuleTests, ruleFilesIn, runRuleTest } from "../../runtime/index.ts"
import { checkRuleSources, compileRules, declarationsFileName, explainRules, formatDiagnostic, formatFilterTree, formatRules, loadDeclarations, parseRules, readSourceText, startLanguageServer } from "../../../dsl/index.ts"
import { EmailData, templatePath } from "../../../templates/index.ts"
import type { Diagnostic, FilterTree } from "../../../dsl/index.ts"
import { InputError, runSql } from "../../sql/index.ts"
import { explainContexts } from "../../enrollments/index.ts"
import { commandContext } from "../../account/index.ts"
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
      if (statSync(p).isDirectory()) {
        // Nothing to check is no clean bill: a wrong path, or files not named *.rules, would run no rule.
        const files = ruleFilesIn(p)
        if (files.length === 0) return yield* new UsageError({ message: `${p}: no *.rules file in this directory` })
        out.push(...files)
      } else out.push(p)
    }
    return out
  })

/**
 * The files named, grouped by the directory whose declarations.json applies
 * (the directory named, or the file's own): rule ids are unique within a group.
 */
const ruleSets = (paths: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sets = new Map<string, { files: Array<string>; declarationsNamed: boolean }>()
    for (const p of paths) {
      const files = yield* ruleFiles([p])
      const dir = statSync(p).isDirectory() ? p : dirname(p)
      // `rules check DIR/declarations.json` names the declarations of DIR: they are checked as declarations, not as rules.
      const declarationsNamed = !statSync(p).isDirectory() && basename(p) === declarationsFileName
      const set = sets.get(dir) ?? { files: [], declarationsNamed: false }
      sets.set(dir, { files: declarationsNamed ? set.files : [...set.files, ...files], declarationsNamed: set.declarationsNamed || declarationsNamed })
    }
    return [...sets].map(([dir, { files, declarationsNamed }]) => ({ declarations: loadDeclarations(dir), files, declarationsNamed }))
  })

const check = Command.make("check", { paths: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them"), Argument.atLeast(1)) }, ({ paths }) =>
  Effect.gen(function*() {
    const json = yield* Json
    const sets = yield* ruleSets(paths)
    let errors = 0
    let warnings = 0
    let count = 0
    const report: Array<{ file: string; diagnostics: Array<Diagnostic> }> = []
    for (const { declarations, files, declarationsNamed } of sets) {
      const checked = [
        ...(declarations.file === undefined ? [] : [{ file: declarations.file, source: declarations.source, diagnostics: declarations.diagnostics }]),
        ...checkRuleSources(files.map((file) => ({ file, ...readSourceText(file) })), declarations.context)
      ]
      count += files.length + (declarationsNamed ? 1 : 0)
      for (const { file, source, diagnostics } of checked) {
        errors += diagnostics.filter((d) => d.severity === "error").length
        warnings += diagnostics.filter((d) => d.severity === "warning").length
        report.push({ file, diagnostics })
        // The diagnostics are this command's output: stdout, like the summary line after them.
        if (!json) for (const d of diagnostics) yield* Console.log(formatDiagnostic(d, file, source) + "\n")
      }
    }
    if (json) yield* Console.log(JSON.stringify({ files: report, errors, warnings }))
    else yield* Console.log(`${count} file${count === 1 ? "" : "s"} checked: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`)
    if (errors > 0) return yield* new CheckFailed({ message: `${errors} error${errors === 1 ? "" : "s"} in rule files` })
  })).pipe(Command.withDescription("Check rule files (with declarations.json beside them): diagnostics as file:line:col: error: message [CODE]; exit 1 on any error"))

const fmt = Command.make(
  "fmt",
  { paths: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them"), Argument.atLeast(1)), check: Flag.Boolean("check").pipe(Flag.withDescription("only report files that are not formatted"), Flag.withDefault(false)) },
  (flags) =>
    Effect.gen(function*() {
      const files = yield* ruleFiles(flags.paths)
      // All or nothing: every file is formatted in memory first, so that a file that cannot be
      // formatted leaves the directory as it was, not half rewritten up to that file.
      const changed: Array<{ file: string; formatted: string }> = []
      const refused: Array<string> = []
      for (const file of files) {
        const { source, diagnostics } = readSourceText(file)
        // Not UTF-8: what would be written back is U+FFFD in place of the author's letters.
        const formatted = diagnostics.length > 0 ? undefined : formatRules(source)
        if (formatted === undefined) refused.push(`${file}: cannot format a file ${diagnostics.length > 0 ? "that is not valid UTF-8" : "with syntax errors"} (run: billcycle rules check ${file})`)
        else if (formatted !== source) changed.push({ file, formatted })
      }
      if (refused.length > 0) {
        for (const line of refused) yield* Console.error(line)
        return yield* new CheckFailed({ message: `${refused.length} file${refused.length === 1 ? "" : "s"} cannot be formatted${flags.check ? "" : "; nothing was written"}` })
      }
      if (!flags.check) for (const { file, formatted } of changed) writeFileSync(file, formatted)
      if (yield* Json) yield* Console.log(JSON.stringify({ files: files.length, changed: changed.map((c) => c.file), written: !flags.check }))
      if (flags.check) {
        if (!(yield* Json)) for (const { file } of changed) yield* Console.log(`${file}: not formatted`)
        if (changed.length > 0) return yield* new CheckFailed({ message: `${changed.length} file${changed.length === 1 ? " is" : "s are"} not formatted (run: billcycle rules fmt)` })
      } else if (!(yield* Json)) {
        for (const { file } of changed) yield* Console.log(`${file}: reformatted`)
        yield* Console.log(`${changed.length} of ${files.length} file${files.length === 1 ? "" : "s"} reformatted`)
      }
    })
).pipe(Command.withDescription("Format rule files canonically, keeping comments where they were written and the parentheses written (--check to only report)"))

const countLeaves = (t: FilterTree): number => ("op" in t ? t.children.reduce((n, c) => n + countLeaves(c), 0) : 1)

const explain = Command.make(
  "explain",
  { file: Argument.String("file").pipe(Argument.withDescription("a *.rules file or a directory of them")), subscription: Flag.String("subscription").pipe(Flag.withDescription("the subscription to explain the rules for")) },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      // Checked as `rules check` checks them (custom properties, teams and lists from the declarations that apply):
      // a file that is not UTF-8 is one E003, not also an E001 at each character its bytes decode to.
      const sources = (yield* ruleSets([flags.file])).flatMap(({ declarations, files }) =>
        checkRuleSources(files.map((file) => ({ file, ...readSourceText(file) })), declarations.context))
      const errors = sources.flatMap(({ file, source, diagnostics }) => diagnostics.filter((d) => d.severity === "error").map((d) => formatDiagnostic(d, file, source)))
      if (errors.length > 0) {
        for (const e of errors) yield* Console.error(e + "\n")
        return yield* new CheckFailed({ message: `${errors.length} error${errors.length === 1 ? "" : "s"} in rule files` })
      }
      const id = yield* parseCountFlag("--subscription", flags.subscription)
      const set = compileRules(sources.flatMap(({ source }) => parseRules(source).file.rules))
      const { today } = yield* commandContext
      const contexts = yield* runSql(async (sql) => {
        const c = await explainContexts(sql, id, today)
        if (c === undefined) throw new InputError(`--subscription: subscription ${id} does not exist`)
        return c
      })
      const explanations = explainRules(set, contexts)
      if (json) return yield* Console.log(JSON.stringify(explanations))
      const lines: Array<string> = []
      for (const x of explanations) {
        const e = x.enrollment
        if (e !== undefined && !x.wouldEnroll) {
          lines.push(`${x.rule}: enrolled on ${e.enrolledOn} by ${e.event ?? e.trigger}${e.eventOn === null ? "" : ` of ${e.eventOn}`}${e.eventId === null ? "" : ` (event #${e.eventId})`}; ${e.status}${e.status === "waiting" ? ` until ${e.wakeOn}` : ""}, at step ${e.step}`)
          lines.push(`  ${x.reason}`)
          if (e.remaining.length > 0) lines.push(`  left: ${e.remaining.join("; ")}`)
          for (const n of x.next) lines.push(`  next: ${n}`)
        } else {
          lines.push(`${x.rule}: ${x.wouldEnroll ? "would enroll" : "would not enroll"}${x.event === undefined ? " (no relevant event yet)" : ` on ${x.event}`}`)
          lines.push(`  ${x.reason}; trigger ${x.triggered ? "fires" : "does not fire"}, filter ${x.filter ? "true" : "false"}`)
          for (const c of x.conditions.slice(0, x.conditions.length - (x.filterTree === undefined ? 0 : countLeaves(x.filterTree)))) {
            lines.push(`  ${c.result ? "true " : "false"}  ${c.condition}  (was ${JSON.stringify(c.old)}, now ${JSON.stringify(c.new)})`)
          }
          for (const n of x.next) lines.push(`  next: ${n}`)
        }
        if (x.filterTree !== undefined) lines.push("  filter:", ...formatFilterTree(x.filterTree, "    "))
      }
      yield* Console.log(lines.join("\n"))
    }))
).pipe(Command.withDescription("For each rule: did it enroll this subscription (when, on which event, what is left), or would it now, and why not; the filter as its tree"))

/** The email variables a template uses, for the language server's hover. */
const templateVariables = (template: string): ReadonlyArray<string> | undefined => {
  const file = templatePath(`emails/${template}.hbs`)
  if (!existsSync(file)) return undefined
  const mustaches = (readFileSync(file, "utf8").match(/\{\{[^}]*\}\}/g) ?? []).join(" ")
  return Object.keys(EmailData.fields).filter((v) => new RegExp(`\\b${v}\\b`).test(mustaches))
}

const lsp = Command.make("lsp", {}, () =>
  // stdout is the protocol's: nothing else may be written to it while the server runs.
  Effect.callback<void>((resume) => {
    void startLanguageServer(process.stdin, process.stdout, { templateVariables }).then((connection) => {
      connection.onExit(() => resume(Effect.void))
      process.stdin.once("end", () => resume(Effect.void))
    })
  })).pipe(Command.withDescription("Language Server Protocol over stdio, for editors: diagnostics, hover, completion, formatting, go to definition"))


/** Every rule test fixture (`*.rules-test.json`) under a directory, recursively, in a stable order. */
const ruleTestFilesIn = (dir: string): Array<string> => {
  const out: Array<string> = []
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry)
    if (statSync(p).isDirectory()) out.push(...ruleTestFilesIn(p))
    else if (entry.endsWith(".rules-test.json")) out.push(p)
  }
  return out
}

const test = Command.make("test", { dirs: Argument.String("dir").pipe(Argument.withDescription("a directory of rules with *.rules-test.json fixtures beside them"), Argument.atLeast(1)) }, ({ dirs }) =>
  Effect.scoped(Effect.gen(function*() {
    const json = yield* Json
    const results: Array<{ file: string; name: string; passed: boolean; diff: ReadonlyArray<string>; enrollments: ReadonlyArray<string>; actions: ReadonlyArray<string> }> = []
    const database = yield* Effect.acquireRelease(Effect.promise(() => openRuleTestDatabase()), (d) => Effect.promise(() => d.close()))
    for (const dir of dirs) {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return yield* new UsageError({ message: `${dir}: not a directory of rule files` })
      const loaded = yield* Effect.try({ try: () => loadRuleDirectory(dir), catch: (e) => new CheckFailed({ message: (e as Error).message }) })
      const files = ruleTestFilesIn(dir)
      if (files.length === 0) return yield* new UsageError({ message: `${dir}: no rule tests (*.rules-test.json) found` })
      for (const file of files) {
        const cases = yield* Effect.try({ try: () => readRuleTests(file), catch: (e) => new UsageError({ message: (e as Error).message }) })
        if (!json) yield* Console.log(file)
        for (const c of cases) {
          const r = yield* Effect.tryPromise({ try: () => runRuleTest(loaded.ruleSet, c, database), catch: (e) => new UsageError({ message: `${file}: ${c.name}: ${(e as Error).message}` }) })
          results.push({ file, ...r })
          if (!json) yield* Console.log([`  ${r.passed ? "PASS" : "FAIL"}  ${r.name}`, ...r.diff.map((d) => `        ${d}`)].join("\n"))
        }
      }
    }
    const failed = results.filter((r) => !r.passed).length
    if (json) yield* Console.log(JSON.stringify({ cases: results, passed: results.length - failed, failed }))
    else yield* Console.log(`${results.length} case${results.length === 1 ? "" : "s"}: ${results.length - failed} passed, ${failed} failed`)
    if (failed > 0) return yield* new CheckFailed({ message: `${failed} rule test${failed === 1 ? "" : "s"} failed` })
  }))).pipe(Command.withDescription("Run rule tests (*.rules-test.json beside the rules) on a throwaway in-memory database; exit 1 on a failing case"))

export const rulesCommand = Command.make("rules").pipe(Command.withDescription("Enrollment-trigger rules"), Command.withSubcommands([check, fmt, explain, test, lsp]))
