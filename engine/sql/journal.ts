/**
 * Set-based writes of the engine's journal and outbox: one statement for a
 * whole batch of events (status changes also land in `status_history`, in the
 * same statement), one for a batch of messages. Called inside the transaction
 * of the change they describe. `writeJournal` is the only code that inserts
 * into `events` and `status_history` (the engine, the CLI, `import FILE.csv`
 * and `import history` alike); a batch of any size is one statement, which
 * also queues the event webhooks of the endpoints subscribed to each event.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import type { TransactionSql } from "./Database.ts"

/**
 * Who made a change through a door other than the command line: the HTTP API
 * runs each write inside `journalSource.run("api:<key name>", …)`, and the
 * events that write would mark `cli` carry that source instead (who did what).
 */
export const journalSource = new AsyncLocalStorage<string>()

export interface JournalEvent {
  readonly type: string
  readonly subscriptionId: number | null
  readonly contactId?: number | null
  readonly invoiceId?: number | null
  readonly occurredOn: string
  readonly data: Record<string, unknown>
}

export const statusChanged = (subscriptionId: number, from: string | null, to: string, occurredOn: string, extra: Record<string, unknown> = {}): JournalEvent => ({
  type: "subscription.status_changed",
  subscriptionId,
  occurredOn,
  data: { from, to, ...extra }
})

/**
 * The JSON documents of a batch (events' data, messages' payloads) as one JSON array, one parameter: sent in a
 * text array, each document had every quote escaped by the driver (a tenth of an engine's CPU in a renewal day of
 * bench/scale.ts) and unescaped again by PostgreSQL before it parsed it.
 */
const jsonArray = (documents: ReadonlyArray<unknown>): string => JSON.stringify(documents)

/**
 * Appends events (source 'engine' unless given) in the order given: the journal's ids follow the array.
 * Status changes also get their `status_history` row.
 */
export const writeJournal = async (tx: TransactionSql, events: ReadonlyArray<JournalEvent>, source = "engine"): Promise<void> => {
  if (events.length === 0) return
  if (source === "cli") source = journalSource.getStore() ?? source
  const held = heldJournals.get(tx)
  if (held !== undefined) {
    for (const e of events) held.push({ event: e, source })
    return
  }
  await insertJournal(tx, events.map((event) => ({ event, source })))
}

/** The events of transactions whose journal is held (`holdJournal`), in the order written. */
const heldJournals = new WeakMap<TransactionSql, Array<{ readonly event: JournalEvent; readonly source: string }>>()

/**
 * From here, the events `tx`'s work writes are held and written by `writtenJournal(tx)` in one statement,
 * in the order they were written (their ids follow that order, as if each had been written at once). For a
 * transaction that journals in several places and reads none of it back before its end (a checkout's purchase:
 * the buyer's contact, subscriptions, invoices, payment and the checkout itself): one statement, not five.
 */
export const holdJournal = (tx: TransactionSql): void => {
  heldJournals.set(tx, [])
}

/** Writes the events held since `holdJournal(tx)` (nothing when none) and stops holding. */
export const writtenJournal = (tx: TransactionSql): Promise<void> | undefined => {
  const held = heldJournals.get(tx)
  heldJournals.delete(tx)
  return held === undefined || held.length === 0 ? undefined : insertJournal(tx, held)
}

const insertJournal = async (tx: TransactionSql, events: ReadonlyArray<{ readonly event: JournalEvent; readonly source: string }>): Promise<void> => {
  await tx`
    with ev as (
      insert into events (type, subscription_id, contact_id, invoice_id, occurred_on, source, data)
      -- An event about a subscription is about its contact too: one written without the contact (a status change, a
      -- refund) is given the subscription's, so that every webhook body and journal row names it.
      -- The data travel as one JSON array beside the columns' arrays (\`jsonArray\`), joined by position.
      select t, s, coalesce(c, (select x.contact_id from subscriptions x where x.id = s)), i, o, src, j.d from unnest(
        ${events.map((e) => e.event.type)}::text[],
        ${events.map((e) => e.event.subscriptionId)}::int8[],
        ${events.map((e) => e.event.contactId ?? null)}::int8[],
        ${events.map((e) => e.event.invoiceId ?? null)}::int8[],
        ${events.map((e) => e.event.occurredOn)}::date[],
        ${events.map((e) => e.source)}::text[]
      ) with ordinality as u(t, s, c, i, o, src, n)
      join jsonb_array_elements(${jsonArray(events.map((e) => e.event.data))}::text::jsonb) with ordinality as j(d, n) using (n)
      order by n
      returning id, type, subscription_id, contact_id, invoice_id, occurred_on, data
    ),
    history as (
      insert into status_history (subscription_id, from_status, to_status, effective_on, event_id)
      select subscription_id, data ->> 'from', data ->> 'to', occurred_on, id
      from ev where type = 'subscription.status_changed' order by id
    )
    -- Event webhooks (webhook_endpoints): one outbox message per event and endpoint subscribed to its type.
    insert into outbox (kind, template, dedupe_key, subscription_id, invoice_id, recipient, payload, created_on)
    select 'webhook', ev.type, 'event.' || ev.id || '.endpoint.' || w.id, ev.subscription_id, ev.invoice_id, w.url,
           ev.data || jsonb_build_object('event_id', ev.id, 'subscription_id', ev.subscription_id, 'contact_id', ev.contact_id,
                                         'invoice_id', ev.invoice_id, 'occurred_on', ev.occurred_on),
           ev.occurred_on
    from ev join webhook_endpoints w on w.removed_on is null
      and exists (select 1 from unnest(w.events) as p(pattern)
                  where p.pattern = '*' or p.pattern = ev.type or (p.pattern like '%.*' and left(ev.type, length(p.pattern) - 1) = left(p.pattern, length(p.pattern) - 1)))
    order by ev.id, w.id
    on conflict (dedupe_key) do nothing`
}

export interface OutboxMessage {
  readonly kind: "email" | "notification" | "webhook"
  readonly template: string | null
  /** One message per key, ever: (kind, template, subject, period) or (enrollment, step). */
  readonly dedupeKey: string
  readonly subscriptionId: number | null
  readonly invoiceId?: number | null
  readonly recipient: string
  readonly language?: string | null
  readonly locale?: string | null
  readonly payload: Record<string, unknown>
  readonly createdOn: string
}

/** Queues messages; a message whose dedupe key exists already is not queued again. */
export const enqueueMessages = async (tx: TransactionSql, messages: ReadonlyArray<OutboxMessage>): Promise<number> => {
  if (messages.length === 0) return 0
  const rows = await tx`
    insert into outbox (kind, template, dedupe_key, subscription_id, invoice_id, recipient, language, locale, payload, created_on)
    select k, t, d, s, i, r, l, lc, j.p, c from unnest(
      ${messages.map((m) => m.kind)}::text[],
      ${messages.map((m) => m.template)}::text[],
      ${messages.map((m) => m.dedupeKey)}::text[],
      ${messages.map((m) => m.subscriptionId)}::int8[],
      ${messages.map((m) => m.invoiceId ?? null)}::int8[],
      ${messages.map((m) => m.recipient)}::text[],
      ${messages.map((m) => m.language ?? null)}::text[],
      ${messages.map((m) => m.locale ?? null)}::text[],
      ${messages.map((m) => m.createdOn)}::date[]) with ordinality as u(k, t, d, s, i, r, l, lc, c, n)
    join jsonb_array_elements(${jsonArray(messages.map((m) => m.payload))}::text::jsonb) with ordinality as j(p, n) using (n)
    order by n
    on conflict (dedupe_key) do nothing
    returning id`
  return rows.length
}
