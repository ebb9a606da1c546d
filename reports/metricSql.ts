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
 *
 * In two stages: the fact tables (`subscriptionStatements`,
 * `customerStatements`: nothing in them depends on the report's period,
 * currency or rates), which the analytics copy keeps and a refresh recomputes
 * for the changed subscriptions and customers by the same statements; then
 * the reports from the facts and their monthly aggregates (`aggregateStatements`;
 * `reportStatements`, `monthlyTotalsSql`,
 * `cohortSql`, `detailsSql`).
 */

import { discountOffSql, lineNetSql, monthlyAmountSql, versionsTakingForceSql } from "../engine/billing/index.ts"

/** A line's net amount, as the invoice prices it. */
const lineNet = lineNetSql({ unitPrice: "unit_price", quantity: "quantity", discountPpm: "discount_ppm", discountAmount: "discount_amount" })
/** What a subscription's discount code (`d_code` c) takes off a payment of `amount`, as the invoice takes it. */
const codeOff = (amount: string) => discountOffSql(amount, { ppm: "c.ppm", amount: "c.off_amount" })

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

/**
 * The derived fact tables, kept in the analytics copy beside the store's
 * tables (and built into temp tables for a report without a copy). None
 * depends on the report's period, currency or rates, nor on the day it runs:
 *
 * - `f_status`: every status change, beside the status before it and the
 *   status its subscription opened its month with;
 * - `f_delta`: each subscription's MRR changes (in its own currency, minor
 *   units, normalised to a month) and its changes above 0 and into a pause;
 * - `f_multi`: the customers with subscriptions in more than one currency;
 * - `f_cmv`, `f_cmonth`, `f_cohort`: per customer and currency (`scope`),
 *   the classified customer-day movements (unconverted), the state at the end
 *   of each month it changed, and its cohort. A report converts them by the
 *   month's rate after grouping. A customer in several currencies, when a
 *   report converts them (`--fx`), is classified again at report time from
 *   its `f_delta` rows, with the rates (`customerStatements` with scope `*`):
 *   the same statements, over a handful of customers.
 */
export const factTables: ReadonlyArray<{ readonly name: string; readonly ddl: string; readonly key: "subscription_id" | "contact_id" | "aggregate" }> = [
  { name: "f_status", key: "subscription_id", ddl: "subscription_id bigint, currency varchar, day integer, k integer, ord bigint, status varchar, prev varchar, opening varchar" },
  { name: "f_delta", key: "subscription_id", ddl: "subscription_id bigint, contact_id bigint, currency varchar, day integer, k integer, d float8, dpos integer, dpaused integer" },
  { name: "f_multi", key: "contact_id", ddl: "contact_id bigint" },
  { name: "f_sensitive", key: "contact_id", ddl: "contact_id bigint" },
  { name: "f_cmv", key: "contact_id", ddl: "contact_id bigint, scope varchar, multi boolean, day integer, k integer, currency varchar, d float8, kind varchar" },
  { name: "f_cmonth", key: "contact_id", ddl: "contact_id bigint, scope varchar, multi boolean, k integer, cohort integer, currency varchar, d float8, total float8, npos bigint, npaused bigint, prev_npos bigint, prev_npaused bigint, counted integer" },
  { name: "f_cohort", key: "contact_id", ddl: "contact_id bigint, scope varchar, multi boolean, cohort integer" },
  ...Object.entries({
    a_mv: "scope varchar, multi boolean, sens boolean, k integer, currency varchar, kind varchar, d decimal(38, 9)",
    a_cm: "scope varchar, multi boolean, sens boolean, k integer, cohort integer, currency varchar, d decimal(38, 9), dsubs bigint, dpaused bigint, logos_lost bigint, kept_delta decimal(38, 9), capped_delta decimal(38, 9)",
    a_cohort: "scope varchar, multi boolean, sens boolean, cohort integer, size bigint",
    a_status: "currency varchar, k integer, new_subscriptions bigint, canceled bigint, expired bigint, dlive bigint, dstarted bigint, canceled_of_live bigint"
  }).map(([name, ddl]) => ({ name, ddl, key: "aggregate" as const }))
]

/**
 * The monthly aggregates (`a_mv`, `a_cm`, `a_cohort`, `a_status`): the fact tables grouped by what a report
 * filters and groups on (scope, `multi`, `sens`: the customer is in `f_sensitive`; month, currency, kind,
 * cohort), a few thousand rows that a report reads instead of millions. Amounts are summed as decimals
 * (`exact`), so a sum is the same in any order: a refresh takes out the changed customers' old rows (`sign`
 * `-`) and adds their new ones, and the compacted result is the very table a rebuild makes.
 */
const exact = (x: string) => `cast(${x} as decimal(38, 9))`
const aggregateKeys: Record<string, { readonly keys: string; readonly sums: ReadonlyArray<string> }> = {
  a_mv: { keys: "scope, multi, sens, k, currency, kind", sums: ["d"] },
  a_cm: { keys: "scope, multi, sens, k, cohort, currency", sums: ["d", "dsubs", "dpaused", "logos_lost", "kept_delta", "capped_delta"] },
  a_cohort: { keys: "scope, multi, sens, cohort", sums: ["size"] },
  a_status: { keys: "currency, k", sums: ["new_subscriptions", "canceled", "expired", "dlive", "dstarted", "canceled_of_live"] }
}

/** Month-end rows (`f_cmonth`'s columns and `sens`) grouped as `a_cm` keeps them: a report groups `q_cmonth` by the same text. */
const cmonthGroups = (source: string, sign: "" | "-") => `
  select scope, multi, sens, k, cohort, currency, ${sign}sum(${exact("d")}) as d,
         ${sign}sum(counted * (case when npos > 0 then 1 else 0 end - case when prev_npos > 0 then 1 else 0 end)) as dsubs,
         ${sign}sum(counted * (case when npaused > 0 then 1 else 0 end - case when prev_npaused > 0 then 1 else 0 end)) as dpaused,
         ${sign}sum(case when counted = 1 and prev_npos > 0 and npos = 0 and npaused = 0 then 1 else 0 end) as logos_lost,
         ${sign}sum(case when prev_npos > 0 then ${exact("d")} else 0 end) as kept_delta,
         ${sign}sum(case when prev_npos > 0 and total < 0 then ${exact("d")} else 0 end) as capped_delta
  from (${source}) x group by scope, multi, sens, k, cohort, currency`

/**
 * Which fact rows the aggregates take in: all of them; those of the customers in the table `customers` and the
 * subscriptions in `subscriptions` (column `id`); or the rows in working tables of their own (`rowsIn` `n`:
 * `n_cmv`, `n_cmonth`, `n_cohort`, `n_status`, a refresh's new rows before they join the fact tables).
 */
export type AggregateRows = { readonly customers: string; readonly subscriptions: string } | { readonly rowsIn: "n" }

/**
 * Adds (`+`) or takes out (`-`) the aggregates' part of the fact rows (`AggregateRows`); `compactStatements` after.
 * Into the aggregates, or into tables of the same names in the database `into` (a refresh's second connection
 * gathers the old rows' part apart).
 */
export const aggregateStatements = (sign: "+" | "-", only?: AggregateRows, into?: string): ReadonlyArray<string> => {
  const s = sign === "-" ? "-" : ""
  const a = (table: string) => (into === undefined ? table : `${into}.${table}`)
  const rows = (table: string, key: "contact_id" | "subscription_id") =>
    only === undefined ? table
      : "rowsIn" in only ? `${only.rowsIn}_${table.slice(2)}`
      : `(select t.* from ${table} t join ${key === "contact_id" ? only.customers : only.subscriptions} c on c.id = t.${key})`
  // The rows first (a join on the few changed customers), then whether their customer is in f_sensitive.
  const of = (table: string) =>
    `select x.*, s.contact_id is not null as sens
     from ${rows(table, "contact_id")} x
     left join (select distinct contact_id from f_sensitive) s on s.contact_id = x.contact_id`
  return [
    `insert into ${a("a_mv")} select scope, multi, sens, k, currency, kind, ${s}sum(${exact("d")}) from (${of("f_cmv")}) x group by scope, multi, sens, k, currency, kind`,
    `insert into ${a("a_cm")} ${cmonthGroups(of("f_cmonth"), s)}`,
    `insert into ${a("a_cohort")} select scope, multi, sens, cohort, ${s}count(*) from (${of("f_cohort")}) x group by scope, multi, sens, cohort`,
    `insert into ${a("a_status")}
     select currency, k,
            ${s}sum(case when prev is null then 1 else 0 end),
            ${s}sum(case when status = 'canceled' then 1 else 0 end),
            ${s}sum(case when status = 'expired' then 1 else 0 end),
            ${s}sum(case when status in ('canceled', 'expired') then 0 else 1 end
                    - case when prev is null or prev in ('canceled', 'expired') then 0 else 1 end),
            -- The cancellation rate's denominator: subscriptions started and not ended (not scheduled).
            ${s}sum(case when status in ${startedLive} then 1 else 0 end - case when prev in ${startedLive} then 1 else 0 end),
            -- Its numerator: the month's cancellations of subscriptions live at its start (the status before the month's first change).
            ${s}count(distinct case when status = 'canceled' and opening in ${startedLive} then subscription_id end)
     from ${rows("f_status", "subscription_id")} x
     group by currency, k`
  ]
}

/** One row per group, none of all zeros: what a rebuild makes, and a refresh after its (new − old) rows. */
export const compactStatements = (): ReadonlyArray<string> =>
  Object.entries(aggregateKeys).flatMap(([table, { keys, sums }]) => [
    `create temp table c_agg as select ${keys}, ${sums.map((c) => `sum(${c}) as ${c}`).join(", ")} from ${table} group by ${keys}
     having ${sums.map((c) => `sum(${c}) <> 0`).join(" or ")}`,
    `delete from ${table}`,
    `insert into ${table} select * from c_agg`,
    `drop table c_agg`
  ])

/** Creates the fact tables (empty), as temp tables for a report without a copy. */
export const factTableStatements = (temp: boolean): ReadonlyArray<string> =>
  factTables.map((t) => `create ${temp ? "temp " : ""}table ${t.name} (${t.ddl})`)

/** The working tables and views of `subscriptionStatements` and `customerStatements`, to drop after them (views first). */
export const workViews = ["d_tl", "d_version"] as const
export const workTables = ["d_status", "d_sub", "d_vbase", "d_code", "d_cmpart", "d_split", "d_cmv", "d_cday", "d_delta"] as const

/**
 * Subscription facts (`f_status`, `f_delta`) of every subscription, or only
 * of those a refresh has just copied into tables named with `only.prefix`
 * (`chg_subscriptions`, `chg_item_versions`, …), into tables of their own
 * (`statusInto`, `deltaInto`): a rebuild and a refresh run these same
 * statements; a refresh then replaces the subscriptions' old rows with them.
 */
export const subscriptionStatements = (only?: { readonly prefix: string; readonly statusInto?: string; readonly deltaInto?: string }): ReadonlyArray<string> => {
  // A refresh has just copied the subscriptions' rows into small tables of their own (`chg_subscriptions`, …).
  const t = (name: string) => (only === undefined ? name : `${only.prefix}${name}`)
  return [
    `create temp table d_sub as
     select s.id as subscription_id, s.contact_id, s.currency, s.frequency_unit, s.frequency_count
     from ${t("subscriptions")} s`,
    // The discount codes redeemed at checkout (a handful of subscriptions): each off every payment it covers, up to
    // the day its last covered period ends (null: it still covers the next payment, or every payment).
    `create temp table d_code as
     select s.id as subscription_id, s.code_off_ppm as ppm, s.code_off_amount as off_amount,
            cast(s.code_discount_ends_on - date '1970-01-01' as integer) as ends
     from ${t("subscriptions")} s where s.code_off_ppm is not null or s.code_off_amount is not null`,
    // Amount per billing period of each item version that comes into force (versionsTakingForceSql: the invoice's rule): recurring lines net of unit discounts (rounded per line
    // as billed: lineNetSql, pricing's twin), no tax.
    `create temp table d_vbase as
     select v.subscription_id, cast(v.effective_from - date '1970-01-01' as integer) as day, v.version, coalesce(l.amount, 0) as amount
     from (${versionsTakingForceSql(`(select subscription_id, version, effective_from from ${t("item_versions")}) iv`)}) v
     left join (select subscription_id, version,
                       sum(case when one_time then 0 else ${lineNet} end) as amount
                from ${t("line_items")} group by subscription_id, version) l
       on l.subscription_id = v.subscription_id and l.version = v.version`,
    // Less a discount code's part while it covers the payments (discountOffSql, the invoice's rule: off the payment as a
    // whole), and back to the full amount of the version then in force on the day it ends. dv is the amount's change from
    // the row before, so that a running sum gives the amount in force.
    `create temp view d_version as
     select subscription_id, day, version, amount,
            amount - coalesce(lag(amount) over (partition by subscription_id order by day, version), 0) as dv
     from (select v.subscription_id, v.day, v.version,
                  case when c.subscription_id is null or v.day >= c.ends then v.amount
                       else v.amount - ${codeOff("v.amount")} end as amount
           from d_vbase v left join d_code c on c.subscription_id = v.subscription_id
           union all
           select v.subscription_id, c.ends, v.version, v.amount
           from (select b.subscription_id, b.day, b.version, b.amount, lead(b.day) over (partition by b.subscription_id order by b.day) as next_day
                 from d_vbase b join d_code c on c.subscription_id = b.subscription_id where c.ends is not null) v
           join d_code c on c.subscription_id = v.subscription_id
           where v.day < c.ends and (v.next_day is null or v.next_day > c.ends)) x`,
    // Status changes, each beside the status before it (null for a subscription's first), as codes too, a mark
    // where a run of delinquency starts, and the status the subscription opened the change's month with.
    `create temp table d_status as
     select x.subscription_id, s.currency, x.day, x.k, x.ord, x.status, x.prev, ${statusCode("x.status")} as code, ${statusCode("x.prev")} as prev_code,
            case when x.status in ${delinquent} and (x.prev is null or x.prev not in ${delinquent}) then 1 else 0 end as run_start,
            x.opening
     -- The two windows sort the history's own narrow rows; the subscription's currency is joined after them.
     from (select subscription_id, day, k, ord, status, prev, first_value(prev) over (partition by subscription_id, k order by day, ord) as opening
           from (select h.subscription_id, cast(h.effective_on - date '1970-01-01' as integer) as day, ${monthOf("cast(h.effective_on - date '1970-01-01' as integer)")} as k,
                        h.id as ord, h.to_status as status,
                        lag(h.to_status) over (partition by h.subscription_id order by h.effective_on, h.id) as prev
                 from ${t("status_history")} h) y) x
     join d_sub s on s.subscription_id = x.subscription_id`,
    // Change points: statuses, versions, and the 30th day of each run of delinquency.
    `create temp view d_tl as
     select subscription_id, day, 0 as src, ord, run_start, code, prev_code, cast(0 as bigint) as dv from d_status
     union all
     select subscription_id, day, 1, version, 0, cast(null as integer), cast(null as integer), dv from d_version
     union all
     select distinct subscription_id, day + 30, 2, 0, 0, cast(null as integer), cast(null as integer), cast(0 as bigint) from d_status where run_start = 1`,
    // One ordered pass over each subscription's change points (by day, then statuses, versions, delinquency marks,
    // each in insertion order): the status in force (its code rides in the low bits of the latest key), the amount
    // in force, the start of the current delinquency run. The MRR after each change point and before it give the
    // change's delta; a day's deltas add up to the change from the end of the day before to the end of this one.
    // Straight into f_delta: no working table to fill and copy again.
    `insert into ${only?.deltaInto ?? "f_delta"}
     with w as (
       select subscription_id, day, src, prev_code, dv,
              max(case when src = 0 then day * ${keyScale} + ord * 4 + code end) over o % 4 as code,
              sum(dv) over o as amount,
              max(case when run_start = 1 then day end) over o as since,
              lag(day) over o as prev_day
       from d_tl
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
     from mrr x join d_sub s on s.subscription_id = x.subscription_id
     where x.after_mrr <> x.before_mrr or (case when x.code = 3 then 1 else 0 end) <> (case when x.before_code = 3 then 1 else 0 end)`,
    `insert into ${only?.statusInto ?? "f_status"} select subscription_id, currency, day, k, ord, status, prev, opening from d_status`,
    ...workViews.map((v) => `drop view ${v}`),
    `drop table d_status`, `drop table d_sub`, `drop table d_vbase`, `drop table d_code`
  ]
}

/**
 * Customer facts from `f_delta`: customer-days netting all of a day's changes, classified, the month ends, the
 * cohort. Persisted (`into: "f"`), unconverted, of every customer or of those whose f_delta rows are in `deltas`:
 * per customer and currency (`scope` the currency), and for a customer in several currencies also across them
 * (`scope` `*`), each row split into its currencies' parts (`currency`, `d`), which a report converts at the
 * month's rate after grouping. Across currencies, whether a day is an expansion or a contraction (and a month's
 * change below 0) can depend on the rates when its currencies moved in opposite directions: such customers are
 * listed in `f_sensitive`, and a report that converts currencies classifies them again (`into: "q"`), the same
 * statements over a handful of customers, converted at the rate of the day's month (`rpt_fx`).
 */
export const customerStatements = (options: { readonly into: "f" | "q" | "n"; readonly deltas?: string; readonly live?: boolean }): ReadonlyArray<string> => {
  const live = options.into === "q"
  // Some customers only (a refresh): the caller gathers their f_delta rows as they are now into a table of their own.
  const deltas = options.deltas ?? "f_delta"
  // A refresh's customers (`into: "n"`) are listed in several currencies, or as sensitive to the rates, in tables of
  // their own (n_multi, n_sensitive), which replace their rows of f_multi and f_sensitive after.
  const multiIn = options.into === "n" ? "n_multi" : "f_multi"
  const sensitiveIn = options.into === "n" ? "n_sensitive" : "f_sensitive"
  // A day of one part (a customer in one currency, or converted as it goes) is its customer-day: grouped from f_delta
  // straight into d_cday, netting all of the day's changes (raw: unconverted, for the test that the day changed at all).
  const own = live
    ? `select x.contact_id, '*' as scope, x.day, x.k, sum(x.d * f.rate) as d, sum(x.dpos) as dpos, sum(x.dpaused) as dpaused, 0 as mixed
       from f_delta x join (select distinct contact_id from f_sensitive) s on s.contact_id = x.contact_id
       join rpt_fx f on f.currency = x.currency and f.k = x.k
       where ${options.live === true ? "1 = 1" : "1 = 0"}
       group by x.contact_id, x.day, x.k
       having sum(x.d) <> 0 or sum(x.dpos) <> 0 or sum(x.dpaused) <> 0`
    : `select x.contact_id, x.currency as scope, x.day, x.k, sum(x.d) as d, sum(x.dpos) as dpos, sum(x.dpaused) as dpaused, 0 as mixed
       from ${deltas} x
       group by x.contact_id, x.currency, x.day, x.k
       having sum(x.d) <> 0 or sum(x.dpos) <> 0 or sum(x.dpaused) <> 0`
  // Only the days across currencies (scope `*`, unconverted) have several parts: one per currency (none when converting as it goes).
  const splitParts = live
    ? `create temp table d_split (contact_id bigint, scope varchar, currency varchar, day integer, k integer, d float8, raw float8, dpos bigint, dpaused bigint)`
    : `create temp table d_split as
       select x.contact_id, '*' as scope, x.currency, x.day, x.k, sum(x.d) as d, sum(x.d) as raw, sum(x.dpos) as dpos, sum(x.dpaused) as dpaused
       from ${deltas} x join (select distinct contact_id from ${multiIn}) m on m.contact_id = x.contact_id
       group by x.contact_id, x.currency, x.day, x.k`
  // Joins, not `in (select …)`: DuckDB probes a join's hash table about twice as fast as a semi or mark join's.
  const multi = live ? "true" : "m.contact_id is not null"
  const multiJoin = live ? "" : `left join (select distinct contact_id from ${multiIn}) m on m.contact_id = x.contact_id`
  return [
    ...(live ? [] : [`insert into ${multiIn}
       select contact_id from ${deltas}
       group by contact_id having min(currency) <> max(currency)`]),
    splitParts,
    // Customer-days, netting all of a day's changes; mixed: its currencies moved in opposite directions.
    `create temp table d_cday as
     ${own}
     union all
     select contact_id, scope, day, k, sum(d) as d, sum(dpos) as dpos, sum(dpaused) as dpaused,
            case when max(d) > 0 and min(d) < 0 then 1 else 0 end as mixed
     from d_split group by contact_id, scope, day, k
     having sum(raw) <> 0 or sum(dpos) <> 0 or sum(dpaused) <> 0`,
    // Classified movements per customer-day; the last change of each month carries the month-end state.
    `create temp table d_cmv as
     with a as (
       select contact_id, scope, day, k, d, dpos, dpaused, mixed,
              sum(dpos) over o as npos, sum(dpaused) over o as npaused, sum(d) over o as cum_d,
              lead(k) over o as next_k,
              -- The first day with more subscriptions above 0 (positive dpos) is the first day above 0: before it every dpos is 0.
              min(case when dpos > 0 then day end) over (partition by contact_id, scope order by day rows between unbounded preceding and unbounded following) as first_day
       from d_cday
       window o as (partition by contact_id, scope order by day rows between unbounded preceding and current row))
     select x.contact_id, x.scope, ${multi} as multi, x.day, x.k, x.d, x.mixed, x.npos, x.npaused, x.first_day, x.cum_d, x.next_k,
            -- From 0 to above 0: the first time new; with a subscription paused at the end of the day before, the resume
            -- mirrors the pause's contraction as an expansion; any other return (after churn) a reactivation.
            case when x.npos - x.dpos = 0 and x.npos > 0 then case when x.day = x.first_day then 'new' when x.npaused - x.dpaused > 0 then 'expansion' else 'reactivation' end
                 when x.npos - x.dpos > 0 and x.npos = 0 then case when x.npaused > 0 then 'contraction' else 'churn' end
                 when x.npos > 0 and x.d > 0.000001 then 'expansion'
                 when x.npos > 0 and x.d < -0.000001 then 'contraction' end as kind
     from a x ${multiJoin}`,
    // The parts of the days across currencies (few): each movement's row per currency; a month's change in each currency
    // (of the days kept), its first currency the row that counts the customer (`counts`).
    `insert into ${options.into}_cmv
     select x.contact_id, x.scope, x.multi, x.day, x.k, coalesce(p.currency, x.scope), coalesce(p.d, x.d), x.kind
     from d_cmv x left join d_split p on p.contact_id = x.contact_id and p.scope = x.scope and p.day = x.day
     where x.kind is not null`,
    `create temp table d_cmpart as
     select contact_id, scope, currency, k, d, currency = min(currency) over (partition by contact_id, scope, k) as counts
     from (select p.contact_id, p.scope, p.currency, p.k, sum(p.d) as d
           from d_split p join d_cday c on c.contact_id = p.contact_id and c.scope = p.scope and c.day = p.day
           group by p.contact_id, p.scope, p.currency, p.k) x`,
    // Each customer's state at the end of every month it changed, beside its state before; total is the month's
    // change, d its part in the row's currency (counted: the one row of the month that counts the customer).
    `insert into ${options.into}_cmonth
     with e as (
       select contact_id, scope, multi, k, first_day, cum_d - coalesce(lag(cum_d) over o, 0) as total, npos, npaused,
              coalesce(lag(npos) over o, 0) as prev_npos,
              coalesce(lag(npaused) over o, 0) as prev_npaused
       from d_cmv
       where next_k is null or next_k <> k
       window o as (partition by contact_id, scope order by k))
     select e.contact_id, e.scope, e.multi, e.k, ${monthOf("e.first_day")}, coalesce(m.currency, e.scope),
            coalesce(m.d, e.total), e.total,
            e.npos, e.npaused, e.prev_npos, e.prev_npaused,
            case when m.counts is null or m.counts then 1 else 0 end
     from e left join d_cmpart m on m.contact_id = e.contact_id and m.scope = e.scope and m.k = e.k`,
    `insert into ${options.into}_cohort
     select contact_id, scope, multi, ${monthOf("first_day")} from d_cmv where day = first_day`,
    ...(live ? [] : [`insert into ${sensitiveIn}
       select contact_id from d_cmv where scope = '*' and mixed = 1
       union
       select contact_id from d_cmpart where scope = '*' group by contact_id, k having max(d) > 0 and min(d) < 0`]),
    `drop table d_cmpart`, `drop table d_split`, `drop table d_cmv`, `drop table d_cday`
  ]
}

/**
 * Before a report reads the facts (`monthlyTotalsSql`, `cohortSql`, `detailsSql`): the rates (`rpt_fx`, and 1 for
 * rows converted already), the customers whose classification depends on the rates classified with them when
 * the report converts currencies (`live`), and the rows the report reads: without conversion, each customer in
 * the report currency; with it, each customer in its one currency, or across its currencies.
 */
export const reportStatements = (live: boolean, currencies: ReadonlyArray<string>, options: { readonly noneSensitive?: boolean } = {}): ReadonlyArray<string> => {
  const own = live
    ? `((scope in (${currencyList(currencies)}) and not multi) or (scope = '*' and contact_id not in (select contact_id from f_sensitive)))`
    : `scope in (${currencyList(currencies)})`
  // The same rows, as the aggregates keep them.
  const ownGroups = live ? `((scope in (${currencyList(currencies)}) and not multi) or (scope = '*' and not sens))` : own
  return [
    `create temp table q_rate as select currency, k, rate from rpt_fx union all select '*', k, cast(1 as float8) from rpt_months`,
    ...["q_cmv", "q_cmonth", "q_cohort"].map((q) => `create temp table ${q} as select * from f_${q.slice(2)} where 1 = 0`),
    // (Nothing to classify again when no customer is listed in f_sensitive: the caller may say so and save the statements.)
    ...(options.noneSensitive === true ? [] : customerStatements({ into: "q", live })),
    `create temp view u_cmv as
     select contact_id, day, k, currency, d, kind from f_cmv where ${own}
     union all select contact_id, day, k, currency, d, kind from q_cmv`,
    `create temp view u_mv as
     select k, currency, kind, d from a_mv where ${ownGroups}
     union all select k, currency, kind, ${exact("d")} from q_cmv`,
    `create temp view u_cm as
     select k, cohort, currency, d, dsubs, dpaused, logos_lost, kept_delta, capped_delta from a_cm where ${ownGroups}
     union all select k, cohort, currency, d, dsubs, dpaused, logos_lost, kept_delta, capped_delta from (${cmonthGroups("select *, false as sens from q_cmonth", "")}) q`,
    `create temp view u_cohort as
     select cohort, size from a_cohort where ${ownGroups}
     union all select cohort, count(*) from q_cohort group by cohort`
  ]
}

/** The report's temp views and tables, to drop between runs on one connection (views first: they depend on the tables). */
export const reportViews = ["u_cmv", "u_mv", "u_cm", "u_cohort"] as const
export const reportTables = ["q_cmv", "q_cmonth", "q_cohort", "q_rate", "rpt_fx", "rpt_months"] as const

/** The report's currencies as an SQL list (ISO codes, checked by rateTable's caller; quoted all the same). */
const currencyList = (currencies: ReadonlyArray<string>) => currencies.map((c) => `'${c.replaceAll("'", "''")}'`).join(", ")

/** Per-month totals in minor units of the report currency, one row per month of `rpt_months`. */
export const monthlyTotalsSql = (currencies: ReadonlyArray<string>) => `
  with n as (select scope as currency, k, sum(d) as d from a_cm where scope in (${currencyList(currencies)}) group by scope, k),
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
  -- Movements grouped by month, currency and kind, then converted at the month's rate.
  mv0 as (
    select x.k, x.kind, x.d * r.rate as d
    from (select k, currency, kind, sum(d) as d from u_mv group by k, currency, kind) x
    join q_rate r on r.currency = x.currency and r.k = x.k),
  mv as (
    select k,
           sum(case when kind = 'new' then d else 0 end) as new_mrr,
           sum(case when kind = 'expansion' then d else 0 end) as expansion,
           sum(case when kind = 'contraction' then -d else 0 end) as contraction,
           sum(case when kind = 'churn' then -d else 0 end) as churn,
           sum(case when kind = 'reactivation' then d else 0 end) as reactivation
    from mv0 group by k),
  cm0 as (
    select k, currency, sum(dsubs) as dsubs, sum(dpaused) as dpaused, sum(logos_lost) as logos_lost,
           sum(kept_delta) as kept_delta, sum(capped_delta) as capped_delta
    from u_cm group by k, currency),
  cm as (
    select x.k, sum(x.dsubs) as dsubs, sum(x.dpaused) as dpaused, sum(x.logos_lost) as logos_lost,
           sum(x.kept_delta * r.rate) as kept_delta, sum(x.capped_delta * r.rate) as capped_delta
    from cm0 x join q_rate r on r.currency = x.currency and r.k = x.k group by x.k),
  st as (
    select k, sum(new_subscriptions) as new_subscriptions, sum(canceled) as canceled, sum(expired) as expired,
           sum(dlive) as dlive, sum(dstarted) as dstarted, sum(canceled_of_live) as canceled_of_live
    from a_status where currency in (${currencyList(currencies)})
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
         coalesce(st.canceled_of_live, 0) as canceled_of_live
  from rpt_months m
  left join money on money.k = m.k
  left join mv on mv.k = m.k
  left join cm on cm.k = m.k
  left join st on st.k = m.k
  order by m.k`

/** Cohorts by the month of the customer's first MRR > 0: logos and MRR at the end of every month. */
export const cohortSql = `
  with c as (select cohort from u_cohort),
  logos as (
    select cohort, k, sum(dsubs) as dl from u_cm group by cohort, k),
  -- A cohort's MRR in each currency: the customers' month changes (per currency), and those converted at report
  -- time (several currencies) from their subscriptions' changes.
  money as (
    select cohort, currency, k, sum(d) as d
    from (select cohort, currency, k, d from u_cm where currency <> '*'
          union all
          select c.cohort, x.currency, x.k, ${exact("x.d")} from f_delta x join q_cohort c on c.contact_id = x.contact_id
          where x.currency in (select currency from rpt_fx)) y
    group by cohort, currency, k),
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

/** Customers per cohort. */
export const cohortSizesSql = `select cohort, sum(size) as size from u_cohort group by cohort`

/** Each customer-day movement (the drill-down behind the totals), converted; the caller orders them, after naming the customers. */
export const detailsSql = (fromK: number, toK: number) => `
  select contact_id, day, kind, case when d < 0 then -d else d end as amount
  from (select x.contact_id, x.day, x.kind, sum(x.d * r.rate) as d
        from u_cmv x join q_rate r on r.currency = x.currency and r.k = x.k
        where x.k between ${fromK} and ${toK}
        group by x.contact_id, x.day, x.kind) y`
