/**
 * The simulated gateway's own books (`sim_gateway_ledger`,
 * `sim_gateway_refusals`): what it charged and refunded under each
 * idempotency key, and which requests it refused with HTTP 429. The gateway
 * (Gateway.ts) decides outcomes; this file only reads and writes
 * them. Lookups go key by key through the indexes (unnest + join): a plan
 * that scans the growing ledger instead, chosen on stale statistics, made a
 * simulated year twice as slow.
 */
import type { Sql } from "../sql/index.ts"

export interface SimulatedLedgerEntry {
  readonly idempotencyKey: string
  readonly kind: "charge" | "refund" | "verify"
  readonly amount: number
  readonly currency: string
  /** "" when there is none. */
  readonly paymentMethod: string
  readonly outcome: "succeeded" | "declined" | "pending"
  readonly reference: string
  readonly merchantReference: string
  /** A bank debit: pending until this instant (business time), then `finalOutcome`. */
  readonly settlesAt?: number | undefined
  readonly finalOutcome?: "succeeded" | "declined" | undefined
}

/** Of `references` (invoice numbers), those the ledger has charged before. */
export const chargedReferences = async (sql: Sql, references: ReadonlyArray<string>): Promise<Set<string>> =>
  references.length === 0
    ? new Set<string>()
    : new Set((await sql<Array<{ merchant_reference: string }>>`
        select r.ref as merchant_reference from unnest(${references as Array<string>}::text[]) as r(ref)
        where exists (select 1 from sim_gateway_ledger l where l.merchant_reference = r.ref and l.kind = 'charge')`).map((r) => r.merchant_reference))

/** Records a 429 for each key not refused before; returns the keys refused now. */
export const refuseOnce = async (sql: Sql, keys: ReadonlyArray<string>): Promise<Set<string>> =>
  keys.length === 0
    ? new Set<string>()
    : new Set((await sql<Array<{ idempotency_key: string }>>`
        insert into sim_gateway_refusals (idempotency_key, http_status) select k, 429 from unnest(${keys as Array<string>}::text[]) as u(k)
        on conflict (idempotency_key) do nothing returning idempotency_key`).map((r) => r.idempotency_key))

type LedgerRow = { idempotency_key: string; outcome: string; reference: string; payment_method: string; inserted: boolean }
type LedgerView = Map<string, { outcome: string; reference: string; paymentMethod: string }>

/**
 * Enters the entries whose key the ledger does not hold yet and, in the same statement, reads the
 * ledger's entries under `keys` (those entered now and those it held before: the statement's
 * snapshot predates its own insert, so none is read twice). Returns the keys entered now and the
 * entries by key.
 */
export const enterInLedgerAndRead = async (
  sql: Sql, entries: ReadonlyArray<SimulatedLedgerEntry>, keys: ReadonlyArray<string>
): Promise<{ inserted: Set<string>; ledger: LedgerView }> => {
  const rows = await sql<Array<LedgerRow>>`
    with ins as (
      insert into sim_gateway_ledger (idempotency_key, kind, amount, currency, payment_method, outcome, reference, merchant_reference, settles_at, final_outcome)
      select * from unnest(
        ${entries.map((e) => e.idempotencyKey)}::text[], ${entries.map((e) => e.kind)}::text[], ${entries.map((e) => e.amount)}::int8[],
        ${entries.map((e) => e.currency)}::text[], ${entries.map((e) => e.paymentMethod)}::text[],
        ${entries.map((e) => e.outcome)}::text[], ${entries.map((e) => e.reference)}::text[], ${entries.map((e) => e.merchantReference)}::text[],
        ${entries.map((e) => (e.settlesAt === undefined ? null : new Date(e.settlesAt).toISOString()))}::timestamptz[], ${entries.map((e) => e.finalOutcome ?? null)}::text[])
      on conflict (idempotency_key) do nothing
      returning idempotency_key, outcome, reference, payment_method)
    select idempotency_key, outcome, reference, payment_method, true as inserted from ins
    union all
    select l.idempotency_key, l.outcome, l.reference, l.payment_method, false
    from unnest(${keys as Array<string>}::text[]) as k(key) join sim_gateway_ledger l on l.idempotency_key = k.key`
  const ledger: LedgerView = new Map(rows.map((r) => [r.idempotency_key, { outcome: r.outcome, reference: r.reference, paymentMethod: r.payment_method }]))
  // A key entered by another transaction that committed after this statement's snapshot was taken is neither
  // inserted (conflict) nor read (the snapshot predates it): read those again, in a statement of their own.
  const missing = keys.filter((k) => !ledger.has(k))
  if (missing.length > 0) for (const [k, v] of await ledgerEntries(sql, missing)) ledger.set(k, v)
  return { inserted: new Set(rows.filter((r) => r.inserted).map((r) => r.idempotency_key)), ledger }
}

/** Enters the entries whose key the ledger does not hold yet; returns the keys entered now (the same statement, reading nothing back). */
export const enterInLedger = async (sql: Sql, entries: ReadonlyArray<SimulatedLedgerEntry>): Promise<Set<string>> =>
  (await enterInLedgerAndRead(sql, entries, [])).inserted

/** The ledger's entries under `keys`, by key. */
export const ledgerEntries = async (sql: Sql, keys: ReadonlyArray<string>): Promise<Map<string, { outcome: string; reference: string; paymentMethod: string }>> =>
  new Map((await sql<Array<{ idempotency_key: string; outcome: string; reference: string; payment_method: string }>>`
    select l.idempotency_key, l.outcome, l.reference, l.payment_method
    from unnest(${keys as Array<string>}::text[]) as k(key) join sim_gateway_ledger l on l.idempotency_key = k.key`)
    .map((r) => [r.idempotency_key, { outcome: r.outcome, reference: r.reference, paymentMethod: r.payment_method }]))

/** Bank debits under `keys` whose day has come (business instant `at`): pending becomes their final outcome. */
export const settleDueBankDebits = async (sql: Sql, keys: ReadonlyArray<string>, at: number): Promise<void> => {
  if (keys.length === 0) return
  await sql`
    update sim_gateway_ledger set outcome = final_outcome
    where idempotency_key = any(${keys as Array<string>}::text[]) and outcome = 'pending' and settles_at <= ${new Date(at)}`
}
