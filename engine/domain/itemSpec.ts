/**
 * A line-item SPEC as written on the command line and in import files:
 * `sku=SKU` or `name=NAME,price=12.50`, then optional `qty=N`,
 * `frequency=monthly|…|one-time`, `discount=10%` or `discount=2.00` (per
 * unit), `tax=25%`, `currency=USD`, and the bare word `one-time`.
 * Parsing is pure; resolving SKUs against the catalogue is the store's.
 */
import type { Frequency } from "./frequency.ts"
import { parseFrequency } from "./frequency.ts"
import { isCurrencyCode, notACurrency } from "./money.ts"

export interface ItemSpec {
  readonly sku?: string
  readonly name?: string
  /** Decimal text in major units, converted once the currency is known. */
  readonly price?: string
  readonly quantity: number
  /** Whether `qty=` was written: `subscriptions update` keeps the quantity of an item already on the subscription otherwise. */
  readonly quantityGiven?: boolean
  readonly frequency?: Frequency
  readonly oneTime: boolean
  readonly discountPercentPpm?: number
  readonly discountAmount?: string
  readonly taxPpm?: number
  readonly currency?: string
}

const percentPpm = (text: string): number | undefined => {
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?%$/.exec(text.trim())
  if (m === null) return undefined
  return Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"))
}

/** Parses one SPEC; a string result is the error, naming the part that is wrong. */
export const parseItemSpec = (text: string): ItemSpec | string => {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p.length > 0)
  if (parts.length === 0) return "empty item"
  const spec: { -readonly [K in keyof ItemSpec]?: ItemSpec[K] } = { quantity: 1, oneTime: false }
  const given = new Map<string, string>()
  for (const part of parts) {
    if (part === "one-time") {
      spec.oneTime = true
      continue
    }
    const eq = part.indexOf("=")
    if (eq <= 0) return `"${part}" is not KEY=VALUE (keys: sku, name, price, qty, frequency, discount, tax, currency, one-time)`
    const key = part.slice(0, eq).trim().toLowerCase()
    const value = part.slice(eq + 1).trim()
    // One value per key: with two, the last one silently won (qty=2,qty=3 billed 3), so neither is guessed.
    const canonical = key === "quantity" ? "qty" : key
    const earlier = given.get(canonical)
    if (earlier !== undefined) return `key "${key}" given twice ("${earlier}", "${part}"): give each key once`
    given.set(canonical, part)
    switch (key) {
      case "sku":
        spec.sku = value
        break
      case "name":
        // The store takes no item without a name (line_items_name_check); left to it, `name=` came back in its words.
        if (value === "") return "an item needs a name: name= is empty"
        spec.name = value
        break
      case "price":
        if (!/^\d+(\.\d+)?$/.test(value)) return `price "${value}" is not an amount such as 12.50`
        spec.price = value
        break
      case "qty":
      case "quantity": {
        if (!/^-?\d+(\.\d+)?$/.test(value) || !Number.isInteger(Number(value)) || Number(value) <= 0) {
          return `quantity must be a whole number greater than 0, got "${value}"`
        }
        spec.quantity = Number(value)
        spec.quantityGiven = true
        break
      }
      case "frequency": {
        if (value === "one-time") {
          spec.oneTime = true
          break
        }
        const f = parseFrequency(value)
        if (f === undefined) return `unknown frequency "${value}" (weekly, biweekly, monthly, quarterly, semiannually, annually, every-N-days|weeks|months|years, one-time)`
        spec.frequency = f
        break
      }
      case "discount": {
        if (value.endsWith("%")) {
          const ppm = percentPpm(value)
          if (ppm === undefined || ppm > 1_000_000) return `discount must be a percent between 0% and 100%, got "${value}"`
          spec.discountPercentPpm = ppm
        } else {
          if (!/^\d+(\.\d+)?$/.test(value)) return `discount "${value}" is neither a percent (10%) nor an amount (2.00)`
          spec.discountAmount = value
        }
        break
      }
      case "tax": {
        const ppm = percentPpm(value)
        if (ppm === undefined || ppm > 1_000_000) return `tax must be a percent between 0% and 100%, got "${value}"`
        spec.taxPpm = ppm
        break
      }
      case "currency":
        // Checked here, before any amount is read in it: an amount in a currency that is none has no meaning.
        if (!isCurrencyCode(value.toUpperCase())) return `currency ${notACurrency(value)}`
        spec.currency = value.toUpperCase()
        break
      default:
        return `unknown key "${key}" (keys: sku, name, price, qty, frequency, discount, tax, currency, one-time)`
    }
  }
  if (spec.sku === undefined && (spec.name === undefined || spec.price === undefined)) {
    return "an item needs sku=SKU, or name=NAME and price=AMOUNT"
  }
  return spec as ItemSpec
}
