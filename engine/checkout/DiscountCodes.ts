/**
 * The discount-code catalogue's use cases as a service: create, list, show,
 * change (expiry, redemption limit, on or off), delete. What the CLI and the
 * HTTP API call. Each runs the room's function (discountCodeWrites.ts) through
 * `runUseCaseOn`, inside the door's transaction when it opened one
 * (`CurrentTransaction`) and as the door's journal source
 * (`CurrentJournalSource`), and fails with the rule's refusal as a value
 * (engine/domain/paymentLinks.ts): `DiscountCodeInvalid` or
 * `DiscountCodeNotFound`; other bad input (text a field does not take) is
 * `BadInput`, a failed database `DatabaseError`. The doors word the refusals
 * (cli/commands/links.ts, api/handlers.ts).
 */
import { Context, Effect, Layer } from "effect"
import type { CalendarDate, DiscountCode, DiscountCodeInvalid, DiscountCodeNotFound } from "../domain/index.ts"
import { typedErrorOf } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { BadInput, DatabaseError, ListQuery, Sql } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"
import type { DiscountCodeRequest } from "./discountCodeWrites.ts"
import { changeDiscountCode, createDiscountCode, deleteDiscountCode, showDiscountCode } from "./discountCodeWrites.ts"
import type { DiscountCodeListRow } from "./repository.ts"
import { discountCodeRows } from "./repository.ts"

/** A refusal of a discount code use case. */
export type DiscountCodeError = DiscountCodeInvalid | DiscountCodeNotFound

/** How a discount code use case fails: a rule's refusal as a value, other bad input, or the database. */
export type DiscountCodesFailure = DiscountCodeError | BadInput | DatabaseError

type Result<A> = Effect.Effect<A, DiscountCodesFailure>

const discountCodeErrorTags: ReadonlySet<string> = new Set<DiscountCodeError["_tag"]>(["DiscountCodeInvalid", "DiscountCodeNotFound"])

/** The discount code refusal a thrown value is, or carries as its `cause`; undefined for anything else. */
export const discountCodeErrorOf: (e: unknown) => DiscountCodeError | undefined = typedErrorOf(discountCodeErrorTags)

/** What may change once buyers may hold a code: its expiry and redemption limit (as text, `none` removes), on or off. */
export interface DiscountCodeChange {
  readonly expiresOn?: string | undefined
  readonly maxRedemptions?: string | undefined
  readonly active?: boolean | undefined
}

export interface DiscountCodesService {
  /** A code from text (`10%` or `5.00` off, in the account's currency unless it names one); a code spelt like another is refused. */
  readonly create: (ctx: EngineContext, request: DiscountCodeRequest) => Result<DiscountCode>
  /** The codes not deleted (a list query each door pages). */
  readonly list: ListQuery<DiscountCodeListRow>
  /** A code by its text (any case) or id. */
  readonly show: (ref: string) => Result<DiscountCode>
  readonly change: (today: CalendarDate, ref: string, change: DiscountCodeChange) => Result<DiscountCode>
  /** Deletes a code: buyers can no longer use it; what it discounted stays discounted. */
  readonly delete: (today: CalendarDate, ref: string) => Result<DiscountCode>
}

/** The service over a database: each use case runs its room function through `runUseCaseOn`. */
export const makeDiscountCodes = (db: Database["Service"]): DiscountCodesService => {
  const run = <A>(work: (sql: Sql) => Promise<A>): Result<A> =>
    runUseCaseOn(db, work, discountCodeErrorOf)
  return {
    create: (ctx, request) => run((sql) => createDiscountCode(sql, ctx.today, request, ctx.settings.currency)),
    list: discountCodeRows,
    show: (ref) => run((sql) => showDiscountCode(sql, ref)),
    change: (today, ref, change) => run((sql) => changeDiscountCode(sql, today, ref, change)),
    delete: (today, ref) => run((sql) => deleteDiscountCode(sql, today, ref))
  }
}

export class DiscountCodes extends Context.Service<DiscountCodes, DiscountCodesService>()("billcycle/engine/checkout/DiscountCodes") {
  /** The use cases over the Database of the command or the server. */
  static readonly layer: Layer.Layer<DiscountCodes, never, Database> = Layer.effect(DiscountCodes, Effect.map(Effect.service(Database), makeDiscountCodes))
}
