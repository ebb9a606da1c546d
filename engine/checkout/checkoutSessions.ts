/**
 * Checkout sessions: `GET /l/SLUG` opens one (an opaque 128-bit id, the link
 * frozen as it is now, 24 hours of business time) and the buyer's page
 * `/c/ID` shows its summary for the buyer's choices. The summary is the
 * links room's `linkSummary` (due today, future payments, a total only for a
 * fixed number of payments), never recomputed here.
 */
import { Effect, Schema } from "effect"
import { randomBytes } from "node:crypto"
import type { BuyerChoices, CalendarDate, DiscountCode, DiscountCodeUnusable, ItemChoice, MajorAmountProblem } from "../domain/index.ts"
import { BusinessClock, doorContext } from "../account/index.ts"
import type { AccountSettings } from "../account/index.ts"
import { localeOf } from "../billing/index.ts"
import type { PaymentLink } from "../domain/index.ts"
import { Database, readTogether, runSql } from "../sql/index.ts"
import { type CheckoutState, sessionWithState } from "./checkoutPaymentsRepository.ts"
import { type CheckoutSession, insertCheckoutSession } from "./checkoutSessionsRepository.ts"
import { discountCodeUsable } from "./linkRules.ts"
import { linkSummary, type LinkSummary, ownPriceMaximum } from "./linkSummary.ts"
import { discountCodeByText, paymentLinkBySlug } from "./repository.ts"

/** No link by that slug, or a deleted one. */
export class CheckoutLinkUnknown extends Schema.TaggedError<CheckoutLinkUnknown>()("CheckoutLinkUnknown", {}) {}

/** The seller switched the link off (or it reached its completed-payments limit). */
export class CheckoutLinkOff extends Schema.TaggedError<CheckoutLinkOff>()("CheckoutLinkOff", { language: Schema.String, locale: Schema.String }) {}

export class CheckoutSessionUnknown extends Schema.TaggedError<CheckoutSessionUnknown>()("CheckoutSessionUnknown", {}) {}

/** Opened more than 24 hours ago (business time): the buyer opens the link again. The link's language and locale, for its page. */
export class CheckoutSessionExpired extends Schema.TaggedError<CheckoutSessionExpired>()("CheckoutSessionExpired", {
  slug: Schema.String, language: Schema.String, locale: Schema.String
}) {}

export const sessionHours = 24

/**
 * The locale a link's pages speak in: the link's own, else the one a document in the link's language takes
 * (`localeOf`): the account's when it is of that language, else the language's own. A link made with
 * `--language nb` only showed "$31.00" and "fra May 2, 2026" in Norwegian sentences with an en-US account.
 */
export const linkLocale = (link: Pick<PaymentLink, "language" | "locale">, settings: { readonly language: string; readonly locale: string }): string =>
  localeOf({ invoice_language: link.language, invoice_locale: link.locale }, settings)

const context = doorContext.pipe(Effect.orDie)
const sqlOrDie = <A>(work: Parameters<typeof runSql<A>>[0]) => runSql(work).pipe(Effect.orDie)

export const openCheckoutSession = Effect.fn("openCheckoutSession")(function*(slug: string) {
  // The settings and the link sent at once (as `readCheckoutSession`).
  const { concurrent } = yield* Database
  const [ctx, link] = yield* readTogether(Effect.all([context, sqlOrDie((sql) => paymentLinkBySlug(sql, slug))], { concurrency: concurrent ? "unbounded" : 1 }))
    .pipe(Effect.orDie)
  const now = yield* (yield* BusinessClock).now
  if (link === undefined || link.deletedOn !== undefined) return yield* new CheckoutLinkUnknown()
  if (!link.active) return yield* new CheckoutLinkOff({ language: link.language, locale: linkLocale(link, ctx.settings) })
  // 128 random bits: the session's only name, unguessable, and nothing else about it travels in the URL.
  const session: CheckoutSession = { id: randomBytes(16).toString("base64url"), link, openedOn: ctx.today, expiresAt: now + sessionHours * 3_600_000 }
  yield* sqlOrDie((sql) => insertCheckoutSession(sql, session))
  return session.id
})

/**
 * Why the page refuses the buyer's choice or code: `problem` in words (the CLI's and the API's), and `reason` with
 * `values` (raw: an item's name and bounds, a minimum in minor units, a code, a date) for the page to say it in the
 * link's language and formats (the catalog's `page.checkout.problem.REASON`).
 */
export interface CheckoutRefusalView {
  readonly field: "items" | "discount_code"
  readonly item?: number | undefined
  readonly problem: string
  readonly reason?: string | undefined
  readonly values?: Readonly<Record<string, string | number>> | undefined
}

/** What the buyer asked for on the page, as read from the form (engine/api/pages.ts). */
export interface CheckoutForm {
  readonly items: ReadonlyMap<number, ItemChoice>
  readonly discountCode: string
  /** An own price typed that is no amount of the link's currency (`readMajorAmount`'s problem), by item index: refused naming why. */
  readonly unreadPrices?: ReadonlyMap<number, MajorAmountProblem> | undefined
}

/** The reason (`page.checkout.problem.REASON`) an own price that cannot be read is refused for. */
const unreadPriceReason: Record<MajorAmountProblem["kind"], string> = {
  NotANumber: "PriceNotANumber", TooManyDecimals: "PriceTooManyDecimals", TooLarge: "PriceAboveMaximum"
}

export interface CheckoutView {
  readonly session: CheckoutSession
  readonly summary: LinkSummary
  /** Why the buyer's choices or code were not taken (the summary is then the link's defaults), in the links room's words. */
  readonly refusal: CheckoutRefusalView | undefined
  readonly settings: AccountSettings
  /** The business day the view was made on. */
  readonly today: CalendarDate
  /** The code the buyer typed, when it is usable on this link today. */
  readonly discountCode: DiscountCode | undefined
}

/** A session as one request of its page reads it: the session, where it stands, and the request's settings, business day and instant. */
export interface SessionRead {
  readonly session: CheckoutSession
  readonly state: CheckoutState
  readonly settings: AccountSettings
  readonly today: CalendarDate
  readonly now: number
}

/**
 * Reads a session and where it stands (one statement) with the settings: on a server sent at once on one
 * connection (one round trip); in turn on the embedded database, whose one connection can hang on queries
 * sent at once through its socket (as api/handlers.ts `showSubscription`).
 */
export const readCheckoutSession = Effect.fn("readCheckoutSession")(function*(id: string) {
  if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return yield* new CheckoutSessionUnknown()
  const { concurrent } = yield* Database
  const [ctx, found] = yield* readTogether(Effect.all([context, sqlOrDie((sql) => sessionWithState(sql, id))], { concurrency: concurrent ? "unbounded" : 1 }))
    .pipe(Effect.orDie)
  const now = yield* (yield* BusinessClock).now
  if (found === undefined) return yield* new CheckoutSessionUnknown()
  return { session: found.session, state: found.state, settings: ctx.settings, today: ctx.today, now } as SessionRead
})

export const showCheckout = (id: string, form?: CheckoutForm, options: { readonly evenWhenExpired?: boolean } = {}) =>
  Effect.flatMap(readCheckoutSession(id), (read) => checkoutView(read, form, options))

/** A typed discount code the buyer cannot use: none by that name, or why not (`discountCodeUsable`); undefined when usable. */
export const codeRefusal = (typed: string, found: DiscountCode | undefined, unusable: DiscountCodeUnusable | undefined): CheckoutRefusalView | undefined =>
  found === undefined
    ? { field: "discount_code", problem: `the code ${typed} does not exist`, reason: "CodeUnknown", values: { code: typed } }
    : unusable === undefined
    ? undefined
    : { field: "discount_code", problem: unusable.problem, reason: unusable.reason, values: { code: found.code, date: found.expiresOn ?? "" } }

/** The page's view of a session read for this request, for the buyer's choices. */
export const checkoutView = Effect.fn("checkoutView")(function*(read: SessionRead, form?: CheckoutForm, options: { readonly evenWhenExpired?: boolean } = {}) {
  const ctx = read
  const session = read.session
  if (read.now > session.expiresAt && options.evenWhenExpired !== true) {
    return yield* new CheckoutSessionExpired({ slug: session.link.slug, language: session.link.language, locale: linkLocale(session.link, ctx.settings) })
  }
  const link = session.link
  let refusal: CheckoutView["refusal"]
  let code: BuyerChoices["discountCode"]
  const typed = form?.discountCode.trim() ?? ""
  if (typed !== "") {
    const found = yield* sqlOrDie((sql) => discountCodeByText(sql, typed))
    refusal = codeRefusal(typed, found, found === undefined ? undefined : discountCodeUsable(found, link, ctx.today))
    if (refusal === undefined) code = found
  }
  const choices: BuyerChoices = { items: form?.items, discountCode: code }
  const refusalValues = (item: PaymentLink["items"][number] | undefined): Readonly<Record<string, string | number>> =>
    item === undefined ? {} : { item: item.name, min: item.editableQuantity?.min ?? 1, max: item.editableQuantity?.max ?? 1, minimum: item.ownPrice?.minimum ?? 0, maximum: ownPriceMaximum(item.quantity) }
  const unread = [...(form?.unreadPrices ?? [])][0]
  let summary: LinkSummary
  if (unread !== undefined) {
    const [index, problem] = unread
    refusal = { field: "items", item: index, problem: `the price of item ${index + 1}: ${problem.problem}`, reason: unreadPriceReason[problem.kind], values: refusalValues(link.items[index]) }
    summary = linkSummary(link, { discountCode: code }, ctx.today)
  } else try {
    summary = linkSummary(link, choices, ctx.today)
  } catch (e) {
    if ((e as { _tag?: string })._tag !== "BuyerChoiceRefused") throw e
    const refused = e as { item: number; reason: string; problem: string }
    const item = link.items[refused.item]
    refusal = {
      field: "items", item: refused.item, problem: refused.problem, reason: refused.reason,
      values: refusalValues(item)
    }
    summary = linkSummary(link, { discountCode: code }, ctx.today)
  }
  return { session, summary, refusal, settings: ctx.settings, today: ctx.today, discountCode: refusal === undefined ? code : undefined } as CheckoutView
})
