/**
 * The subscriptions use cases as an Effect service: what the CLI and the HTTP
 * API call. Each write runs the room's function (subscriptionWrites.ts) in
 * its transaction through `runSql`, inside the door's transaction when it
 * opened one (`CurrentTransaction`: an HTTP request with an Idempotency-Key),
 * and fails with the rule's refusal as a value (engine/domain/errors.ts):
 * a `SubscriptionError` or an `ItemError`; other bad input is `BadInput`
 * (a constraint of the database), a failed database `DatabaseError`. The
 * doors word the refusals (cli/commands/subscriptions.ts, api/handlers.ts).
 */
import { Context, Effect, Layer } from "effect"
import type { CalendarDate, ItemError, SubscriptionError, SubscriptionId, SubscriptionStatus } from "../domain/index.ts"
import { itemErrorOf, subscriptionErrorOf } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { BadInput, DatabaseError, ListQuery, Sql } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"
import type {
  CancelResult, CreatedSubscription, CreateInput, DeleteResult, SubscriptionRow, UpdateInput, UpdateResult
} from "./subscriptionWrites.ts"
import {
  cancelSubscription, createSubscriptions, deleteSubscription, getSubscription, listEvents, listSubscriptions, pauseSubscription,
  resumeSubscription, subscriptionWithRows, updateSubscription
} from "./subscriptionWrites.ts"

/** How a subscriptions use case fails: a rule's refusal as a value, other bad input, or the database. */
export type SubscriptionsFailure = SubscriptionError | ItemError | BadInput | DatabaseError

type Result<A> = Effect.Effect<A, SubscriptionsFailure>

/** A subscription with its item versions and invoices (`subscriptionWithRows`): what `show` reads. */
export type SubscriptionRows = Awaited<ReturnType<typeof subscriptionWithRows>>

export interface EventRow {
  id: number
  type: string
  subscription_id: number | null
  invoice_id: number | null
  occurred_on: string
  source: string
  data: Record<string, unknown>
}

export interface SubscriptionsService {
  /** A purchase: its items grouped into subscriptions (`planPurchase`), each with its events. */
  readonly create: (ctx: EngineContext, input: CreateInput) => Result<Array<CreatedSubscription>>
  /** Live subscriptions by status or next billing date, oldest first. */
  readonly list: (filter: { readonly status?: string | undefined; readonly nextBillingBefore?: string | undefined }) => ListQuery<SubscriptionRow>
  readonly get: (id: SubscriptionId) => Result<SubscriptionRow>
  /** The subscription, its item versions and its invoices, in one statement. */
  readonly show: (id: SubscriptionId) => Result<SubscriptionRows>
  readonly update: (ctx: EngineContext, id: SubscriptionId, input: UpdateInput) => Result<UpdateResult>
  /** Cancels now or at period end; a refund of the unused days is recorded, not yet asked of the gateway (cancelWithRefund.ts asks). */
  readonly cancel: (ctx: EngineContext, id: SubscriptionId, options: { readonly atPeriodEnd: boolean; readonly refundUnused: boolean }) => Result<CancelResult>
  readonly pause: (ctx: EngineContext, id: SubscriptionId, resumeOn: CalendarDate | undefined) => Result<void>
  /** Resumes; the status it resumes to (past due while an overdue invoice is open) and its next billing date. */
  readonly resume: (ctx: EngineContext, id: SubscriptionId) => Result<{ readonly nextBillingDate: string; readonly status: SubscriptionStatus }>
  readonly delete: (ctx: EngineContext, id: SubscriptionId) => Result<DeleteResult>
  /** The event journal, oldest first. */
  readonly events: (filter: { readonly subscriptionId?: number | undefined; readonly type?: string | undefined; readonly since?: string | undefined }) => ListQuery<EventRow>
}

/** The refusal a `BadInput` of `runSql` carries, as the failure itself. */
const refusalOf = (refusal: unknown): SubscriptionError | ItemError | undefined => subscriptionErrorOf(refusal) ?? itemErrorOf(refusal)

/** The service over a database: each use case runs its room function through `runSql`. */
export const makeSubscriptions = (db: Database["Service"]): SubscriptionsService => {
  const run = <A>(work: (sql: Sql) => Promise<A>): Result<A> =>
    runUseCaseOn(db, work, refusalOf)
  return {
    create: (ctx, input) => run((sql) => createSubscriptions(sql, ctx, input)),
    list: (filter) => (sql) => listSubscriptions(sql, filter),
    get: (id) => run((sql) => getSubscription(sql, id)),
    show: (id) => run((sql) => subscriptionWithRows(sql, id)),
    update: (ctx, id, input) => run((sql) => updateSubscription(sql, ctx, id, input)),
    cancel: (ctx, id, options) => run((sql) => cancelSubscription(sql, ctx, id, { ...options })),
    pause: (ctx, id, resumeOn) => run((sql) => pauseSubscription(sql, ctx, id, resumeOn)),
    resume: (ctx, id) =>
      run(async (sql) => {
        const nextBillingDate = await resumeSubscription(sql, ctx, id)
        return { nextBillingDate, status: (await getSubscription(sql, id)).status }
      }),
    delete: (ctx, id) => run((sql) => deleteSubscription(sql, ctx, id)),
    events: (filter) => (sql) => listEvents(sql, filter)
  }
}

export class Subscriptions extends Context.Service<Subscriptions, SubscriptionsService>()("billcycle/engine/subscriptions/Subscriptions") {
  /** The use cases over the Database of the command or the server. */
  static readonly layer: Layer.Layer<Subscriptions, never, Database> = Layer.effect(Subscriptions, Effect.map(Effect.service(Database), makeSubscriptions))
}
