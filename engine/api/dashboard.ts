/**
 * Finance's dashboard over HTTP: `GET /reports?from=YYYY-MM&to=YYYY-MM[&currency=USD]`,
 * the page of `billcycle report dashboard` (reports/htmlReport.ts), built by the
 * same `buildReports` as `GET /v1/reports/:name` from one snapshot of the store,
 * or, when serve keeps an analytics copy (`serve --analytics`, or the embedded
 * database's folder has one), from the copy after refreshing it, as `report` does.
 * Behind an API key (server.ts's guard: Bearer, or HTTP Basic with the key as
 * the password, so that a browser can open it). Self-contained HTML: no
 * script, no outside resource; nothing is cached.
 */
import { Cause, Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { buildReports, buildReportsFromCopy, readReportRequest, revenueDashboardHtml } from "../../reports/index.ts"
import { inJsonFields } from "../domain/index.ts"
import type { Database } from "../sql/index.ts"
import { runSql } from "../sql/index.ts"
import { loadSettings } from "../account/index.ts"

const headers = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store"
}

const text = (status: number, body: string) => HttpServerResponse.text(body + "\n", { status, contentType: "text/plain; charset=utf-8", headers })

/** The dashboard's route, registered on the server's router (server.ts). */
export const dashboardRoutes = (options: { readonly analyticsFile?: string } = {}) => HttpRouter.use((router) =>
  Effect.gen(function*() {
    const services = yield* Effect.context<Database>()
    yield* router.add("GET", "/reports", (req) =>
      Effect.gen(function*() {
        const query = new URL(req.url, "http://reports").searchParams
        const currency = query.get("currency") ?? (yield* runSql(loadSettings)).currency
        const request = readReportRequest({ kind: "mrr", from: query.get("from") ?? "", to: query.get("to") ?? "", currency, details: false })
        // The CLI's wording, naming the query parameter instead of the flag.
        if ("problem" in request) return text(400, inJsonFields(request.problem))
        const file = options.analyticsFile
        // With a copy: refreshed, then read (held by another process past 2 s: the store is loaded into memory instead).
        const set = file === undefined
          ? yield* runSql((sql) => buildReports(sql, request))
          : (yield* runSql((sql) => buildReportsFromCopy(sql, request, { file, waitMs: 2_000 }))).set
        const page = revenueDashboardHtml({ currency: request.currency, from: request.from, to: request.to, reports: set, unconverted: set.unconverted })
        return HttpServerResponse.text(page, { status: 200, contentType: "text/html; charset=utf-8", headers })
      }).pipe(
        // The cause stays in the server's log; the client is told nothing of the server's insides.
        Effect.catchCause((cause) => Effect.logError("dashboard failed", Cause.pretty(cause)).pipe(Effect.as(text(500, "the server failed to build the dashboard")))),
        Effect.provideContext(services)
      ))
  })
)
