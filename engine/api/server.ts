/**
 * `billcycle serve`'s HTTP server: the API's routes (Api.ts, handlers.ts),
 * /openapi.json and /docs, behind one guard that every /v1 request passes:
 * body size (413 over 1 MB), the API key (401, 403 for a write with a
 * read-only key), Idempotency-Key on POST, and errors as problem+json.
 */
// The module itself, not the package index: the index also loads its Redis and WebSocket clients (~700 modules) on every start.
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ByteSize, Cause, Context, Effect, Layer } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApi, HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { createHash } from "node:crypto"
import { createServer } from "node:http"
import type { Sql } from "../sql/index.ts"
import type { ApiKeyRow, StoredAnswer } from "../account/index.ts"
import { CurrentJournalSource, CurrentTransaction, Database, failpoint } from "../sql/index.ts"
import { Account, answerOnce, findApiKey, ServerContext } from "../account/index.ts"
import { purchaseBatcher } from "./purchaseBatch.ts"
import { Invoices, Outbox } from "../invoicing/index.ts"
import { Api, problemContentType, problemTitles } from "./Api.ts"
import { CurrentApiKey, handlersLayer, journalSourceOf } from "./handlers.ts"
import { buyerPageRoutes } from "./pages.ts"
import { dashboardRoutes } from "./dashboard.ts"
import { Gateway } from "../payments/index.ts"
import { Contacts, Products } from "../catalogue/index.ts"
import { Subscriptions } from "../subscriptions/index.ts"
import { DiscountCodes, PaymentLinks } from "../checkout/index.ts"

export const maxBodyBytes = 1024 * 1024

const problemJson = problemContentType
const titles = problemTitles

/** A problem the guard answers itself, in the shape of the API's errors (Api.ts). */
const problem = (status: number, code: string, message: string, field?: string, headers?: Record<string, string>) =>
  HttpServerResponse.text(JSON.stringify({ type: "about:blank", status, title: titles[status] ?? "Error", code, message, ...(field === undefined ? {} : { field }) }), {
    status, contentType: problemJson, ...(headers === undefined ? {} : { headers })
  })

/** Each route's path (`:id` a segment) and its methods, read from the API's definition (Api.ts): the one list of routes. */
const routeMethods: ReadonlyArray<{ readonly pattern: RegExp; readonly methods: Set<string> }> = (() => {
  const byPath = new Map<string, Set<string>>()
  HttpApi.reflect(Api, {
    onGroup() {},
    onEndpoint({ endpoint }) {
      const methods = byPath.get(endpoint.path) ?? new Set<string>()
      methods.add(endpoint.method)
      byPath.set(endpoint.path, methods)
    }
  })
  return [...byPath].map(([path, methods]) => ({
    pattern: new RegExp(`^${path.split("/").map((s) => (s.startsWith(":") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("/")}/?$`),
    methods
  }))
})()

/**
 * The methods a path of the API takes (sorted, as `Allow` lists them), or undefined when no route has that path:
 * its routes' methods, HEAD wherever GET is (the server answers it as GET without the body), and OPTIONS, which
 * answers with this list (RFC 9110 §9.3.7).
 */
export const allowedMethods = (path: string): ReadonlyArray<string> | undefined => {
  const methods = new Set<string>()
  for (const route of routeMethods) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m)
  if (methods.size === 0) return undefined
  if (methods.has("GET")) methods.add("HEAD")
  methods.add("OPTIONS")
  return [...methods].sort()
}

const decoder = new TextDecoder()
/** A response's body as text: a text body keeps its string (reading `.body` would encode it, to be decoded again). */
const bodyText = (r: HttpServerResponse.HttpServerResponse) => (r.body._tag === "Uint8Array" ? r.body.text ?? decoder.decode(r.body.body) : "")

/** A body not sent as JSON: the header to send. */
const notJson = () => problem(415, "unsupported_media_type", "send the body as JSON, with the header Content-Type: application/json", "content-type")

/** The request as its route reads it, with `body` for its text (the rest is the request's own). */
const withBody = (req: HttpServerRequest.HttpServerRequest, body: string): HttpServerRequest.HttpServerRequest =>
  Object.create(req, { text: { value: Effect.succeed(body) } }) as HttpServerRequest.HttpServerRequest

/**
 * Every error leaves as problem+json: our own (InvalidRequest, NotFound,
 * Conflict carry `code`, `message`, `field`) and the framework's (a body
 * that does not decode, an unknown route), whose text is kept short and never
 * carries a stack.
 */
const asProblem = (r: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (r.status < 400 || r.headers["content-type"] === problemJson) return r
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(bodyText(r)) as Record<string, unknown>
  } catch {
    body = {}
  }
  if (typeof body["code"] === "string" && typeof body["message"] === "string") {
    return problem(r.status, body["code"], body["message"], typeof body["field"] === "string" ? body["field"] : undefined)
  }
  if (r.status === 400) {
    const detail = typeof body["message"] === "string" ? body["message"].split("\n").slice(0, 4).join(" ").slice(0, 500) : "the request does not match the API"
    const field = /\["([a-z_]+)"\]/.exec(detail)?.[1]
    return problem(400, "invalid_request", detail, field)
  }
  if (r.status >= 500) return problem(r.status, "internal_error", "the server failed to answer; nothing was reported to the client")
  if (r.status === 415) return notJson()
  return problem(r.status, r.status === 404 ? "not_found" : "error", titles[r.status] ?? "error")
}

/**
 * A request that failed instead of answering: a body that does not match the
 * API (the framework's HttpApiSchemaError) is the client's 400, naming the
 * field; anything else is a 500 that tells nothing of the server's insides.
 */
const answerFailure = (cause: Cause.Cause<unknown>) => {
  for (const reason of cause.reasons) {
    const failure = reason._tag === "Die" ? reason.defect : reason._tag === "Fail" ? reason.error : undefined
    // No route for this method and path: the client's mistake (a typo, PATCH where the API takes POST), not the server's.
    // A path the API has, asked with a method it does not take, is 405 with the methods it takes (RFC 9110 §15.5.6).
    const notFound = routeNotFound(failure)
    if (notFound !== undefined) {
      const allowed = allowedMethods(notFound.path)
      if (allowed !== undefined) {
        const allow = allowed.join(", ")
        if (notFound.method === "OPTIONS") return Effect.succeed(HttpServerResponse.empty({ status: 204, headers: { allow } }))
        return Effect.succeed(problem(405, "method_not_allowed", `${notFound.method} is not a method of ${notFound.path}: it takes ${allow} (/openapi.json lists each route and its method)`, undefined, { allow }))
      }
      return Effect.succeed(problem(404, "not_found", `no ${notFound.method} ${notFound.path} in this API: /openapi.json lists each route and its method`))
    }
    // A response that does not encode ("Body", "ResponseHeaders") is the server's fault, not the client's.
    const kind = (failure as { kind?: string } | undefined)?.kind
    if (typeof failure === "object" && failure !== null && (failure as { _tag?: string })._tag === "HttpApiSchemaError" && kind !== "Body" && kind !== "ResponseHeaders") {
      const detail = String((failure as { cause?: unknown }).cause ?? "the request does not match the API").split("\n").map((l) => l.trim()).join(" ").slice(0, 500)
      const plain = schemaProblem((failure as { kind?: string }).kind ?? "request", detail)
      return Effect.succeed(problem(400, "invalid_request", plain.message, plain.field))
    }
  }
  return Effect.succeed(problem(500, "internal_error", "the server failed to answer; nothing was reported to the client"))
}

/** The method and path of a request no route answers (the router's RouteNotFound, bare or inside an HttpServerError). */
const routeNotFound = (failure: unknown): { readonly method: string; readonly path: string } | undefined => {
  const inner = (f: unknown): unknown => (typeof f === "object" && f !== null && (f as { _tag?: string })._tag === "HttpServerError" ? (f as { reason?: unknown }).reason : f)
  const found = inner(failure) as { _tag?: string; request?: { method?: string; url?: string } } | undefined
  if (typeof found !== "object" || found === null || found._tag !== "RouteNotFound") return undefined
  return { method: found.request?.method ?? "GET", path: (found.request?.url ?? "").split("?")[0] ?? "" }
}

/** Why text with U+0000 is refused where it comes in (body, path, query): PostgreSQL's text cannot hold it. */
const nulProblem = "text cannot hold the NUL character (U+0000)"

/**
 * The first string of a JSON body holding U+0000, by its path as a message names it (`name`, `items[1]`):
 * PostgreSQL's text cannot hold that character, and the store refused it as a failure of the server (500).
 */
const nulTextAt = (value: unknown, path = ""): string | undefined => {
  if (typeof value === "string") return value.includes("\u0000") ? path : undefined
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = nulTextAt(v, `${path}[${i}]`)
      if (at !== undefined) return at
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const at = nulTextAt(v, path === "" ? k : `${path}.${k}`)
      if (at !== undefined) return at
    }
  }
  return undefined
}

/** An article for a schema's type name: "an array", "a string". */
const aType = (type: string) => `${/^[aeiou]/i.test(type) ? "an" : "a"} ${type.toLowerCase()}`

/**
 * The schema library's words for a request that does not match the API (`SchemaError(Expected no excess property
 * at ["colour"])`), in the client's: what is wrong, naming the field (`body: unknown field "colour"`, `email:
 * required`, `items: expected an array`). Anything else keeps the library's text.
 */
export const schemaProblem = (kind: string, detail: string): { readonly message: string; readonly field: string | undefined } => {
  const inner = /^SchemaError\((.*)\)$/.exec(detail)?.[1] ?? detail
  const path = [...(/ at ((?:\[[^\]]+\])+)\s*$/.exec(inner)?.[1] ?? "").matchAll(/\[("([^"]+)"|\d+)\]/g)].map((m) => m[2] ?? m[1]!)
  const where = kind === "Payload" ? "body" : kind.toLowerCase()
  const named = path.map((p, i) => (i === 0 ? p : /^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")
  // The field at fault as the message names it: the element of an array (`items[1]`), not the array.
  const field = path.length === 0 ? undefined : named
  if (field !== undefined && /^Expected no excess property/.test(inner)) {
    return { message: `${where}: unknown ${kind === "Query" ? "parameter" : "field"} "${named}"`, field }
  }
  if (field !== undefined && /^Missing key/.test(inner)) return { message: `${named}: required`, field }
  // "Expected string | null", "Expected an integer": each type in the client's words, "a string or null".
  const expected = /^Expected ((?:a |an )?\w+(?: \| \w+)*)(?:, got (.*?))? at \[/.exec(inner)
  if (field !== undefined && expected !== null) {
    // Each type once: an optional field that also takes null is described as `number | null | null`.
    const types = [...new Set(expected[1]!.split(" | ").map((t) => (/^(a|an) /.test(t) ? t : t === "null" ? "null" : aType(t))))].join(" or ")
    return { message: `${named}: expected ${types}${expected[2] === undefined ? "" : `, got ${expected[2]}`}`, field }
  }
  return { message: `${where}: ${inner}`, field }
}

/**
 * What makes two requests under one Idempotency-Key the same (Stripe compares the parameters): the method, the URL and
 * the body's JSON value, its objects' keys sorted and no whitespace, so a retry that serializes the same object
 * otherwise (another library, another process) replays; the order of an array's elements still counts.
 */
const canonicalJson = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonicalJson).join(",")}]`
    : value !== null && typeof value === "object"
    ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`
    : JSON.stringify(value)

const requestHash = (method: string, url: string, body: unknown) => createHash("sha256").update(`${method} ${url}\n${body === undefined ? "" : canonicalJson(body)}`).digest("hex")

/**
 * Live API keys by bearer token, each remembered for at most `apiKeyTtlMs`:
 * a key revoked (by `billcycle api-keys revoke`, any process) is refused
 * within that time, and a busy server does not ask the database for the key
 * on every request. Unknown tokens are not remembered (always asked).
 */
export const apiKeyTtlMs = 1000

const apiKeyCache = (sql: Sql) => {
  const known = new Map<string, { readonly key: ApiKeyRow; readonly until: number }>()
  return {
    /** The key remembered for the token, when it is (no wait: most requests of a busy server). */
    remembered: (token: string): ApiKeyRow | undefined => {
      const hit = known.get(token)
      return hit !== undefined && hit.until > Date.now() ? hit.key : undefined
    },
    find: async (token: string): Promise<ApiKeyRow | undefined> => {
      const now = Date.now()
      const hit = known.get(token)
      if (hit !== undefined && hit.until > now) return hit.key
      const key = await findApiKey(sql, token)
      if (key === undefined) known.delete(token)
      else {
        if (known.size > 1000) known.clear()
        known.set(token, { key, until: now + apiKeyTtlMs })
      }
      return key
    }
  }
}

/**
 * The API key a request carries: `Authorization: Bearer KEY`; for the
 * dashboard (`basic`) also HTTP Basic with the key as the password (any user
 * name), which is what a browser sends after a 401 with `WWW-Authenticate: Basic`.
 */
export const apiKeyOf = (authorization: string, options: { readonly basic: boolean }): string | undefined => {
  // The scheme's name is case-insensitive (RFC 9110 §11.1): clients send "bearer" too.
  const bearer = /^Bearer +(\S+) *$/i.exec(authorization)?.[1]
  if (bearer !== undefined || !options.basic) return bearer
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization)?.[1]
  if (basic === undefined) return undefined
  const decoded = Buffer.from(basic, "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  const password = colon < 0 ? "" : decoded.slice(colon + 1)
  return password === "" ? undefined : password
}

/** The dashboard's realm: a browser asks for the key (as the password) and remembers it for the site. */
const dashboardRealm = 'Basic realm="billcycle reports", charset="UTF-8"'

/** Batches of purchases answered at once on a server's pool (purchaseBatch.ts); each holds a connection of its ten. */
const purchaseBatchesInFlight = 3

/** The guard of every request (a global middleware: it sees the routes' responses). */
const guard = HttpRouter.middleware(
  Effect.gen(function*() {
    const db = yield* Database
    const keys = apiKeyCache(db.sql)
    // On a server's pool, purchases with an Idempotency-Key arriving together are answered together (purchaseBatch.ts).
    const purchases = db.concurrent
      ? purchaseBatcher<StoredAnswer & { readonly response: HttpServerResponse.HttpServerResponse }>(db.sql, { inFlight: purchaseBatchesInFlight, size: 32, beforeCommit: () => failpoint("api-before-idempotent-commit") })
      : undefined
    return (app: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>) => {
      /**
       * The route as a key serves it: with the key, the journal's source of its events (`api:<key name>`) and the
       * body limit, each error a problem. Built once per remembered key row, not per request: a request's own work is
       * the route's.
       */
      const servedBy = new WeakMap<ApiKeyRow, Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>>()
      const servedAs = (key: ApiKeyRow) => {
        let served = servedBy.get(key)
        if (served === undefined) {
          const source = journalSourceOf(key)
          const bodyLimit = ByteSize.bytes(maxBodyBytes)
          // Added to the request's context in one step (each an overlay: the request's services are not copied).
          const services = Context.add(CurrentApiKey, key)
          served = app.pipe(
            Effect.updateContext((request: Context.Context<HttpServerRequest.HttpServerRequest>) =>
              request.pipe(services, Context.add(CurrentJournalSource, source), Context.add(HttpIncomingMessage.MaxBodySize, bodyLimit))),
            Effect.matchCauseEffect({ onSuccess: (r) => Effect.succeed(asProblem(r)), onFailure: answerFailure })
          )
          servedBy.set(key, served)
        }
        return served
      }
      return Effect.gen(function*() {
        const req = yield* HttpServerRequest.HttpServerRequest
        const url = req.url
        const query = url.indexOf("?")
        const path = query < 0 ? url : url.slice(0, query)
        if (path === "/reports") {
          // The dashboard reads only: any live key opens it, read-only keys included.
          const token = apiKeyOf(req.headers["authorization"] ?? "", { basic: true })
          const key = token === undefined ? undefined : yield* Effect.promise(() => keys.find(token))
          if (key === undefined) {
            return HttpServerResponse.text(`${token === undefined ? "an API key is needed: Authorization: Bearer KEY, or the key as the password of HTTP Basic (billcycle api-keys create --name NAME)" : "the API key is unknown or revoked"}\n`, {
              status: 401, contentType: "text/plain; charset=utf-8", headers: { "www-authenticate": dashboardRealm, "cache-control": "no-store" }
            })
          }
          return yield* app.pipe(Effect.provideService(CurrentApiKey, key))
        }
        if (!path.startsWith("/v1/") && path !== "/v1") return yield* app
        const length = Number(req.headers["content-length"] ?? 0)
        if (length > maxBodyBytes) return problem(413, "body_too_large", `the request body is ${length} bytes; at most ${maxBodyBytes}`)
        const token = apiKeyOf(req.headers["authorization"] ?? "", { basic: false })
        if (token === undefined) return problem(401, "unauthorized", "Authorization: Bearer KEY is missing (billcycle api-keys create --name NAME)")
        const key = keys.remembered(token) ?? (yield* Effect.promise(() => keys.find(token)))
        if (key === undefined) return problem(401, "unauthorized", "the API key is unknown or revoked")
        // A NUL reaches the URL only as %00: named where it came (the path, or the query parameter), as in a body.
        if (url.includes("%00")) {
          const inPath = path.includes("%00")
          const param = inPath ? undefined : [...new URLSearchParams(url.slice(query + 1))].find(([k, v]) => (k + v).includes("\u0000"))?.[0]
          return problem(400, "invalid_request", `${inPath ? "path" : param ?? "query"}: ${nulProblem}`, param)
        }
        const write = req.method !== "GET" && req.method !== "HEAD"
        if (!write) return yield* servedAs(key)
        if (key.read_only) return problem(403, "read_only_key", `the API key "${key.name}" is read-only`)
        // The body is read once here (the request keeps it for the handler): malformed JSON is a 400, not a failure of the server.
        const body = yield* req.text.pipe(Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes)), Effect.option)
        if (body._tag === "None") return problem(413, "body_too_large", `the request body is over ${maxBodyBytes} bytes`)
        const text = body.value
        let parsed: unknown = undefined
        if (text.trim() !== "") {
          // A body sent as another type (`curl -d 'a=b'` sends a form) is refused for its type, as the routes would,
          // before it is read as JSON: it was a 400 "not valid JSON" that did not say which header was wrong.
          const type = (req.headers["content-type"] ?? "application/json").split(";")[0]!.trim().toLowerCase()
          if (type !== "application/json") return notJson()
          try {
            parsed = JSON.parse(text)
          } catch {
            return problem(400, "malformed_json", "the request body is not valid JSON")
          }
          const nul = nulTextAt(parsed)
          if (nul !== undefined) return problem(400, "invalid_request", `${nul === "" ? "body" : nul}: ${nulProblem}`, nul === "" ? undefined : nul)
        }
        // A POST sent with no body (`curl -X POST …/cancel`) is read as {}: a route whose fields are all optional takes it
        // (cancel, pause, pay the rest, clone) and one that needs a field names it (`email: required`); it was a 400
        // "body: Expected object" naming no field.
        const served = parsed === undefined && req.method === "POST" ? servedAs(key).pipe(Effect.provideService(HttpServerRequest.HttpServerRequest, withBody(req, "{}"))) : servedAs(key)
        const idempotencyKey = req.headers["idempotency-key"]
        if (req.method !== "POST" || idempotencyKey === undefined) return yield* served
        if (idempotencyKey.length === 0 || idempotencyKey.length > 255) return problem(400, "invalid_idempotency_key", "Idempotency-Key: 1 to 255 characters", "Idempotency-Key")
        // The request runs inside the transaction that stores its answer (account/idempotencyKeys.ts):
        // its use cases reach the database through CurrentTransaction, so the change and the
        // answer commit together or not at all. A 500 is not kept: nothing happened, a retry may run it.
        const services = yield* Effect.context<HttpServerRequest.HttpServerRequest>()
        const runIn = async (tx: Sql, signal?: AbortSignal) => {
          const response = await Effect.runPromiseWith(services)(served.pipe(Effect.provideService(CurrentTransaction, tx)), signal === undefined ? undefined : { signal })
          return { answer: { status: response.status, body: bodyText(response), response }, keep: response.status < 500 }
        }
        const hash = requestHash(req.method, req.url, parsed)
        const outcome = yield* Effect.tryPromise({
          try: (signal) =>
            purchases !== undefined && path === "/v1/subscriptions"
              ? purchases.answer(key.id, { key: idempotencyKey, requestHash: hash, run: (tx) => runIn(tx) })
              : answerOnce(db.sql, { apiKeyId: key.id, key: idempotencyKey, requestHash: hash }, (tx) => runIn(tx, signal), () => failpoint("api-before-idempotent-commit"), { pipelined: db.concurrent }),
          catch: (cause) => cause
        }).pipe(Effect.catchCause(() => Effect.succeed(undefined)))
        if (outcome === undefined) return problem(500, "internal_error", "the server failed to answer; nothing was reported to the client")
        switch (outcome._tag) {
          case "Replay":
            return HttpServerResponse.text(outcome.body, {
              status: outcome.status,
              contentType: outcome.status >= 400 ? problemJson : "application/json",
              headers: { "idempotent-replayed": "true" }
            })
          case "Mismatch":
            return problem(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request", "Idempotency-Key")
          case "InProgress":
            return problem(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still running; retry later", "Idempotency-Key")
          case "Answered":
            if (outcome.kept) failpoint("api-after-idempotent-commit")
            return outcome.answer.response
        }
      })
    }
  }),
  { global: true }
)

/** The use cases the handlers call, each a service over the Database: composed once, here, for the server. */
export const apiUseCases = Layer.mergeAll(Subscriptions.layer, Contacts.layer, Products.layer, Invoices.layer, Outbox.layer, Account.layer, PaymentLinks.layer, DiscountCodes.layer)

/**
 * The routes of `billcycle serve`: /v1 (guarded), /openapi.json and /docs (Scalar, its script inlined: works offline),
 * the buyer's pages /p/TOKEN and /i/TOKEN (pages.ts, HTML; the guard lets them by), and finance's dashboard
 * /reports (dashboard.ts, HTML; the guard asks for an API key, Bearer or HTTP Basic).
 */
export const apiRoutes = (options: { readonly analyticsFile?: string } = {}) => Layer.mergeAll(
  HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(Layer.provide(handlersLayer)),
  HttpApiScalar.layer(Api, { path: "/docs" }),
  buyerPageRoutes.pipe(Layer.provide(Gateway.simulated)),
  dashboardRoutes(options),
  guard
)

/** The server on `host:port` (port 0: any free port), needing the Database and the BusinessClock; /reports reads `analyticsFile` when given. */
export const apiServer = (options: { readonly port: number; readonly host: string; readonly analyticsFile?: string }) =>
  HttpRouter.serve(apiRoutes({ analyticsFile: options.analyticsFile }), { disableLogger: true, disableListenLog: true }).pipe(
    // The context of now is the server's own (its settings remembered, handlers.ts): built with it, once.
    Layer.provide(Layer.mergeAll(apiUseCases, ServerContext.layer)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host }))
  )
