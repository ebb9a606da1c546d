/**
 * The payment gateway: an external system reached between two commits. Every
 * request carries an idempotency key derived from the payment-attempt row; a
 * repeated key returns the first result and never charges twice. A timeout is
 * its own outcome (`Unknown`): it is settled by asking again with the same
 * key, never by charging under a new one.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { declineReasons } from "../domain/index.ts"
import { Database, failpoint } from "../sql/index.ts"
import type { PendingCharge } from "../invoicing/index.ts"
import { chargedReferences, enterInLedger, enterInLedgerAndRead, ledgerEntries, refuseOnce, settleDueBankDebits } from "./simulatedGatewayLedger.ts"

/** The simulated gateway's bank-debit tokens, and how many days a debit stays pending. */
const bankDebit = new Set(["pm_bank_debit", "pm_bank_debit_fail", "pm_bank_ok", "pm_bank_fail"])
/** The bank-debit tokens that settle as paid (CLI.md names them `pm_bank_ok` and `pm_bank_fail`; `pm_bank_debit…` too). */
const bankDebitPays = new Set(["pm_bank_debit", "pm_bank_ok"])

/** Why the simulated gateway declined: no method, a bank debit the bank returned, or a card (its decline codes, domain/paymentMethod.ts). */
const declineReason = (paymentMethod: string) =>
  declineReasons[paymentMethod === "" ? "no_payment_method" : bankDebit.has(paymentMethod) ? "bank_debit_returned" : "card_declined"]
const bankDebitDays = 3
/** The tokens of methods that can pay (pm_declined and any other token cannot). */
const knownTokens = new Set(["pm_ok", "pm_fail_once", "pm_timeout", "pm_rate_limited", "pm_error_once", ...bankDebit])

/**
 * What the gateway is asked: a recorded attempt's key, kind, amount, method and reference (invoicing's `PendingCharge`), and when.
 * `verify`: a check of the method that charges nothing (amount 0): a card authorized and released, a bank mandate accepted.
 */
export interface GatewayRequest extends Omit<PendingCharge, "attemptId" | "invoiceId" | "subscriptionId" | "kind"> {
  readonly kind: PendingCharge["kind"] | "verify"
  /** The business instant of the request (epoch milliseconds; default the real clock): when a bank debit settles is measured on it. */
  readonly at?: number | undefined
}

export type GatewayResult =
  | { readonly _tag: "Succeeded"; readonly gatewayRef: string }
  | { readonly _tag: "Declined"; readonly reason: string }
  | { readonly _tag: "Unknown"; readonly reason: string }
  /** Accepted, not settled yet (a bank debit): asked about again with the same key; never charged again under a new one. */
  | { readonly _tag: "Pending"; readonly reason: string }

export class GatewayUnavailable extends Schema.TaggedError<GatewayUnavailable>()("GatewayUnavailable", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

export class Gateway extends Context.Service<Gateway, {
  /** Sends the requests (a real gateway: concurrently, one call each) and returns one result per request, in order. */
  readonly submit: (requests: ReadonlyArray<GatewayRequest>) => Effect.Effect<Array<GatewayResult>, GatewayUnavailable>
}>()("billcycle/engine/payments/Gateway") {
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
   *   pm_bank_ok (or pm_bank_debit) a bank debit: pending for 3 days (business time, the request's `at`), then succeeded
   *   pm_bank_fail (or pm_bank_debit_fail) a bank debit pending for 3 days, then declined (no funds)
   * A `verify` request (amount 0) passes for each of these and is declined for pm_declined and any other token.
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
            const refs = [...new Set(requests.filter((r) => r.paymentMethod === "pm_fail_once").map((r) => r.reference))]
            const seenRefs = await chargedReferences(sql, refs)
            // A 429 comes before any processing: the request is refused, nothing enters the ledger.
            const refused = await refuseOnce(sql, requests.filter((r) => r.kind === "charge" && r.paymentMethod === "pm_rate_limited").map((r) => r.idempotencyKey))
            const processed = requests.filter((r) => !refused.has(r.idempotencyKey))
            const decide = (r: GatewayRequest): "succeeded" | "declined" | "pending" => {
              if (r.kind === "refund") return "succeeded"
              const token = r.paymentMethod ?? ""
              // pm_declined and any token not of a usable method: declined, a charge or a check.
              if (!knownTokens.has(token)) return "declined"
              // A check charges nothing: every usable method passes (a bank debit's mandate at once; pm_fail_once
              // declines a first charge, not the card).
              if (r.kind === "verify") return "succeeded"
              if (bankDebit.has(token)) return "pending"
              if (token === "pm_fail_once") return seenRefs.has(r.reference) ? "succeeded" : "declined"
              return "succeeded"
            }
            // Within one submission, a pm_fail_once invoice's first request decides for the rest.
            const entries = processed.map((r) => ({
              idempotencyKey: r.idempotencyKey, kind: r.kind, amount: r.amount, currency: r.currency, paymentMethod: r.paymentMethod ?? "",
              outcome: decide(r), reference: "ch_" + r.idempotencyKey, merchantReference: r.reference,
              ...(r.kind === "charge" && bankDebit.has(r.paymentMethod ?? "")
                ? { settlesAt: (r.at ?? Date.now()) + bankDebitDays * 86_400_000, finalOutcome: bankDebitPays.has(r.paymentMethod ?? "") ? "succeeded" as const : "declined" as const }
                : {})
            }))
            const debits = processed.filter((r) => bankDebit.has(r.paymentMethod ?? ""))
            // Without bank debits (which settle between the two), entering and reading back are one statement.
            const { inserted, ledger } = debits.length === 0
              ? await enterInLedgerAndRead(sql, entries, keys)
              : await (async () => {
                const inserted = await enterInLedger(sql, entries)
                // A bank debit asked about on or after its day has settled.
                for (const at of new Set(debits.map((r) => r.at ?? Date.now()))) {
                  await settleDueBankDebits(sql, debits.filter((r) => (r.at ?? Date.now()) === at).map((r) => r.idempotencyKey), at)
                }
                return { inserted, ledger: await ledgerEntries(sql, keys) }
              })()
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
              if (row.outcome === "pending") return { _tag: "Pending", reason: `bank debit pending (settles ${bankDebitDays} days after it was made)` }
              return row.outcome === "succeeded"
                ? { _tag: "Succeeded", gatewayRef: row.reference }
                : { _tag: "Declined", reason: declineReason(row.paymentMethod ?? "") }
            })
          },
          catch: (cause) => new GatewayUnavailable({ message: `gateway unavailable: ${String(cause)}`, cause })
        })
      return { submit }
    })
  )
}
