/**
 * Refunding the unused days of a paid period when a subscription is canceled
 * immediately (`cancel --refund-unused`): prorated by day, recorded as a
 * refund attempt with its own idempotency key and sent to the gateway
 * between two commits, like a charge. The canceled day itself counts as
 * unused: cancellation takes effect at the start of the account's day.
 */
import { daysBetween } from "../billing/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import { attemptKey } from "../invoicing/index.ts"
import type { TransactionSql } from "../sql/index.ts"
import { roundHalfAwayFromZero } from "../billing/index.ts"

export interface RefundRequest {
  readonly attemptId: number
  readonly invoiceId: number
  readonly amount: number
  readonly currency: string
  readonly unusedDays: number
  readonly periodDays: number
}

/** The prorated refund of the unused days of a period: total × unused ÷ period days, rounded once. */
export const unusedDaysRefund = (total: number, periodStart: CalendarDate, periodEnd: CalendarDate, today: CalendarDate): { amount: number; unusedDays: number; periodDays: number } => {
  const periodDays = daysBetween(periodStart, periodEnd)
  const unusedDays = Math.max(0, Math.min(periodDays, daysBetween(today, periodEnd)))
  const amount = Number(roundHalfAwayFromZero(BigInt(total) * BigInt(unusedDays), BigInt(periodDays)))
  return { amount, unusedDays, periodDays }
}

/**
 * Records the refund attempt for the paid period that holds `today`, inside
 * the caller's cancel transaction. Nothing to refund (no paid period holds
 * today, or nothing left unused) returns undefined.
 */
export const recordUnusedDaysRefund = async (tx: TransactionSql, ctx: EngineContext, subscriptionId: number): Promise<RefundRequest | undefined> => {
  const [inv] = await tx<Array<{ id: number; total: number; amount_refunded: number; currency: string; period_start: string; period_end: string; payment_method: string | null }>>`
    select i.id, i.total, i.amount_refunded, i.currency, i.period_start, i.period_end,
           (select a.payment_method from payment_attempts a where a.invoice_id = i.id and a.kind = 'charge' and a.status = 'succeeded' limit 1) as payment_method
    from invoices i
    where i.subscription_id = ${subscriptionId} and i.status = 'paid' and i.period_start <= ${ctx.today} and i.period_end > ${ctx.today}
    order by i.period_start desc limit 1`
  if (inv === undefined) return undefined
  const r = unusedDaysRefund(inv.total, inv.period_start as CalendarDate, inv.period_end as CalendarDate, ctx.today)
  const amount = Math.min(r.amount, inv.total - inv.amount_refunded)
  if (amount <= 0) return undefined
  const [{ n }] = await tx<Array<{ n: number }>>`
    select coalesce(max(attempt_number), 0)::int + 1 as n from payment_attempts where invoice_id = ${inv.id} and kind = 'refund'` as unknown as [{ n: number }]
  const [attempt] = await tx<Array<{ id: number }>>`
    insert into payment_attempts (invoice_id, kind, attempt_number, idempotency_key, amount, currency, payment_method, status, requested_on)
    values (${inv.id}, 'refund', ${n}, ${attemptKey(inv.id, "refund", n)}, ${amount}, ${inv.currency}, ${inv.payment_method}, 'pending', ${ctx.today})
    returning id`
  return { attemptId: attempt!.id, invoiceId: inv.id, amount, currency: inv.currency, unusedDays: r.unusedDays, periodDays: r.periodDays }
}
