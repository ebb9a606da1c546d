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
 * Appends events (source 'engine' unless given) in the order given: the journal's ids follow the array.
 * Status changes also get their `status_history` row.
 */
export const writeJournal = async (tx: TransactionSql, events: ReadonlyArray<JournalEvent>, source = "engine"): Promise<void> => {
  if (events.length === 0) return
  if (source === "cli") source = journalSource.getStore() ?? source
  await tx`
    with ev as (
      insert into events (type, subscription_id, contact_id, invoice_id, occurred_on, source, data)
      select t, s, c, i, o, ${source}, d::jsonb from unnest(
        ${events.map((e) => e.type)}::text[],
        ${events.map((e) => e.subscriptionId)}::int8[],
        ${events.map((e) => e.contactId ?? null)}::int8[],
        ${events.map((e) => e.invoiceId ?? null)}::int8[],
        ${events.map((e) => e.occurredOn)}::date[],
        ${events.map((e) => JSON.stringify(e.data))}::text[]
      ) with ordinality as u(t, s, c, i, o, d, n)
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
    select k, t, d, s, i, r, l, lc, p::jsonb, c from unnest(
      ${messages.map((m) => m.kind)}::text[],
      ${messages.map((m) => m.template)}::text[],
      ${messages.map((m) => m.dedupeKey)}::text[],
      ${messages.map((m) => m.subscriptionId)}::int8[],
      ${messages.map((m) => m.invoiceId ?? null)}::int8[],
      ${messages.map((m) => m.recipient)}::text[],
      ${messages.map((m) => m.language ?? null)}::text[],
      ${messages.map((m) => m.locale ?? null)}::text[],
      ${messages.map((m) => JSON.stringify(m.payload))}::text[],
      ${messages.map((m) => m.createdOn)}::date[]) as u(k, t, d, s, i, r, l, lc, p, c)
    on conflict (dedupe_key) do nothing
    returning id`
  return rows.length
}
