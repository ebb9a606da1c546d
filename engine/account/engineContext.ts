/**
 * `EngineContext`, what every use case that changes the store works with
 * (the account's settings, the business day, this process's lease identity
 * and its failpoints), and the one place it is assembled. Commands, the
 * engine's tick, rule tests and benchmarks all make theirs here.
 */
import { Context, Effect, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import type { CalendarDate } from "../domain/index.ts"
import type { BadInput, Database, DatabaseError } from "../sql/index.ts"
import { failpoint, runSql } from "../sql/index.ts"
import { BusinessClock } from "./BusinessClock.ts"
import type { AccountSettings } from "./settings.ts"
import { loadSettings } from "./settings.ts"

export interface EngineContext {
  readonly today: CalendarDate
  readonly settings: AccountSettings
  /** This engine's identity, carried by the leases it takes. */
  readonly owner: string
  /** Hook for crash tests: called at named points. */
  readonly failpoint: (name: string) => void
  /** The business instant (epoch milliseconds): the tick's, or the command's or request's on its business clock; left out, the real clock. */
  readonly now?: number
}

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
    // The business instant, for what is timed from now (a lost reply asked about again in 5 minutes): with --now, not the real clock.
    return makeEngineContext(settings, today, { ...options, now: options.now ?? (yield* clock.now) })
  })

/**
 * What a use case that changes subscriptions needs from its door (a CLI
 * command or an HTTP request): the context of now.
 */
export const commandContext = currentEngineContext()

/**
 * The context of now of a long-running door (`billcycle serve`'s requests):
 * today on the business clock as every time, the settings remembered for at
 * most `ttlMs` (read through the request's transaction when it has one). A
 * setting changed by another process (`billcycle settings set`) applies
 * within that time. One per server (its database): the memory is this
 * function's. `elapsed` measures that time (milliseconds; tests give their own).
 */
export const rememberedContext = (ttlMs: number, elapsed: () => number = Date.now) => {
  let remembered: { readonly settings: AccountSettings; readonly until: number } | undefined
  return Effect.gen(function*() {
    const clock = yield* BusinessClock
    const now = elapsed()
    let settings = remembered !== undefined && remembered.until > now ? remembered.settings : undefined
    if (settings === undefined) {
      settings = yield* runSql(loadSettings)
      remembered = { settings, until: now + ttlMs }
    }
    return makeEngineContext(settings, yield* clock.today(settings.timezone), { now: yield* clock.now })
  })
}

/**
 * How long a server (`billcycle serve`) remembers the account's settings (its time zone gives today, its
 * currency the default of a product, its base URL the buyer's links): a setting changed by `billcycle settings
 * set` applies to the API's requests and the buyer's pages within this time, as a revoked key is refused within
 * `apiKeyTtlMs` (api/server.ts).
 */
export const settingsTtlMs = 1000

/**
 * The context of now of a server's requests (`rememberedContext`): today on the business clock every time, the
 * settings remembered ≤ `settingsTtlMs`, so that a request does not read them again. One per server, built with it.
 */
export class ServerContext extends Context.Service<ServerContext, Effect.Effect<EngineContext, BadInput | DatabaseError, Database | BusinessClock>>()("billcycle/engine/account/ServerContext") {
  static readonly layer = Layer.sync(ServerContext, () => rememberedContext(settingsTtlMs))
}

/** The context of now of a door: the server's (`ServerContext`) inside `billcycle serve`, else a command's (`commandContext`). */
export const doorContext = Effect.flatMap(Effect.serviceOption(ServerContext), (server) => (Option.isSome(server) ? server.value : commandContext))
