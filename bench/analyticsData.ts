/**
 * Data generator for the analytics benchmark: N subscriptions (default
 * 1,000,000) over 36 months (2024-01 … 2026-12), written straight into the
 * store's tables by set-based SQL inside PostgreSQL, deterministic (hashes of
 * the row number, no random()):
 *
 * - 80% of customers have one subscription, the others two;
 * - currencies USD 80%, EUR 15%, GBP 5%; monthly 70%, annual 15%,
 *   quarterly 8%, weekly 5%, every two weeks 2%; 10% scheduled a few days
 *   ahead; 5% on fixed terms of 12 months that expire;
 * - two lines per version (a main line with quantity and sometimes a percent
 *   discount, and an add-on or a one-time setup fee); 35% change version
 *   once, 10% twice;
 * - 8% pause (most resume), 12% fall unpaid (most recover within days, some
 *   after more than 30 days, some never), 30% cancel; nothing after a
 *   cancellation or expiry.
 *
 * Used by bench/analytics.ts, which keeps the data in the schema
 * `bench_analytics_N` and generates it again only when asked (`--regenerate`).
 */
import type { Sql } from "../engine/sql/index.ts"

export const analyticsStart = "2024-01-01"
export const analyticsMonths = 36

/** Monthly rates to USD for the benchmark's currencies, 2023-12 … 2026-12. */
export const analyticsRates = (): Array<{ month: string; from: string; to: string; rate: number }> => {
  const out: Array<{ month: string; from: string; to: string; rate: number }> = []
  for (let i = -1; i < analyticsMonths; i++) {
    const y = 2024 + Math.floor(i / 12), m = ((i % 12) + 12) % 12
    const month = `${y}-${String(m + 1).padStart(2, "0")}`
    out.push({ month, from: "EUR", to: "USD", rate: Number((1.08 + 0.04 * Math.sin(i / 4)).toFixed(4)) })
    out.push({ month, from: "GBP", to: "USD", rate: Number((1.26 + 0.05 * Math.cos(i / 5)).toFixed(4)) })
  }
  return out
}

/** Writes N subscriptions and their history; returns the row counts. */
export const generateAnalyticsHistory = async (sql: Sql, subscriptions: number, chunk = 200_000): Promise<Record<string, number>> => {
  const contacts = Math.round(subscriptions * 0.8)
  const end = `${2024 + analyticsMonths / 12 - 1}-12-31`
  // h(g, salt): a deterministic pseudo-random integer in [0, 1000), independent across salts (PostgreSQL's integer hash).
  const h = (salt: number) => `(abs(hashint8(g * 64 + ${salt})) % 1000)`
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica` // bulk load: the generator's rows are consistent by construction
    await tx.unsafe(`
      insert into contacts (id, email, name, external_id)
      overriding system value
      select g, 'buyer' || g || '@example.com', 'Buyer ' || g, 'cust-' || g from generate_series(1, ${contacts}) g`)
  })
  for (let lo = 1; lo <= subscriptions; lo += chunk) {
    const hi = Math.min(subscriptions, lo + chunk - 1)
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`
      await tx.unsafe(`
        create temp table gen on commit drop as
        select g,
               1 + (g - 1) % ${contacts} as contact_id,
               case when ${h(1)} < 800 then 'USD' when ${h(1)} < 950 then 'EUR' else 'GBP' end as currency,
               case when ${h(2)} < 700 then 'month' when ${h(2)} < 850 then 'year' when ${h(2)} < 930 then 'month' else 'week' end as unit,
               case when ${h(2)} between 850 and 929 then 3 when ${h(2)} >= 980 then 2 else 1 end as count,
               date '${analyticsStart}' + cast(${h(3)} * 1096 / 1000 as integer) as start_date,
               cast(case when ${h(4)} < 100 then 1 + ${h(5)} % 20 else 0 end as integer) as ahead,
               ${h(6)} < 50 as fixed,
               cast(${h(7)} as integer) as r7, cast(${h(8)} as integer) as r8, cast(${h(9)} as integer) as r9, cast(${h(10)} as integer) as r10, cast(${h(11)} as integer) as r11, cast(${h(12)} as integer) as r12
        from generate_series(${lo}, ${hi}) g`)
      await tx.unsafe(`
        insert into subscriptions (id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date,
                                   collection_method, status, created_on)
        overriding system value
        select g, contact_id, 'Plan ' || (g % 7), currency, unit, count, case when fixed then (case unit when 'year' then 1 when 'week' then 52 / count else 12 / count end) end,
               start_date, 'charge', 'active', start_date - ahead
        from gen`)
      await tx.unsafe(`
        insert into item_versions (subscription_id, version, effective_from)
        select g, 1, start_date from gen
        union all select g, 2, start_date + 30 + r7 * 37 / 100 from gen where r7 < 350 and start_date + 30 + r7 * 37 / 100 <= date '${end}'
        union all select g, 3, start_date + 60 + r7 * 37 / 100 + r8 / 4 from gen where r7 < 100 and start_date + 60 + r7 * 37 / 100 + r8 / 4 <= date '${end}'`)
      await tx.unsafe(`
        insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm, one_time)
        select v.subscription_id, v.version, 1, 'Main', 500 + ((v.subscription_id * 31 + v.version * 17) % 96) * 100, 1 + (v.subscription_id + v.version) % 3,
               case when (v.subscription_id + v.version) % 5 = 0 then 100000 * (1 + v.version) end, false
        from item_versions v where v.subscription_id between ${lo} and ${hi}
        union all
        select v.subscription_id, v.version, 2, case when v.subscription_id % 5 = 0 then 'Setup' else 'Add-on' end, case when v.subscription_id % 5 = 0 then 4900 else 300 end, 1,
               null, v.subscription_id % 5 = 0
        from item_versions v where v.subscription_id between ${lo} and ${hi}`)
      await tx.unsafe(`
        insert into status_history (subscription_id, from_status, to_status, effective_on)
        with ev as (
          select g, start_date - ahead as day, 0 as seq, case when ahead > 0 then 'scheduled' else 'active' end as status from gen
          union all select g, start_date, 1, 'active' from gen where ahead > 0
          union all select g, start_date + 60 + r9 / 4, 2, 'paused' from gen where r9 < 80
          union all select g, start_date + 60 + r9 / 4 + 30 + r10 % 60, 3, 'active' from gen where r9 < 56
          union all select g, start_date + 20 + r10 / 2, 4, case when r11 % 3 = 0 then 'past_due' else 'unpaid' end from gen where r10 < 120 and not (r9 < 80)
          union all select g, start_date + 20 + r10 / 2 + case when r11 < 750 then 1 + r11 % 20 else 40 + r11 % 40 end, 5, 'active' from gen where r10 < 120 and not (r9 < 80) and r12 < 900
          union all select g, start_date + 30 + r12 * 87 / 100, 6, 'canceled' from gen where r12 < 300
          union all select g, (start_date + interval '12 months')::date, 7, 'expired' from gen where fixed
        ),
        cut as (
          select ev.*, min(case when status in ('canceled', 'expired') then day end) over (partition by g) as terminal from ev)
        select g, null, status, day from cut
        where day <= date '${end}' and (terminal is null or day < terminal or (day = terminal and status in ('canceled', 'expired')))
          and not (status = 'expired' and terminal is not null and day > terminal)
        order by g, day, seq`)
    })
  }
  await sql.unsafe(`select setval(pg_get_serial_sequence('contacts', 'id'), ${contacts}), setval(pg_get_serial_sequence('subscriptions', 'id'), ${subscriptions})`)
  await sql.unsafe(`analyze contacts; analyze subscriptions; analyze item_versions; analyze line_items; analyze status_history`)
  const [counts] = await sql<Array<Record<string, number>>>`
    select (select count(*) from subscriptions)::int as subscriptions, (select count(*) from contacts)::int as contacts,
           (select count(*) from item_versions)::int as item_versions, (select count(*) from line_items)::int as line_items,
           (select count(*) from status_history)::int as status_history`
  return counts!
}
