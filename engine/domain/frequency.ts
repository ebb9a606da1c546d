/**
 * How often a subscription bills: the named frequencies of the product
 * (weekly … annually) and "every N days/weeks/months/years".
 */
import { Schema } from "effect"

export const FrequencyUnit = Schema.Literals(["day", "week", "month", "year"])
export type FrequencyUnit = typeof FrequencyUnit.Type

export const Frequency = Schema.Struct({
  unit: FrequencyUnit,
  count: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
})
export type Frequency = typeof Frequency.Type

export const namedFrequencies = {
  daily: { unit: "day", count: 1 },
  weekly: { unit: "week", count: 1 },
  biweekly: { unit: "week", count: 2 },
  monthly: { unit: "month", count: 1 },
  quarterly: { unit: "month", count: 3 },
  semiannually: { unit: "month", count: 6 },
  annually: { unit: "year", count: 1 }
} as const satisfies Record<string, Frequency>

export type FrequencyName = keyof typeof namedFrequencies

const unitWords: Record<string, FrequencyUnit> = {
  day: "day", days: "day", week: "week", weeks: "week", month: "month", months: "month", year: "year", years: "year"
}

/**
 * Parses `monthly`, `biweekly`, … or `every-N-UNIT` / `every N UNIT`
 * (`every-3-weeks`, `every 2 months`); undefined when unknown.
 */
export const parseFrequency = (text: string): Frequency | undefined => {
  const t = text.trim().toLowerCase()
  if (t === "yearly") return namedFrequencies.annually
  if (t === "semiannual" || t === "semi-annually") return namedFrequencies.semiannually
  if (Object.hasOwn(namedFrequencies, t)) return namedFrequencies[t as FrequencyName]
  const m = /^every[\s-]+(\d+)[\s-]+([a-z]+)$/.exec(t)
  if (m === null) return undefined
  const count = Number(m[1])
  const unit = unitWords[m[2]!]
  // At most every 1000 units: billing dates must stay dates the calendar holds (and the store's integers).
  if (unit === undefined || !Number.isSafeInteger(count) || count <= 0 || count > 1000) return undefined
  return { unit, count }
}

/** The canonical text of a frequency: a named one where it exists, else `every-N-UNITs`. */
export const formatFrequency = (f: Frequency): string => {
  for (const [name, g] of Object.entries(namedFrequencies)) {
    if (g.unit === f.unit && g.count === f.count) return name
  }
  return `every-${f.count}-${f.unit}s`
}

export const frequencyNames = Object.keys(namedFrequencies) as ReadonlyArray<FrequencyName>
