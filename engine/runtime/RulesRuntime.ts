/**
 * Loading rule files for the engine and running them each tick. The engine
 * refuses to start when a file has an error; while it runs, the directory is
 * watched: a valid change is swapped in atomically (new enrollments use it;
 * running ones finish on the version they started with, stored with them),
 * an invalid change is reported and the previous rules stay in force.
 */
import { Effect } from "effect"
import { readdirSync, statSync, watch } from "node:fs"
import { join } from "node:path"
import type { CompiledRuleSet } from "../../dsl/index.ts"
import { checkRuleSources, compileRules, formatDiagnostic, loadDeclarations, parseRules, readSourceText } from "../../dsl/index.ts"
import type { EngineContext } from "../account/index.ts"
import { Database, DatabaseError, messageOf } from "../sql/index.ts"
import { activateRules, enrollDateTriggers, enrollFromJournal, maxRuleDepth, runDueEnrollments } from "../enrollments/index.ts"

export interface LoadedRules {
  readonly ruleSet: CompiledRuleSet
  readonly files: number
}

export class RuleFilesInvalid extends Error {
  override readonly name = "RuleFilesInvalid"
}

/** Every *.rules file under a directory, recursively, in a stable order. */
export const ruleFilesIn = (dir: string): Array<string> => {
  const out: Array<string> = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry)
      if (statSync(p).isDirectory()) walk(p)
      else if (entry.endsWith(".rules")) out.push(p)
    }
  }
  walk(dir)
  return out
}

/**
 * Reads and checks every rule file of a directory, with the declarations.json
 * beside them (custom properties, teams, lists) and rule ids unique across
 * the files; throws with all diagnostics when any has an error.
 */
export const loadRuleDirectory = (dir: string): LoadedRules => {
  const files = ruleFilesIn(dir)
  const declarations = loadDeclarations(dir)
  const problems: Array<string> = declarations.diagnostics.map((d) => formatDiagnostic(d, declarations.file!, declarations.source))
  const checked = checkRuleSources(files.map((file) => ({ file, ...readSourceText(file) })), declarations.context)
  const rules = checked.flatMap(({ file, source, diagnostics }) => {
    for (const d of diagnostics) if (d.severity === "error") problems.push(formatDiagnostic(d, file, source))
    return parseRules(source).file.rules
  })
  if (problems.length > 0) throw new RuleFilesInvalid(`${problems.length} error${problems.length === 1 ? "" : "s"} in rule files:\n\n${problems.join("\n\n")}`)
  return { ruleSet: compileRules(rules), files: files.length }
}

/** The rules in force, swapped when the directory changes and the new files check clean. */
export const watchRules = (dir: string, initial: LoadedRules, log: (line: string) => void) => {
  let current = initial
  let timer: NodeJS.Timeout | undefined
  const watcher = watch(dir, { recursive: true }, () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => {
      try {
        current = loadRuleDirectory(dir)
        log(`rules reloaded from ${dir}: ${current.ruleSet.rules.length} rules`)
      } catch (e) {
        log(`rules in ${dir} not reloaded, the previous ones stay in force: ${messageOf(e)}`)
      }
    }, 200)
  })
  watcher.unref()
  return { get: () => current, close: () => watcher.close() }
}

const db = <A>(what: string, work: () => Promise<A>) =>
  Effect.tryPromise({ try: work, catch: (cause) => new DatabaseError({ message: `${what}: ${messageOf(cause)}`, cause }) })

export interface RulesTickOptions {
  /** A rule loaded for the first time enrolls on the journal's past events too (`--enroll-existing`). */
  readonly enrollExisting?: boolean
  /** Where to say that rules were newly loaded (the engine: stderr). */
  readonly log?: (line: string) => void
}

/**
 * Marks the rules as loaded at the journal's current end (or, with
 * enrollExisting, at its start); returns the line the engine logs.
 */
export const activateLoadedRules = (ruleSet: CompiledRuleSet, options: RulesTickOptions = {}) =>
  Effect.gen(function*() {
    const { sql } = yield* Database
    const r = yield* db("loading rules", () => activateRules(sql, ruleSet.rules.map((x) => x.id), options.enrollExisting === true))
    if (r.activated.length === 0) return undefined
    return options.enrollExisting === true
      ? `rules: ${r.activated.length} new rule${r.activated.length === 1 ? "" : "s"} (${r.activated.join(", ")}) enroll existing records: the journal is read from its start (--enroll-existing)`
      : `rules: ${r.activated.length} new rule${r.activated.length === 1 ? "" : "s"} (${r.activated.join(", ")}) start after event #${r.skippedThrough}; existing records are not enrolled (give --enroll-existing to replay history)`
  })

/**
 * One tick of the rules: enroll from new journal events, then run the steps
 * whose time has come. A rule's change is an event like any other: rounds
 * repeat in the same tick until no step writes anything new (a cascade is
 * bounded by the depth limit, so rounds are too).
 */
export const runRulesTick = (ruleSet: () => CompiledRuleSet, ctx: EngineContext, batch = 1000, options: RulesTickOptions = {}) =>
  Effect.gen(function*() {
    const { sql } = yield* Database
    const set = ruleSet()
    const line = yield* activateLoadedRules(set, options)
    if (line !== undefined && options.log !== undefined) options.log(line)
    let total = 0
    for (let round = 0; round <= maxRuleDepth + 1; round++) {
      let enrolled = 0
      for (;;) {
        const r = yield* db("enrolling from the journal", () => enrollFromJournal(sql, ctx, set, batch))
        enrolled += r.enrolled
        if (r.cascadesStopped > 0) yield* Effect.logError(`rules: ${r.cascadesStopped} cascading enrollment(s) stopped at the depth limit`)
        if (r.events < batch) break
      }
      if (round === 0) enrolled += yield* db("enrolling on date triggers", () => enrollDateTriggers(sql, ctx, set, batch))
      const steps = yield* db("running enrollments", () => runDueEnrollments(sql, ctx, batch, ctx.failpoint))
      total += enrolled + steps.steps
      if (steps.steps === 0) break
    }
    return total
  })
