/**
 * The outbox queue: messages written in the transaction of the change that
 * caused them are claimed here in batches (FOR UPDATE SKIP LOCKED, with a
 * lease), handed to a sender, and marked sent, retried with exponential
 * backoff (at most 6 hours apart) for its kind's retry window from its first
 * try, or failed once that window has passed. A message is claimed by one engine
 * at a time; its delivery key (the dedupe key) travels with it, so a
 * re-delivery after a crash between send and mark is recognisable by the
 * receiver (at least once, never silently lost).
 *
 * Two clocks, on purpose. When a message is due is business time: the
 * engine passes the tick's instant (`--now`, the simulator's day), so a
 * simulated run retries on its later ticks and gives up when the window has passed,
 * without real minutes passing. Leases are wall-clock (the database's now()):
 * they detect crashed processes, which die in real time; a lease on business
 * time would expire at once when the simulator jumps a day (a live engine's
 * message sent twice) and never when `--now` lies in the past.
 */
import type { Sql } from "./Database.ts"

export interface ClaimedMessage {
  id: number
  kind: "email" | "notification" | "webhook"
  template: string | null
  dedupe_key: string
  subscription_id: number | null
  invoice_id: number | null
  recipient: string
  language: string | null
  locale: string | null
  payload: Record<string, unknown>
  attempts: number
  created_on: string
  /** The store's own id (migration 0036): an email's Message-ID is its delivery key in this store. */
  store_id: string
}

export const maxRetryDelaySeconds = 6 * 3600
/** Backoff before try n+1 after n failed tries: 1, 2, 4, 8 … minutes, never more than 6 hours (`maxRetryDelaySeconds`). */
export const retryDelaySeconds = (attempts: number): number => Math.min(60 * 2 ** Math.max(0, attempts - 1), maxRetryDelaySeconds)

/**
 * How long a failing message is retried, in seconds from its first try, by kind: an email or an admin
 * notification for the account's `email-retry-window` (a mail server's outage of hours or a weekend delays
 * the receipts and dunning emails, it does not lose them), a webhook for `webhook-retry-window`. Their
 * defaults live with the settings (engine/account/settings.ts).
 */
export interface RetryWindows {
  readonly emailSeconds: number
  readonly webhookSeconds: number
}
const windowSecondsOf = (kind: ClaimedMessage["kind"], windows: RetryWindows) => (kind === "webhook" ? windows.webhookSeconds : windows.emailSeconds)

/**
 * The retry window, one rule for every kind: business time from the first try. A try at instant `at` is
 * made only if the first one was at `windowStart(at, windowSeconds)` or later (the window's end included).
 * A failed try is the last when the next one, after its backoff, would fall outside; a message whose engine
 * comes back after the window (an engine run once a day), or whose engine died while sending it, is marked
 * failed without another try. Tried at its backoff (an engine ticking every minute), 3 days give 20 tries
 * over about 68.5 hours, 5 days 28 over about 116.5; an engine run once a day tries once a day.
 */
export const windowStart = (at: number, windowSeconds: number): Date => new Date(at - windowSeconds * 1000)

/** The first instant of a try at `now` still inside its window, per kind, for SQL: `first_tried_at >= this`. */
const windowStarts = (now: number, windows: RetryWindows) => ({
  email: windowStart(now, windows.emailSeconds),
  webhook: windowStart(now, windows.webhookSeconds)
})

/** Lease owners of messages being sent, for the caller to tell which are dead (their messages are retaken at once). */
export const sendingLeaseOwners = async (sql: Sql): Promise<Array<string>> =>
  (await sql<Array<{ lease_owner: string }>>`select distinct lease_owner from outbox where status = 'sending' and lease_owner is not null`).map((r) => r.lease_owner)

/** Renews the leases of messages this engine still holds (a heartbeat while a slow batch is in hand). */
export const renewOutboxLeases = async (sql: Sql, owner: string, ids: ReadonlyArray<number>): Promise<void> => {
  await sql`update outbox set lease_until = now() + interval '2 minutes' where id = any(${ids as Array<number>}::int8[]) and lease_owner = ${owner} and status = 'sending'`
}

/** Whether this engine still holds a message's lease: asked right before sending it, so a message retaken by another engine is not sent twice by us. */
export const holdsOutboxLease = async (sql: Sql, owner: string, id: number): Promise<boolean> =>
  (await sql`select 1 from outbox where id = ${id} and lease_owner = ${owner} and status = 'sending' and lease_until > now()`).length > 0

/**
 * Claims due messages at business instant `now` (epoch milliseconds). A
 * message never tried (new, or put back by `outbox retry`) is due at once:
 * its next_attempt_at is the database's insert time, which says nothing about
 * business time; only a retry's time (set by recordDeliveries) is business time.
 * The first try records its instant (first_tried_at), from which its retry
 * window runs; a message past its window is not claimed, whether queued or
 * left 'sending' by a dead engine (see expireOutbox).
 */
export const claimOutbox = (sql: Sql, owner: string, limit: number, now: number, deadOwners: ReadonlyArray<string>, windows: RetryWindows) => {
  const start = windowStarts(now, windows)
  return sql<Array<ClaimedMessage>>`
    update outbox o set status = 'sending', lease_owner = ${owner}, lease_until = now() + interval '2 minutes', attempts = o.attempts + 1,
      first_tried_at = coalesce(o.first_tried_at, ${new Date(now)}::timestamptz)
    where o.id in (
      select id from outbox
      where ((status = 'queued' and (attempts = 0 or next_attempt_at <= ${new Date(now)}::timestamptz))
             or (status = 'sending' and (lease_until < now() or lease_owner = any(${deadOwners as Array<string>}))))
        and (first_tried_at is null
             or first_tried_at >= case when kind = 'webhook' then ${start.webhook}::timestamptz else ${start.email}::timestamptz end)
      order by id limit ${limit} for update skip locked)
    returning o.id, o.kind, o.template, o.dedupe_key, o.subscription_id, o.invoice_id, o.recipient, o.language, o.locale, o.payload, o.attempts, o.created_on,
      (select id from store_identity) as store_id`
}

/**
 * Gives up, at business instant `now`, the messages that may not be tried again, their last error kept
 * (or saying why): queued ones due whose retry window from their first try has passed (the engine did not
 * run in time for another try); ones a dead engine left 'sending' (lease run out, or a dead local owner)
 * past their window; and reminders whose payment date has passed by `today`, the business day (a
 * reminder that "we will charge you on 5 Dec" read on 6 Dec is wrong; the receipt or the payment-failed
 * email tells the buyer what happened). Returns how many.
 */
export const expireOutbox = async (sql: Sql, now: number, today: string, windows: RetryWindows, deadOwners: ReadonlyArray<string>): Promise<number> => {
  const start = windowStarts(now, windows)
  const late = await sql`
    update outbox o set status = 'failed', lease_owner = null, lease_until = null,
      last_error = case when o.status = 'sending'
        then 'the engine sending it stopped while sending; its retry window from its first try has passed'
          || coalesce(' (last error: ' || o.last_error || ')', '')
        else o.last_error end
    where o.id in (
      select id from outbox
      where ((status = 'queued' and next_attempt_at <= ${new Date(now)}::timestamptz)
             or (status = 'sending' and (lease_until < now() or lease_owner = any(${deadOwners as Array<string>}))))
        and first_tried_at < case when kind = 'webhook' then ${start.webhook}::timestamptz else ${start.email}::timestamptz end
      for update skip locked)
    returning o.id`
  // Dates as text compare as dates (ISO 8601, YYYY-MM-DD).
  const stale = await sql`
    update outbox o set status = 'failed', lease_owner = null, lease_until = null,
      last_error = 'not sent: the payment it announces, on ' || (o.payload->>'next_billing_date') || ', has passed'
    where o.id in (
      select id from outbox
      where (status = 'queued' or (status = 'sending' and (lease_until < now() or lease_owner = any(${deadOwners as Array<string>}))))
        and kind = 'email' and template = 'reminder' and payload->>'next_billing_date' < ${today}
      for update skip locked)
    returning o.id`
  return late.length + stale.length
}

export type DeliveryOutcome =
  | { readonly _tag: "Sent"; readonly providerId: string }
  | { readonly _tag: "Retry"; readonly error: string }
  | { readonly _tag: "Failed"; readonly error: string }

/**
 * Records outcomes, only for messages still leased to this engine; a retry is due `retryDelaySeconds`
 * after business instant `now`. A failed try is the last when its next one would fall outside its kind's
 * retry window from its first try.
 */
export const recordDeliveries = async (sql: Sql, owner: string, results: ReadonlyArray<{ readonly message: ClaimedMessage; readonly outcome: DeliveryOutcome }>, now: number, windows: RetryWindows): Promise<number> => {
  if (results.length === 0) return 0
  const sent = results.filter((r) => r.outcome._tag === "Sent")
  const failed = results.filter((r) => r.outcome._tag !== "Sent")
  // What this engine really delivered: the sends it could still record under its own lease.
  let recorded = 0
  if (sent.length > 0) {
    recorded = (await sql`
      update outbox o set status = 'sent', sent_at = now(), provider_id = u.pid, lease_owner = null, lease_until = null, last_error = null
      from unnest(${sent.map((r) => r.message.id)}::int8[], ${sent.map((r) => (r.outcome as { providerId: string }).providerId)}::text[]) as u(id, pid)
      where o.id = u.id and o.lease_owner = ${owner} and o.status = 'sending'
      returning o.id`).length
  }
  if (failed.length > 0) {
    const delay = (m: ClaimedMessage) => retryDelaySeconds(m.attempts)
    const final = failed.map((r) => r.outcome._tag === "Failed")
    // The next try, `delay` after now, needs the first try at this instant or later.
    const start = failed.map((r) => windowStart(now + delay(r.message) * 1000, windowSecondsOf(r.message.kind, windows)).toISOString())
    await sql`
      update outbox o set status = case when u.final or o.first_tried_at < u.window_start then 'failed' else 'queued' end,
        last_error = u.err, next_attempt_at = ${new Date(now)}::timestamptz + make_interval(secs => u.delay), lease_owner = null, lease_until = null
      from unnest(${failed.map((r) => r.message.id)}::int8[], ${failed.map((r) => (r.outcome as { error: string }).error)}::text[],
                  ${final.map((f) => (f ? "t" : "f"))}::text[]::bool[], ${failed.map((r) => delay(r.message))}::int[],
                  ${start}::text[]::timestamptz[]) as u(id, err, final, delay, window_start)
      where o.id = u.id and o.lease_owner = ${owner} and o.status = 'sending'`
  }
  return recorded
}
