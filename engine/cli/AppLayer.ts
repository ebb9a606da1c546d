/**
 * What a command that touches the world gets: the database chosen by `--db`
 * (or DATABASE_URL, or the embedded default) and the business clock: `--now`
 * (or BILLCYCLE_NOW), else the store's test clock (`billcycle clock set`),
 * else the real clock; never a day before the store's day (StoreClock.ts).
 * Layers are composed here, once, for every command: the database, the
 * clock and the use cases (`Subscriptions`, `Contacts`, `Products`).
 */
import { Effect, Layer, Option } from "effect"
import { resolve } from "node:path"
import { storeClockLayer } from "../runtime/index.ts"
import { BusinessClock, parseNow } from "../account/index.ts"
import type { GivenNow } from "../runtime/index.ts"
import { Database, defaultEmbeddedDir, inspectEmbeddedDir, makeDirs, resolveDatabaseTarget } from "../sql/index.ts"
import { Contacts, Products } from "../catalogue/index.ts"
import { Subscriptions } from "../subscriptions/index.ts"
import { Account } from "../account/index.ts"
import { Enrollments } from "../enrollments/index.ts"
import { Imports } from "../imports/index.ts"
import { Invoices, Outbox } from "../invoicing/index.ts"
import { DiscountCodes, PaymentLinks } from "../checkout/index.ts"
import { UsageError } from "./CliFailure.ts"
import { Db, Now } from "./GlobalFlags.ts"

/** The clock given for this command by `--now` or BILLCYCLE_NOW, if any. */
export const givenNow = Effect.gen(function*() {
  const flag = yield* Now
  const text = Option.getOrUndefined(flag) ?? (process.env["BILLCYCLE_NOW"] || undefined)
  if (text === undefined) return undefined
  const source = Option.isSome(flag) ? "--now" : "BILLCYCLE_NOW"
  const fixed = parseNow(text)
  if (fixed === undefined) {
    return yield* new UsageError({ message: `${source}: "${text}" is not a date YYYY-MM-DD or an ISO timestamp` })
  }
  return { time: fixed, text, source } satisfies GivenNow
})

/** The clock of a command without a store: `--now`, else the real clock. */
export const clockLayer = Effect.map(givenNow, (now) => now === undefined ? BusinessClock.real : BusinessClock.fixed(now.time))

export interface AppOptions {
  /** db migrate, import: may create the embedded database at a new --db path. */
  readonly creates?: boolean
  /** engine, simulate: wait for a short command that has the embedded database open rather than be its guest. */
  readonly longRunning?: boolean
  /**
   * "real" is for the `clock` commands, which read and move the stored clock
   * themselves: the real clock, and no refusal by the store's day.
   */
  readonly time?: "business" | "real"
}

/** The rooms' use cases, each a service over the Database: composed once, here, for every command. */
export const useCasesLayer = Layer.mergeAll(
  Subscriptions.layer, Contacts.layer, Products.layer, Invoices.layer, Outbox.layer, Account.layer, Imports.layer, Enrollments.layer,
  PaymentLinks.layer, DiscountCodes.layer
)

/** Runs `effect` with the database, the business clock and the use cases of this command. */
export const withApp = <A, E, R>(effect: Effect.Effect<A, E, R>, options: AppOptions = {}) =>
  Effect.gen(function*() {
    const db = yield* Db
    const clock = options.time === "real" ? BusinessClock.real : storeClockLayer(yield* givenNow)
    const target = resolveDatabaseTarget(Option.getOrUndefined(db))
    if (target._tag === "Embedded" && target.dataDir !== undefined) {
      const source = Option.isSome(db) ? "--db" : process.env["DATABASE_URL"] ? "DATABASE_URL" : "--db"
      yield* checkEmbeddedDir(source, target.dataDir, options.creates === true)
    }
    const withRole = target._tag === "Embedded" ? { ...target, longRunning: options.longRunning === true } : target
    const world = clock.pipe(Layer.provideMerge(Database.layer(withRole)))
    return yield* effect.pipe(Effect.provide(useCasesLayer.pipe(Layer.provideMerge(world))))
  })

/**
 * CLI.md: a directory for the embedded database is created and migrated on first use, by any
 * command. A new one made by a command that does not create on purpose (not db migrate, import)
 * is said on stderr, so that a mistyped --db is noticed; a cluster is never written into a folder
 * of other files, and a URL that is not postgres:// is not taken for a folder name.
 */
const checkEmbeddedDir = (source: string, dir: string, creates: boolean) =>
  Effect.gen(function*() {
    const state = inspectEmbeddedDir(dir)
    const isDefault = resolve(dir) === resolve(defaultEmbeddedDir)
    switch (state._tag) {
      case "Database":
        return
      case "Other":
        return yield* new UsageError({ message: `${source}: ${dir} holds other files, not a billcycle database (give a new or empty folder)` })
      case "Unusable":
        return yield* new UsageError({ message: `${source}: cannot keep the embedded database in ${dir}: ${state.reason}` })
      case "Empty":
        return
      case "Missing":
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
          return yield* new UsageError({ message: `${source}: expected a postgres:// URL or a directory for the embedded database, got "${dir}"` })
        }
        // CLI.md: created and migrated on first use. Said on stderr, so that a mistyped path is noticed at once.
        if (!creates && !isDefault) process.stderr.write(`billcycle: a new embedded database at ${dir}\n`)
        yield* Effect.try({
          try: () => makeDirs(dir),
          catch: (e) => new UsageError({ message: `${source}: cannot keep the embedded database in ${dir}: ${e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e)}` })
        })
    }
  })

/** Runs `effect` with the business clock only (no database). */
export const withClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const clock = yield* clockLayer
    return yield* effect.pipe(Effect.provide(clock))
  })

/**
 * Runs a read-only `effect` (a report) on a read replica (`--read-db URL`): a
 * PostgreSQL copy of the store, opened read-only, never migrated, so no write
 * can reach it; the primary (`--db`) is not opened at all.
 */
export const withReadReplica = <A, E, R>(flag: string, url: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      return yield* new UsageError({ message: `${flag}: expected a PostgreSQL URL (postgres://…) of a copy of the store, got "${url}"` })
    }
    const schema = process.env["BILLCYCLE_DB_SCHEMA"] || undefined
    return yield* effect.pipe(Effect.provide(Database.readReplica(url, schema)))
  })
