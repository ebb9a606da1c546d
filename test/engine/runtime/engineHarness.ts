/**
 * Engine test harness: builds subscriptions straight in SQL (so engine tests
 * do not depend on the CLI), runs ticks at chosen business dates with the
 * simulated gateway, and reads back what happened.
 */
import { Effect, Layer } from "effect"
import { addDays, BillingSchedule, toDayNumber } from "../../../engine/billing/index.ts"
import type { CalendarDate, Frequency } from "../../../engine/domain/index.ts"
import { namedFrequencies } from "../../../engine/domain/index.ts"
import { EngineState, runTick, TickHooks } from "../../../engine/runtime/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import type { TickSummary } from "../../../engine/runtime/index.ts"
import type { Sql } from "../../../engine/sql/index.ts"
import { loadSettings, BusinessClock, dayTime, makeEngineContext } from "../../../engine/account/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"

export interface SubscriptionSpec {
  readonly email?: string
  readonly paymentMethod?: string | null
  readonly start: string
  readonly frequency?: Frequency
  readonly payments?: number
  readonly collection?: "charge" | "invoice"
  readonly paymentTerms?: "due-on-receipt" | "net-15" | "net-30" | "net-60"
  readonly items?: ReadonlyArray<{ readonly price: number; readonly qty?: number; readonly oneTime?: boolean; readonly discountPpm?: number; readonly taxPpm?: number }>
  readonly reminders?: boolean
  readonly createdOn?: string
  readonly currency?: string
}

let emailCounter = 0

export const createSubscription = async (sql: Sql, spec: SubscriptionSpec): Promise<number> => {
  const email = spec.email ?? `buyer${++emailCounter}-${Date.now()}@example.com`
  const [contact] = await sql<Array<{ id: number }>>`
    insert into contacts (email, name, payment_method) values (${email}, ${"Buyer " + emailCounter}, ${spec.paymentMethod === undefined ? "pm_ok" : spec.paymentMethod})
    on conflict (email) do update set email = excluded.email returning id`
  const frequency = spec.frequency ?? namedFrequencies.monthly
  const createdOn = spec.createdOn ?? spec.start
  const endDate = spec.payments === undefined ? null : new BillingSchedule(spec.start as CalendarDate, frequency).endDate(spec.payments)
  const status = toDayNumber(spec.start as CalendarDate) > toDayNumber(createdOn as CalendarDate) ? "scheduled" : "active"
  const collection = spec.collection ?? "charge"
  const [sub] = await sql<Array<{ id: number }>>`
    insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, end_date,
      next_billing_date, collection_method, payment_terms, reminders, status, created_on)
    values (${contact!.id}, 'Coffee', ${spec.currency ?? "USD"}, ${frequency.unit}, ${frequency.count}, ${spec.payments ?? null}, ${spec.start}, ${endDate},
      ${spec.start}, ${collection}, ${collection === "invoice" ? spec.paymentTerms ?? "net-15" : null}, ${spec.reminders ?? false}, ${status}, ${createdOn})
    returning id`
  await sql`insert into item_versions (subscription_id, version, effective_from) values (${sub!.id}, 1, ${spec.start})`
  const items = spec.items ?? [{ price: 2500 }]
  let n = 0
  for (const it of items) {
    await sql`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm, tax_rate_ppm, one_time)
      values (${sub!.id}, 1, ${++n}, ${"Item " + n}, ${it.price}, ${it.qty ?? 1}, ${it.discountPpm ?? null}, ${it.taxPpm ?? null}, ${it.oneTime ?? false})`
  }
  await sql`insert into status_history (subscription_id, from_status, to_status, effective_on) values (${sub!.id}, null, ${status}, ${createdOn})`
  return sub!.id
}

export const engineLayer = (t: TestDatabase, date: string) =>
  Layer.mergeAll(t.layer, BusinessClock.fixed(dayTime(date as CalendarDate)), TickHooks.none, Gateway.simulated.pipe(Layer.provide(t.layer)), EngineState.layer)

/** Runs one engine tick at business date `date`. */
export const tickAt = (t: TestDatabase, date: string, batch = 100): Promise<TickSummary> =>
  Effect.runPromise(runTick({ batch }).pipe(Effect.provide(engineLayer(t, date))))

/** Runs one tick per day from `from` to `to` inclusive. */
export const runDays = async (t: TestDatabase, from: string, to: string, batch = 100): Promise<Array<TickSummary>> => {
  const out: Array<TickSummary> = []
  for (let d = from as CalendarDate; toDayNumber(d) <= toDayNumber(to as CalendarDate); d = addDays(d, 1)) out.push(await tickAt(t, d, batch))
  return out
}

export const subscriptionRow = async (sql: Sql, id: number) =>
  (await sql<Array<Record<string, any>>>`select * from subscriptions where id = ${id}`)[0]!

export const invoicesOf = async (sql: Sql, id: number) =>
  sql<Array<{ id: number; number: string; period_start: string; period_end: string; status: string; total: number; due_date: string; amount_refunded: number }>>`
    select id, number, period_start, period_end, status, total, due_date, amount_refunded from invoices where subscription_id = ${id} order by period_start`

export const ledgerOf = async (sql: Sql, id: number) =>
  sql<Array<{ idempotency_key: string; kind: string; outcome: string; amount: number }>>`
    select l.idempotency_key, l.kind, l.outcome, l.amount from sim_gateway_ledger l
    join invoices i on i.number = l.merchant_reference where i.subscription_id = ${id} order by l.created_at, l.idempotency_key`

export const eventTypes = async (sql: Sql, id: number) =>
  (await sql<Array<{ type: string }>>`select type from events where subscription_id = ${id} order by id`).map((r) => r.type)

export const outboxOf = async (sql: Sql, id: number) =>
  sql<Array<{ template: string; dedupe_key: string; kind: string }>>`select template, dedupe_key, kind from outbox where subscription_id = ${id} order by id`

/** The engine context a command would build at business date `date`. */
export const contextAt = async (t: TestDatabase, date: string): Promise<EngineContext> =>
  makeEngineContext(await loadSettings(t.db.sql), date as CalendarDate, { failpoint: () => {} })
