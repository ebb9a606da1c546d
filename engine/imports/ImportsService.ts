/**
 * CSV in and out as a service: `import FILE.csv` (contacts, products or
 * subscriptions), `import history DIR` and `export subscriptions`. A bad
 * row refuses the whole file; its refusal is still text naming the file,
 * line and column (`BadInput`), not yet a typed error.
 */
import { Context, Effect, Layer } from "effect"
import type { EngineContext } from "../account/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { BadInput, DatabaseError } from "../sql/index.ts"
import { Database, runSql } from "../sql/index.ts"
import type { ExportProperties, HeaderLanguage } from "./exportSubscriptions.ts"
import { exportSubscriptions } from "./exportSubscriptions.ts"
import type { HistoryImportSummary } from "./history.ts"
import { importHistory } from "./history.ts"
import type { ImportSummary } from "./imports.ts"
import { importCsv } from "./imports.ts"

export type ImportFailure = BadInput | DatabaseError

export class Imports extends Context.Service<Imports, {
  /** One CSV file's records, all or none; `file` names it in refusals. */
  readonly importCsv: (ctx: EngineContext, file: string, text: string) => Effect.Effect<ImportSummary, ImportFailure>
  /** A previous billing system's history from a directory of CSV files. */
  readonly importHistory: (dir: string, today: string) => Effect.Effect<HistoryImportSummary, ImportFailure>
  /** The subscriptions as CSV, headers in `language`, amounts as billed on `today`. */
  readonly exportSubscriptions: (properties: ExportProperties, language: HeaderLanguage, today: CalendarDate) => Effect.Effect<string, ImportFailure>
}>()("billcycle/engine/imports/Imports") {
  static readonly layer = Layer.effect(
    Imports,
    Effect.gen(function*() {
      const db = yield* Database
      const use = <A>(work: Parameters<typeof runSql<A>>[0]) => runSql(work).pipe(Effect.provideService(Database, db))
      return Imports.of({
        importCsv: (ctx, file, text) => use((sql) => importCsv(sql, ctx, file, text)),
        importHistory: (dir, today) => use((sql) => importHistory(sql, dir, { today })),
        exportSubscriptions: (properties, language, today) => use((sql) => exportSubscriptions(sql, properties, language, today))
      })
    })
  )
}
