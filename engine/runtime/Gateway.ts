/**
 * The payment gateway: an external system reached between two commits. Every
 * request carries an idempotency key derived from the payment-attempt row; a
 * repeated key returns the first result and never charges twice. A timeout is
 * its own outcome (`Unknown`): it is settled by asking again with the same
 * key, never by charging under a new one.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Database } from "../store/index.ts"
import { failpoint } from "./failpoint.ts"

export interface GatewayRequest {
  readonly idempotencyKey: string
  readonly kind: "charge" | "refund"
  readonly amount: number
  readonly currency: string
  readonly paymentMethod: string | null
  /** Our reference for the charge (the invoice number). */
  readonly reference: string
}

export type GatewayResult =
  | { readonly _tag: "Succeeded"; readonly gatewayRef: string }
  | { readonly _tag: "Declined"; readonly reason: string }
  | { readonly _tag: "Unknown"; readonly reason: string }

export class GatewayUnavailable extends Schema.TaggedError<GatewayUnavailable>()("GatewayUnavailable", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

export class Gateway extends Context.Service<Gateway, {
  /** Sends the requests (a real gateway: concurrently, one call each) and returns one result per request, in order. */
  readonly submit: (requests: ReadonlyArray<GatewayRequest>) => Effect.Effect<Array<GatewayResult>, GatewayUnavailable>
}>()("billcycle/engine/runtime/Gateway") {
  /**
   * The simulated gateway (CLI.md): it decides by payment-method token and
   * keeps its own ledger, written in its own transaction (autocommit, outside
   * any engine transaction), keyed by idempotency key.
   *   pm_ok        always succeeds
   *   pm_declined  always declined
   *   pm_fail_once the first charge of each invoice is declined, later ones succeed
   *   pm_timeout   the charge happens but the reply is lost (Unknown)
   *   pm_rate_limited the first request with each key is refused with HTTP 429 before anything is
   *                charged; the retry with the same key charges
   *   pm_error_once the first request with each key charges but answers HTTP 500 (a real gateway's
   *                500 leaves the outcome unknown); the retry with the same key gets the charge made
   * A transient answer (429, 5xx) is classified here as `Unknown`: the attempt is asked again with the
   * same idempotency key on the settlement backoff, never charged under a new one, and the subscription
   * is not marked unpaid meanwhile.
   */
  static readonly simulated = Layer.effect(
    Gateway,
    Effect.gen(function*() {
      const { sql } = yield* Database
      const submit = (requests: ReadonlyArray<GatewayRequest>) =>
        Effect.tryPromise({
          try: async (): Promise<Array<GatewayResult>> => {
            if (requests.length === 0) return []
            const keys = requests.map((r) => r.idempotencyKey)
            // Lookups go key by key through the indexes (unnest + join): a plan that scans the growing
            // ledger instead, chosen on stale statistics, made a simulated year twice as slow.
            const refs = [...new Set(requests.filter((r) => r.paymentMethod === "pm_fail_once").map((r) => r.reference))]
            const seenRefs = refs.length === 0
              ? new Set<string>()
              : new Set((await sql<Array<{ merchant_reference: string }>>`
                  select r.ref as merchant_reference from unnest(${refs}::text[]) as r(ref)
                  where exists (select 1 from sim_gateway_ledger l where l.merchant_reference = r.ref and l.kind = 'charge')`).map((r) => r.merchant_reference))
            // A 429 comes before any processing: the request is refused, nothing enters the ledger.
            const limited = requests.filter((r) => r.kind === "charge" && r.paymentMethod === "pm_rate_limited").map((r) => r.idempotencyKey)
            const refused = limited.length === 0
              ? new Set<string>()
              : new Set((await sql<Array<{ idempotency_key: string }>>`
                  insert into sim_gateway_refusals (idempotency_key, http_status) select k, 429 from unnest(${limited}::text[]) as u(k)
                  on conflict (idempotency_key) do nothing returning idempotency_key`).map((r) => r.idempotency_key))
            const processed = requests.filter((r) => !refused.has(r.idempotencyKey))
            const decide = (r: GatewayRequest): "succeeded" | "declined" => {
              if (r.kind === "refund") return "succeeded"
              switch (r.paymentMethod) {
                case "pm_ok":
                case "pm_timeout":
                case "pm_rate_limited":
                case "pm_error_once":
                  return "succeeded"
                case "pm_fail_once":
                  return seenRefs.has(r.reference) ? "succeeded" : "declined"
                default:
                  return "declined"
              }
            }
            // Within one submission, a pm_fail_once invoice's first request decides for the rest.
            const outcomes = processed.map(decide)
            const processedKeys = processed.map((r) => r.idempotencyKey)
            const inserted = new Set((await sql<Array<{ idempotency_key: string }>>`
              insert into sim_gateway_ledger (idempotency_key, kind, amount, currency, payment_method, outcome, reference, merchant_reference)
              select * from unnest(
                ${processedKeys}::text[], ${processed.map((r) => r.kind)}::text[], ${processed.map((r) => r.amount)}::int8[],
                ${processed.map((r) => r.currency)}::text[], ${processed.map((r) => r.paymentMethod ?? "")}::text[],
                ${outcomes}::text[], ${processedKeys.map((k) => "ch_" + k)}::text[], ${processed.map((r) => r.reference)}::text[])
              on conflict (idempotency_key) do nothing
              returning idempotency_key`).map((r) => r.idempotency_key))
            const ledger = new Map((await sql<Array<{ idempotency_key: string; outcome: string; reference: string; payment_method: string }>>`
              select l.idempotency_key, l.outcome, l.reference, l.payment_method
              from unnest(${keys}::text[]) as k(key) join sim_gateway_ledger l on l.idempotency_key = k.key`)
              .map((r) => [r.idempotency_key, r]))
            failpoint("after-gateway-call")
            return requests.map((r): GatewayResult => {
              if (refused.has(r.idempotencyKey)) return { _tag: "Unknown", reason: "gateway HTTP 429 rate limited (nothing charged; asked again with the same key)" }
              const row = ledger.get(r.idempotencyKey)!
              if (inserted.has(r.idempotencyKey) && r.paymentMethod === "pm_error_once" && r.kind === "charge") {
                return { _tag: "Unknown", reason: "gateway HTTP 500 (outcome unknown; asked again with the same key)" }
              }
              // The first call with a pm_timeout token charges, but its reply is lost.
              if (inserted.has(r.idempotencyKey) && r.paymentMethod === "pm_timeout" && r.kind === "charge") {
                return { _tag: "Unknown", reason: "gateway timeout" }
              }
              return row.outcome === "succeeded"
                ? { _tag: "Succeeded", gatewayRef: row.reference }
                : { _tag: "Declined", reason: row.payment_method === "" ? "no payment method on file" : "card declined" }
            })
          },
          catch: (cause) => new GatewayUnavailable({ message: `gateway unavailable: ${String(cause)}`, cause })
        })
      return { submit }
    })
  )
}
