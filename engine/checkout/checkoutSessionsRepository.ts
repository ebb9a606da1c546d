/**
 * The SQL of checkout sessions (migration 0019): open one with the link's
 * frozen snapshot. A session is read back with where it stands
 * (checkoutPaymentsRepository.ts `sessionWithState`).
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
