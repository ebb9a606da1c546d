/**
 * Seeds many subscriptions straight in SQL (set-based, generate_series), for
 * the engine benchmark and the crash and concurrency tests: N monthly
 * subscriptions, each with two line items, all due on one day, with payment
 * tokens cycling through the given list.
 */
import type { Sql } from "../engine/sql/index.ts"

export interface SeedOptions {
  readonly count: number
  /** The anchor and first billing date of every subscription. */
  readonly due: string
  readonly paymentMethods?: ReadonlyArray<string>
  readonly reminders?: boolean
  /** Spread anchors over this many days from `due` (default 1: all on one day). */
  readonly spreadDays?: number
}

export const seedDueSubscriptions = async (sql: Sql, options: SeedOptions): Promise<void> => {
  const methods = options.paymentMethods ?? ["pm_ok"]
  await sql.begin(async (tx) => {
    const [{ base }] = await tx<Array<{ base: number }>>`select coalesce(max(id), 0)::int8 as base from contacts` as unknown as [{ base: number }]
    await tx`
      insert into contacts (email, name, payment_method)
      select 'seed' || (${base} + g) || '@example.com', 'Seed buyer ' || (${base} + g), (${methods as Array<string>}::text[])[1 + ((g - 1) % ${methods.length})]
      from generate_series(1, ${options.count}) g`
    await tx`
      insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, start_date, next_billing_date,
                                 collection_method, reminders, status, created_on)
      select c.id, 'Coffee', 'USD', 'month', 1, d, d, 'charge', ${options.reminders ?? false}, 'active', d
      from (select c.id, ${options.due}::date + ((c.id - ${base}) % ${options.spreadDays ?? 1})::int as d from contacts c where c.id > ${base}) c
      order by c.id`
    await tx`
      insert into item_versions (subscription_id, version, effective_from)
      select s.id, 1, s.start_date from subscriptions s where not exists (select 1 from item_versions v where v.subscription_id = s.id)`
    await tx`
      insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm, tax_rate_ppm)
      select s.id, 1, n, case n when 1 then 'Just one more cup – 1 kg' else 'Coffee casual – 250 g' end,
             case n when 1 then 2500 else 1250 end, n, case n when 2 then 100000 end, 250000
      from subscriptions s cross join generate_series(1, 2) n
      where not exists (select 1 from line_items l where l.subscription_id = s.id)`
    await tx`
      insert into status_history (subscription_id, from_status, to_status, effective_on)
      select s.id, null, 'active', s.created_on from subscriptions s
      where not exists (select 1 from status_history h where h.subscription_id = s.id)`
  })
}
