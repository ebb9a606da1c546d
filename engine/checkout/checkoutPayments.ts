/**
 * Paying a checkout session (issue #17, "Paying"): one idempotent step keyed
 * by the session. The attempt is recorded and committed (with what was
 * bought, frozen), the gateway is called with the attempt's key, and its
 * answer is recorded; a success completes the purchase in the same
 * transaction: the contact found by email (left as it is) or created, the
 * subscriptions planned by `planPurchase` (the same as `subscriptions
 * create`) with the buyer's payment method on each, their first invoices
 * paid by this charge (receipt and admin notification queued), the link's
 * completed payments counted, and one `checkout.completed` event per
 * subscription. A discount code's redemption is taken when the attempt is
 * recorded (none left: nothing is charged, the page shows the amount without
 * it), kept while the payment is pending and when it succeeds, given back
 * when it is declined. A declined card leaves the session open; a lost reply
 * leaves the attempt unknown, and the engine asks again with the same key
 * (`settleCheckoutAttempts`, engine/runtime/Engine.ts). A reload, a double
 * click or a second tab finds the first attempt: one charge, one set of
 * subscriptions.
 */
import { Effect } from "effect"
import { planOneTimeOrder, planPurchase, toDayNumber } from "../billing/index.ts"
import type { PaymentType } from "../domain/index.ts"
import { emailAddressPattern, isCountryCode } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import { BusinessClock, makeEngineContext } from "../account/index.ts"
import type { GatewayResult } from "../payments/index.ts"
import { Gateway } from "../payments/index.ts"
import type { DatabaseService, Sql, TransactionSql } from "../sql/index.ts"
import type { PaidAtCheckout } from "../invoicing/index.ts"
import { awaitByCommit, Database, groupCommit, holdJournal, runSql, transactionOn, writeJournal, writtenJournal } from "../sql/index.ts"
import { addressJson, lockContactEmails } from "../catalogue/index.ts"
import { billDue, failInvoicesAtCheckout, invoiceOneTimeAtCheckout, payInvoicesAtCheckout } from "../invoicing/index.ts"
import { closeOneTimeOrder, insertPlannedSubscriptions } from "../subscriptions/index.ts"
import { paymentMethodProblem } from "./buyerPages.ts"
import {
  type Buyer, type BuyerAddress, type CheckoutAttempt, type CheckoutPurchase, type CheckoutState, checkoutState, claimUnsettledCheckoutAttempts, contactForBuyer,
  type LockedSession, lockUnsettledAttempt, markAttemptFailed, markAttemptPending, markAttemptSucceeded, markAttemptUnknown, markSessionCompleted, recordAttemptInvoices,
  recordCheckoutAttempt
} from "./checkoutPaymentsRepository.ts"
import { type CheckoutForm, type CheckoutView, codeRefusal, showCheckout } from "./checkoutSessions.ts"
import { discountCodeUsable, discountCodeUsedUp } from "./linkRules.ts"
import { linkSummary } from "./linkSummary.ts"
import { countCompletedPayment, redeemDiscountCode, releaseDiscountCodeRedemption } from "./repository.ts"

/** The checkout form as submitted to pay: the choices, the buyer, the payment method. */
export interface PayForm extends CheckoutForm {
  readonly buyer: Buyer
  readonly paymentMethod: string
}

/** A field of the form the buyer must fix; `field` is the form field's name. */
export interface BuyerProblem {
  readonly field: string
  readonly problem: "required" | "email" | "paymentMethod" | "paymentType" | "tooLong" | "country"
}

export type PayAnswer =
  | { readonly _tag: "Completed" }
  | { readonly _tag: "Processing" }
  | { readonly _tag: "Declined"; readonly reason: string; readonly view: CheckoutView }
  | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<BuyerProblem>; readonly view: CheckoutView }
  | { readonly _tag: "Refused"; readonly view: CheckoutView }
  | { readonly _tag: "LinkOff"; readonly view: CheckoutView }

const sqlOrDie = <A>(work: Parameters<typeof runSql<A>>[0]) => runSql(work).pipe(Effect.orDie)

const addressProblems = (prefix: string, a: BuyerAddress | undefined): Array<BuyerProblem> => {
  if (a === undefined) return [{ field: `${prefix}_line1`, problem: "required" }]
  const out: Array<BuyerProblem> = []
  for (const [part, value] of [["line1", a.line1], ["postal_code", a.postalCode], ["city", a.city]] as const) {
    if (value.trim() === "") out.push({ field: `${prefix}_${part}`, problem: "required" })
    else if (value.length > 200) out.push({ field: `${prefix}_${part}`, problem: "tooLong" })
  }
  if (!isCountryCode(a.country.trim())) out.push({ field: `${prefix}_country`, problem: "country" })
  return out
}

/** What the buyer must fix before paying: email, name, the link's required fields, its addresses, the payment method. */
export const buyerProblems = (view: CheckoutView, form: PayForm): Array<BuyerProblem> => {
  const link = view.session.link
  const b = form.buyer
  const out: Array<BuyerProblem> = []
  if (b.email.trim() === "") out.push({ field: "email", problem: "required" })
  else if (!emailAddressPattern.test(b.email.trim()) || b.email.length > 254) out.push({ field: "email", problem: "email" })
  if (b.name.trim() === "") out.push({ field: "name", problem: "required" })
  else if (b.name.length > 200) out.push({ field: "name", problem: "tooLong" })
  link.contactFields.forEach((f, i) => {
    const value = b.fields[i]?.value ?? ""
    if (f.required && value.trim() === "") out.push({ field: `field_${i}`, problem: "required" })
    else if (value.length > 500) out.push({ field: `field_${i}`, problem: "tooLong" })
  })
  if (link.collectBillingAddress) out.push(...addressProblems("billing", b.billingAddress))
  if (link.collectShippingAddress) out.push(...addressProblems("shipping", b.shippingAddress))
  if (paymentMethodProblem(form.paymentMethod) !== undefined) out.push({ field: "payment_method", problem: "paymentMethod" })
  else if (!paymentTypesOf(form.paymentMethod).some((t) => link.paymentTypes.includes(t))) out.push({ field: "payment_method", problem: "paymentType" })
  return out
}

/**
 * The kinds of payment a token can be, of which a link must take one: the simulated gateway's bank-debit tokens
 * (`pm_bank_…`) are a bank debit; any other is a card, which it does not tell credit from debit, so it pays a link
 * that takes cards or debit cards.
 */
const paymentTypesOf = (token: string): ReadonlyArray<PaymentType> => (token.startsWith("pm_bank_") ? ["bank-debit"] : ["card", "debit-card"])

/** The session's page state: completed, a payment in flight, or open (with the last failure). */
export const checkoutProgress = (id: string) => sqlOrDie((sql) => checkoutState(sql, id))

/**
 * Pays a session with the buyer's form: validated (choices by the links room, the buyer here),
 * recorded, charged, settled. Never charges twice for one session. `read`: the view of the form's
 * choices and the session's state its page read for this request (engine/api/pages.ts), not read again.
 */
export const payCheckout = Effect.fn("payCheckout")(function*(id: string, form: PayForm, read?: { readonly view: CheckoutView; readonly state: CheckoutState }) {
  const now = yield* (yield* BusinessClock).now
  const view = read?.view ?? (yield* showCheckout(id, form))
  // The settings and day the view was read with: read once per request.
  const ctx = makeEngineContext(view.settings, view.today)
  if (view.refusal !== undefined) return { _tag: "Refused", view } as PayAnswer
  const problems = buyerProblems(view, form)
  if (problems.length > 0) {
    // A reload of a paid (or paying) session's form says so rather than what its fields lack; recording checks this again under the lock.
    const state = read?.state ?? (yield* checkoutProgress(id))
    if (state.completedOn !== undefined) return { _tag: "Completed" } as PayAnswer
    if (state.inFlight) return { _tag: "Processing" } as PayAnswer
    return { _tag: "Invalid", problems, view } as PayAnswer
  }
  const b = form.buyer
  const trimmed = (a: BuyerAddress | undefined) =>
    a === undefined ? undefined : { line1: a.line1.trim(), postalCode: a.postalCode.trim(), city: a.city.trim(), country: a.country.trim().toUpperCase() }
  const purchase: CheckoutPurchase = {
    submittedOn: ctx.today,
    items: [...form.items.entries()],
    discountCode: view.discountCode,
    buyer: {
      email: b.email.trim(), name: b.name.trim(), fields: b.fields.map((f) => ({ label: f.label, value: f.value.trim() })),
      billingAddress: view.session.link.collectBillingAddress ? trimmed(b.billingAddress) : undefined,
      shippingAddress: view.session.link.collectShippingAddress ? trimmed(b.shippingAddress) : undefined
    }
  }
  const db = yield* Database
  // On a server, pipelined: its BEGIN goes with the session's lock, its COMMIT with the attempt's insert.
  const recorded = yield* sqlOrDie((sql) =>
    recordCheckoutAttempt(sql, view.session, { amount: view.summary.dueToday.amount, paymentMethod: form.paymentMethod.trim(), purchase, lease: now + 120_000 },
      pipelinedOn(db, sql)))
  switch (recorded._tag) {
    case "Completed":
      return { _tag: "Completed" } as PayAnswer
    case "InFlight":
      return { _tag: "Processing" } as PayAnswer
    case "LinkOff":
      return { _tag: "LinkOff", view } as PayAnswer
    case "CodeUsedUp": {
      // Nothing was recorded or charged: the page comes back with what is due without the code, and why.
      const code = recorded.code
      const link = view.session.link
      const refusal = codeRefusal(form.discountCode.trim(), code, code === undefined ? undefined : discountCodeUsable(code, link, ctx.today) ?? discountCodeUsedUp(code))
      const summary = linkSummary(link, { items: form.items }, ctx.today)
      return { _tag: "Refused", view: { ...view, summary, discountCode: undefined, refusal } } as PayAnswer
    }
  }
  const [answer] = yield* settleCheckoutAttempts({ ...ctx, now }, [recorded.attempt], true)
  if (answer!._tag === "Declined") return { _tag: "Declined", reason: answer!.reason, view } as PayAnswer
  return answer as PayAnswer
})

/**
 * What a gateway answer recorded for the engine's summary (TickSummary): a charge that succeeded or was declined,
 * and a first answer that left it unsettled (a lost reply, a bank debit not settled yet). Asking again about an
 * unsettled one, or finding it settled by someone else, counts nothing.
 */
type Counted = "succeeded" | "declined" | "unknown" | "pending" | undefined

type Settled = ({ readonly _tag: "Completed" } | { readonly _tag: "Processing" } | { readonly _tag: "Declined"; readonly reason: string }) & { readonly counted?: Counted }

/**
 * Asks the gateway about recorded attempts (a first call, or again with the same key) and records
 * each answer in its own transaction. An unreachable gateway leaves them unknown. `together`: a buyer's
 * pay request on a server's pool, whose answer is recorded with those of the buyers paying at the same
 * time (`settleBatcherOf`).
 */
export const settleCheckoutAttempts = Effect.fn("settleCheckoutAttempts")(function*(ctx: EngineContext, attempts: ReadonlyArray<CheckoutAttempt>, together = false) {
  if (attempts.length === 0) return [] as Array<Settled>
  const gateway = yield* Gateway
  const db = yield* Database
  // Nothing due today (a code took it all) is still a method the subscriptions will charge: it is verified (amount 0).
  const results = yield* gateway.submit(attempts.map((a) => ({
    idempotencyKey: a.idempotencyKey, kind: a.amount > 0 ? "charge" as const : "verify" as const, amount: a.amount, currency: a.currency,
    paymentMethod: a.paymentMethod, reference: `checkout ${a.sessionId}`, at: ctx.now
  }))).pipe(Effect.catchTag("GatewayUnavailable", (e) => Effect.succeed(attempts.map((): GatewayResult => ({ _tag: "Unknown", reason: e.message })))))
  const out: Array<Settled> = []
  for (const [i, a] of attempts.entries()) {
    const result = results[i]!
    // On a server, pipelined: its BEGIN goes with the first statement, and its last writes with the COMMIT (completeCheckout).
    const emails = contactEmailsOf(a, result)
    out.push(yield* sqlOrDie((sql) =>
      together && pipelinedOn(db, sql)
        ? settleBatcherOf(sql)({ ctx, attemptId: a.id, result, emails })
        : transactionOn(sql, pipelinedOn(db, sql), (tx) => settleOne(tx, ctx, a.id, result, emails))))
  }
  return out
})

/**
 * The email whose lock recording this answer takes (`lockContactEmails`): the buyer's, when the answer may make the
 * purchase and so find or make its contact (`contactForBuyer`). Taken first, before the attempt's row lock and every
 * row lock after it, and for a batch all of its buyers' at once (sorted, `settleBatcherOf`): the order every writer
 * of a contact takes them in (an import's emails, a `contacts update --email`), so none waits on another in a circle.
 */
const contactEmailsOf = (a: CheckoutAttempt, result: GatewayResult): ReadonlyArray<string> =>
  result._tag === "Succeeded" || result._tag === "Pending" ? [a.purchase.buyer.email] : []

/** Whether work on `sql` may be pipelined: the server's pool itself, not a transaction an HTTP request already opened (runSql's `CurrentTransaction`). */
const pipelinedOn = (db: DatabaseService, sql: Sql) => db.concurrent && sql === db.sql

/** Buyers' payments whose answers are recorded in one transaction at most (`settleBatcherOf`). */
const settleBatchSize = 16

/**
 * The answers of buyers paying at the same time on a server's pool, recorded together (sql/groupCommit.ts):
 * each as it would be alone (`settleOne`), one invoice numbering held to one COMMIT for all of them. One batch
 * at a time: a batch's payments lock their attempts and sessions first, then the numbering and the links' rows;
 * two batches at once could take those in opposite orders. Before all of them, the batch takes its buyers' email
 * locks, in one statement and in key order (`first`): taken by each payment as it went, they were taken in the
 * order the buyers arrived, so a batch holding one buyer's email waited for another's held by an import, or by a
 * batch of another process, that waited for the first (a deadlock: the import failed with a database error). A
 * batch that fails is recorded payment by payment (an answer recorded meanwhile by the engine is then found
 * settled, `settleOne`).
 */
interface SettleWork {
  readonly ctx: EngineContext
  readonly attemptId: number
  readonly result: GatewayResult
  readonly emails: ReadonlyArray<string>
}
const settleBatchers = new WeakMap<Sql, (item: SettleWork) => Promise<Settled>>()
const settleBatcherOf = (sql: Sql) => {
  let batcher = settleBatchers.get(sql)
  if (batcher === undefined) {
    settleBatchers.set(sql, batcher = groupCommit(sql, {
      alone: (w) => transactionOn(sql, true, (tx) => settleOne(tx, w.ctx, w.attemptId, w.result, w.emails)),
      // Its buyer's email is locked already, with the batch's others (`first`): not taken a second time per payment.
      together: (tx, w) => settleOne(tx as unknown as TransactionSql, w.ctx, w.attemptId, w.result, []),
      first: (tx, ws) => lockContactEmails(tx as unknown as TransactionSql, ws.flatMap((w) => w.emails))
    }, settleBatchSize))
  }
  return batcher
}

const settleOne = async (tx: TransactionSql, ctx: EngineContext, attemptId: number, result: GatewayResult, emails: ReadonlyArray<string>): Promise<Settled> => {
  // The buyer's email lock before the attempt's row lock (`contactEmailsOf`), sent in the same write.
  const [, locked] = await Promise.all([lockContactEmails(tx, emails), lockUnsettledAttempt(tx, attemptId)])
  if (locked === undefined) {
    // Settled meanwhile (the page and the engine both asked): say what it came to.
    const [row] = await tx<Array<{ session_id: string; status: string; failure_reason: string | null }>>`
      select session_id, status, failure_reason from checkout_payments where id = ${attemptId}`
    if (row?.status === "failed") return { _tag: "Declined", reason: row.failure_reason ?? "declined" }
    const state = await checkoutState(tx, row!.session_id)
    return state.completedOn !== undefined ? { _tag: "Completed" } : { _tag: "Processing" }
  }
  const { attempt: a, session } = locked
  const paid = { key: a.idempotencyKey, paymentMethod: a.paymentMethod }
  const madeWhilePending = a.invoiceIds !== undefined
  // Unsettled until now without an answer (recorded, or its page died before the answer was recorded).
  const firstAnswer = a.checkCount === 0
  switch (result._tag) {
    case "Declined":
      if (!madeWhilePending) {
        // The purchase was not made: the code's redemption its recording took is free for the next buyer. Once, under
        // the attempt's lock: a second settler finds it settled. (A bank debit failing after the purchase was made keeps
        // it: the subscriptions were made with the code and go to dunning like any failed charge.)
        await Promise.all([
          markAttemptFailed(tx, a.id, result.reason),
          a.purchase.codeReserved === true && a.purchase.discountCode !== undefined ? releaseDiscountCodeRedemption(tx, a.purchase.discountCode.id) : undefined
        ])
        return { _tag: "Declined", reason: result.reason, counted: "declined" }
      }
      await markAttemptFailed(tx, a.id, result.reason)
      // A bank debit that failed after the purchase was made: its invoices go the way of any failed charge (dunning).
      await failInvoicesAtCheckout(tx, ctx, [...a.invoiceIds!, ...(a.oneTimeInvoiceId === undefined ? [] : [a.oneTimeInvoiceId])], paid, result.reason)
      return { _tag: "Completed", counted: "declined" }
    case "Unknown":
      await markAttemptUnknown(tx, a.id, result.reason, ctx.now ?? Date.now())
      return { _tag: madeWhilePending ? "Completed" : "Processing", counted: firstAnswer ? "unknown" : undefined }
    case "Pending":
      // A bank debit: the subscriptions are made now, their first invoices stay open until it settles.
      if (!madeWhilePending) await completeCheckout(tx, ctx, a, session, undefined)
      await markAttemptPending(tx, a.id, result.reason, ctx.now ?? Date.now())
      return { _tag: "Completed", counted: firstAnswer ? "pending" : undefined }
    case "Succeeded":
      // Sent together with the purchase's first statement (the buyer's contact): one round trip less under the attempt's lock.
      await Promise.all([
        markAttemptSucceeded(tx, a.id, result.gatewayRef),
        madeWhilePending
          ? payInvoicesAtCheckout(tx, ctx, a.invoiceIds!, a.oneTimeInvoiceId, { ...paid, gatewayRef: result.gatewayRef })
          : completeCheckout(tx, ctx, a, session, result.gatewayRef)
      ])
      return { _tag: "Completed", counted: "succeeded" }
  }
}

/**
 * The purchase a successful charge pays for, in the caller's transaction (`session` locked with the
 * attempt, `lockUnsettledAttempt`); nothing when the session is completed already. The summary is the links room's, recomputed for the frozen choices and
 * day: it must come to what was charged.
 */
const completeCheckout = async (tx: TransactionSql, ctx: EngineContext, a: CheckoutAttempt, session: LockedSession, gatewayRef: string | undefined): Promise<void> => {
  if (session.completedOn !== null) return
  // Its events (the contact, the subscriptions, their invoices and payment, the checkout) are written together, last.
  holdJournal(tx)
  const link = session.link
  const p = a.purchase
  const summary = linkSummary(link, { items: new Map(p.items), discountCode: p.discountCode }, p.submittedOn)
  if (summary.dueToday.amount !== a.amount) {
    throw new Error(`checkout ${a.sessionId}: the purchase comes to ${summary.dueToday.amount}, ${a.amount} was charged; nothing was written`)
  }
  const billing = p.buyer.billingAddress
  const contact = await contactForBuyer(tx, p.buyer, a.paymentMethod, link.language, link.locale,
    billing === undefined ? null : addressJson({ line1: billing.line1, postalCode: billing.postalCode, city: billing.city }, billing.country))
  if (contact.created) {
    await writeJournal(tx, [{ type: "contact.created", subscriptionId: null, contactId: contact.id, occurredOn: ctx.today, data: { email: p.buyer.email } }], "buyer")
  }
  const startsNow = toDayNumber(summary.startDate) <= toDayNumber(p.submittedOn)
  const asResolved = (items: typeof summary.items) =>
    items.map((i) => {
      const item = link.items[i.index]!
      return { line: { ...i.line, productId: item.productId, sku: item.sku }, currency: i.currency, frequency: i.frequency }
    })
  const oneTime = summary.items.filter((i) => i.frequency === undefined)
  // No gateway reference yet: a bank debit pending, whose invoices stay open until it settles.
  const paid: PaidAtCheckout = {
    key: a.idempotencyKey, gatewayRef: gatewayRef ?? "", paymentMethod: a.paymentMethod, amount: a.amount,
    discounts: summary.discountsToday, awaiting: gatewayRef === undefined
  }
  let invoiceIds: ReadonlyArray<number> = []
  let oneTimeInvoiceId: number | undefined
  let subscriptionIds: Array<number> = []
  if (summary.items.some((i) => i.frequency !== undefined)) {
    // Billing later: today's one-time lines are invoiced today on their own, so the first recurring invoice does not bill them again.
    const plan = planPurchase(asResolved(startsNow ? summary.items : summary.items.filter((i) => i.frequency !== undefined)), {
      terms: link.terms, startDate: summary.startDate, today: p.submittedOn, language: link.language
    })
    if (plan._tag === "Refused") throw new Error(`checkout ${a.sessionId}: planPurchase refused the link's purchase (${plan.refusal._tag})`)
    const created = await insertPlannedSubscriptions(tx, ctx, plan.subscriptions, {
      contactId: contact.id, terms: link.terms, collection: "charge", paymentTerms: undefined, paymentMethod: a.paymentMethod, reminders: false,
      language: link.language, locale: link.locale, source: "buyer", codeDiscount: summary.codeOnSubscriptions
    })
    subscriptionIds = created.map((c) => c.id)
    if (startsNow) {
      const billed = await billDue(tx, ctx, subscriptionIds.length, subscriptionIds, paid)
      if (billed.invoices !== subscriptionIds.length) throw new Error(`checkout ${a.sessionId}: ${billed.invoices} first invoices for ${subscriptionIds.length} subscriptions`)
      invoiceIds = billed.invoiceIds ?? []
    } else if (oneTime.length > 0) {
      oneTimeInvoiceId = await invoiceOneTimeAtCheckout(tx, ctx, subscriptionIds[0]!, oneTime.map((i) => i.line), paid)
    }
  } else {
    // Only one-time items (a simple link, a one-time offer): an order of one payment, invoiced and paid now, closed today.
    const order = planOneTimeOrder(asResolved(summary.items), { startDate: p.submittedOn, language: link.language })
    const [created] = await insertPlannedSubscriptions(tx, ctx, [order], {
      contactId: contact.id, terms: order.terms, collection: "charge", paymentTerms: undefined, paymentMethod: a.paymentMethod, reminders: false,
      language: link.language, locale: link.locale, source: "buyer"
    })
    subscriptionIds = [created!.id]
    const billed = await billDue(tx, ctx, 1, subscriptionIds, paid)
    if (billed.invoices !== 1) throw new Error(`checkout ${a.sessionId}: no invoice for a one-time order`)
    invoiceIds = billed.invoiceIds ?? []
    await closeOneTimeOrder(tx, ctx, created!.id)
  }
  const data = {
    session_id: a.sessionId, link_id: link.id, slug: link.slug, amount: a.amount, currency: a.currency, payment_method: a.paymentMethod,
    discount_code: p.discountCode?.code ?? null, subscription_ids: subscriptionIds, email: p.buyer.email,
    fields: Object.fromEntries(p.buyer.fields.map((f) => [f.label, f.value])),
    ...(p.buyer.shippingAddress === undefined ? {} : { shipping_address: p.buyer.shippingAddress })
  }
  const subjects: Array<number | null> = subscriptionIds.length === 0 ? [null] : subscriptionIds
  // The last statements, sent together (pipelined on the transaction's connection, run in this order) and, on a
  // server, with the COMMIT: the invoice numbering row (billDue) is locked from there to the commit, and every
  // checkout of the link (and of the code) updates the same row, so concurrent buyers queue on them for one round
  // trip, not one per statement.
  await writeJournal(tx, subjects.map((subscriptionId) => ({ type: "checkout.completed", subscriptionId, contactId: contact.id, occurredOn: ctx.today, data })), "buyer")
  await awaitByCommit(tx, [
    writtenJournal(tx),
    countCompletedPayment(tx, link.id),
    // The redemption was taken when the attempt was recorded; an attempt recorded before that was done counts it here.
    p.discountCode === undefined || p.codeReserved === true ? undefined : redeemDiscountCode(tx, p.discountCode.id),
    markSessionCompleted(tx, a.sessionId, ctx.today, contact.id, subscriptionIds),
    paid.awaiting === true ? recordAttemptInvoices(tx, a.id, invoiceIds, oneTimeInvoiceId) : undefined
  ])
}

/** The engine's step: checkout attempts whose reply was lost (or whose page died) are asked about again with the same key. */
export const settleUnsettledCheckouts = Effect.fn("settleUnsettledCheckouts")(function*(ctx: EngineContext, limit: number) {
  const now = ctx.now ?? Date.now()
  const claimed = yield* runSql((sql) => claimUnsettledCheckoutAttempts(sql, now, limit))
  const settled = yield* settleCheckoutAttempts(ctx, claimed)
  const count = (what: Counted) => settled.filter((s) => s.counted === what).length
  return { claimed: claimed.length, succeeded: count("succeeded"), declined: count("declined"), unknown: count("unknown"), pending: count("pending") }
})
