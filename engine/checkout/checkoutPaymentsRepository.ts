/**
 * The SQL of paying a checkout session (migration 0022): record an attempt
 * before the gateway is called (committed), record the gateway's answer, and
 * complete the purchase in the same transaction as a success. Completing is
 * idempotent: the session row is locked and a completed session is left as
 * it is, so the page, a second tab and the engine can all try.
 */
import type { CalendarDate, DiscountCode, ItemChoice, PaymentLink } from "../domain/index.ts"
import { lockContactEmails } from "../catalogue/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { awaitByCommit, transactionOn } from "../sql/index.ts"
import type { CheckoutSession } from "./checkoutSessionsRepository.ts"
import { discountCodeById, redeemDiscountCode } from "./repository.ts"

type Runner = Sql | TransactionSql

/** A postal address as the checkout collects it (contacts' address parts). */
export interface BuyerAddress {
  readonly line1: string
  readonly postalCode: string
  readonly city: string
  readonly country: string
}

/** Who buys: the contact's email and name, the link's extra fields, and the addresses the link asks for. */
export interface Buyer {
  readonly email: string
  readonly name: string
  readonly fields: ReadonlyArray<{ readonly label: string; readonly value: string }>
  readonly billingAddress?: BuyerAddress | undefined
  readonly shippingAddress?: BuyerAddress | undefined
}

/** What was bought, frozen with the attempt: the engine completes a lost reply exactly as the page would have. */
export interface CheckoutPurchase {
  /** The business day of the submit: the summary and the start date are computed for it. */
  readonly submittedOn: CalendarDate
  readonly items: ReadonlyArray<readonly [number, ItemChoice]>
  /** The code as it was at the submit (it may change or go later): what the buyer was charged for. */
  readonly discountCode?: DiscountCode | undefined
  /**
   * The attempt holds one of the code's redemptions, taken when it was recorded: kept when it succeeds or is
   * pending, given back when it is declined. Absent on attempts recorded before redemptions were taken so
   * (their purchase counts the redemption when it completes, as it did then).
   */
  readonly codeReserved?: boolean | undefined
  readonly buyer: Buyer
}

export interface CheckoutAttempt {
  readonly id: number
  readonly sessionId: string
  readonly attemptNumber: number
  readonly idempotencyKey: string
  readonly amount: number
  readonly currency: string
  readonly paymentMethod: string
  readonly purchase: CheckoutPurchase
  readonly status: "pending" | "succeeded" | "failed" | "unknown"
  readonly failureReason: string | undefined
  /** Set once the purchase is made while the payment is pending (a bank debit): the invoices it is for. */
  readonly invoiceIds: ReadonlyArray<number> | undefined
  readonly oneTimeInvoiceId: number | undefined
  /** How many answers the gateway has given that left it unsettled (pending or unknown): 0 before the first. */
  readonly checkCount: number
}

interface AttemptRow {
  id: number
  session_id: string
  attempt_number: number
  idempotency_key: string
  amount: number
  currency: string
  payment_method: string
  purchase: CheckoutPurchase
  status: CheckoutAttempt["status"]
  failure_reason: string | null
  invoice_ids: Array<number> | null
  one_time_invoice_id: number | null
  check_count: number
}

const attemptOf = (r: AttemptRow): CheckoutAttempt => ({
  id: Number(r.id), sessionId: r.session_id, attemptNumber: r.attempt_number, idempotencyKey: r.idempotency_key, amount: Number(r.amount),
  currency: r.currency, paymentMethod: r.payment_method, purchase: r.purchase, status: r.status, failureReason: r.failure_reason ?? undefined,
  invoiceIds: r.invoice_ids === null ? undefined : r.invoice_ids.map(Number), oneTimeInvoiceId: r.one_time_invoice_id === null ? undefined : Number(r.one_time_invoice_id),
  checkCount: Number(r.check_count)
})

/** The key the gateway sees: the session and the attempt's number, so a retry of one attempt never charges twice. */
export const checkoutAttemptKey = (sessionId: string, attemptNumber: number) => `co_${sessionId}_${attemptNumber}`

/** Where a session stands: completed (and what it made), a payment in flight, or open (with the last failure, if any). */
export interface CheckoutState {
  readonly completedOn: string | undefined
  readonly contactId: number | undefined
  readonly subscriptionIds: ReadonlyArray<number>
  readonly inFlight: boolean
  readonly lastFailure: string | undefined
}

export const checkoutState = async (sql: Runner, sessionId: string): Promise<CheckoutState> => {
  // One round trip: the session and its last attempt (none: no row, or nulls).
  const [row] = await sql<Array<{
    completed_on: string | null; contact_id: number | null; subscription_ids: Array<number> | null; session: boolean | null
    status: string | null; failure_reason: string | null
  }>>`
    select s.completed_on, s.contact_id, s.subscription_ids, s.id is not null as session, a.status, a.failure_reason
    from (select 1) one
    left join checkout_sessions s on s.id = ${sessionId}
    left join lateral (select status, failure_reason from checkout_payments where session_id = ${sessionId} order by attempt_number desc limit 1) a on true`
  const s = row?.session === true ? row : undefined
  return stateOf(s, row?.status === null || row === undefined ? undefined : { status: row.status, failure_reason: row.failure_reason })
}

/** A session and where it stands, in one round trip (the buyer's page reads both on every request); undefined when there is none. */
export const sessionWithState = async (sql: Runner, sessionId: string): Promise<{ session: CheckoutSession; state: CheckoutState } | undefined> => {
  const [row] = await sql<Array<{
    id: string; link_snapshot: PaymentLink; opened_on: CalendarDate; expires_at: Date
    completed_on: string | null; contact_id: number | null; subscription_ids: Array<number> | null; status: string | null; failure_reason: string | null
  }>>`
    select s.id, s.link_snapshot, s.opened_on, s.expires_at, s.completed_on, s.contact_id, s.subscription_ids, a.status, a.failure_reason
    from checkout_sessions s
    left join lateral (select status, failure_reason from checkout_payments where session_id = s.id order by attempt_number desc limit 1) a on true
    where s.id = ${sessionId}`
  if (row === undefined) return undefined
  return {
    session: { id: row.id, link: row.link_snapshot, openedOn: row.opened_on, expiresAt: row.expires_at.getTime() },
    state: stateOf(row, row.status === null ? undefined : { status: row.status, failure_reason: row.failure_reason })
  }
}

const stateOf = (
  s: { completed_on: string | null; contact_id: number | null; subscription_ids: Array<number> | null } | undefined,
  last: { status: string; failure_reason: string | null } | undefined
): CheckoutState => ({
  completedOn: s?.completed_on ?? undefined,
  contactId: s?.contact_id === null || s === undefined ? undefined : Number(s.contact_id),
  subscriptionIds: (s?.subscription_ids ?? []).map(Number),
  inFlight: last !== undefined && (last.status === "pending" || last.status === "unknown"),
  lastFailure: last?.status === "failed" ? last.failure_reason ?? undefined : undefined
})

export type RecordOutcome =
  | { readonly _tag: "Recorded"; readonly attempt: CheckoutAttempt }
  | { readonly _tag: "Completed" }
  | { readonly _tag: "InFlight" }
  | { readonly _tag: "LinkOff" }
  /** The code has no redemption left (or went off since the page was shown): nothing was recorded. `code` is the code now, undefined once deleted. */
  | { readonly _tag: "CodeUsedUp"; readonly code: DiscountCode | undefined }

/**
 * Records a new attempt of the session and commits it, unless the session is completed or a payment
 * is in flight (a double click, a reload, a second tab: the session row is locked, so they queue
 * here and see the first). A link switched off or deleted since the session opened takes no payment.
 * A purchase with a discount code takes one of its redemptions here, in the transaction that records the
 * attempt and before the gateway is called: of buyers paying at once, as many as there are redemptions left
 * are charged with the code, the others nothing. A reload, a double click or a second tab finds the attempt
 * first and takes none.
 * `lease` is the business instant after which the engine may ask the gateway about an attempt left pending.
 */
export const recordCheckoutAttempt = async (
  sql: Sql, session: CheckoutSession, request: { readonly amount: number; readonly paymentMethod: string; readonly purchase: CheckoutPurchase; readonly lease: number },
  pipelined = false
): Promise<RecordOutcome> => {
  const outcome = await transactionOn(sql, pipelined, async (tx): Promise<Exclude<RecordOutcome, { _tag: "Recorded" }> | { readonly _tag: "Inserted"; readonly row: Promise<Array<AttemptRow>> }> => {
    // Sent together (pipelined on the transaction's connection, run in this order): the session's lock with its link as it
    // is now, then its attempts, read after the lock is taken (their own statement, so a tab that waited for the lock sees
    // the other's attempt).
    const [[s], attempts] = await Promise.all([
      tx<Array<{ completed_on: string | null; active: boolean | null; deleted_on: string | null; completed_payments_limit: number | null }>>`
        select s.completed_on, l.active, l.deleted_on, l.completed_payments_limit
        from checkout_sessions s left join payment_links l on l.id = ${session.link.id}
        where s.id = ${session.id} for update of s`,
      tx<Array<{ attempt_number: number; status: string }>>`
        select attempt_number, status from checkout_payments where session_id = ${session.id} order by attempt_number desc`
    ])
    if (s === undefined) throw new Error(`checkout session ${session.id} is gone`)
    if (s.completed_on !== null) return { _tag: "Completed" } as const
    if (attempts.some((a) => a.status === "pending" || a.status === "unknown")) return { _tag: "InFlight" } as const
    if (s.active !== true || s.deleted_on !== null) return { _tag: "LinkOff" } as const
    if (s.completed_payments_limit !== null) {
      // A link with a limit: payments completed and in flight count, under the link's lock, so two buyers at once never pass it.
      const [held] = await tx<Array<{ n: number }>>`
        select l.completed_payments + (select count(*) from checkout_payments p join checkout_sessions s on s.id = p.session_id
          where s.link_id = l.id and s.completed_on is null and p.status in ('pending', 'unknown'))::int as n
        from payment_links l where l.id = ${session.link.id} for update`
      if (held!.n >= s.completed_payments_limit) return { _tag: "LinkOff" } as const
    }
    let purchase = request.purchase
    if (purchase.discountCode !== undefined) {
      // Last before the insert: the code's row stays locked from here to the commit, one statement's round trip.
      if (!(await redeemDiscountCode(tx, purchase.discountCode.id))) {
        return { _tag: "CodeUsedUp", code: await discountCodeById(tx, purchase.discountCode.id) } as const
      }
      purchase = { ...purchase, codeReserved: true }
    }
    const attemptNumber = (attempts[0]?.attempt_number ?? 0) + 1
    // Left to the commit (pipelined: sent with the COMMIT, one round trip for both); its row is read once committed.
    const row = tx<Array<AttemptRow>>`
      insert into checkout_payments (session_id, attempt_number, idempotency_key, amount, currency, payment_method, purchase, status, check_after)
      values (${session.id}, ${attemptNumber}, ${checkoutAttemptKey(session.id, attemptNumber)}, ${request.amount}, ${session.link.currency},
              ${request.paymentMethod}, ${JSON.stringify(purchase)}::text::jsonb, 'pending', ${new Date(request.lease)})
      returning id, session_id, attempt_number, idempotency_key, amount, currency, payment_method, purchase, status, failure_reason, invoice_ids, one_time_invoice_id, check_count`.execute()
    await awaitByCommit(tx, [row])
    return { _tag: "Inserted", row } as const
  })
  return outcome._tag === "Inserted" ? { _tag: "Recorded", attempt: attemptOf((await outcome.row)[0]!) } : outcome
}

/** A session locked for completing its purchase, with its frozen link. */
export interface LockedSession {
  readonly link: PaymentLink
  readonly completedOn: string | null
}

/**
 * The attempt, locked for settling, and its session, locked for completing the purchase (one statement: the
 * lock the purchase needs is taken with the attempt's); undefined once another process settled the attempt.
 */
export const lockUnsettledAttempt = async (tx: TransactionSql, id: number): Promise<{ attempt: CheckoutAttempt; session: LockedSession } | undefined> => {
  const [row] = await tx<Array<AttemptRow & { link_snapshot: PaymentLink; completed_on: string | null }>>`
    select a.id, a.session_id, a.attempt_number, a.idempotency_key, a.amount, a.currency, a.payment_method, a.purchase, a.status, a.failure_reason,
           a.invoice_ids, a.one_time_invoice_id, a.check_count, s.link_snapshot, s.completed_on
    from checkout_payments a join checkout_sessions s on s.id = a.session_id
    where a.id = ${id} and a.status in ('pending', 'unknown') for update`
  return row === undefined ? undefined : { attempt: attemptOf(row), session: { link: row.link_snapshot, completedOn: row.completed_on } }
}

export const markAttemptFailed = async (tx: TransactionSql, id: number, reason: string) => {
  await tx`update checkout_payments set status = 'failed', failure_reason = ${reason}, settled_at = now() where id = ${id}`
}

/** A lost reply: asked about again with the same key once its backoff (business time) has passed. */
export const markAttemptUnknown = async (tx: TransactionSql, id: number, reason: string, now: number) => {
  await tx`
    update checkout_payments set status = 'unknown', failure_reason = ${reason}, check_count = check_count + 1,
      check_after = ${new Date(now)}::timestamptz + case check_count when 0 then interval '5 minutes'
        when 1 then interval '1 hour' when 2 then interval '6 hours' else interval '1 day' end
    where id = ${id}`
}

/** A bank debit accepted, not settled: asked about again the next business day. */
export const markAttemptPending = async (tx: TransactionSql, id: number, reason: string, now: number) => {
  await tx`update checkout_payments set status = 'pending', failure_reason = ${reason}, check_count = check_count + 1,
    check_after = ${new Date(now)}::timestamptz + interval '1 day' where id = ${id}`
}

/** The invoices a purchase made while its payment is pending is for. */
export const recordAttemptInvoices = async (tx: TransactionSql, id: number, invoiceIds: ReadonlyArray<number>, oneTimeInvoiceId: number | undefined) => {
  await tx`update checkout_payments set invoice_ids = ${invoiceIds as Array<number>}::int8[], one_time_invoice_id = ${oneTimeInvoiceId ?? null} where id = ${id}`
}

export const markAttemptSucceeded = async (tx: TransactionSql, id: number, gatewayRef: string) => {
  await tx`update checkout_payments set status = 'succeeded', gateway_ref = ${gatewayRef}, failure_reason = null, settled_at = now() where id = ${id}`
}

export const markSessionCompleted = async (tx: TransactionSql, id: string, on: string, contactId: number, subscriptionIds: ReadonlyArray<number>) => {
  await tx`update checkout_sessions set completed_on = ${on}, contact_id = ${contactId}, subscription_ids = ${subscriptionIds as Array<number>}::int8[] where id = ${id}`
}

/**
 * The contact of a buyer's email (any case), as it is; a new contact (name, language and locale of the link,
 * payment method, billing address) when there is none. Anyone may type anyone's email on a public link, so a
 * contact found is never written: its saved payment method pays its own subscriptions (and so it must not
 * become a stranger's card), and its name and address are its own. The buyer's payment method goes on the
 * subscriptions the checkout makes; what the buyer typed stays with the attempt's purchase and the event.
 */
export const contactForBuyer = async (
  tx: TransactionSql, buyer: Buyer, paymentMethod: string, language: string, locale: string | undefined, addressJson: string | null
): Promise<{ id: number; created: boolean }> => {
  // One statement: the contact found, or inserted when there is none; after the email's lock (sent in the same write), so
  // a writer of this email in any case that got here first (a buyer of another checkout, `contacts add`) has committed
  // its contact, and it is found.
  const name = buyer.name === "" ? null : buyer.name
  const byEmail = () => tx`select id from contacts where lower(email) = lower(${buyer.email}) order by id limit 1`
  const [, [row]] = await Promise.all([lockContactEmails(tx, [buyer.email]), tx<Array<{ id: number; created: boolean }>>`
    with found as (${byEmail()}), inserted as (
      insert into contacts (email, name, language, locale, payment_method, address)
      select ${buyer.email}, ${name}, ${language}, ${locale ?? null}, ${paymentMethod}, ${addressJson}::text::jsonb
      where not exists (select 1 from found)
      on conflict (email) do nothing
      returning id
    )
    select id, false as created from found union all select id, true as created from inserted`])
  if (row !== undefined) return { id: Number(row.id), created: row.created }
  // A writer that does not take the email's lock inserted it first: this insert waited for that commit and stood back
  // (it had failed the purchase of a buyer already charged). A statement of its own sees it now.
  const [again] = await tx<Array<{ id: number }>>`${byEmail()}`
  return { id: Number(again!.id), created: false }
}

/** Attempts the engine asks the gateway about: lost replies whose backoff has passed, and attempts a page left pending (its process died). */
export const claimUnsettledCheckoutAttempts = (sql: Sql, now: number, limit: number): Promise<Array<CheckoutAttempt>> =>
  sql.begin(async (tx) => {
    const rows = await tx<Array<AttemptRow>>`
      select id, session_id, attempt_number, idempotency_key, amount, currency, payment_method, purchase, status, failure_reason, invoice_ids, one_time_invoice_id, check_count
      from checkout_payments where status in ('pending', 'unknown') and check_after <= ${new Date(now)}
      order by check_after limit ${limit} for update skip locked`
    if (rows.length > 0) {
      // Leased for two minutes: another engine leaves them alone while this one asks.
      await tx`update checkout_payments set check_after = ${new Date(now + 120_000)} where id = any(${rows.map((r) => r.id)}::int8[])`
    }
    return rows.map(attemptOf)
  }) as Promise<Array<CheckoutAttempt>>

/** Whether any checkout attempt waits for the engine (the due check). */
export const checkoutAttemptsDue = async (sql: Sql, now: number): Promise<boolean> =>
  (await sql`select 1 from checkout_payments where status in ('pending', 'unknown') and check_after <= ${new Date(now)} limit 1`).length > 0
