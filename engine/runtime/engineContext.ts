/**
 * The one place an `EngineContext` is assembled: the account's settings, the
 * business day, this process's lease identity and its failpoints. Commands,
 * the engine's tick, rule tests and benchmarks all make theirs here.
 */
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import type { CalendarDate } from "../domain/index.ts"
import type { AccountSettings } from "../account/index.ts"
import type { EngineContext } from "../invoicing/index.ts"
import { runSql } from "../sql/index.ts"
import { loadSettings } from "../account/index.ts"
import { BusinessClock } from "./BusinessClock.ts"
import { failpoint } from "./failpoint.ts"

/** This process's identity on leases: host/pid/random. */
export const engineOwner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`

export interface EngineContextOptions {
  /** The business instant (epoch milliseconds) of an engine tick; commands leave it out (the real clock). */
  readonly now?: number | undefined
  /** Default: this process's `engineOwner`. */
  readonly owner?: string | undefined
  /** Default: the failpoints armed by BILLCYCLE_FAILPOINT. */
  readonly failpoint?: ((name: string) => void) | undefined
}

export const makeEngineContext = (settings: AccountSettings, today: CalendarDate, options: EngineContextOptions = {}): EngineContext => ({
  today,
  settings,
  owner: options.owner ?? engineOwner,
  failpoint: options.failpoint ?? failpoint,
  ...(options.now === undefined ? {} : { now: options.now })
})

/** The context of now: the store's settings, and today in the account's zone on the business clock. */
export const currentEngineContext = (options: EngineContextOptions = {}) =>
  Effect.gen(function*() {
    const clock = yield* BusinessClock
    const settings = yield* runSql(loadSettings)
    const today = yield* clock.today(settings.timezone)
    return makeEngineContext(settings, today, options)
  })
