/**
 * The SQL of checkout sessions (migration 0019): open one with the link's
 * frozen snapshot, read one back.
 */
import type { CalendarDate, PaymentLink } from "../domain/index.ts"
import type { Sql } from "../sql/index.ts"

export interface CheckoutSession {
  readonly id: string
  readonly link: PaymentLink
  readonly openedOn: CalendarDate
  /** Epoch milliseconds of business time. */
  readonly expiresAt: number
}

export const insertCheckoutSession = async (sql: Sql, session: CheckoutSession): Promise<void> => {
  await sql`insert into checkout_sessions (id, link_id, link_snapshot, opened_on, expires_at)
    values (${session.id}, ${session.link.id}, ${JSON.stringify(session.link)}::text::jsonb, ${session.openedOn}, ${new Date(session.expiresAt)})`
}

export const checkoutSessionById = async (sql: Sql, id: string): Promise<CheckoutSession | undefined> => {
  const [row] = await sql<Array<{ id: string; link_snapshot: PaymentLink; opened_on: CalendarDate; expires_at: Date }>>`
    select id, link_snapshot, opened_on, expires_at from checkout_sessions where id = ${id}`
  return row === undefined ? undefined : { id: row.id, link: row.link_snapshot, openedOn: row.opened_on, expiresAt: row.expires_at.getTime() }
}
