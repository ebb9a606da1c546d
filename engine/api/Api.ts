/**
 * The HTTP API's definition (effect/http-api): every route under /v1, its
 * inputs and its errors. The server (handlers.ts) and the typed client
 * (HttpApiClient) both derive from it, and so does /openapi.json. Inputs
 * carry the same strings as the CLI's flags (item SPECs, `fixed:6`,
 * `invoice:net-30`, prices in major units), so both doors read them alike.
 */
import { Schema, SchemaTransformation } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"

const problem = {
  code: Schema.String,
  message: Schema.String,
  field: Schema.optional(Schema.String)
}

/** Bad input: `field` is the JSON field at fault, as the client sent it (`terms`, `items[1]`), never the CLI's flag. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", problem, { httpApiStatus: 400 }) {}
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", problem, { httpApiStatus: 404 }) {}
/** A rule of the domain refused the change (only a paused subscription resumes, …), or it exists already. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", problem, { httpApiStatus: 409 }) {}

/** The guard's answers (server.ts), for every route: no key or a revoked one. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", problem, { httpApiStatus: 401 }) {}
/** A write with a read-only key. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", problem, { httpApiStatus: 403 }) {}
/** A body over 1 MB. */
export class ContentTooLarge extends Schema.TaggedError<ContentTooLarge>()("ContentTooLarge", problem, { httpApiStatus: 413 }) {}
/** A body sent as anything but JSON (Content-Type other than application/json). */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", problem, { httpApiStatus: 415 }) {}
/** An Idempotency-Key used before with a different request. */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", problem, { httpApiStatus: 422 }) {}
/** The server failed; nothing of its insides is told. */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", problem, { httpApiStatus: 500 }) {}

export const problemContentType = "application/problem+json"

export const problemTitles: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
  415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error"
}

type ProblemFields = { readonly code: string; readonly message: string; readonly field?: string | undefined }

/**
 * An error as it is sent (RFC 9457): `application/problem+json` with
 * `type`, `status`, `title`, a stable `code`, the `message` and the `field`
 * at fault. The OpenAPI document and the typed client both read this shape.
 */
const asProblemJson = <E extends ProblemFields>(cls: Schema.Codec<E, any> & (new (fields: ProblemFields) => E), status: number) => {
  const title = problemTitles[status]!
  const wire = Schema.Struct({
    type: Schema.Literal("about:blank"), status: Schema.Literal(status), title: Schema.Literal(title), code: Schema.String, message: Schema.String, field: Schema.optionalKey(Schema.String)
  })
  return wire.pipe(
    Schema.decodeTo(Schema.toType(cls), SchemaTransformation.transform({
      decode: (p) => new cls({ code: p.code, message: p.message, field: p.field }),
      encode: (e) => ({ type: "about:blank" as const, status, title, code: e.code, message: e.message, ...(e.field === undefined ? {} : { field: e.field }) })
    })),
    HttpApiSchema.status(status),
    HttpApiSchema.asJson({ contentType: problemContentType })
  )
}

const errors = [
  asProblemJson(InvalidRequest, 400), asProblemJson(Unauthorized, 401), asProblemJson(Forbidden, 403), asProblemJson(NotFound, 404), asProblemJson(Conflict, 409),
  asProblemJson(ContentTooLarge, 413), asProblemJson(UnsupportedMediaType, 415), asProblemJson(IdempotencyKeyReused, 422), asProblemJson(InternalError, 500)
]

/** A JSON object: the resource's fields, money as `{ amount, currency, formatted }`. */
const Resource = Schema.Record(Schema.String, Schema.Unknown)
const List = Schema.Struct({ object: Schema.Literal("list"), data: Schema.Array(Resource), has_more: Schema.Boolean })

/** Cursor pagination: `limit` 1–100 (default 10), `starting_after` the last id of the previous page. */
const page = { limit: Schema.optional(Schema.String), starting_after: Schema.optional(Schema.String) }

const OptionalString = Schema.optional(Schema.String)
/** A field an update may clear: null says "clear it" (it read as left out, and nothing changed), a missing key "keep it". */
const ClearableString = Schema.optional(Schema.NullOr(Schema.String))

export class ContactsApi extends HttpApiGroup.make("contacts")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: Schema.Struct({ email: Schema.String, name: OptionalString, language: OptionalString, locale: OptionalString, payment_method: OptionalString, country: OptionalString }),
      success: Resource.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: page, success: List, error: errors }),
    HttpApiEndpoint.get("show", "/:contact", { params: { contact: Schema.String }, success: Resource, error: errors }),
    HttpApiEndpoint.post("update", "/:contact", {
      params: { contact: Schema.String },
      // null clears a field, as "" does (`contacts update --payment-method ""`); a field left out is kept.
      payload: Schema.Struct({ email: ClearableString, name: ClearableString, language: ClearableString, locale: ClearableString, payment_method: ClearableString, country: ClearableString }),
      success: Resource,
      error: errors
    })
  )
  .prefix("/v1/contacts")
{}

export class ProductsApi extends HttpApiGroup.make("products")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: Schema.Struct({ name: Schema.String, sku: Schema.String, price: Schema.String, currency: OptionalString, frequency: OptionalString }),
      success: Resource.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: { ...page, include_archived: OptionalString }, success: List, error: errors }),
    HttpApiEndpoint.post("update", "/:sku", {
      params: { sku: Schema.String },
      payload: Schema.Struct({ name: OptionalString, price: OptionalString, frequency: OptionalString }),
      success: Resource,
      error: errors
    }),
    HttpApiEndpoint.post("archive", "/:sku/archive", { params: { sku: Schema.String }, success: Resource, error: errors })
  )
  .prefix("/v1/products")
{}

const SubscriptionId = { id: Schema.String }

export class SubscriptionsApi extends HttpApiGroup.make("subscriptions")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: Schema.Struct({
        contact: Schema.String,
        items: Schema.Array(Schema.String),
        start: OptionalString,
        delay_days: Schema.optional(Schema.Int),
        delay_months: Schema.optional(Schema.Int),
        terms: OptionalString,
        collection: OptionalString,
        payment_method: OptionalString,
        language: OptionalString,
        locale: OptionalString,
        reminders: Schema.optional(Schema.Boolean)
      }),
      success: List.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: { ...page, status: OptionalString, view: OptionalString, next_billing_before: OptionalString }, success: List, error: errors }),
    HttpApiEndpoint.get("show", "/:id", { params: SubscriptionId, success: Resource, error: errors }),
    HttpApiEndpoint.post("update", "/:id", {
      params: SubscriptionId,
      payload: Schema.Struct({ items: Schema.optional(Schema.Array(Schema.String)), next_billing_date: OptionalString, payment_method: OptionalString }),
      success: Resource,
      error: errors
    }),
    HttpApiEndpoint.post("cancel", "/:id/cancel", {
      params: SubscriptionId,
      payload: Schema.Struct({ at_period_end: Schema.optional(Schema.Boolean), refund_unused: Schema.optional(Schema.Boolean) }),
      success: Resource,
      error: errors
    }),
    HttpApiEndpoint.post("pause", "/:id/pause", { params: SubscriptionId, payload: Schema.Struct({ resume_on: OptionalString }), success: Resource, error: errors }),
    HttpApiEndpoint.post("resume", "/:id/resume", { params: SubscriptionId, success: Resource, error: errors }),
    HttpApiEndpoint.delete("delete", "/:id", { params: SubscriptionId, success: Resource, error: errors })
  )
  .prefix("/v1/subscriptions")
{}

export class InvoicesApi extends HttpApiGroup.make("invoices")
  .add(
    HttpApiEndpoint.get("list", "/", { query: { ...page, subscription: OptionalString, status: OptionalString }, success: List, error: errors }),
    HttpApiEndpoint.get("show", "/:id", { params: { id: Schema.String }, success: Resource, error: errors }),
    HttpApiEndpoint.post("pay", "/:id/pay", { params: { id: Schema.String }, payload: Schema.Struct({ amount: OptionalString }), success: Resource, error: errors })
  )
  .prefix("/v1/invoices")
{}

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    // `after=ID` follows the journal: the events after the last one seen, oldest first.
    HttpApiEndpoint.get("list", "/", { query: { ...page, after: OptionalString, subscription: OptionalString, type: OptionalString }, success: List, error: errors })
  )
  .prefix("/v1/events")
{}

export class OutboxApi extends HttpApiGroup.make("outbox")
  .add(
    HttpApiEndpoint.get("list", "/", { query: { ...page, status: OptionalString, kind: OptionalString }, success: List, error: errors }),
    HttpApiEndpoint.post("retry", "/:id/retry", { params: { id: Schema.String }, success: Resource, error: errors })
  )
  .prefix("/v1/outbox")
{}

export class SettingsApi extends HttpApiGroup.make("settings")
  .add(HttpApiEndpoint.get("show", "/", { success: Resource, error: errors }))
  .prefix("/v1/settings")
{}

const OptionalBoolean = Schema.optional(Schema.Boolean)
const OptionalInt = Schema.optional(Schema.Int)

/** A payment link's settings: the strings of `links create`'s flags (items are its SPECs), booleans for yes/no. */
const linkSettings = {
  name: OptionalString,
  currency: OptionalString,
  items: Schema.optional(Schema.Array(Schema.String)),
  terms: OptionalString,
  start: OptionalString,
  delay_days: OptionalInt,
  delay_months: OptionalInt,
  order_discount: OptionalString,
  checkout_text: OptionalString,
  confirmation_text: OptionalString,
  redirect_url: Schema.optional(Schema.NullOr(Schema.String)),
  language: OptionalString,
  locale: OptionalString,
  payment_types: Schema.optional(Schema.Array(Schema.String)),
  collect_billing_address: OptionalBoolean,
  collect_shipping_address: OptionalBoolean,
  allow_discount_codes: OptionalBoolean,
  contact_fields: Schema.optional(Schema.Array(Schema.String)),
  completed_payments_limit: Schema.optional(Schema.NullOr(Schema.Int))
}

const LinkRef = { link: Schema.String }

export class PaymentLinksApi extends HttpApiGroup.make("payment_links")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: Schema.Struct({ ...linkSettings, slug: OptionalString, from_contact: OptionalString, price: OptionalString }),
      success: Resource.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: { ...page, status: OptionalString }, success: List, error: errors }),
    HttpApiEndpoint.get("show", "/:link", { params: LinkRef, success: Resource, error: errors }),
    HttpApiEndpoint.post("update", "/:link", { params: LinkRef, payload: Schema.Struct(linkSettings), success: Resource, error: errors }),
    HttpApiEndpoint.post("clone", "/:link/clone", { params: LinkRef, payload: Schema.Struct({ name: OptionalString, slug: OptionalString }), success: Resource.pipe(HttpApiSchema.status(201)), error: errors }),
    HttpApiEndpoint.post("off", "/:link/off", { params: LinkRef, success: Resource, error: errors }),
    HttpApiEndpoint.post("on", "/:link/on", { params: LinkRef, success: Resource, error: errors }),
    HttpApiEndpoint.delete("delete", "/:link", { params: LinkRef, success: Resource, error: errors }),
    // What a buyer pays, nothing written: include=2,3 (item numbers from 1), qty=1=3, price=3=10.00 (comma-separated), code=CODE.
    HttpApiEndpoint.get("preview", "/:link/preview", {
      params: LinkRef,
      query: { include: OptionalString, qty: OptionalString, price: OptionalString, code: OptionalString },
      success: Resource,
      error: errors
    })
  )
  .prefix("/v1/payment_links")
{}

const CodeRef = { code: Schema.String }

export class DiscountCodesApi extends HttpApiGroup.make("discount_codes")
  .add(
    HttpApiEndpoint.post("create", "/", {
      payload: Schema.Struct({ code: Schema.String, off: Schema.String, currency: OptionalString, duration: OptionalString, expires_on: OptionalString, max_redemptions: OptionalInt }),
      success: Resource.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: page, success: List, error: errors }),
    HttpApiEndpoint.get("show", "/:code", { params: CodeRef, success: Resource, error: errors }),
    HttpApiEndpoint.post("update", "/:code", {
      params: CodeRef,
      payload: Schema.Struct({ expires_on: Schema.optional(Schema.NullOr(Schema.String)), max_redemptions: Schema.optional(Schema.NullOr(Schema.Int)) }),
      success: Resource,
      error: errors
    }),
    HttpApiEndpoint.post("off", "/:code/off", { params: CodeRef, success: Resource, error: errors }),
    HttpApiEndpoint.post("on", "/:code/on", { params: CodeRef, success: Resource, error: errors }),
    HttpApiEndpoint.delete("delete", "/:code", { params: CodeRef, success: Resource, error: errors })
  )
  .prefix("/v1/discount_codes")
{}

export class WebhookEndpointsApi extends HttpApiGroup.make("webhook_endpoints")
  .add(
    HttpApiEndpoint.post("create", "/", {
      // The same as `billcycle webhooks add --url URL --events invoice.paid,subscription.*`.
      payload: Schema.Struct({ url: Schema.String, events: Schema.Array(Schema.String) }),
      success: Resource.pipe(HttpApiSchema.status(201)),
      error: errors
    }),
    HttpApiEndpoint.get("list", "/", { query: page, success: List, error: errors }),
    HttpApiEndpoint.delete("delete", "/:id", { params: { id: Schema.String }, success: Resource, error: errors })
  )
  .prefix("/v1/webhook_endpoints")
{}

export class ReportsApi extends HttpApiGroup.make("reports")
  .add(
    // `billcycle report NAME --from YYYY-MM --to YYYY-MM [--currency USD] [--details]`: the same rows and columns.
    HttpApiEndpoint.get("show", "/:name", {
      params: { name: Schema.String },
      query: { from: Schema.String, to: Schema.String, currency: OptionalString, details: OptionalString },
      success: Resource,
      error: errors
    })
  )
  .prefix("/v1/reports")
{}

export class Api extends HttpApi.make("billcycle")
  .add(ContactsApi)
  .add(ProductsApi)
  .add(SubscriptionsApi)
  .add(InvoicesApi)
  .add(EventsApi)
  .add(OutboxApi)
  .add(SettingsApi)
  .add(PaymentLinksApi)
  .add(DiscountCodesApi)
  .add(WebhookEndpointsApi)
  .add(ReportsApi)
  // Unknown fields are refused (400), not ignored: a misspelt field must not pass silently.
  .annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error" })
  .annotate(HttpApi.QueryParseOptions, { onExcessProperty: "error" })
  .annotateMerge(OpenApi.annotations({
    title: "billcycle",
    description: "Subscription billing over HTTP. Authorization: Bearer KEY (billcycle api-keys create). Errors are application/problem+json with a stable code, a message and the field at fault.",
    // Every /v1 route needs a key (the guard in server.ts checks it): say so in the document.
    transform: (spec) => {
      const paths = Object.fromEntries(Object.entries(spec["paths"] as Record<string, Record<string, Record<string, unknown>>>).map(([path, ops]) =>
        [path, Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, { ...op, security: [{ bearer: [] }] }]))]))
      const components = spec["components"] as Record<string, unknown>
      return { ...spec, paths, components: { ...components, securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an API key from billcycle api-keys create" } } } }
    }
  }))
{}
