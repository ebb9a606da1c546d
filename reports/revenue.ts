/**
 * Recurring-revenue reports (METRICS.md). The store's snapshot is loaded into
 * an in-process DuckDB (load.ts), the metric SQL (metricSql.ts) turns it into
 * classified customer-day movements and monthly totals, and this module
 * shapes the rows: amounts in major units of the report currency, rates as
 * fractions. The movements identity is asserted for every month.
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import { minorUnitExponent } from "../engine/domain/index.ts"
import type { Sql } from "../engine/sql/index.ts"
import type { FxRate } from "./fx.ts"
import { monthIndex, monthName, rateTable } from "./fx.ts"
import { loadSnapshot } from "./load.ts"
import { aggregateStatements, cohortSizesSql, cohortSql, compactStatements, customerStatements, detailsSql, factTables, factTableStatements, monthlyTotalsSql, reportStatements, reportTables, reportViews, subscriptionStatements } from "./metricSql.ts"

export const reportKinds = ["mrr", "movements", "churn", "retention", "cohorts", "growth"] as const
export type ReportKind = (typeof reportKinds)[number]

export type ReportRow = Record<string, string | number | null>

export interface ReportOptions {
  readonly from: string
  readonly to: string
  readonly currency: string
  /** Rates from `--fx`: with them every currency in the store is converted; without, only `currency` is reported. */
  readonly fx?: { readonly file: string; readonly rates: ReadonlyArray<FxRate> }
  /** Also list each customer-day movement (`details`); empty otherwise. */
  readonly details?: boolean
}

export interface ReportSet {
  readonly mrr: Array<ReportRow>
  readonly movements: Array<ReportRow>
  readonly churn: Array<ReportRow>
  readonly retention: Array<ReportRow>
  readonly growth: Array<ReportRow>
  readonly cohorts: Array<ReportRow>
  /** Each customer-day movement of the months reported, when asked for (`report movements --details`). */
  readonly details: Array<ReportRow>
  /** Currencies of the store's subscriptions the report leaves out: no `--fx` rate converts them to the report currency. */
  readonly unconverted: ReadonlyArray<string>
  readonly timings: { readonly loadMs: number; readonly computeMs: number }
}

/**
 * What a shared report (the dashboard, the HTML report, the workbook) says when
 * it leaves currencies out, once the CLI's warning on stderr is gone: one
 * wording for all of them. Undefined when nothing is left out.
 */
export const unconvertedNote = (unconverted: ReadonlyArray<string>, currency: string): string | undefined =>
  unconverted.length === 0 ? undefined : `No rate from ${unconverted.join(", ")} to ${currency}: those subscriptions are left out of these figures.`

const read = async (db: DuckDBConnection, query: string): Promise<Array<Record<string, any>>> =>
  (await db.runAndReadAll(query)).getRowObjectsJS() as Array<Record<string, any>>

const round = (x: number, digits: number) => {
  const f = 10 ** digits
  const r = Math.round(Math.abs(x) * f) / f
  return x < 0 ? -r || 0 : r
}
/**
 * Exact amounts (minor units) rounded to whole minor units that add up to `total`: each rounded on its own (half
 * away from zero), then the units that rounding left over (33.333… three times is 100.00, not 99.99) go one by
 * one to the amounts that rounding moved furthest the other way (largest remainder), never to one that is 0.
 */
const apportion = (parts: ReadonlyArray<number>, total: number): Array<number> => {
  const rounded = parts.map((p) => round(p, 0))
  let left = total - rounded.reduce((a, b) => a + b, 0)
  if (left === 0) return rounded
  const sign = left > 0 ? 1 : -1
  const order = parts.map((_, i) => i).filter((i) => parts[i] !== 0)
    .sort((a, b) => sign * ((parts[b]! - rounded[b]!) - (parts[a]! - rounded[a]!)))
  for (let j = 0; left !== 0 && order.length > 0; j = (j + 1) % order.length) {
    rounded[order[j]!] = rounded[order[j]!]! + sign
    left -= sign
  }
  return rounded
}

/** A rate, or null (shown as n/a) where it has no denominator. */
const ratio = (n: number, d: number) => (Math.abs(d) < 1e-9 ? null : round(n / d, 6))

/** Fills `rpt_fx` and `rpt_months` on a DuckDB connection. */
const writeParameters = async (db: DuckDBConnection, rates: ReadonlyArray<{ currency: string; k: number; rate: number }>, firstK: number, lastK: number) => {
  await db.run(`create or replace temp table rpt_fx (currency varchar, k integer, rate double)`)
  await db.run(`create or replace temp table rpt_months (k integer, month varchar)`)
  const fx = await db.createAppender("rpt_fx")
  for (const r of rates) {
    fx.appendVarchar(r.currency)
    fx.appendInteger(r.k)
    fx.appendDouble(r.rate)
    fx.endRow()
  }
  fx.closeSync()
  const months = await db.createAppender("rpt_months")
  for (let k = firstK; k <= lastK; k++) {
    months.appendInteger(k)
    months.appendVarchar(monthName(k))
    months.endRow()
  }
  months.closeSync()
}

/** Every report for the months `from`…`to`, from one snapshot of the store. */
export const buildReports = async (sql: Sql, options: ReportOptions): Promise<ReportSet> => {
  // DuckDB is loaded when a report is built, not when the command line starts.
  const { DuckDBInstance } = await import("@duckdb/node-api")
  const instance = await DuckDBInstance.create(":memory:")
  const db = await instance.connect()
  try {
    const t0 = performance.now()
    await loadSnapshot(sql, db, { withContacts: options.details === true })
    const loadMs = performance.now() - t0
    const set = await computeReports(db, options)
    return { ...set, timings: { loadMs, computeMs: set.timings.computeMs } }
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

/**
 * The reports from tables already in DuckDB (`subscriptions`, `item_versions`,
 * `line_items`, `status_history`, `contacts`, as load.ts makes them).
 */
export const computeReports = async (db: DuckDBConnection, options: ReportOptions): Promise<ReportSet> => {
  const t0 = performance.now()
  for (const view of reportViews) await db.run(`drop view if exists ${view}`)
  for (const table of reportTables) await db.run(`drop table if exists ${table}`)
  // The analytics copy keeps the fact tables and their aggregates up to date; without them (a load into memory), they are derived here, by the same statements.
  const [kept] = await read(db, `select count(*)::integer as n from duckdb_tables() where table_name = 'a_status' and not temporary`)
  if (Number(kept?.["n"] ?? 0) === 0) await deriveFacts(db, true)
  const fromK = monthIndex(options.from)
  const toK = monthIndex(options.to)
  // The first day of history: an analytics copy keeps it per subscription (f_first), not the history tables.
  const [copy] = await read(db, `select count(*)::integer as n from duckdb_tables() where table_name = 'f_first' and not temporary`)
  const [span] = await read(db, Number(copy?.["n"] ?? 0) > 0
    ? `select (select cast(date '1970-01-01' + min(day) as varchar) from f_first) as s, null as v, (select list(distinct currency) from subscriptions) as currencies`
    : `select (select cast(min(effective_on) as varchar) from status_history) as s, (select cast(min(effective_from) as varchar) from item_versions) as v,
              (select list(distinct currency) from subscriptions) as currencies`)
  const firstData = [span?.["s"], span?.["v"]].filter((d) => d !== null && d !== undefined).map((d) => String(d)).sort()[0]
  // Six months before the report feed LTV; one more gives the opening balance of the first of them.
  const firstK = Math.min(fromK - 7, firstData === undefined ? fromK : monthIndex(firstData.slice(0, 7)))
  const stored = ((span?.["currencies"] ?? []) as Array<string>)
  const currencies = options.fx === undefined ? [options.currency] : [...new Set([options.currency, ...stored])].sort()
  const rates = rateTable({
    file: options.fx?.file ?? "--fx", rates: options.fx?.rates ?? [], reportCurrency: options.currency, currencies,
    firstK, reportFromK: fromK, lastK: toK
  })
  await writeParameters(db, rates, firstK, toK)
  // A customer in several currencies is classified with the rates when the report converts currencies.
  const live = currencies.length > 1
  const [sensitive] = live ? await read(db, `select count(*)::integer as n from f_sensitive`) : [{ n: 0 }]
  for (const statement of reportStatements(live, currencies, { noneSensitive: Number(sensitive?.["n"] ?? 0) === 0 })) await db.run(statement)
  const totals = await read(db, monthlyTotalsSql(currencies))
  const cohortCells = await read(db, cohortSql)
  const cohortSizes = await read(db, cohortSizesSql)
  const details = options.details === true ? await readDetails(db, fromK, toK) : noDetails
  const rows = shapeRows(options, totals, cohortCells, cohortSizes, details, fromK, toK)
  const unconverted = stored.filter((c) => !currencies.includes(c)).sort()
  return { ...rows, unconverted, timings: { loadMs: 0, computeMs: performance.now() - t0 } }
}

/**
 * The fact tables (metricSql.ts) of every subscription and customer, from the
 * store's tables in `db`: temp tables for a report without a copy, the copy's
 * own tables on a rebuild. A refresh runs the same statements restricted.
 */
export const deriveFacts = async (db: DuckDBConnection, temp: boolean) => {
  for (const t of factTables) await db.run(`drop table if exists ${temp ? "temp." : ""}${t.name}`)
  for (const statement of factTableStatements(temp)) await db.run(statement)
  for (const statement of subscriptionStatements()) await db.run(statement)
  for (const statement of customerStatements({ into: "f" })) await db.run(statement)
  for (const statement of [...aggregateStatements("+"), ...compactStatements()]) await db.run(statement)
}

/** The drill-down, column by column (amounts in minor units of the report currency). */
interface DetailColumns {
  readonly date: ReadonlyArray<string>
  readonly customer: ReadonlyArray<string>
  readonly kind: ReadonlyArray<string>
  readonly amount: ReadonlyArray<number>
}

const noDetails: DetailColumns = { date: [], customer: [], kind: [], amount: [] }

/** The drill-down, read by column: there can be millions of rows, and row objects cost twice as much to read. */
const readDetails = async (db: DuckDBConnection, fromK: number, toK: number): Promise<DetailColumns> => {
  const result = await db.runAndReadAll(`
    select cast(date '1970-01-01' + x.day as varchar) as date, coalesce(c.label, cast(x.contact_id as varchar)) as customer, x.kind, x.amount
    from (${detailsSql(fromK, toK)}) x left join contacts c on c.id = x.contact_id
    order by x.day, x.contact_id`)
  const columns = result.getColumnsJS()
  if (columns.length === 0) return noDetails // no movement: DuckDB gives no columns at all
  const [date, customer, kind, amount] = columns as [Array<string>, Array<string>, Array<string>, Array<number>]
  return { date, customer, kind, amount }
}

/** One report's rows (see `buildReports`). */
export const buildReport = async (sql: Sql, options: ReportOptions & { readonly kind: ReportKind }): Promise<Array<ReportRow>> =>
  (await buildReports(sql, options))[options.kind]

const shapeRows = (
  options: ReportOptions,
  totals: ReadonlyArray<Record<string, any>>,
  cohortCells: ReadonlyArray<Record<string, any>>,
  cohortSizes: ReadonlyArray<Record<string, any>>,
  details: DetailColumns,
  fromK: number,
  toK: number
): Omit<ReportSet, "timings" | "unconverted"> => {
  const scale = 10 ** minorUnitExponent(options.currency)
  // Rounded to the currency's minor units (half away from zero): cents for USD, whole yen, fils (three decimals) for KWD.
  const money = (minor: number) => round(round(minor, 0) / scale, minorUnitExponent(options.currency))
  const byK = new Map<number, Record<string, number>>()
  for (const t of totals) {
    const row: Record<string, number> = {}
    for (const [key, value] of Object.entries(t)) if (key !== "month") row[key] = Number(value ?? 0)
    byK.set(row["k"]!, row)
  }
  const at = (k: number, key: string) => byK.get(k)?.[key] ?? 0
  const logoRate = (k: number) => ratio(at(k, "logos_lost"), at(k - 1, "subscribers"))
  const ks: Array<number> = []
  for (let k = fromK; k <= toK; k++) ks.push(k)

  const mrr = ks.map((k) => {
    const m = at(k, "mrr_end"), subs = at(k, "subscribers")
    const arpa = subs === 0 ? null : m / subs
    // A month that opened with no customer has no churn rate (0 of 0): it is left out of the average, not counted as 0%.
    let churnSum = 0, churnMonths = 0
    for (let j = k - 6; j < k; j++) {
      if (at(j - 1, "subscribers") === 0) continue
      churnSum += at(j, "logos_lost") / at(j - 1, "subscribers")
      churnMonths++
    }
    const avgChurn = churnMonths === 0 ? 0 : churnSum / churnMonths
    return { month: monthName(k), mrr: money(m), arr: money(m * 12), subscribers: subs, arpa: arpa === null ? null : money(arpa), paused: at(k, "paused"), ltv: avgChurn === 0 || arpa === null ? null : money(arpa / avgChurn) }
  })

  // Each month's printed movement totals (minor units), which its drill-down adds up to.
  const printedKinds = new Map<number, Record<string, number>>()
  const movements = ks.map((k) => {
    const start = at(k, "mrr_start"), end = at(k, "mrr_end"), fx = at(k, "fx_adjustment")
    const net = at(k, "new_mrr") + at(k, "expansion") + at(k, "reactivation") - at(k, "contraction") - at(k, "churn")
    if (Math.abs(start + fx + net - end) > 1e-6 * Math.max(1, Math.abs(end), Math.abs(start))) {
      throw new Error(`movements do not add up in ${monthName(k)}: ${start} + ${fx} + ${net} ≠ ${end}`)
    }
    // Printed so that the row foots: the balances as `report mrr` prints them, the movements rounded together to their difference.
    const [fxAdjustment, newMrr, expansion, reactivation, contraction, churn] = apportion([
      fx, at(k, "new_mrr"), at(k, "expansion"), at(k, "reactivation"), -at(k, "contraction"), -at(k, "churn")
    ], round(end, 0) - round(start, 0))
    printedKinds.set(k, { new: newMrr!, expansion: expansion!, reactivation: reactivation!, contraction: -contraction!, churn: -churn! })
    return {
      month: monthName(k), mrr_start: money(start), new: money(newMrr!), expansion: money(expansion!),
      contraction: money(-contraction!), churn: money(-churn!), reactivation: money(reactivation!),
      fx_adjustment: money(fxAdjustment!), net_new_mrr: money(newMrr! + expansion! + reactivation! + contraction! + churn!), mrr_end: money(end)
    }
  })

  const churn = ks.map((k) => {
    const opening = at(k, "mrr_start") + at(k, "fx_adjustment")
    const lost = at(k, "churn") + at(k, "contraction")
    const won = at(k, "expansion") + at(k, "reactivation")
    return {
      month: monthName(k), subscribers_start: at(k - 1, "subscribers"), subscribers_end: at(k, "subscribers"),
      logo_churn_rate: logoRate(k), gross_mrr_churn_rate: ratio(lost, opening), net_mrr_churn_rate: ratio(lost - won, opening),
      cancellation_rate: ratio(at(k, "canceled_of_live"), at(k - 1, "started_live"))
    }
  })

  const retention = ks.map((k) => {
    const opening = at(k, "mrr_start") + at(k, "fx_adjustment")
    return { month: monthName(k), nrr: ratio(opening + at(k, "kept_delta"), opening), grr: ratio(opening + at(k, "capped_delta"), opening) }
  })

  const growth = ks.map((k) => ({
    month: monthName(k), subscriptions_start: at(k - 1, "live"), new_subscriptions: at(k, "new_subscriptions"),
    canceled: at(k, "canceled"), expired: at(k, "expired"), subscriptions_end: at(k, "live")
  }))

  const sizes = new Map(cohortSizes.map((c) => [Number(c["cohort"]), Number(c["size"])]))
  const cells = new Map(cohortCells.map((c) => [`${c["cohort"]}/${c["k"]}`, c]))
  // Only the months in which some customer first paid: a cohort of nobody is no row.
  const cohorts = ks.filter((cohort) => (sizes.get(cohort) ?? 0) > 0).map((cohort) => {
    const row: ReportRow = { cohort: monthName(cohort), size: sizes.get(cohort) ?? 0 }
    for (let j = 0; cohort + j <= toK; j++) row[`m${j}`] = Number(cells.get(`${cohort}/${cohort + j}`)?.["logos"] ?? 0)
    for (let j = 0; cohort + j <= toK; j++) row[`mrr_m${j}`] = money(Number(cells.get(`${cohort}/${cohort + j}`)?.["mrr"] ?? 0))
    return row
  })

  // The drill-down of each month and kind rounded to add up to its printed total (`apportion`).
  const detailMinor = details.amount.map((a) => round(a, 0))
  const groups = new Map<string, Array<number>>()
  details.date.forEach((date, i) => {
    const key = `${date.slice(0, 7)}/${details.kind[i]}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [i])
    else group.push(i)
  })
  for (const [key, indices] of groups) {
    const [month, kind] = key.split("/") as [string, string]
    const total = printedKinds.get(monthIndex(month))?.[kind]
    // Only rounding is shared out: a group that differs from its total by more is left as it is (the identity is the details' own check).
    if (total === undefined || Math.abs(indices.reduce((sum, i) => sum + details.amount[i]!, 0) - total) > indices.length) continue
    const shares = apportion(indices.map((i) => details.amount[i]!), total)
    indices.forEach((i, j) => (detailMinor[i] = shares[j]!))
  }
  const detailRows = details.date.map((date, i) => ({ date, customer: details.customer[i]!, kind: details.kind[i]!, amount: money(detailMinor[i]!) }))
  return { mrr, movements, churn, retention, growth, cohorts, details: detailRows }
}
