/**
 * Paging for every `… list` command: `--limit N` (default 50) or `--all`.
 * Rows are read with a cursor and printed as they come, so `--all` over a
 * large journal holds one batch in memory, not the whole list. When rows were
 * left out, one line on stderr says how many and how to see them; stdout keeps
 * its shape (a table, or with `--json` one JSON array of the rows shown).
 */
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import type { PendingQuery, ReservedSql } from "postgres"
import type { Sql } from "../sql/index.ts"
import { countListed, runSql } from "../sql/index.ts"
import { UsageError } from "./CliFailure.ts"
import { Json } from "./GlobalFlags.ts"
import { parseCountFlag } from "./flagParsers.ts"

export const defaultPageSize = 50
/** Rows read from the database per round trip (and rendered per table block with --all). */
const batchSize = 500

/** Spread into a list command's flags: `{ ...pageFlags, status: … }`. */
export const pageFlags = {
  limit: Flag.String("limit").pipe(Flag.withDescription(`show at most N rows (default ${defaultPageSize}); stderr says how many more there are`), Flag.optional),
  all: Flag.Boolean("all").pipe(Flag.withDescription("show every row (read and printed in batches)"), Flag.withDefault(false))
}

export interface PageFlags {
  readonly limit: Option.Option<string>
  readonly all: boolean
}

/** How a list prints: its plural noun for the "more" line, its JSON rows and its table. */
export interface ListView<R> {
  readonly noun: string
  readonly json?: (row: R) => unknown
  readonly headers: ReadonlyArray<string>
  readonly cells: (row: R) => ReadonlyArray<string>
  readonly align?: ReadonlyArray<"left" | "right">
}

/** The page size asked for: a number, or `undefined` for `--all`. */
export const pageSize = (flags: PageFlags): Effect.Effect<number | undefined, UsageError> => {
  if (flags.all && Option.isSome(flags.limit)) return Effect.fail(new UsageError({ message: "--limit and --all: give one of them, not both" }))
  if (flags.all) return Effect.succeed(undefined)
  return Option.isSome(flags.limit) ? parseCountFlag("--limit", flags.limit.value) : Effect.succeed(defaultPageSize)
}

/** The line on stderr when a page left rows out. */
export const moreLine = (noun: string, shown: number, total: number) =>
  `billcycle: showing ${shown} of ${total} ${noun}; --limit N for more, --all for every one\n`

const write = (text: string): Promise<void> =>
  new Promise((resolve, reject) => {
    // Wait for the pipe to drain: printing a long list must not buffer it all in memory.
    if (process.stdout.write(text, (e) => (e ? reject(e) : undefined))) resolve()
    else process.stdout.once("drain", () => resolve())
  })

/** Column widths of a block: the header's and the widest cell's, never narrower than an earlier block's. */
const widen = (widths: Array<number>, headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  headers.map((h, i) => Math.max(widths[i] ?? 0, h.length, ...rows.map((r) => (r[i] ?? "").length)))

const line = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>, align: ReadonlyArray<"left" | "right"> | undefined) =>
  cells.map((c, i) => (align?.[i] === "right" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()

/**
 * Runs `query` (a list query of the store, not yet awaited) and prints one
 * page of it, or every row with `--all`; the "more" line goes to stderr.
 */
export const printList = <R extends object>(flags: PageFlags, query: (sql: Sql) => PendingQuery<Array<R>>, view: ListView<R>) =>
  Effect.gen(function*() {
    const json = yield* Json
    const limit = yield* pageSize(flags)
    const asJson = view.json ?? ((r: R) => r)
    yield* runSql(async (pool) => {
      // One connection for the page and its count: the count would otherwise open a second
      // connection to a server while the cursor's is still closing.
      const sql = typeof pool.reserve === "function" ? await pool.reserve() : pool
      try {
        await printRows(sql)
      } finally {
        if (sql !== pool) (sql as ReservedSql).release()
      }
    })
    async function printRows(sql: Sql) {
      let shown = 0
      let more = false
      let widths: Array<number> = []
      if (json) await write("[")
      // One row past the page tells whether there are more, without counting them all.
      const wanted = limit === undefined ? Number.POSITIVE_INFINITY : limit + 1
      for await (const batch of query(sql).cursor(Math.min(batchSize, wanted))) {
        const rows = (batch as Array<R>).slice(0, Math.max(0, (limit ?? Number.POSITIVE_INFINITY) - shown))
        if (rows.length < batch.length) more = true
        if (rows.length > 0) {
          if (json) {
            await write(rows.map((r, i) => (shown + i === 0 ? "" : ",") + JSON.stringify(asJson(r))).join(""))
          } else {
            const cells = rows.map(view.cells)
            const first = shown === 0
            widths = widen(first ? [] : widths, view.headers, cells)
            const head = first ? [line(view.headers, widths, view.align), line(widths.map((w) => "-".repeat(w)), widths, undefined)] : []
            await write([...head, ...cells.map((c) => line(c, widths, view.align))].join("\n") + "\n")
          }
          shown += rows.length
        }
        if (more) break
      }
      if (json) await write("]\n")
      else if (shown === 0) await write("(none)\n")
      if (more) {
        const n = await countListed(sql, query)
        process.stderr.write(moreLine(view.noun, shown, n))
      }
    }
  })
