/**
 * Calendar benchmark: the next billing date of 1,000,000 subscriptions
 * (random anchors and frequencies, a given "today"), computed from the anchor.
 * Baseline in the same run: the common JavaScript approach of stepping a
 * `Date` forward period by period with month-end clamping.
 */
import { BillingSchedule, fromDayNumber, toDayNumber } from "../engine/billing/index.ts"
import type { CalendarDate, Frequency } from "../engine/domain/index.ts"
import { namedFrequencies } from "../engine/domain/index.ts"
import { bestOf, fmt, writeResults } from "./harness.ts"

const N = 1_000_000
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const freqs: Array<Frequency> = [namedFrequencies.monthly, namedFrequencies.monthly, namedFrequencies.biweekly, namedFrequencies.quarterly, namedFrequencies.annually, namedFrequencies.weekly]
const today = "2026-11-23" as CalendarDate
const todayDay = toDayNumber(today)
const anchors: Array<CalendarDate> = []
const frequencies: Array<Frequency> = []
for (let i = 0; i < N; i++) {
  anchors.push(fromDayNumber(todayDay - Math.floor(rand() * 365 * 3)))
  frequencies.push(freqs[Math.floor(rand() * freqs.length)]!)
}

const ours = (): Array<CalendarDate> => {
  const out = new Array<CalendarDate>(N)
  for (let i = 0; i < N; i++) out[i] = new BillingSchedule(anchors[i]!, frequencies[i]!).nextOnOrAfter(today)
  return out
}

// Baseline: step a Date from the anchor, one period at a time, clamping each step from the anchor's day.
const baseline = (): Array<string> => {
  const out = new Array<string>(N)
  const todayMs = Date.parse(today + "T00:00:00Z")
  for (let i = 0; i < N; i++) {
    const a = anchors[i]!
    const f = frequencies[i]!
    const anchor = new Date(a + "T00:00:00Z")
    const anchorDayOfMonth = anchor.getUTCDate()
    let k = 0
    let d = anchor
    while (d.getTime() < todayMs) {
      k++
      if (f.unit === "week" || f.unit === "day") {
        d = new Date(anchor.getTime() + k * (f.unit === "week" ? 7 : 1) * f.count * 86_400_000)
      } else {
        const months = k * (f.unit === "year" ? 12 : 1) * f.count
        const first = new Date(Date.UTC(anchor.getUTCFullYear(), anchor.getUTCMonth() + months, 1))
        const dim = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate()
        d = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(anchorDayOfMonth, dim)))
      }
    }
    out[i] = d.toISOString().slice(0, 10)
  }
  return out
}

// Same answers first.
const a = ours(), b = baseline()
for (let i = 0; i < N; i++) if (a[i] !== b[i]) throw new Error(`mismatch at ${i}: ${anchors[i]} ${JSON.stringify(frequencies[i])}: ${a[i]} vs ${b[i]}`)

const oursMs = bestOf(5, ours)
const baseMs = bestOf(3, baseline)
const oursRate = N / (oursMs / 1000)
const baseRate = N / (baseMs / 1000)
console.log(`calendar: next billing date of ${fmt(N)} subscriptions`)
console.log(`  billcycle (from the anchor):   ${oursMs.toFixed(0)} ms  ${fmt(oursRate)} dates/s`)
console.log(`  baseline (Date stepping):      ${baseMs.toFixed(0)} ms  ${fmt(baseRate)} dates/s`)
console.log(`  ratio: ${(oursRate / baseRate).toFixed(1)}x`)
writeResults("calendar", { subscriptions: N, datesPerSecond: Math.round(oursRate), baselineDatesPerSecond: Math.round(baseRate), ratio: oursRate / baseRate })
