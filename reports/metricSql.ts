/**
 * The metric SQL (METRICS.md), written once in the dialect DuckDB and
 * PostgreSQL share, so that the benchmark can run the very same statements
 * inside PostgreSQL. It reads the store's own tables (`subscriptions`,
 * `item_versions`, `line_items`, `status_history`) plus two small parameter
 * tables the caller fills:
 *
 * - `rpt_fx (currency, k, rate)`: for every currency in the report and every
 *   month index k (year × 12 + month − 1) from the first month with data to
 *   the last month of the report, the factor from that currency's minor units
 *   to the report currency's minor units (1 for the report currency);
 * - `rpt_months (k, month, end_day)`: the same months, densely.
 *
 * Days are integers (days since 1970-01-01). Everything is set-based: window
 * functions over change points, never a row per subscription per day.
 */

import { lineNetSql, monthlyAmountSql, versionsTakingForceSql } from "../engine/billing/index.ts"

/** A line's net amount, as the invoice prices it. */
const lineNet = lineNetSql({ unitPrice: "unit_price", quantity: "quantity", discountPpm: "discount_ppm", discountAmount: "discount_amount" })

/** Month index of an integer day, in both dialects. */
export const monthOf = (day: string) =>
  `cast(extract(year from date '1970-01-01' + ${day}) * 12 + extract(month from date '1970-01-01' + ${day}) - 1 as integer)`

const delinquent = `('unpaid', 'past_due')`
/** Statuses of a subscription that has started and not ended (the cancellation rate's "live"; growth also counts scheduled ones). */
const startedLive = `('active', 'unpaid', 'past_due', 'paused')`
/** Packs (day, status id, status code) into one orderable bigint: day × 2^40 + id × 4 + code (ids below 2^38, some 275 billion; numbering the statuses per subscription instead costs 10% of the run). */
const keyScale = "1099511627776"

/** Statuses as small codes: 0 no MRR, 1 active, 2 delinquent (MRR for 30 days), 3 paused. */
const statusCode = (column: string) =>
  `case when ${column} = 'active' then 1 when ${column} in ${delinquent} then 2 when ${column} = 'paused' then 3 else 0 end`

/** Statements building the per-customer movement tables, in order. */
export const pipelineStatements: ReadonlyArray<string> = [
  // Subscriptions in the report's currencies, with their frequency (normalised to a month by monthlyAmountSql).
  `create temp table r_sub as
   select s.id as subscription_id, s.contact_id, s.currency, s.frequency_unit, s.frequency_count
   from subscriptions s
   where s.currency in (select distinct currency from rpt_fx)`,
  // Amount per billing period of each item version that comes into force (versionsTakingForceSql: the invoice's rule): recurring lines net of unit discounts (rounded per line
  // as billed: lineNetSql, pricing's twin), no tax; dv is its change from the version before, so that a running sum gives the amount in force.
  `create temp view r_version as
   select subscription_id, day, version, amount,
          amount - coalesce(lag(amount) over (partition by subscription_id order by day, version), 0) as dv
   from (select v.subscription_id, cast(v.effective_from - date '1970-01-01' as integer) as day, v.version, coalesce(l.amount, 0) as amount
         from (${versionsTakingForceSql("item_versions")}) v
         left join (select subscription_id, version,
                           sum(case when one_time then 0 else ${lineNet} end) as amount
                    from line_items group by subscription_id, version) l
           on l.subscription_id = v.subscription_id and l.version = v.version) x`,
  // Status changes, each beside the status before it (null for a subscription's first), as codes too, and a mark
  // where a run of delinquency starts.
  `create temp table r_status as
   select subscription_id, day, ord, status, prev, ${statusCode("status")} as code, ${statusCode("prev")} as prev_code,
          case when status in ${delinquent} and (prev is null or prev not in ${delinquent}) then 1 else 0 end as run_start
   from (select h.subscription_id, cast(h.effective_on - date '1970-01-01' as integer) as day, h.id as ord, h.to_status as status,
                lag(h.to_status) over (partition by h.subscription_id order by h.effective_on, h.id) as prev
         from status_history h join r_sub s on s.subscription_id = h.subscription_id) x`,
  // Change points: statuses, versions, and the 30th day of each run of delinquency.
  `create temp view r_tl as
   select subscription_id, day, 0 as src, ord, run_start, code, prev_code, cast(0 as bigint) as dv from r_status
   union all
   select subscription_id, day, 1, version, 0, cast(null as integer), cast(null as integer), dv from r_version
   union all
   select distinct subscription_id, day + 30, 2, 0, 0, cast(null as integer), cast(null as integer), cast(0 as bigint) from r_status where run_start = 1`,
  // One ordered pass over each subscription's change points (by day, then statuses, versions, delinquency marks,
  // each in insertion order): the status in force (its code rides in the low bits of the latest key), the amount
  // in force, the start of the current delinquency run. The MRR after each change point and before it give the
  // change's delta; a day's deltas add up to the change from the end of the day before to the end of this one.
  `create temp table r_delta as
   with w as (
     select subscription_id, day, src, prev_code, dv,
            max(case when src = 0 then day * ${keyScale} + ord * 4 + code end) over o % 4 as code,
            sum(dv) over o as amount,
            max(case when run_start = 1 then day end) over o as since,
            lag(day) over o as prev_day
     from r_tl
     window o as (partition by subscription_id order by day, src, ord rows between unbounded preceding and current row)),
   st as (
     select subscription_id, day, code, amount, since, prev_day,
            case when src = 0 then prev_code else code end as before_code,
            amount - dv as before_amount
     from w),
   mrr as (
     select subscription_id, day, code, before_code,
            case when code = 1 or (code = 2 and day < since + 30) then amount else 0 end as after_mrr,
            case when prev_day is null then 0
                 when before_code = 1 or (before_code = 2 and prev_day < since + 30) then before_amount else 0 end as before_mrr
     from st)
   select x.subscription_id, s.contact_id, s.currency, x.day, ${monthOf("x.day")} as k,
          ${monthlyAmountSql("x.after_mrr - x.before_mrr", "s.frequency_unit", "s.frequency_count")} as d,
          case when x.after_mrr > 0 then 1 else 0 end - case when x.before_mrr > 0 then 1 else 0 end as dpos,
          case when x.code = 3 then 1 else 0 end - case when x.before_code = 3 then 1 else 0 end as dpaused
   from mrr x join r_sub s on s.subscription_id = x.subscription_id
   where x.after_mrr <> x.before_mrr or (case when x.code = 3 then 1 else 0 end) <> (case when x.before_code = 3 then 1 else 0 end)`,
  // Customer-days, netting all of a day's changes, in the report currency at the rate of the day's month.
  `create temp view r_cday as
   select x.contact_id, x.day, x.k, sum(x.d * f.rate) as d, sum(x.dpos) as dpos, sum(x.dpaused) as dpaused
   from r_delta x join rpt_fx f on f.currency = x.currency and f.k = x.k
   group by x.contact_id, x.day, x.k
   having sum(x.d) <> 0 or sum(x.dpos) <> 0 or sum(x.dpaused) <> 0`,
  // Classified movements per customer-day; the last change of each month carries the month-end state.
  `create temp table r_cmv as
   with a as (
     select contact_id, day, k, d, dpos, dpaused,
            sum(dpos) over o as npos, sum(dpaused) over o as npaused, sum(d) over o as cum_d,
            lead(k) over o as next_k,
            -- The first day with more subscriptions above 0 (positive dpos) is the first day above 0: before it every dpos is 0.
            min(case when dpos > 0 then day end) over (partition by contact_id order by day rows between unbounded preceding and unbounded following) as first_day
     from r_cday
     window o as (partition by contact_id order by day rows between unbounded preceding and current row))
   select contact_id, day, k, d, npos, npaused, first_day, cum_d, next_k,
          -- From 0 to above 0: the first time new; with a subscription paused at the end of the day before, the resume
          -- mirrors the pause's contraction as an expansion; any other return (after churn) a reactivation.
          case when npos - dpos = 0 and npos > 0 then case when day = first_day then 'new' when npaused - dpaused > 0 then 'expansion' else 'reactivation' end
               when npos - dpos > 0 and npos = 0 then case when npaused > 0 then 'contraction' else 'churn' end
               when npos > 0 and d > 0.000001 then 'expansion'
               when npos > 0 and d < -0.000001 then 'contraction' end as kind
   from a`,
  // Each customer's state at the end of every month it changed, beside its state before; d is the month's change.
  `create temp table r_cmonth as
   select contact_id, k, cum_d - coalesce(lag(cum_d) over o, 0) as d, npos, npaused,
          coalesce(lag(npos) over o, 0) as prev_npos,
          coalesce(lag(npaused) over o, 0) as prev_npaused
   from r_cmv
   where next_k is null or next_k <> k
   window o as (partition by contact_id order by k)`
]

/** Per-month totals in minor units of the report currency, one row per month of `rpt_months`. */
export const monthlyTotalsSql = `
  with n as (select currency, k, sum(d) as d from r_delta group by currency, k),
  bal as (
    select f.currency, f.k, f.rate,
           sum(coalesce(n.d, 0)) over (partition by f.currency order by f.k rows between unbounded preceding and current row) as bal
    from rpt_fx f left join n on n.currency = f.currency and n.k = f.k),
  bal2 as (
    select k, rate, bal,
           lag(bal) over (partition by currency order by k) as prev_bal,
           lag(rate) over (partition by currency order by k) as prev_rate
    from bal),
  money as (
    select k, sum(bal * rate) as mrr_end, sum(coalesce(prev_bal * prev_rate, 0)) as mrr_start,
           sum(coalesce(prev_bal * (rate - prev_rate), 0)) as fx_adjustment
    from bal2 group by k),
  mv as (
    select k,
           sum(case when kind = 'new' then d else 0 end) as new_mrr,
           sum(case when kind = 'expansion' then d else 0 end) as expansion,
           sum(case when kind = 'contraction' then -d else 0 end) as contraction,
           sum(case when kind = 'churn' then -d else 0 end) as churn,
           sum(case when kind = 'reactivation' then d else 0 end) as reactivation
    from r_cmv where kind is not null group by k),
  cm as (
    select k,
           sum(case when npos > 0 then 1 else 0 end - case when prev_npos > 0 then 1 else 0 end) as dsubs,
           sum(case when npaused > 0 then 1 else 0 end - case when prev_npaused > 0 then 1 else 0 end) as dpaused,
           sum(case when prev_npos > 0 and npos = 0 and npaused = 0 then 1 else 0 end) as logos_lost,
           sum(case when prev_npos > 0 then d else 0 end) as kept_delta,
           sum(case when prev_npos > 0 and d < 0 then d else 0 end) as capped_delta
    from r_cmonth group by k),
  st as (
    select ${monthOf("day")} as k,
           sum(case when prev is null then 1 else 0 end) as new_subscriptions,
           sum(case when status = 'canceled' then 1 else 0 end) as canceled,
           sum(case when status = 'expired' then 1 else 0 end) as expired,
           sum(case when status in ('canceled', 'expired') then 0 else 1 end
               - case when prev is null or prev in ('canceled', 'expired') then 0 else 1 end) as dlive,
           -- The cancellation rate's denominator: subscriptions started and not ended (not scheduled).
           sum(case when status in ${startedLive} then 1 else 0 end - case when prev in ${startedLive} then 1 else 0 end) as dstarted
    from r_status
    group by ${monthOf("day")}),
  -- Its numerator: the month's cancellations of subscriptions live at its start (the status before the month's first change).
  cl as (
    select k, count(distinct subscription_id) as canceled
    from (select subscription_id, status, ${monthOf("day")} as k,
                 first_value(prev) over (partition by subscription_id, ${monthOf("day")} order by day, ord) as opening
          from r_status) x
    where status = 'canceled' and opening in ${startedLive}
    group by k)
  select m.k, m.month, money.mrr_start, money.mrr_end, money.fx_adjustment,
         coalesce(mv.new_mrr, 0) as new_mrr, coalesce(mv.expansion, 0) as expansion, coalesce(mv.contraction, 0) as contraction,
         coalesce(mv.churn, 0) as churn, coalesce(mv.reactivation, 0) as reactivation,
         sum(coalesce(cm.dsubs, 0)) over (order by m.k rows between unbounded preceding and current row) as subscribers,
         sum(coalesce(cm.dpaused, 0)) over (order by m.k rows between unbounded preceding and current row) as paused,
         coalesce(cm.logos_lost, 0) as logos_lost, coalesce(cm.kept_delta, 0) as kept_delta, coalesce(cm.capped_delta, 0) as capped_delta,
         coalesce(st.new_subscriptions, 0) as new_subscriptions, coalesce(st.canceled, 0) as canceled, coalesce(st.expired, 0) as expired,
         sum(coalesce(st.dlive, 0)) over (order by m.k rows between unbounded preceding and current row) as live,
         sum(coalesce(st.dstarted, 0)) over (order by m.k rows between unbounded preceding and current row) as started_live,
         coalesce(cl.canceled, 0) as canceled_of_live
  from rpt_months m
  left join money on money.k = m.k
  left join mv on mv.k = m.k
  left join cm on cm.k = m.k
  left join st on st.k = m.k
  left join cl on cl.k = m.k
  order by m.k`

/** Cohorts by the month of the customer's first MRR > 0: logos and MRR at the end of every month. */
export const cohortSql = `
  with c as (select distinct contact_id, ${monthOf("first_day")} as cohort from r_cmv where first_day is not null),
  logos as (
    select c.cohort, x.k, sum(case when x.npos > 0 then 1 else 0 end - case when x.prev_npos > 0 then 1 else 0 end) as dl
    from r_cmonth x join c on c.contact_id = x.contact_id group by c.cohort, x.k),
  money as (
    select c.cohort, x.currency, x.k, sum(x.d) as d
    from r_delta x join c on c.contact_id = x.contact_id group by c.cohort, x.currency, x.k),
  grid as (
    select co.cohort, f.currency, f.k, f.rate
    from (select distinct cohort from c) co join rpt_fx f on f.k >= co.cohort),
  mrr as (
    select g.cohort, g.k, g.rate * sum(coalesce(m.d, 0)) over (partition by g.cohort, g.currency order by g.k rows between unbounded preceding and current row) as mrr
    from grid g left join money m on m.cohort = g.cohort and m.currency = g.currency and m.k = g.k),
  mrr2 as (select cohort, k, sum(mrr) as mrr from mrr group by cohort, k),
  lg as (
    select co.cohort, mo.k, sum(coalesce(l.dl, 0)) over (partition by co.cohort order by mo.k rows between unbounded preceding and current row) as logos
    from (select distinct cohort from c) co join rpt_months mo on mo.k >= co.cohort
    left join logos l on l.cohort = co.cohort and l.k = mo.k)
  select lg.cohort, lg.k, lg.logos, mrr2.mrr
  from lg join mrr2 on mrr2.cohort = lg.cohort and mrr2.k = lg.k
  order by lg.cohort, lg.k`

/** Each customer-day movement (the drill-down behind the totals); the caller orders them, after naming the customers. */
export const detailsSql = (fromK: number, toK: number) => `
  select contact_id, day, kind, case when d < 0 then -d else d end as amount
  from r_cmv where kind is not null and k between ${fromK} and ${toK}`

/** The temp views and tables, to drop between runs on one connection (views first: they depend on the tables). */
export const pipelineViews = ["r_cday", "r_tl", "r_version"] as const
export const pipelineTables = ["r_cmonth", "r_cmv", "r_delta", "r_status", "r_sub", "rpt_fx", "rpt_months"] as const
