/**
 * Month-end MRR straight from the store (reads, never writes): for each
 * month, the normalised monthly amount of every subscription live at the end
 * of its last day — recurring lines of the item version in force, net of unit
 * discounts and of a discount code while it covers the payments, without tax; paused, scheduled, canceled and expired count 0;
 * unpaid or past due keep their MRR for 30 days of delinquency. A compact
 * series for the demo and a cross-check of the full reports.
 */
import { discountOffSql, lineNetSql, monthlyAmountSql, versionInForceSql } from "../engine/billing/index.ts"
import type { Sql } from "../engine/sql/index.ts"

// The invoice's own rules (pricing.ts), as SQL: a line's net amount, a period's amount normalised to a month.
const lineNet = lineNetSql({ unitPrice: "l.unit_price", quantity: "l.quantity", discountPpm: "l.discount_ppm", discountAmount: "l.discount_amount" })
const monthly = monthlyAmountSql("a.per_period", "s.frequency_unit", "s.frequency_count")
// A discount code's part of a payment (the invoice's rule), while the code covers the payments (METRICS.md).
const codeOff = discountOffSql("a.per_period", { ppm: "s.code_off_ppm", amount: "s.code_off_amount" })
// The item version the invoice bills on the day (itemVersions.ts's rule).
const versionInForce = versionInForceSql("item_versions", "(select day from d)")

export interface MrrMonth {
  readonly month: string
  readonly mrr: number
  readonly subscribers: number
  readonly newMrr: number
  readonly churnedMrr: number
}

export const monthEnds = (from: string, months: number): Array<string> => {
  const [y, m] = from.split("-").map(Number)
  return Array.from({ length: months }, (_, i) => {
    const end = new Date(Date.UTC(y!, m! - 1 + i + 1, 0))
    return end.toISOString().slice(0, 10)
  })
}

/** MRR in minor units of `currency`, per subscription, at the end of `day`. */
const mrrAt = (sql: Sql, day: string, currency: string) =>
  sql<Array<{ contact_id: number; mrr: number }>>`
    with st as (
      select distinct on (h.subscription_id) h.subscription_id, h.to_status, h.effective_on
      from status_history h where h.effective_on <= ${day}
      order by h.subscription_id, h.effective_on desc, h.id desc
    ),
    d as (select ${day}::date as day),
    v as (${sql.unsafe(versionInForce)}),
    amounts as (
      select l.subscription_id,
             sum(${sql.unsafe(lineNet)}) as per_period
      from line_items l join v on v.subscription_id = l.subscription_id and v.version = l.version
      where not l.one_time group by 1
    ),
    charged as (
      select a.subscription_id,
             a.per_period - case when s.code_discount_ends_on is null or s.code_discount_ends_on > ${day}::date then ${sql.unsafe(codeOff)} else 0 end as per_period
      from amounts a join subscriptions s on s.id = a.subscription_id
    )
    select s.contact_id,
           sum(${sql.unsafe(monthly)}) as mrr
    from subscriptions s join st on st.subscription_id = s.id join charged a on a.subscription_id = s.id
    where s.currency = ${currency}
      and (st.to_status = 'active' or (st.to_status in ('unpaid', 'past_due') and st.effective_on > ${day}::date - 30))
    group by s.contact_id`

export const mrrSeries = async (sql: Sql, from: string, months: number, currency: string): Promise<Array<MrrMonth>> => {
  const out: Array<MrrMonth> = []
  let previous = new Map<number, number>()
  for (const day of monthEnds(from, months)) {
    const rows = await mrrAt(sql, day, currency)
    const now = new Map(rows.map((r) => [r.contact_id, r.mrr]))
    let newMrr = 0
    let churned = 0
    for (const [c, v] of now) if (!previous.has(c)) newMrr += v
    for (const [c, v] of previous) if (!now.has(c)) churned += v
    out.push({ month: day.slice(0, 7), mrr: [...now.values()].reduce((a, b) => a + b, 0), subscribers: now.size, newMrr, churnedMrr: churned })
    previous = now
  }
  return out
}
