/**
 * The payment links' use cases as a service (the seller's side): create (a
 * full link from text, or the simple link made from a contact), list, show,
 * update, clone, switch off and on, delete, preview. What the CLI and the
 * HTTP API call. Each runs the room's function (paymentLinkWrites.ts) through
 * `runUseCaseOn`, inside the door's transaction when it opened one
 * (`CurrentTransaction`) and as the door's journal source
 * (`CurrentJournalSource`), and fails with the rule's refusal as a value
 * (engine/domain/paymentLinks.ts): `PaymentLinkInvalid`,
 * `PaymentLinkNotFound`, and for a preview `BuyerChoiceRefused`,
 * `DiscountCodeNotFound` or `DiscountCodeUnusable` (its `--code`); other bad
 * input (text a setting does not take) is `BadInput`, a failed database
 * `DatabaseError`. The doors word the refusals (cli/commands/links.ts,
 * api/handlers.ts).
 */
import { Context, Effect, Layer } from "effect"
import type {
  BuyerChoiceRefused, CalendarDate, DiscountCodeNotFound, DiscountCodeUnusable, PaymentLink, PaymentLinkInvalid, PaymentLinkNotFound
} from "../domain/index.ts"
import { typedErrorOf } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { BadInput, DatabaseError, ListQuery, Sql } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"
import type { LinkRequest } from "./linkRequest.ts"
import type { LinkSummary } from "./linkSummary.ts"
import type { PreviewRequest } from "./paymentLinkWrites.ts"
import {
  clonePaymentLink, createPaymentLinkFromRequest, createSimpleLink, deletePaymentLink, previewPaymentLink, showPaymentLink, switchPaymentLink,
  updatePaymentLinkFromRequest
} from "./paymentLinkWrites.ts"
import type { PaymentLinkListRow } from "./repository.ts"
import { paymentLinkRows } from "./repository.ts"

/** A refusal of a payment link use case: the link's rules, the link not found, and a preview's choices and code. */
export type PaymentLinkError = PaymentLinkInvalid | PaymentLinkNotFound | BuyerChoiceRefused | DiscountCodeNotFound | DiscountCodeUnusable

/** How a payment link use case fails: a rule's refusal as a value, other bad input, or the database. */
export type PaymentLinksFailure = PaymentLinkError | BadInput | DatabaseError

type Result<A> = Effect.Effect<A, PaymentLinksFailure>

const paymentLinkErrorTags: ReadonlySet<string> = new Set<PaymentLinkError["_tag"]>([
  "PaymentLinkInvalid", "PaymentLinkNotFound", "BuyerChoiceRefused", "DiscountCodeNotFound", "DiscountCodeUnusable"
])

/** The payment link refusal a thrown value is, or carries as its `cause`; undefined for anything else. */
export const paymentLinkErrorOf: (e: unknown) => PaymentLinkError | undefined = typedErrorOf(paymentLinkErrorTags)

/** The simple link made from a contact: a name, one item and its one-time price (`currency`: default the account's). */
export interface SimpleLinkInput {
  readonly contactEmail: string
  readonly name: string
  readonly itemName: string
  readonly price: string
  readonly currency?: string | undefined
  readonly slug?: string | undefined
}

export interface PaymentLinksService {
  /** A link from text (the CLI's flags, the API's fields), in the account's currency unless it names one; a random slug unless given. */
  readonly create: (ctx: EngineContext, request: LinkRequest, slug: string | undefined) => Result<PaymentLink>
  /** The simple link made from a contact: switches off after one payment. */
  readonly createSimple: (ctx: EngineContext, input: SimpleLinkInput) => Result<PaymentLink>
  /** The links not deleted, on or off (a list query each door pages). */
  readonly list: (filter: { readonly active?: boolean | undefined }) => ListQuery<PaymentLinkListRow>
  /** A link by id or slug. */
  readonly show: (ref: string) => Result<PaymentLink>
  /** What the request names replaces what the link has; every rule checked again. */
  readonly update: (today: CalendarDate, ref: string, request: LinkRequest) => Result<PaymentLink>
  /** A copy under a new slug (and name), switched on, no payments counted. */
  readonly clone: (today: CalendarDate, ref: string, options: { readonly name?: string | undefined; readonly slug?: string | undefined }) => Result<PaymentLink>
  /** Switches a link off (it takes no payments); idempotent: `changed` tells whether it was on. */
  readonly switchOff: (today: CalendarDate, ref: string) => Result<{ readonly link: PaymentLink; readonly changed: boolean }>
  /** Switches a link on again; idempotent: `changed` tells whether it was off. */
  readonly switchOn: (today: CalendarDate, ref: string) => Result<{ readonly link: PaymentLink; readonly changed: boolean }>
  /** Deletes a link: it leaves the lists and takes no more payments; its slug stays reserved. */
  readonly delete: (today: CalendarDate, ref: string) => Result<PaymentLink>
  /** What a buyer would pay today with these choices (as text); nothing written. */
  readonly preview: (today: CalendarDate, ref: string, choices: PreviewRequest) => Result<{ readonly link: PaymentLink; readonly summary: LinkSummary }>
}

/** The service over a database: each use case runs its room function through `runUseCaseOn`. */
export const makePaymentLinks = (db: Database["Service"]): PaymentLinksService => {
  const run = <A>(work: (sql: Sql) => Promise<A>): Result<A> =>
    runUseCaseOn(db, work, paymentLinkErrorOf)
  return {
    create: (ctx, request, slug) => run((sql) => createPaymentLinkFromRequest(sql, ctx.today, request, { slug, defaultCurrency: ctx.settings.currency })),
    createSimple: (ctx, input) => run((sql) => createSimpleLink(sql, ctx.today, { ...input, currency: input.currency ?? ctx.settings.currency })),
    list: (filter) => (sql) => paymentLinkRows(sql, filter),
    show: (ref) => run((sql) => showPaymentLink(sql, ref)),
    update: (today, ref, request) => run((sql) => updatePaymentLinkFromRequest(sql, today, ref, request)),
    clone: (today, ref, options) => run((sql) => clonePaymentLink(sql, today, ref, options)),
    switchOff: (today, ref) => run((sql) => switchPaymentLink(sql, today, ref, false)),
    switchOn: (today, ref) => run((sql) => switchPaymentLink(sql, today, ref, true)),
    delete: (today, ref) => run((sql) => deletePaymentLink(sql, today, ref)),
    preview: (today, ref, choices) => run((sql) => previewPaymentLink(sql, today, ref, choices))
  }
}

export class PaymentLinks extends Context.Service<PaymentLinks, PaymentLinksService>()("billcycle/engine/checkout/PaymentLinks") {
  /** The use cases over the Database of the command or the server. */
  static readonly layer: Layer.Layer<PaymentLinks, never, Database> = Layer.effect(PaymentLinks, Effect.map(Effect.service(Database), makePaymentLinks))
}
