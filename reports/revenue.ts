/**
 * Recurring-revenue reports. One consistent snapshot of the store (a single
 * REPEATABLE READ, READ ONLY transaction) becomes, per subscription, an MRR
 * timeline (METRICS.md): the item version in force, net of unit discounts,
 * no tax, no one-time lines, normalised to a month; 0 while scheduled,
 * paused, canceled or expired; kept for 30 days of delinquency, then 0.
 * Customers' daily changes are netted and classified into movements; DuckDB
 * aggregates balances, movements and subscription counts per month.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import { toDayNumber } from "../engine/billing/index.ts"
import type { CalendarDate } from "../engine/domain/index.ts"
import { minorUnitExponent } from "../engine/domain/index.ts"
import type { Sql } from "../engine/store/index.ts"

export const reportKinds = ["mrr", "movements", "churn", "retention", "cohorts", "growth"] as const
export type ReportKind = (typeof reportKinds)[number]

interface SubRow { id: number; contact_id: number; currency: string; frequency_unit: string; frequency_count: number; start_date: string; created_on: string }
interface VersionRow { subscription_id: number; version: number; effective_from: string; per_period: number }
interface StatusRow { subscription_id: number; to_status: string; effective_on: string }

export interface Snapshot {
  readonly subscriptions: Array<SubRow>
  readonly versions: Array<VersionRow>
  readonly statuses: Array<StatusRow>
}

/** Reads everything a report needs in one read-only snapshot. */
export const loadSnapshot = (sql: Sql): Promise<Snapshot> =>
  sql.begin("isolation level repeatable read read only", async (tx) => ({
    subscriptions: await tx<Array<SubRow>>`select id, contact_id, currency, frequency_unit, frequency_count, start_date, created_on from subscriptions`,
    versions: await tx<Array<VersionRow>>`
      select v.subscription_id, v.version, v.effective_from,
             coalesce(sum(case when l.one_time then 0
                               when l.discount_ppm is not null then round(l.unit_price * l.quantity * (1000000 - l.discount_ppm) / 1000000.0)
                               when l.discount_amount is not null then greatest(l.unit_price - l.discount_amount, 0) * l.quantity
                               else l.unit_price * l.quantity end), 0)::float8 as per_period
      from item_versions v left join line_items l on l.subscription_id = v.subscription_id and l.version = v.version
      group by 1, 2, 3 order by 1, 2`,
    statuses: await tx<Array<StatusRow>>`select subscription_id, to_status, effective_on from status_history order by subscription_id, effective_on, id`
  })) as Promise<Snapshot>

const monthly = (perPeriod: number, unit: string, count: number) =>
  unit === "day" ? (perPeriod * 365) / 12 / count : unit === "week" ? (perPeriod * 52) / 12 / count : unit === "month" ? perPeriod / count : perPeriod / (12 * count)

interface Point { day: number; mrr: number; paused: boolean }

/** A subscription's MRR after each day it changed (the state at the end of that day). */
export const subscriptionTimeline = (sub: SubRow, versions: ReadonlyArray<VersionRow>, statuses: ReadonlyArray<StatusRow>): Array<Point> => {
  const vs = versions.map((v) => ({ day: toDayNumber(v.effective_from as CalendarDate), amount: monthly(v.per_period, sub.frequency_unit, sub.frequency_count), version: v.version }))
  const ss = statuses.map((s) => ({ day: toDayNumber(s.effective_on as CalendarDate), status: s.to_status }))
  const days = new Set<number>([...vs.map((v) => v.day), ...ss.map((s) => s.day)])
  // Delinquency: MRR stays for 30 days of continuous unpaid/past-due, then drops (delinquent churn).
  let since: number | undefined
  for (const s of ss) {
    if (s.status === "unpaid" || s.status === "past_due") {
      if (since === undefined) since = s.day
      days.add(since + 30)
    } else since = undefined
  }
  const out: Array<Point> = []
  let last: Point | undefined
  for (const day of [...days].sort((a, b) => a - b)) {
    let amount = 0
    for (const v of vs) if (v.day <= day) amount = v.amount
    let status = "scheduled"
    let delinquentSince: number | undefined
    for (const s of ss) {
      if (s.day > day) break
      if (s.status === "unpaid" || s.status === "past_due") delinquentSince ??= s.day
      else delinquentSince = undefined
      status = s.status
    }
    const live = status === "active" || ((status === "unpaid" || status === "past_due") && delinquentSince !== undefined && day < delinquentSince + 30)
    const p: Point = { day, mrr: live ? amount : 0, paused: status === "paused" }
    if (last === undefined || Math.abs(last.mrr - p.mrr) > 1e-9 || last.paused !== p.paused) out.push(p)
    last = p
  }
  return out
}

export interface ReportOptions {
  readonly kind: ReportKind
  readonly from: string
  readonly to: string
  readonly currency: string
}

export type ReportRow = Record<string, string | number>

const monthsBetween = (from: string, to: string): Array<string> => {
  const out: Array<string> = []
  let [y, m] = from.split("-").map(Number) as [number, number]
  const [ty, tm] = to.split("-").map(Number) as [number, number]
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, "0")}`)
    m++
    if (m > 12) { m = 1; y++ }
  }
  return out
}
const monthEnd = (month: string) => {
  const [y, m] = month.split("-").map(Number)
  return toDayNumber(new Date(Date.UTC(y!, m!, 0)).toISOString().slice(0, 10) as CalendarDate)
}

/** Builds a report's rows: one per month, amounts in major units of the currency, rates as fractions. */
export const buildReport = async (sql: Sql, options: ReportOptions): Promise<Array<ReportRow>> => {
  const snap = await loadSnapshot(sql)
  const months = monthsBetween(options.from, options.to)
  const scale = 10 ** minorUnitExponent(options.currency)
  const subs = snap.subscriptions.filter((s) => s.currency === options.currency)
  const versionsOf = new Map<number, Array<VersionRow>>()
  for (const v of snap.versions) (versionsOf.get(v.subscription_id) ?? versionsOf.set(v.subscription_id, []).get(v.subscription_id)!).push(v)
  const statusesOf = new Map<number, Array<StatusRow>>()
  for (const s of snap.statuses) (statusesOf.get(s.subscription_id) ?? statusesOf.set(s.subscription_id, []).get(s.subscription_id)!).push(s)

  const instance = await DuckDBInstance.create(":memory:")
  const db = await instance.connect()
  try {
    await db.run(`create table sub_point (subscription_id bigint, contact_id bigint, day integer, mrr double, paused boolean)`)
    await db.run(`create table sub_status (subscription_id bigint, day integer, status varchar)`)
    const points = await db.createAppender("sub_point")
    const status = await db.createAppender("sub_status")
    for (const s of subs) {
      for (const p of subscriptionTimeline(s, versionsOf.get(s.id) ?? [], statusesOf.get(s.id) ?? [])) {
        points.appendBigInt(BigInt(s.id)); points.appendBigInt(BigInt(s.contact_id)); points.appendInteger(p.day); points.appendDouble(p.mrr); points.appendBoolean(p.paused); points.endRow()
      }
      for (const st of statusesOf.get(s.id) ?? []) {
        status.appendBigInt(BigInt(s.id)); status.appendInteger(toDayNumber(st.effective_on as CalendarDate)); status.appendVarchar(st.to_status); status.endRow()
      }
    }
    points.closeSync()
    status.closeSync()
    await db.run(`create table months as select * from (values ${months.map((m, i) => `('${m}', ${monthEnd(m)}, ${i})`).join(",")}) t(month, end_day, k)`)
    const rows = await computeKind(db, options.kind, months, scale)
    return rows
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

const read = async (db: DuckDBConnection, query: string): Promise<Array<Record<string, any>>> => (await db.runAndReadAll(query)).getRowObjectsJS() as Array<Record<string, any>>

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits
const rate = (n: number, d: number) => (d === 0 ? 0 : round(n / d, 6))

/** Customer MRR at the end of each day it changed, and at each month end. */
const customerViews = `
  create or replace table cust_day as
    with days as (select distinct contact_id, day from sub_point),
    st as (
      select d.contact_id, d.day, p.subscription_id,
             arg_max(p.mrr, p.day) as mrr, arg_max(p.paused, p.day) as paused
      from days d join sub_point p on p.contact_id = d.contact_id and p.day <= d.day
      group by 1, 2, 3)
    select contact_id, day, sum(mrr) as mrr, bool_or(paused) as paused from st group by 1, 2;
  create or replace table cust_month as
    select m.month, m.k, c.contact_id, coalesce(arg_max(c.mrr, c.day), 0) as mrr
    from months m join (select distinct contact_id from sub_point) cc on true
    left join cust_day c on c.contact_id = cc.contact_id and c.day <= m.end_day
    group by 1, 2, 3;
  create or replace table movement as
    with seq as (
      select contact_id, day, mrr, paused,
             coalesce(lag(mrr) over (partition by contact_id order by day), 0) as before,
             coalesce(max(mrr) over (partition by contact_id order by day rows between unbounded preceding and 1 preceding), 0) as best_before
      from cust_day)
    select contact_id, day, strftime(date '1970-01-01' + day::integer, '%Y-%m') as month, mrr - before as delta,
           case when before = 0 and mrr > 0 and best_before = 0 then 'new'
                when before = 0 and mrr > 0 then 'reactivation'
                when before > 0 and mrr = 0 and paused then 'contraction'
                when before > 0 and mrr = 0 then 'churn'
                when mrr > before then 'expansion'
                when mrr < before then 'contraction' end as kind
    from seq where abs(mrr - before) > 1e-9;
`

const computeKind = async (db: DuckDBConnection, kind: ReportKind, months: ReadonlyArray<string>, scale: number): Promise<Array<ReportRow>> => {
  await db.run(customerViews)
  const money = (x: number) => round(x / scale)
  if (kind === "mrr") {
    const rows = await read(db, `select month, sum(mrr) as mrr, count(*) filter (where mrr > 0) as subscribers from cust_month group by month order by month`)
    const by = new Map(rows.map((r) => [r["month"], r]))
    return months.map((m) => {
      const r = by.get(m)
      const mrr = Number(r?.["mrr"] ?? 0), subs = Number(r?.["subscribers"] ?? 0)
      return { month: m, mrr: money(mrr), arr: money(mrr * 12), subscribers: subs, arpa: subs === 0 ? 0 : money(mrr / subs) }
    })
  }
  const balances = new Map((await read(db, `select month, sum(mrr) as mrr, count(*) filter (where mrr > 0) as n from cust_month group by 1`)).map((r) => [r["month"] as string, { mrr: Number(r["mrr"]), n: Number(r["n"]) }]))
  const startOf = async (month: string) => {
    const prev = prevMonth(month)
    const r = balances.get(prev)
    if (r !== undefined) return r
    const [row] = await read(db, `with c as (select contact_id, arg_max(mrr, day) as mrr from cust_day where day <= ${monthEnd(prev)} group by 1) select coalesce(sum(mrr), 0) as mrr, count(*) filter (where mrr > 0) as n from c`)
    return { mrr: Number(row!["mrr"]), n: Number(row!["n"]) }
  }
  if (kind === "movements") {
    const mv = await read(db, `select month, kind, sum(delta) as amount from movement group by 1, 2`)
    const out: Array<ReportRow> = []
    for (const m of months) {
      const get = (k: string) => Math.abs(Number(mv.find((r) => r["month"] === m && r["kind"] === k)?.["amount"] ?? 0))
      const start = (await startOf(m)).mrr
      const end = balances.get(m)?.mrr ?? 0
      const row = { new: get("new"), expansion: get("expansion"), contraction: get("contraction"), churn: get("churn"), reactivation: get("reactivation") }
      const net = row.new + row.expansion + row.reactivation - row.contraction - row.churn
      if (Math.abs(start + net - end) > 1e-6 * Math.max(1, end)) throw new Error(`movements do not add up in ${m}: ${start} + ${net} ≠ ${end}`)
      out.push({ month: m, mrr_start: money(start), new: money(row.new), expansion: money(row.expansion), contraction: money(row.contraction), churn: money(row.churn), reactivation: money(row.reactivation), fx_adjustment: 0, net_new_mrr: money(net), mrr_end: money(end) })
    }
    return out
  }
  if (kind === "churn") {
    const out: Array<ReportRow> = []
    for (const m of months) {
      const start = await startOf(m)
      const [c] = await read(db, `
        with s as (select contact_id, arg_max(mrr, day) as mrr from cust_day where day <= ${monthEnd(prevMonth(m))} group by 1 having arg_max(mrr, day) > 0),
             e as (select contact_id, arg_max(mrr, day) as mrr, arg_max(paused, day) as paused from cust_day where day <= ${monthEnd(m)} group by 1)
        select count(*) filter (where coalesce(e.mrr, 0) = 0 and not coalesce(e.paused, false)) as lost from s left join e using (contact_id)`)
      const [mv] = await read(db, `select coalesce(sum(-delta) filter (where kind in ('churn', 'contraction')), 0) as lost, coalesce(sum(delta) filter (where kind in ('expansion', 'reactivation')), 0) as won from movement where month = '${m}'`)
      const [subs] = await read(db, `
        with live as (select subscription_id, arg_max(status, day) as status from sub_status where day <= ${monthEnd(prevMonth(m))} group by 1)
        select (select count(*) from live where status in ('active', 'past_due', 'unpaid', 'paused')) as live,
               (select count(distinct subscription_id) from sub_status where status = 'canceled' and strftime(date '1970-01-01' + day::integer, '%Y-%m') = '${m}') as canceled`)
      const lost = Number(mv!["lost"]), won = Number(mv!["won"])
      out.push({
        month: m, subscribers_start: start.n, subscribers_end: balances.get(m)?.n ?? 0,
        logo_churn_rate: rate(Number(c!["lost"]), start.n), gross_mrr_churn_rate: rate(lost, start.mrr), net_mrr_churn_rate: rate(lost - won, start.mrr),
        cancellation_rate: rate(Number(subs!["canceled"]), Number(subs!["live"]))
      })
    }
    return out
  }
  if (kind === "retention") {
    const out: Array<ReportRow> = []
    for (const m of months) {
      const [r] = await read(db, `
        with s as (select contact_id, arg_max(mrr, day) as mrr from cust_day where day <= ${monthEnd(prevMonth(m))} group by 1 having arg_max(mrr, day) > 0),
             e as (select contact_id, arg_max(mrr, day) as mrr from cust_day where day <= ${monthEnd(m)} group by 1)
        select coalesce(sum(s.mrr), 0) as start, coalesce(sum(coalesce(e.mrr, 0)), 0) as kept, coalesce(sum(least(coalesce(e.mrr, 0), s.mrr)), 0) as capped
        from s left join e using (contact_id)`)
      out.push({ month: m, nrr: rate(Number(r!["kept"]), Number(r!["start"])), grr: rate(Number(r!["capped"]), Number(r!["start"])) })
    }
    return out
  }
  if (kind === "growth") {
    const out: Array<ReportRow> = []
    for (const m of months) {
      const [g] = await read(db, `
        with at_start as (select subscription_id, arg_max(status, day) as status from sub_status where day <= ${monthEnd(prevMonth(m))} group by 1),
             at_end as (select subscription_id, arg_max(status, day) as status from sub_status where day <= ${monthEnd(m)} group by 1),
             first as (select subscription_id, min(day) as day from sub_status group by 1),
             inmonth as (select * from sub_status where strftime(date '1970-01-01' + day::integer, '%Y-%m') = '${m}')
        select (select count(*) from at_start where status not in ('canceled', 'expired')) as s,
               (select count(*) from first where strftime(date '1970-01-01' + day::integer, '%Y-%m') = '${m}') as n,
               (select count(distinct subscription_id) from inmonth where status = 'canceled') as c,
               (select count(distinct subscription_id) from inmonth where status = 'expired') as x,
               (select count(*) from at_end where status not in ('canceled', 'expired')) as e`)
      out.push({ month: m, subscriptions_start: Number(g!["s"]), new_subscriptions: Number(g!["n"]), canceled: Number(g!["c"]), expired: Number(g!["x"]), subscriptions_end: Number(g!["e"]) })
    }
    return out
  }
  // cohorts: customers by the month their MRR first went above 0, and how many still have MRR > 0 at each later month end.
  const first = await read(db, `select contact_id, strftime(date '1970-01-01' + min(day)::integer, '%Y-%m') as cohort from cust_day where mrr > 0 group by 1`)
  const active = await read(db, `select month, contact_id from cust_month where mrr > 0`)
  const activeIn = new Map<string, Set<number>>()
  for (const a of active) (activeIn.get(a["month"]) ?? activeIn.set(a["month"], new Set()).get(a["month"])!).add(Number(a["contact_id"]))
  return months.map((cohort, ci) => {
    const members = first.filter((f) => f["cohort"] === cohort).map((f) => Number(f["contact_id"]))
    const row: ReportRow = { cohort, size: members.length }
    for (let k = 0; ci + k < months.length; k++) row[`m${k}`] = members.filter((c) => activeIn.get(months[ci + k]!)?.has(c)).length
    return row
  })
}

const prevMonth = (month: string) => {
  const [y, m] = month.split("-").map(Number) as [number, number]
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`
}

