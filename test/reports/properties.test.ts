/**
 * Property tests of the metric SQL on random histories: random customers,
 * subscriptions in two currencies, item versions, status histories (pauses,
 * delinquency short and long, cancels, expiry) and monthly FX rates, loaded
 * straight into DuckDB. An independent oracle steps through every day of every
 * subscription in plain TypeScript and classifies each customer-day; the
 * reports must agree with it (movements, month-end MRR and subscribers, the
 * cancellation rate), and the monthly identity
 * `mrr_end = mrr_start + fx_adjustment + new + expansion + reactivation − contraction − churn`
 * must hold (computeReports also asserts it, and would throw).
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromDayNumber, toDayNumber } from "../../engine/billing/index.ts"
import type { CalendarDate } from "../../engine/domain/index.ts"
import { computeReports, monthIndex, monthName, snapshotTables } from "../../reports/index.ts"

interface Version { day: number; unitPrice: number; quantity: number; discountPpm: number | null; oneTime: number }
interface Status { day: number; status: string }
/** A discount code redeemed at checkout: a percent or an amount off each payment until `ends` (none: still on). */
interface Code { ppm: number | null; amount: number | null; ends: number | null }
interface Sub { id: number; contact: number; currency: "USD" | "EUR"; unit: "week" | "month" | "year"; count: number; versions: Array<Version>; statuses: Array<Status>; code: Code | null }
interface History { subs: Array<Sub>; rates: Map<number, number> }

const base = toDayNumber("2026-01-01" as CalendarDate)
const horizon = 240 // days: January to August 2026
const from = "2026-01", to = "2026-08"

const statusStep = fc.record({ gap: fc.integer({ min: 0, max: 70 }), status: fc.constantFrom("active", "unpaid", "past_due", "paused", "active", "canceled", "expired") })
const versionArb = fc.record({ gap: fc.integer({ min: 0, max: 90 }), unitPrice: fc.integer({ min: 0, max: 50_000 }), quantity: fc.integer({ min: 1, max: 4 }), discountPpm: fc.option(fc.constantFrom(100_000, 250_000, 333_333, 1_000_000), { nil: null }), oneTime: fc.integer({ min: 0, max: 3_000 }) })
const subArb = fc.record({
  contact: fc.integer({ min: 1, max: 5 }),
  currency: fc.constantFrom<"USD" | "EUR">("USD", "USD", "EUR"),
  freq: fc.constantFrom(["month", 1], ["month", 3], ["month", 6], ["week", 1], ["week", 2], ["year", 1]) as fc.Arbitrary<["week" | "month" | "year", number]>,
  created: fc.integer({ min: -40, max: horizon - 20 }),
  scheduledFor: fc.integer({ min: 0, max: 30 }),
  versions: fc.array(versionArb, { minLength: 1, maxLength: 3 }),
  steps: fc.array(statusStep, { maxLength: 6 }),
  code: fc.option(fc.record({
    off: fc.oneof(fc.constantFrom(100_000, 250_000, 500_000, 1_000_000).map((ppm) => ({ ppm, amount: null })), fc.integer({ min: 1, max: 60_000 }).map((amount) => ({ ppm: null, amount }))),
    endsAfter: fc.option(fc.integer({ min: 1, max: 200 }), { nil: null })
  }), { nil: null, freq: 3 })
})
const historyArb: fc.Arbitrary<History> = fc.record({
  subs: fc.array(subArb, { minLength: 1, maxLength: 10 }),
  rates: fc.array(fc.integer({ min: 80, max: 140 }), { minLength: 12, maxLength: 12 })
}).map(({ subs, rates }) => {
  const rateMap = new Map<number, number>()
  // Months from 2025-10 (history before the report) to 2026-09.
  rates.forEach((r, i) => rateMap.set(monthIndex("2025-10") + i, r / 100))
  return {
    rates: rateMap,
    subs: subs.map((s, i) => {
      const created = base + s.created
      const start = created + s.scheduledFor
      const statuses: Array<Status> = [{ day: created, status: s.scheduledFor > 0 ? "scheduled" : "active" }]
      if (s.scheduledFor > 0) statuses.push({ day: start, status: "active" })
      let day = start
      for (const step of s.steps) {
        if (statuses[statuses.length - 1]!.status === "canceled" || statuses[statuses.length - 1]!.status === "expired") break
        day += step.gap
        statuses.push({ day, status: step.status })
      }
      let vday = start
      const versions = s.versions.map((v, j) => {
        vday += j === 0 ? 0 : Math.max(1, v.gap)
        return { day: vday, unitPrice: v.unitPrice, quantity: v.quantity, discountPpm: v.discountPpm, oneTime: v.oneTime }
      })
      const code = s.code === null ? null : { ...s.code.off, ends: s.code.endsAfter === null ? null : start + s.code.endsAfter }
      return { id: i + 1, contact: s.contact, currency: s.currency, unit: s.freq[0], count: s.freq[1], versions, statuses, code }
    })
  }
})

// ---- the oracle: plain day-by-day evaluation -------------------------------------------------

const factor = (s: Sub) => (s.unit === "week" ? 52 / 12 : s.unit === "month" ? 1 : 1 / 12) / s.count
const perPeriod = (v: Version) => (v.discountPpm === null ? v.unitPrice * v.quantity : Math.floor((v.unitPrice * v.quantity * (1_000_000 - v.discountPpm)) / 1_000_000 + 0.5))

/** A subscription's MRR (native minor units) and pause at the end of `day`. */
const stateAt = (s: Sub, day: number): { mrr: number; paused: boolean } => {
  let status: string | undefined
  let since: number | undefined
  for (const st of s.statuses) {
    if (st.day > day) break
    const del = st.status === "unpaid" || st.status === "past_due"
    if (del && since === undefined) since = st.day
    if (!del) since = undefined
    status = st.status
  }
  let amount = 0
  for (const v of s.versions) if (v.day <= day) amount = perPeriod(v)
  // A code takes its part off the period's amount as a whole (a percent rounded half up) until its end day.
  const code = s.code
  if (code !== null && (code.ends === null || day < code.ends)) amount -= code.ppm !== null ? Math.floor((amount * code.ppm) / 1_000_000 + 0.5) : Math.min(amount, code.amount!)
  amount *= factor(s)
  const live = status === "active" || ((status === "unpaid" || status === "past_due") && since !== undefined && day < since + 30)
  return { mrr: live ? amount : 0, paused: status === "paused" }
}

const monthOfDay = (day: number) => monthIndex(fromDayNumber(day).slice(0, 7))

const oracle = (h: History) => {
  const rate = (s: Sub, k: number) => (s.currency === "USD" ? 1 : h.rates.get(k)!)
  const contacts = [...new Set(h.subs.map((s) => s.contact))]
  const first = base - 60
  const last = toDayNumber("2026-08-31" as CalendarDate)
  const moves = new Map<string, number>() // `${k}/${kind}` → amount
  const monthEnd = new Map<number, { mrr: number; subscribers: number }>()
  for (let k = monthIndex(from); k <= monthIndex(to); k++) monthEnd.set(k, { mrr: 0, subscribers: 0 })
  for (const c of contacts) {
    const subs = h.subs.filter((s) => s.contact === c)
    let everPositive = false
    for (let day = first; day <= last; day++) {
      const k = monthOfDay(day)
      const before = subs.map((s) => stateAt(s, day - 1))
      const after = subs.map((s) => stateAt(s, day))
      const b = before.reduce((sum, x, i) => sum + x.mrr * rate(subs[i]!, k), 0)
      const a = after.reduce((sum, x, i) => sum + x.mrr * rate(subs[i]!, k), 0)
      const bPos = before.some((x) => x.mrr > 0), aPos = after.some((x) => x.mrr > 0)
      let kind: string | undefined
      // A return from 0 is new the first time, an expansion when a pause ends (the mirror of its contraction), else a reactivation.
      if (!bPos && aPos) kind = !everPositive ? "new" : before.some((x) => x.paused) ? "expansion" : "reactivation"
      else if (bPos && !aPos) kind = after.some((x) => x.paused) ? "contraction" : "churn"
      else if (aPos && a - b > 1e-6) kind = "expansion"
      else if (aPos && a - b < -1e-6) kind = "contraction"
      if (aPos) everPositive = true
      if (kind !== undefined) moves.set(`${k}/${kind}`, (moves.get(`${k}/${kind}`) ?? 0) + Math.abs(a - b))
      const next = fromDayNumber(day + 1)
      if (next.endsWith("-01") && monthEnd.has(k)) {
        const m = monthEnd.get(k)!
        m.mrr += a
        if (aPos) m.subscribers++
      }
    }
  }
  // Cancellation rate: of the subscriptions live (started, not ended) at the end of the month before, those canceled in the month.
  const cancellation = new Map<number, number | null>()
  const statusAt = (s: Sub, day: number) => s.statuses.filter((st) => st.day <= day).at(-1)?.status
  for (let k = monthIndex(from); k <= monthIndex(to); k++) {
    const open = toDayNumber(`${monthName(k)}-01` as CalendarDate)
    const close = toDayNumber(`${monthName(k + 1)}-01` as CalendarDate)
    const live = h.subs.filter((s) => ["active", "unpaid", "past_due", "paused"].includes(statusAt(s, open - 1) ?? ""))
    const canceled = live.filter((s) => s.statuses.some((st) => st.status === "canceled" && st.day >= open && st.day < close))
    cancellation.set(k, live.length === 0 ? null : Math.round((canceled.length / live.length) * 1e6) / 1e6)
  }
  return { moves, monthEnd, cancellation }
}

// ---- loading a random history into DuckDB --------------------------------------------------------

let instance: DuckDBInstance
let db: DuckDBConnection
beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:")
  db = await instance.connect()
})
afterAll(() => {
  db.closeSync()
  instance.closeSync()
})

const load = async (h: History) => {
  for (const t of snapshotTables) await db.run(`create or replace table ${t.name} (${t.ddl})`)
  const date = (day: number) => `'${fromDayNumber(day)}'`
  let statusId = 0
  const values = (rows: Array<string>) => rows.join(", ")
  await db.run(`insert into contacts values ${values([...new Set(h.subs.map((s) => s.contact))].map((c) => `(${c}, 'c${c}')`))}`)
  await db.run(`insert into subscriptions (id, contact_id, currency, frequency_unit, frequency_count, code_off_ppm, code_off_amount, code_discount_ends_on) values ${values(h.subs.map((s) =>
    `(${s.id}, ${s.contact}, '${s.currency}', '${s.unit}', ${s.count}, ${s.code?.ppm ?? "null"}, ${s.code?.amount ?? "null"}, ${s.code?.ends == null ? "null" : date(s.code.ends)})`))}`)
  await db.run(`insert into item_versions values ${values(h.subs.flatMap((s) => s.versions.map((v, j) => `(${s.id}, ${j + 1}, ${date(v.day)})`)))}`)
  await db.run(`insert into line_items values ${values(h.subs.flatMap((s) => s.versions.flatMap((v, j) => [
    `(${s.id}, ${j + 1}, ${v.unitPrice}, ${v.quantity}, ${v.discountPpm ?? "null"}, null, false)`,
    `(${s.id}, ${j + 1}, ${v.oneTime}, 1, null, null, true)`
  ])))}`)
  await db.run(`insert into status_history values ${values(h.subs.flatMap((s) => s.statuses.map((st) => `(${++statusId}, ${s.id}, '${st.status}', ${date(st.day)})`)))}`)
}

const fxRates = (h: History) => [...h.rates].map(([k, rate]) => ({ month: monthName(k), from: "EUR", to: "USD", rate }))

describe("metric SQL on random histories", () => {
  it("agrees with a day-by-day oracle on month-end MRR, subscribers, every movement and the cancellation rate, and the identity holds", async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      await load(h)
      const set = await computeReports(db, { from, to, currency: "USD", fx: { file: "fx.csv", rates: fxRates(h) } })
      const { moves, monthEnd, cancellation } = oracle(h)
      set.churn.forEach((row, i) => expect(row["cancellation_rate"], `${row["month"]} cancellation rate`).toBe(cancellation.get(monthIndex(from) + i)))
      set.mrr.forEach((row, i) => {
        const k = monthIndex(from) + i
        expect(Number(row["mrr"])).toBeCloseTo(monthEnd.get(k)!.mrr / 100, 1)
        expect(row["subscribers"]).toBe(monthEnd.get(k)!.subscribers)
      })
      set.movements.forEach((row, i) => {
        const k = monthIndex(from) + i
        for (const kind of ["new", "expansion", "contraction", "churn", "reactivation"]) {
          expect(Number(row[kind]), `${row["month"]} ${kind}`).toBeCloseTo((moves.get(`${k}/${kind}`) ?? 0) / 100, 1)
        }
        const sum = Number(row["mrr_start"]) + Number(row["fx_adjustment"]) + Number(row["new"]) + Number(row["expansion"]) + Number(row["reactivation"]) - Number(row["contraction"]) - Number(row["churn"])
        expect(Math.abs(sum - Number(row["mrr_end"]))).toBeLessThan(0.05)
        if (i > 0) expect(row["mrr_start"]).toBe(set.movements[i - 1]!["mrr_end"])
      })
    }), { numRuns: 60 })
  }, 120_000)

  it("the drill-down adds up to the totals of every month", async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      await load(h)
      const set = await computeReports(db, { from, to, currency: "USD", fx: { file: "fx.csv", rates: fxRates(h) }, details: true })
      for (const row of set.movements) {
        for (const kind of ["new", "expansion", "contraction", "churn", "reactivation"]) {
          const detail = set.details.filter((d) => String(d["date"]).startsWith(String(row["month"])) && d["kind"] === kind).reduce((s, d) => s + Number(d["amount"]), 0)
          expect(Math.abs(detail - Number(row[kind]))).toBeLessThan(0.01 * (set.details.length + 1))
        }
      }
    }), { numRuns: 30 })
  }, 120_000)

  it("without --fx only the report currency counts; a constant rate leaves no fx_adjustment", async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      await load(h)
      const usdOnly = await computeReports(db, { from, to, currency: "USD" })
      const flat = await computeReports(db, { from, to, currency: "USD", fx: { file: "fx.csv", rates: [{ month: "2025-10", from: "EUR", to: "USD", rate: 1 }, ...Array.from({ length: 11 }, (_, i) => ({ month: monthName(monthIndex("2025-11") + i), from: "EUR", to: "USD", rate: 1 }))] } })
      const usd: History = { subs: h.subs.filter((s) => s.currency === "USD"), rates: h.rates }
      const { monthEnd } = oracle(usd)
      usdOnly.mrr.forEach((row, i) => expect(Number(row["mrr"])).toBeCloseTo(monthEnd.get(monthIndex(from) + i)!.mrr / 100, 1))
      for (const row of flat.movements) expect(row["fx_adjustment"]).toBe(0)
    }), { numRuns: 25 })
  }, 120_000)
})
