/**
 * The HTTP API's handlers: parse, call the one use case the CLI command
 * calls (the services Subscriptions, Contacts and Products; the rooms by
 * billing noun, engine/runtime), answer. Nothing here decides a billing rule.
 * A use case's refusal (a typed domain error, worded as the API always has)
 * or bad input (BadInput) becomes a problem with the field's name; a
 * database failure is a defect (500, no details leave the server).
 */
import { Context, Effect, Layer } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { InvoiceId, moneyJson, SubscriptionId } from "../domain/index.ts"
import type { ListQuery, Sql } from "../sql/index.ts"
import type { ApiKeyRow, WebhookEndpointRow } from "../account/index.ts"
import type { CatalogueFailure, ContactRow, ProductRow } from "../catalogue/index.ts"
import type { SubscriptionsFailure } from "../subscriptions/index.ts"
import { BadInput, CurrentJournalSource, DatabaseError, listedAfter, runSql } from "../sql/index.ts"
import { Account, accountRefusalWords, loadSettings, ServerContext } from "../account/index.ts"
import { catalogueRefusalWords, Contacts, frequencyText, itemRefusalWords, Products } from "../catalogue/index.ts"
import { invoiceJson, invoiceRefusalWords, invoiceSummaryJson, Invoices, Outbox } from "../invoicing/index.ts"
import { createdSubscriptionJson, parseItems, readCreateRequest, readDate, readPaymentMethod, subscriptionJson, subscriptionRefusalWords, subscriptionRowJson, Subscriptions } from "../subscriptions/index.ts"
import type { AccountError, InvoiceError, SubscriptionError, Words } from "../domain/index.ts"
import { accountErrorOf, discountCodeFieldNames, eventTypeProblem, fieldAtFault, flagField, inJsonFields, itemErrorOf, linkFieldNames, subscriptionStatuses } from "../domain/index.ts"
import { buildReports, readReportRequest, reportColumns, reportKinds } from "../../reports/index.ts"
import { Api, Conflict, InvalidRequest, NotFound } from "./Api.ts"
import type { DiscountCodeError, DiscountCodesFailure, LinkRequest, PaymentLinkError, PaymentLinksFailure } from "../checkout/index.ts"
import { codeJson, DiscountCodes, linkJson, PaymentLinks, summaryJson } from "../checkout/index.ts"
import type { BuyerChoiceRefused } from "../domain/index.ts"

/** The API key of the request being served (set by the guard, server.ts). */
export const CurrentApiKey = Context.Reference<ApiKeyRow | undefined>("billcycle/engine/api/CurrentApiKey", { defaultValue: () => undefined })

/** Money, one shape everywhere (domain/money.ts): minor units, the currency, and the amount as people read it. */
export const money = moneyJson

/**
 * What a refusal is, for its status: what was named is missing, gone (a deleted subscription), taken, refused
 * by the state it is in (a transition), or else bad input. Decided by the refusal's type (engine/domain/errors.ts),
 * never by its words: they quote what the client sent (`items[0] ("name=exists already,…")`).
 */
type RefusalKind = "missing" | "gone" | "taken" | "refused" | "invalid"

const refusalKinds: Partial<Record<string, RefusalKind>> = {
  SubscriptionNotFound: "missing", ContactNotFound: "missing", ContactIdNotFound: "missing", ProductNotFound: "missing", UnknownSku: "missing",
  InvoiceNotFound: "missing", OutboxMessageNotFound: "missing", ApiKeyNotFound: "missing", WebhookEndpointNotFound: "missing",
  SubscriptionDeleted: "gone",
  ContactExists: "taken", ProductExists: "taken",
  TransitionRefused: "refused", InvoiceStatusRefused: "refused", InvoiceAlreadyClosed: "refused", InvoicePaid: "refused", InvoicePartlyPaid: "refused",
  MoneyInFlight: "refused", OutboxRetryRefused: "refused"
}

/** The kind of a typed refusal (or of none: bad input). */
const refusalKindOf = (refusal: unknown): RefusalKind => {
  const r = refusal as { readonly _tag?: unknown; readonly reason?: unknown } | null | undefined
  if (typeof r?._tag !== "string") return "invalid"
  if (r._tag === "ApiKeyNameRefused") return r.reason === "Taken" ? "taken" : "invalid"
  if (r._tag === "WebhookEndpointRefused") return (r as { readonly taken?: boolean }).taken === true ? "taken" : "invalid"
  return refusalKinds[r._tag] ?? "invalid"
}

/**
 * A refusal as a problem, by its kind: what the path names is missing or gone 404, what a field of the body names is
 * missing 400 `resource_missing` naming the field; taken or refused by a state 409; else 400. `field` is the JSON
 * field at fault, when the words named one (`wordsProblem`); a message without words names none.
 */
export const problemOf = (kind: RefusalKind, message: string, field: string | undefined) => {
  switch (kind) {
    case "missing":
      return field === undefined ? new NotFound({ code: "not_found", message, field }) : new InvalidRequest({ code: "resource_missing", message, field })
    case "gone":
      // A deleted subscription is gone from the API's views: reading or changing it finds nothing.
      return new NotFound({ code: "not_found", message, field })
    case "taken":
      return new Conflict({ code: "already_exists", message, field })
    case "refused":
      return new Conflict({ code: "transition_refused", message, field })
    case "invalid":
      return new InvalidRequest({ code: "invalid_input", message, field })
  }
}

/** A refusal's words with their fields (domain/fieldNames.ts) as a problem: the JSON field the client sent, named in the message and as `field`. */
const wordsProblem = (w: Words, refusal?: unknown) => problemOf(refusalKindOf(refusal), inJsonFields(w), fieldAtFault(w)?.json)

/** Bad input as a problem: by its words when it has them (the JSON fields), else by its message; its kind by the typed refusal it carries. */
const badInputProblem = (e: BadInput) =>
  e.words === undefined ? problemOf(refusalKindOf(e.refusal), e.message, undefined) : wordsProblem(e.words, e.refusal)

const invalid = (field: string, message: string) => new InvalidRequest({ code: "invalid_input", message, field })

/** What the path names was not found (`/v1/products/NOPE`): 404, where the same words about a body's field are a 400. */
const namedByPath = <A, R>(effect: Effect.Effect<A, InvalidRequest | NotFound | Conflict, R>) =>
  effect.pipe(Effect.mapError((e) => (e._tag === "InvalidRequest" && e.code === "resource_missing" ? new NotFound({ code: "not_found", message: e.message, field: e.field }) : e)))

/** A typed refusal of the invoicing or account rooms as a problem: in the rooms' words, naming the JSON field (`amount`, `url`, `events`). */
const refusalProblem = (e: InvoiceError | AccountError) => {
  const account = accountErrorOf(e)
  return wordsProblem(account !== undefined ? accountRefusalWords(account) : invoiceRefusalWords(e as InvoiceError), e)
}

/** A use case of a room's service answered: its refusals as problems, other bad input by its words, a database failure a defect (500). */
const answered = <A, R>(effect: Effect.Effect<A, InvoiceError | AccountError | BadInput | DatabaseError, R>) =>
  effect.pipe(Effect.catch((e) =>
    e._tag === "DatabaseError" ? Effect.die(e) : Effect.fail(e._tag === "BadInput" ? badInputProblem(e) : refusalProblem(e))
  ))

/** The journal's source of what a request with this API key writes: `api:<key name>` (`api` without a key). */
export const journalSourceOf = (key: ApiKeyRow | undefined): string => key === undefined ? "api" : `api:${key.name}`

/**
 * `effect` as the request's API key: the events it writes carry `api:<key name>` (`api` without a key). The
 * guard (server.ts) has set that source already for a request with a key: then nothing is added to the context.
 */
const asRequestKey = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const source = journalSourceOf(fiber.getRef(CurrentApiKey))
    return fiber.getRef(CurrentJournalSource) === source ? effect : effect.pipe(Effect.provideService(CurrentJournalSource, source))
  })

/** Runs store work as the request's API key: events it writes carry `api:<key name>` as their source. */
const store = <A>(work: (sql: Sql) => Promise<A>) =>
  asRequestKey(runSql(work)).pipe(Effect.catchTags({ BadInput: (e) => Effect.fail(badInputProblem(e)), DatabaseError: (e) => Effect.die(e) }))

/**
 * Runs a use case of a service as the request's API key (its events carry
 * `api:<key name>`); a refusal becomes a problem in its words (`words`, the
 * CLI's with the JSON fields for the flags), other bad input by its words, a
 * database failure a defect.
 */
const useCase = <S, R, A, E extends { readonly _tag: string }>(
  service: Effect.Effect<S, never, R>,
  f: (service: S) => Effect.Effect<A, E | BadInput | DatabaseError>,
  words: (refusal: E) => Words
) =>
  asRequestKey(Effect.flatMap(service, f)).pipe(Effect.catch((e: E | BadInput | DatabaseError) =>
    e._tag === "DatabaseError" ? Effect.die(e) : Effect.fail(e._tag === "BadInput" ? badInputProblem(e as BadInput) : wordsProblem(words(e as E), e))))

/** A subscriptions refusal in its words, an item's naming the element sent (`items[1]: unknown SKU "NOPE"`). */
const subscriptionWords = (e: Exclude<SubscriptionsFailure, BadInput | DatabaseError>) => {
  const item = itemErrorOf(e)
  return item !== undefined ? itemRefusalWords(item) : subscriptionRefusalWords(e as SubscriptionError)
}
const catalogueWords = (e: Exclude<CatalogueFailure, BadInput | DatabaseError>) => catalogueRefusalWords(e)

const subscriptions = <A>(f: (s: Subscriptions["Service"]) => Effect.Effect<A, SubscriptionsFailure>) => useCase(Effect.service(Subscriptions), f, subscriptionWords)
const contacts = <A>(f: (s: Contacts["Service"]) => Effect.Effect<A, CatalogueFailure>) => useCase(Effect.service(Contacts), f, catalogueWords)
const products = <A>(f: (s: Products["Service"]) => Effect.Effect<A, CatalogueFailure>) => useCase(Effect.service(Products), f, catalogueWords)

/** The same, for checks made before the store (readCreateRequest). */
const checked = <A, R>(effect: Effect.Effect<A, BadInput, R>) => effect.pipe(Effect.mapError(badInputProblem))

const context = Effect.flatMap(Effect.service(ServerContext), (current) => current).pipe(
  Effect.catchTags({ BadInput: (e) => Effect.fail(badInputProblem(e)), DatabaseError: (e) => Effect.die(e) })
)

const wholeId = (field: string, value: string): Effect.Effect<number, InvalidRequest> => {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n > 0 && n <= 2_147_483_647 ? Effect.succeed(n) : Effect.fail(invalid(field, `${field}: expected a whole number from 1, got "${value}"`))
}
const positiveId = (field: string, value: string | undefined): Effect.Effect<number | undefined, InvalidRequest> =>
  value === undefined ? Effect.succeed(undefined) : wholeId(field, value)
/** A subscription or an invoice named in a path: its id, branded at the door. */
const subscriptionIdParam = (value: string) => Effect.map(wholeId("id", value), SubscriptionId.make)
const invoiceIdParam = (value: string) => Effect.map(wholeId("id", value), InvoiceId.make)

/**
 * One page of a list query of the store (the same query the CLI's list
 * prints), by id: `starting_after` the last id seen, one row past `limit`
 * telling `has_more`. Ids only grow, so a page is stable while rows are added.
 */
const pageOf = <R extends { id: number }>(
  query: ListQuery<R>,
  p: { readonly limit?: string | undefined; readonly starting_after?: string | undefined },
  view: (r: R) => Record<string, unknown> = (r) => r as Record<string, unknown>,
  /** The query parameter the cursor came in, for its error (`after` on /v1/events). */
  cursor = "starting_after"
) =>
  Effect.gen(function*() {
    const limit = p.limit === undefined ? 10 : /^\d{1,3}$/.test(p.limit) ? Number(p.limit) : NaN
    if (!(limit >= 1 && limit <= 100)) return yield* invalid("limit", `limit: expected a whole number from 1 to 100, got "${p.limit}"`)
    // 0 is before every id: `GET /v1/events?after=0` follows the journal from its start.
    const after = p.starting_after === "0" ? 0 : (yield* positiveId(cursor, p.starting_after).pipe(
      Effect.mapError(() => invalid(cursor, `${cursor}: expected a whole number from 0, got "${p.starting_after}"`))
    )) ?? 0
    const rows = yield* store((sql) => listedAfter(sql, query, after, limit + 1))
    return { object: "list" as const, data: rows.slice(0, limit).map(view), has_more: rows.length > limit }
  })

const contactJson = (c: ContactRow) => ({ object: "contact", ...c })
const productJson = (p: ProductRow) => {
  const { unit_price, ...rest } = p
  return { object: "product", ...rest, unit_price: money(unit_price, p.currency), frequency: frequencyText(p) }
}


export const ContactsHandlers = HttpApiBuilder.group(Api, "contacts", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const ctx = yield* context
      const row = yield* contacts((c) => c.add({ email: payload.email, name: payload.name, language: payload.language, locale: payload.locale, paymentMethod: payload.payment_method, country: payload.country }, ctx.today))
      return contactJson(row)
    }))
    .handle("list", ({ query }) => Effect.flatMap(Effect.service(Contacts), (c) => pageOf(c.list, query, contactJson)))
    .handle("show", ({ params }) => contacts((c) => c.show(params.contact)).pipe(Effect.map((v) => ({ object: "contact", ...v.contact, open_invoices: v.open_invoices, subscriptions: v.subscriptions }))))
    .handle("update", ({ params, payload }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        // null clears, as "" does in `contacts update`.
        const given = (v: string | null | undefined) => (v === null ? "" : v)
        const r = yield* contacts((c) => c.update(params.contact, {
          email: given(payload.email), name: given(payload.name), language: given(payload.language), locale: given(payload.locale),
          paymentMethod: given(payload.payment_method), country: given(payload.country)
        }, ctx.today))
        return { object: "contact", ...r.contact, changes: r.changes }
      })))

export const ProductsHandlers = HttpApiBuilder.group(Api, "products", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const settings = yield* store(loadSettings)
      const row = yield* products((p) => p.add({ name: payload.name, sku: payload.sku, price: payload.price, currency: (payload.currency ?? settings.currency).toUpperCase(), frequency: payload.frequency ?? "monthly" }))
      return productJson(row)
    }))
    .handle("list", ({ query }) => {
      if (query.include_archived !== undefined && !["true", "false"].includes(query.include_archived)) return Effect.fail(invalid("include_archived", `include_archived: expected true or false, got "${query.include_archived}"`))
      return Effect.flatMap(Effect.service(Products), (p) => pageOf(p.list(query.include_archived === "true"), query, productJson))
    })
    .handle("update", ({ params, payload }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const r = yield* namedByPath(products((p) => p.update(params.sku, { name: payload.name, price: payload.price, frequency: payload.frequency }, ctx.today)))
        return { ...productJson(r.product), changes: r.changes }
      }))
    .handle("archive", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const r = yield* namedByPath(products((p) => p.archive(params.sku, ctx.today)))
        return { ...productJson(r.product), archived_now: r.archivedNow, subscriptions: r.subscriptions }
      })))

/**
 * A resource sent as the framework would send it (`application/json`, 200), without walking its
 * fields through the success schema (`Resource`, any JSON object: the walk checks nothing, and is
 * a few percent of the server's time on the hot route `GET /v1/subscriptions/:id`).
 */
const jsonResponse = (resource: Record<string, unknown>) => HttpServerResponse.text(JSON.stringify(resource), { contentType: "application/json" })

const views: Record<string, string> = { unpaid: "unpaid", scheduled: "scheduled", "past-due": "past_due" }

/**
 * A subscription as shown: its rows (one statement) on today of the server's context (its settings
 * remembered, `settingsTtlMs`: a GET is one statement). After a write, the rows are read through the
 * request's transaction.
 */
const showSubscription = (id: SubscriptionId) =>
  Effect.gen(function*() {
    const ctx = yield* context
    return subscriptionJson(yield* subscriptions((s) => s.show(id)), ctx.today)
  })

export const SubscriptionsHandlers = HttpApiBuilder.group(Api, "subscriptions", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const input = yield* checked(readCreateRequest({
        contact: payload.contact, items: payload.items, start: payload.start,
        delayDays: payload.delay_days === undefined ? undefined : String(payload.delay_days),
        delayMonths: payload.delay_months === undefined ? undefined : String(payload.delay_months),
        terms: payload.terms, collection: payload.collection, paymentMethod: payload.payment_method, language: payload.language, locale: payload.locale, reminders: payload.reminders
      }))
      const ctx = yield* context
      const created = yield* subscriptions((s) => s.create(ctx, input))
      return {
        object: "list" as const, has_more: false,
        // Named as everywhere else in the API (snake_case, as `GET /v1/subscriptions` names them).
        data: created.map(createdSubscriptionJson)
      }
    }))
    .handle("list", ({ query }) =>
      Effect.gen(function*() {
        let status = query.status
        if (status !== undefined && !(subscriptionStatuses as ReadonlyArray<string>).includes(status)) return yield* invalid("status", `status: expected one of ${subscriptionStatuses.join(", ")}, got "${status}"`)
        if (query.view !== undefined) {
          status = views[query.view]
          if (status === undefined) return yield* invalid("view", `view: expected unpaid, scheduled or past-due, got "${query.view}"`)
        }
        const before = query.next_billing_before === undefined ? undefined : yield* checked(readDate(flagField("next-billing-before"), query.next_billing_before))
        const listed = (yield* Subscriptions).list({ status, nextBillingBefore: before })
        return yield* pageOf(listed, query, subscriptionRowJson)
      }))
    .handle("show", ({ params }) => Effect.flatMap(subscriptionIdParam(params.id), showSubscription).pipe(Effect.map(jsonResponse)))
    .handle("update", ({ params, payload }) =>
      Effect.gen(function*() {
        const id = yield* subscriptionIdParam(params.id)
        const items = payload.items === undefined ? undefined : yield* checked(parseItems(payload.items))
        const nextBillingDate = payload.next_billing_date === undefined ? undefined : yield* checked(readDate(flagField("next-billing-date"), payload.next_billing_date))
        const paymentMethod = yield* checked(readPaymentMethod(flagField("payment-method"), payload.payment_method))
        const ctx = yield* context
        const r = yield* subscriptions((s) => s.update(ctx, id, { items: items === undefined || items.length === 0 ? undefined : items, nextBillingDate, paymentMethod }))
        return { ...(yield* showSubscription(id)), changes: r.changes }
      }))
    .handle("cancel", ({ params, payload }) =>
      Effect.gen(function*() {
        const id = yield* subscriptionIdParam(params.id)
        const ctx = yield* context
        // The refund of refund_unused is recorded with the cancel (pending) and the engine's next tick asks the gateway
        // with its key. Unlike the CLI (subscriptions/cancelWithRefund.ts), a request does not ask at once: its change
        // commits with its Idempotency-Key answer, and the gateway may only be asked after that commit (record → call → record).
        const r = yield* subscriptions((s) => s.cancel(ctx, id, { atPeriodEnd: payload.at_period_end ?? false, refundUnused: payload.refund_unused ?? false }))
        return { ...(yield* showSubscription(id)), effective_on: r.effectiveOn, refund: r.refund === undefined ? null : { ...r.refund, amount: money(r.refund.amount, r.refund.currency) } }
      }))
    .handle("pause", ({ params, payload }) =>
      Effect.gen(function*() {
        const id = yield* subscriptionIdParam(params.id)
        const resumeOn = payload.resume_on === undefined ? undefined : yield* checked(readDate(flagField("resume-on"), payload.resume_on))
        const ctx = yield* context
        yield* subscriptions((s) => s.pause(ctx, id, resumeOn))
        return yield* showSubscription(id)
      }))
    .handle("resume", ({ params }) =>
      Effect.gen(function*() {
        const id = yield* subscriptionIdParam(params.id)
        const ctx = yield* context
        yield* subscriptions((s) => s.resume(ctx, id))
        return yield* showSubscription(id)
      }))
    .handle("delete", ({ params }) =>
      Effect.gen(function*() {
        const id = yield* subscriptionIdParam(params.id)
        const ctx = yield* context
        const kept = yield* subscriptions((s) => s.delete(ctx, id))
        return { object: "subscription", id, deleted: true, deleted_on: ctx.today, invoices_kept: kept.invoices, open_invoices: kept.openInvoices }
      })))

export const InvoicesHandlers = HttpApiBuilder.group(Api, "invoices", (h) =>
  h.handle("list", ({ query }) =>
    Effect.gen(function*() {
      const subscriptionId = yield* positiveId("subscription", query.subscription)
      if (query.status !== undefined && !["open", "paid", "void", "uncollectible"].includes(query.status)) return yield* invalid("status", `status: expected one of open, paid, void, uncollectible, got "${query.status}"`)
      return yield* pageOf((yield* Invoices).list({ subscriptionId, status: query.status }), query, (i) => ({ object: "invoice", ...invoiceSummaryJson(i) }))
    }))
    .handle("show", ({ params }) =>
      Effect.gen(function*() {
        const id = yield* invoiceIdParam(params.id)
        return { object: "invoice", ...invoiceJson(yield* answered((yield* Invoices).show(id))) }
      }))
    .handle("pay", ({ params, payload }) =>
      Effect.gen(function*() {
        const id = yield* invoiceIdParam(params.id)
        const ctx = yield* context
        const r = yield* answered((yield* Invoices).pay(ctx, id, payload.amount))
        return { object: "payment", ...r, amount: money(r.amount, r.currency), remaining: money(r.remaining, r.currency) }
      })))

export const EventsHandlers = HttpApiBuilder.group(Api, "events", (h) =>
  h.handle("list", ({ query }) =>
    Effect.gen(function*() {
      const subscriptionId = yield* positiveId("subscription", query.subscription)
      if (query.after !== undefined && query.starting_after !== undefined) return yield* invalid("after", "after and starting_after: give one of them")
      const typeProblem = query.type === undefined ? undefined : eventTypeProblem(query.type)
      if (typeProblem !== undefined) return yield* invalid("type", `type: ${typeProblem}`)
      const listed = (yield* Subscriptions).events({ subscriptionId, type: query.type })
      return yield* pageOf(listed, { limit: query.limit, starting_after: query.after ?? query.starting_after }, (e) => ({ object: "event", ...e }), query.after !== undefined ? "after" : "starting_after")
    })))

const oneOf = (field: string, value: string | undefined, allowed: ReadonlyArray<string>) =>
  value === undefined || allowed.includes(value) ? Effect.succeed(value) : Effect.fail(invalid(field, `${field}: expected one of ${allowed.join(", ")}, got "${value}"`))

export const OutboxHandlers = HttpApiBuilder.group(Api, "outbox", (h) =>
  h.handle("list", ({ query }) =>
    Effect.gen(function*() {
      const status = yield* oneOf("status", query.status, ["queued", "sending", "sent", "failed"])
      const kind = yield* oneOf("kind", query.kind, ["email", "notification", "webhook"])
      return yield* pageOf((yield* Outbox).list({ status, kind }), query, (m) => ({ object: "outbox_message", ...m }))
    }))
    .handle("retry", ({ params }) =>
      Effect.gen(function*() {
        const id = yield* wholeId("id", params.id)
        yield* answered((yield* Outbox).retry(id))
        return { object: "outbox_message", id, status: "queued" }
      })))

export const SettingsHandlers = HttpApiBuilder.group(Api, "settings", (h) =>
  h.handle("show", () =>
    Effect.gen(function*() {
      const rows = yield* answered((yield* Account).settings)
      return { object: "settings", ...Object.fromEntries(rows.map((r) => [r.key, r.value])) }
    })))

/** The query parameter of a preview a buyer's choice came in, by the reason it was refused. */
const choiceApiField: Record<BuyerChoiceRefused["reason"], string> = {
  NoSuchItem: "include", NotOptional: "include", QuantityNotEditable: "qty", QuantityOutOfRange: "qty", PriceNotOwn: "price", PriceBelowMinimum: "price", PriceAboveMaximum: "price"
}

/**
 * A checkout refusal as a problem naming the JSON field. A discount code not
 * found is the path's resource (404), or, in a preview, the `code` the query
 * names (400).
 */
const checkoutRefusalProblem = (r: PaymentLinkError | DiscountCodeError, options: { readonly codeInQuery?: boolean } = {}) => {
  switch (r._tag) {
    case "PaymentLinkInvalid": {
      // `items[0]` for an item's rule (0-based, as in the JSON array).
      const field = linkFieldNames[r.field].json
      const at = r.item === undefined ? field : `${field}[${r.item}]`
      // By the rule, not the words: a slug refused for its form may itself read "taken".
      return r.rule === "SlugTaken"
        ? new Conflict({ code: "already_exists", message: `${at}: ${r.problem}`, field: at })
        : new InvalidRequest({ code: "invalid_input", message: `${at}: ${r.problem}`, field: at })
    }
    case "DiscountCodeInvalid":
      return r.rule === "CodeTaken"
        ? new Conflict({ code: "already_exists", message: `code: ${r.problem}`, field: "code" })
        : new InvalidRequest({ code: "invalid_input", message: `${discountCodeFieldNames[r.field].json}: ${r.problem}`, field: discountCodeFieldNames[r.field].json })
    case "PaymentLinkNotFound":
      return new NotFound({ code: "not_found", message: `no payment link ${r.ref}` })
    case "DiscountCodeNotFound":
      return options.codeInQuery === true
        ? new InvalidRequest({ code: "resource_missing", message: `code: no discount code ${r.ref}`, field: "code" })
        : new NotFound({ code: "not_found", message: `no discount code ${r.ref}` })
    case "BuyerChoiceRefused": {
      const field = choiceApiField[r.reason]
      return new InvalidRequest({ code: "invalid_input", message: `${field}: ${r.problem}`, field })
    }
    case "DiscountCodeUnusable":
      return new InvalidRequest({ code: "invalid_input", message: `code: ${r.problem}`, field: "code" })
  }
}

/**
 * A checkout use case's other bad input as a problem naming the JSON field, by its words: an item's
 * catalogue refusal by its place (`items[1]`), the rest as the room worded it (`order_discount`, `contact_fields[1]`).
 */
const checkoutProblem = (e: BadInput) => {
  const itemError = itemErrorOf(e.refusal)
  const words = itemError !== undefined ? itemRefusalWords(itemError) : e.words
  return words !== undefined ? new InvalidRequest({ code: "invalid_input", message: inJsonFields(words), field: fieldAtFault(words)?.json }) : badInputProblem(e)
}

/**
 * Runs a use case of `PaymentLinks` or `DiscountCodes` as the request's API
 * key (its events carry `api:<key name>`); its refusals worded with the API's
 * fields, other bad input by its words, a database failure a defect.
 */
const checkoutUseCase = <S, R, A>(
  service: Effect.Effect<S, never, R>,
  f: (service: S) => Effect.Effect<A, PaymentLinksFailure | DiscountCodesFailure>,
  options: { readonly codeInQuery?: boolean } = {}
) =>
  asRequestKey(Effect.flatMap(service, f)).pipe(Effect.catch((e: PaymentLinksFailure | DiscountCodesFailure) =>
    e._tag === "DatabaseError" ? Effect.die(e) : Effect.fail(e._tag === "BadInput" ? checkoutProblem(e) : checkoutRefusalProblem(e, options))))

const links = <A>(f: (s: PaymentLinks["Service"]) => Effect.Effect<A, PaymentLinksFailure>, options: { readonly codeInQuery?: boolean } = {}) =>
  checkoutUseCase(Effect.service(PaymentLinks), f, options)
const codes = <A>(f: (s: DiscountCodes["Service"]) => Effect.Effect<A, DiscountCodesFailure>) => checkoutUseCase(Effect.service(DiscountCodes), f)

type LinkSettingsPayload = {
  readonly name?: string | undefined; readonly currency?: string | undefined; readonly items?: ReadonlyArray<string> | undefined; readonly terms?: string | undefined
  readonly start?: string | undefined; readonly delay_days?: number | undefined; readonly delay_months?: number | undefined; readonly order_discount?: string | undefined
  readonly checkout_text?: string | undefined; readonly confirmation_text?: string | undefined; readonly redirect_url?: string | null | undefined
  readonly language?: string | undefined; readonly locale?: string | undefined; readonly payment_types?: ReadonlyArray<string> | undefined
  readonly collect_billing_address?: boolean | undefined; readonly collect_shipping_address?: boolean | undefined; readonly allow_discount_codes?: boolean | undefined
  readonly contact_fields?: ReadonlyArray<string> | undefined; readonly completed_payments_limit?: number | null | undefined
}

const linkRequestOf = (p: LinkSettingsPayload): LinkRequest => ({
  name: p.name, currency: p.currency, items: p.items, terms: p.terms, start: p.start,
  delayDays: p.delay_days === undefined ? undefined : String(p.delay_days), delayMonths: p.delay_months === undefined ? undefined : String(p.delay_months),
  orderDiscount: p.order_discount, checkoutText: p.checkout_text, confirmationText: p.confirmation_text,
  redirectUrl: p.redirect_url === null ? "none" : p.redirect_url, language: p.language, locale: p.locale,
  paymentTypes: p.payment_types === undefined ? undefined : p.payment_types.join(","),
  collectBillingAddress: p.collect_billing_address, collectShippingAddress: p.collect_shipping_address, allowDiscountCodes: p.allow_discount_codes,
  contactFields: p.contact_fields,
  completedPaymentsLimit: p.completed_payments_limit === null ? "none" : p.completed_payments_limit === undefined ? undefined : String(p.completed_payments_limit)
})

const commaList = (v: string | undefined) => (v === undefined ? undefined : v.split(",").map((x) => x.trim()).filter((x) => x !== ""))

export const PaymentLinksHandlers = HttpApiBuilder.group(Api, "payment_links", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const ctx = yield* context
      const { slug, from_contact, price, ...settings } = payload
      if (from_contact !== undefined) {
        const others = Object.entries(settings).filter(([k, v]) => v !== undefined && !["name", "items", "currency"].includes(k)).map(([k]) => k)
        if (others.length > 0) return yield* invalid(others[0]!, `${others[0]}: a simple link (from_contact) is one one-time payment; create a full link without from_contact`)
        if (settings.name === undefined) return yield* invalid("name", "name: a simple link needs a name")
        if (settings.items?.length !== 1) return yield* invalid("items", "items: a simple link has one item: [\"NAME\"]")
        if (price === undefined) return yield* invalid("price", "price: a simple link needs the item's one-time price")
        const link = yield* links((l) => l.createSimple(ctx, { contactEmail: from_contact, name: settings.name!, itemName: settings.items![0]!, price, currency: settings.currency, slug }))
        return linkJson(link)
      }
      if (price !== undefined) return yield* invalid("price", "price: only with from_contact (otherwise price=… in items)")
      const link = yield* links((l) => l.create(ctx, linkRequestOf(settings), slug))
      return linkJson(link)
    }))
    .handle("list", ({ query }) =>
      Effect.gen(function*() {
        const status = yield* oneOf("status", query.status, ["on", "off"])
        return yield* pageOf((yield* PaymentLinks).list({ active: status === undefined ? undefined : status === "on" }), query, (r) => ({ object: "payment_link", ...r }))
      }))
    .handle("show", ({ params }) => links((l) => l.show(params.link)).pipe(Effect.map(linkJson)))
    .handle("update", ({ params, payload }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        return linkJson(yield* links((l) => l.update(ctx.today, params.link, linkRequestOf(payload))))
      }))
    .handle("clone", ({ params, payload }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        return linkJson(yield* links((l) => l.clone(ctx.today, params.link, { name: payload.name, slug: payload.slug })))
      }))
    .handle("off", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const r = yield* links((l) => l.switchOff(ctx.today, params.link))
        return { ...linkJson(r.link), changed: r.changed }
      }))
    .handle("on", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const r = yield* links((l) => l.switchOn(ctx.today, params.link))
        return { ...linkJson(r.link), changed: r.changed }
      }))
    .handle("delete", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const link = yield* links((l) => l.delete(ctx.today, params.link))
        return { ...linkJson(link), deleted: true }
      }))
    .handle("preview", ({ params, query }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const { link, summary } = yield* links(
          (l) => l.preview(ctx.today, params.link, { include: commaList(query.include), quantities: commaList(query.qty), prices: commaList(query.price), code: query.code }),
          { codeInQuery: true }
        )
        return { ...summaryJson(summary), link: link.id }
      })))

export const DiscountCodesHandlers = HttpApiBuilder.group(Api, "discount_codes", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const ctx = yield* context
      const code = yield* codes((c) => c.create(ctx, {
        code: payload.code, off: payload.off, currency: payload.currency, duration: payload.duration, expiresOn: payload.expires_on,
        maxRedemptions: payload.max_redemptions === undefined ? undefined : String(payload.max_redemptions)
      }))
      return codeJson(code)
    }))
    .handle("list", ({ query }) => Effect.flatMap(Effect.service(DiscountCodes), (c) => pageOf(c.list, query, (r) => ({ object: "discount_code", ...r }))))
    .handle("show", ({ params }) => codes((c) => c.show(params.code)).pipe(Effect.map(codeJson)))
    .handle("update", ({ params, payload }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        const code = yield* codes((c) => c.change(ctx.today, params.code, {
          expiresOn: payload.expires_on === null ? "none" : payload.expires_on,
          maxRedemptions: payload.max_redemptions === null ? "none" : payload.max_redemptions === undefined ? undefined : String(payload.max_redemptions)
        }))
        return codeJson(code)
      }))
    .handle("off", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        return codeJson(yield* codes((c) => c.change(ctx.today, params.code, { active: false })))
      }))
    .handle("on", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        return codeJson(yield* codes((c) => c.change(ctx.today, params.code, { active: true })))
      }))
    .handle("delete", ({ params }) =>
      Effect.gen(function*() {
        const ctx = yield* context
        return { ...codeJson(yield* codes((c) => c.delete(ctx.today, params.code))), deleted: true }
      })))

const webhookEndpointJson = (e: WebhookEndpointRow) => ({ object: "webhook_endpoint", ...e })

/** The same use cases as `billcycle webhooks add|list|remove` (Account). */
export const WebhookEndpointsHandlers = HttpApiBuilder.group(Api, "webhook_endpoints", (h) =>
  h.handle("create", ({ payload }) =>
    Effect.gen(function*() {
      const ctx = yield* context
      return webhookEndpointJson(yield* answered((yield* Account).addWebhookEndpoint(payload.url, payload.events.join(","), ctx.today)))
    }))
    .handle("list", ({ query }) => Effect.gen(function*() {
      return yield* pageOf((yield* Account).listWebhookEndpoints, query, webhookEndpointJson)
    }))
    .handle("delete", ({ params }) =>
      Effect.gen(function*() {
        const id = yield* wholeId("id", params.id)
        const ctx = yield* context
        yield* answered((yield* Account).removeWebhookEndpoint(id, ctx.today))
        return { object: "webhook_endpoint", id, deleted: true, deleted_on: ctx.today }
      })))

/**
 * Each report of `billcycle report`, built by the same function from one
 * snapshot: the CLI's `--json` rows (money in major units of `currency`, as
 * the CLI prints them) and its columns. Without `--fx` (no files on the
 * server), currencies other than `currency` are left out and listed in `unconverted`.
 */
export const ReportsHandlers = HttpApiBuilder.group(Api, "reports", (h) =>
  h.handle("show", ({ params, query }) =>
    Effect.gen(function*() {
      if (query.details !== undefined && !["true", "false"].includes(query.details)) return yield* invalid("details", `details: expected true or false, got "${query.details}"`)
      const currency = query.currency ?? (yield* store(loadSettings)).currency
      const request = readReportRequest({ kind: params.name, from: query.from, to: query.to, currency, details: query.details === "true" })
      if ("problem" in request) {
        if (request.unknownKind === true) return yield* new NotFound({ code: "not_found", message: `no report named "${params.name}": one of ${reportKinds.join(", ")}`, field: "name" })
        return yield* wordsProblem(request.problem)
      }
      const set = yield* store((sql) => buildReports(sql, request))
      const rows = request.details ? set.details : set[request.kind]
      return { object: "report", name: request.kind, from: request.from, to: request.to, currency: request.currency, details: request.details, columns: reportColumns(request.details ? "details" : request.kind, request.from, request.to), data: rows, unconverted: set.unconverted }
    })))

export const handlersLayer = Layer.mergeAll(
  ContactsHandlers, ProductsHandlers, SubscriptionsHandlers, InvoicesHandlers, EventsHandlers, OutboxHandlers, SettingsHandlers, PaymentLinksHandlers, DiscountCodesHandlers, WebhookEndpointsHandlers, ReportsHandlers
)
