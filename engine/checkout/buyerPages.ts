/**
 * The use cases of the buyer's pages: open a link (its token checked for
 * signature, purpose and expiry), show what it is for, and pay. Paying is the
 * engine's settlement path: record the attempt and commit
 * (buyerPagesRepository.ts), call the gateway and record its answer
 * (payments/settleNow.ts). A reply lost on the way (`pm_timeout`) leaves the
 * attempt unknown; the page says "processing" and the engine settles it with
 * the same key. The HTTP door (engine/api/pages.ts) only parses and renders.
 */
import { Effect, Schema } from "effect"
import type { BuyerLinkPurpose } from "../billing/index.ts"
import { readBuyerToken } from "../billing/index.ts"
import type { EngineContext } from "../account/index.ts"
import { settleAttemptsNow } from "../payments/index.ts"
import { runSql } from "../sql/index.ts"
import { buyerSecret, doorContext } from "../account/index.ts"
import {
  attemptState, chargeInvoiceFromPage, type ChargeRequestOutcome, type InvoicePayView, loadInvoicePayView, loadPaymentUpdateView, type PaymentUpdateView,
  savePaymentMethodAndCharge
} from "./buyerPagesRepository.ts"

/** A token that is not ours, was altered, or was made for the other page: nothing is said about which. */
export class BuyerLinkInvalid extends Schema.TaggedError<BuyerLinkInvalid>()("BuyerLinkInvalid", {}) {}

/** A genuine link whose last day has passed. */
/** An expired link, with the language and locale of what it was for (its page is in the buyer's words). */
export class BuyerLinkExpired extends Schema.TaggedError<BuyerLinkExpired>()("BuyerLinkExpired", {
  expiresOn: Schema.String, language: Schema.optional(Schema.String), locale: Schema.optional(Schema.String)
}) {}

/** The payment-method field does not hold a token the gateway could take. */
export class InvalidPaymentMethod extends Schema.TaggedError<InvalidPaymentMethod>()("InvalidPaymentMethod", { given: Schema.String }) {}

/** A payment-method token of the gateway (the simulated gateway's `pm_ok`, `pm_declined`, …). */
export const paymentMethodProblem = (token: string): string | undefined =>
  /^pm_[A-Za-z0-9_]{1,60}$/.test(token) ? undefined : "expected a payment method token such as pm_ok"

/** Today and settings, the database failing as a defect (the page answers 500 without details). */
const context = doorContext.pipe(Effect.orDie)
const sqlOrDie = <A>(work: Parameters<typeof runSql<A>>[0]) => runSql(work).pipe(Effect.orDie)

const openLink = Effect.fn("openBuyerLink")(function*(purpose: BuyerLinkPurpose, token: string, ctx: EngineContext) {
  const secret = yield* sqlOrDie(buyerSecret)
  const check = readBuyerToken(secret, token, purpose, ctx.today)
  if (check._tag === "Invalid") return yield* new BuyerLinkInvalid()
  if (check._tag === "Expired") {
    // Said in the language of the subscription or invoice the link was for, as its page would have been.
    const id = check.id
    const view: { readonly language: string; readonly locale: string } | undefined = yield* sqlOrDie((sql): Promise<{ readonly language: string; readonly locale: string } | undefined> =>
      purpose === "update-payment" ? loadPaymentUpdateView(sql, ctx.settings, id) : loadInvoicePayView(sql, ctx.settings, id))
    return yield* new BuyerLinkExpired({ expiresOn: check.expiresOn, ...(view === undefined ? {} : { language: view.language, locale: view.locale }) })
  }
  return check.id
})

/** What the page says after a submit. */
export type PaymentAnswer =
  | { readonly _tag: "Saved" }
  | { readonly _tag: "Paid" }
  | { readonly _tag: "Declined"; readonly reason: string }
  | { readonly _tag: "Processing" }
  | { readonly _tag: "AlreadyPaid" }
  | { readonly _tag: "Closed"; readonly status: string }

const settleAndAnswer = Effect.fn("settleBuyerCharge")(function*(ctx: EngineContext, outcome: ChargeRequestOutcome) {
  switch (outcome._tag) {
    case "NothingDue":
      return { _tag: "Saved" } as PaymentAnswer
    case "AlreadyPaid":
    case "Closed":
      return outcome as PaymentAnswer
    case "AwaitingDebit":
      return { _tag: "Processing" } as PaymentAnswer
    case "Charge": {
      // Claims only an attempt no one else holds: a second tab's submit waits for the first's answer instead of asking again.
      yield* settleAttemptsNow(ctx, [outcome.attemptId]).pipe(Effect.orDie)
      const state = yield* sqlOrDie((sql) => attemptState(sql, outcome.attemptId))
      switch (state.status) {
        case "succeeded":
          return { _tag: "Paid" } as PaymentAnswer
        case "failed":
          return { _tag: "Declined", reason: state.reason ?? "declined" } as PaymentAnswer
        default:
          return { _tag: "Processing" } as PaymentAnswer
      }
    }
  }
})

export const showPaymentUpdatePage = Effect.fn("showPaymentUpdatePage")(function*(token: string) {
  const ctx = yield* context
  const id = yield* openLink("update-payment", token, ctx)
  const view = yield* sqlOrDie((sql) => loadPaymentUpdateView(sql, ctx.settings, id))
  if (view === undefined) return yield* new BuyerLinkInvalid()
  return { view, settings: ctx.settings } as { view: PaymentUpdateView; settings: EngineContext["settings"] }
})

/** `/p/TOKEN` submitted: save the card, and charge the unpaid invoice with it at once. */
export const updatePaymentMethod = Effect.fn("updatePaymentMethod")(function*(token: string, paymentMethod: string) {
  const ctx = yield* context
  const id = yield* openLink("update-payment", token, ctx)
  if (paymentMethodProblem(paymentMethod) !== undefined) return yield* new InvalidPaymentMethod({ given: paymentMethod })
  const outcome = yield* sqlOrDie((sql) => savePaymentMethodAndCharge(sql, ctx, id, paymentMethod))
  return yield* settleAndAnswer(ctx, outcome)
})

export const showInvoicePayPage = Effect.fn("showInvoicePayPage")(function*(token: string) {
  const ctx = yield* context
  const id = yield* openLink("pay-invoice", token, ctx)
  const view = yield* sqlOrDie((sql) => loadInvoicePayView(sql, ctx.settings, id))
  if (view === undefined) return yield* new BuyerLinkInvalid()
  return { view, settings: ctx.settings } as { view: InvoicePayView; settings: EngineContext["settings"] }
})

/** `/i/TOKEN` submitted: charge the open invoice with the method given. */
export const payInvoiceOnline = Effect.fn("payInvoiceOnline")(function*(token: string, paymentMethod: string) {
  const ctx = yield* context
  const id = yield* openLink("pay-invoice", token, ctx)
  if (paymentMethodProblem(paymentMethod) !== undefined) return yield* new InvalidPaymentMethod({ given: paymentMethod })
  const outcome = yield* sqlOrDie((sql) => chargeInvoiceFromPage(sql, ctx, id, paymentMethod))
  return yield* settleAndAnswer(ctx, outcome)
})

/** The secret the page's forms are signed with (CSRF). */
export const pageSecret = sqlOrDie(buyerSecret)
