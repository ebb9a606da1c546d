/**
 * `billcycle analytics refresh|rebuild [--analytics-dir DIR]`: the persisted
 * analytics copy that `report` answers from (reports/README.md). Its file is
 * `analytics.duckdb` in `--analytics-dir`, else BILLCYCLE_ANALYTICS_DIR, else
 * the embedded database's own folder; a server database needs one of the two.
 */
import { Cause, Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { RefreshResult } from "../../../reports/index.ts"
import { analyticsFileName, openCopy, rebuildOpened, refreshCopy } from "../../../reports/index.ts"
import { resolveDatabaseTarget, runSql } from "../../sql/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { Db, Json } from "../GlobalFlags.ts"

export const analyticsDirFlag = Flag.String("analytics-dir").pipe(
  Flag.withDescription("folder of the analytics copy (env BILLCYCLE_ANALYTICS_DIR; default: the embedded database's folder; a server needs one)"),
  Flag.optional
)

/** The copy's file, or undefined where there is none (an in-memory store, or a server without a folder given). */
export const analyticsFile = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    const given = Option.getOrUndefined(flag) ?? (process.env["BILLCYCLE_ANALYTICS_DIR"] || undefined)
    const target = resolveDatabaseTarget(Option.getOrUndefined(yield* Db))
    const dir = given ?? (target._tag === "Embedded" ? target.dataDir : undefined)
    if (dir === undefined) return undefined
    if (given !== undefined) {
      yield* Effect.try({
        try: () => mkdirSync(dir, { recursive: true }),
        catch: (e) => new UsageError({ message: `--analytics-dir: cannot keep the analytics copy in ${dir}: ${e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e)}` })
      })
    }
    return join(dir, analyticsFileName)
  })

export const describeRefresh = (r: RefreshResult, file: string) =>
  r.mode === "unchanged" ? `analytics copy ${file}: up to date (${Math.round(r.ms)} ms)`
    : r.mode === "refresh" ? `analytics copy ${file}: refreshed ${r.subscriptions} subscription(s) and ${r.contacts} contact(s) in ${Math.round(r.ms)} ms`
    : `analytics copy ${file}: rebuilt (${r.subscriptions} subscriptions, ${r.contacts} contacts) in ${Math.round(r.ms)} ms${r.reason === undefined ? "" : `: ${r.reason}`}`

/**
 * `engine --analytics`: after a tick, bring the copy up to date. Never fails: a
 * refresh that cannot run (the copy held by a report past `waitMs`, a DuckDB
 * or database error) says one line on stderr and billing goes on; the next
 * tick's refresh catches up (the watermark has not moved).
 */
export const refreshAfterTick = (file: string, json: boolean, waitMs = 2_000) =>
  runSql(async (sql) => {
    const copy = await openCopy(file, waitMs)
    if (copy === undefined) return undefined
    try {
      return await refreshCopy(sql, copy)
    } finally {
      copy.db.closeSync()
      copy.instance.closeSync()
    }
  }).pipe(
    Effect.flatMap((r) =>
      r === undefined
        ? Console.error(json ? JSON.stringify({ level: "warn", msg: "analytics refresh skipped", file, reason: "another billcycle process keeps the copy open" }) : `billcycle: analytics copy ${file} is kept open by another billcycle process; refresh skipped, the next tick catches up`)
        : r.mode === "unchanged" ? Effect.void
        : json ? Console.log(JSON.stringify({ level: "info", msg: "analytics refresh", file, mode: r.mode, subscriptions: r.subscriptions, contacts: r.contacts, ms: Math.round(r.ms) }))
        : Console.log(describeRefresh(r, file))
    ),
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const message = Cause.squash(cause)
      const text = message instanceof Error ? message.message : String(message)
      return Console.error(json ? JSON.stringify({ level: "error", msg: "analytics refresh failed", file, error: text }) : `billcycle: analytics refresh of ${file} failed (billing goes on; the next tick tries again): ${text}`)
    })
  )

const run = (name: "refresh" | "rebuild", description: string) =>
  Command.make(name, { analyticsDir: analyticsDirFlag }, (flags) =>
    Effect.gen(function*() {
      // Checked before the database is opened: nothing is written without a place for the copy.
      const file = yield* analyticsFile(flags.analyticsDir)
      if (file === undefined) return yield* new UsageError({ message: "--analytics-dir: a server database (or an in-memory one) keeps its analytics copy in a folder you give (--analytics-dir DIR or BILLCYCLE_ANALYTICS_DIR)" })
      return yield* withApp(Effect.gen(function*() {
      const result = yield* runSql(async (sql) => {
        const copy = await openCopy(file)
        if (copy === undefined) return undefined
        try {
          return name === "rebuild" ? await rebuildOpened(sql, copy) : await refreshCopy(sql, copy)
        } finally {
          copy.db.closeSync()
          copy.instance.closeSync()
        }
      })
      if (result === undefined) return yield* new UsageError({ message: `${file}: another billcycle process keeps the analytics copy open; try again when it is done` })
      if (yield* Json) yield* Console.log(JSON.stringify({ file, mode: result.mode, subscriptions: result.subscriptions, contacts: result.contacts, ms: Math.round(result.ms), ...(result.reason === undefined ? {} : { reason: result.reason }) }))
      else yield* Console.log(describeRefresh(result, file))
      }))
    })
  ).pipe(Command.withDescription(description))

export const analyticsCommand = Command.make("analytics").pipe(
  Command.withDescription("The persisted analytics copy that report answers from"),
  Command.withSubcommands([
    run("refresh", "Bring the analytics copy up to date with the changes since the last refresh (the event journal)"),
    run("rebuild", "Copy the store into the analytics copy again, from scratch")
  ])
)
