/**
 * The SQL twins of the money rules (engine/billing/pricingSql.ts) give what
 * their TypeScript (pricing.ts, the invoice's own arithmetic) gives, to the
 * last minor unit and the last bit, on random lines: in PostgreSQL (the
 * embedded PGlite, or the server when DATABASE_URL is set: the mrrSeries
 * side) and in DuckDB (the reports' engine), as line_items stores them.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { discountOff, discountOffSql, lineAmounts, lineNet, lineNetSql, monthlyAmountSql, normalizedMonthlyAmount } from "../../../engine/billing/index.ts"
import type { PaymentDiscount } from "../../../engine/billing/index.ts"
import type { FrequencyUnit, MinorUnits, UnitDiscount } from "../../../engine/domain/index.ts"
import { maxLineAmount, maxQuantity, minorUnitExponent } from "../../../engine/domain/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"

interface Line {
  readonly unitPrice: number
  readonly quantity: number
  readonly discountPpm: number | null
  readonly discountAmount: number | null
  readonly unit: FrequencyUnit
  readonly count: number
}

// Prices in whole currency units and a fraction, in JPY (no decimals), USD/EUR (2) and KWD (3).
const priceArb = fc.tuple(fc.constantFrom("JPY", "USD", "EUR", "KWD"), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 999 }))
  .map(([currency, major, fraction]) => {
    const exp = minorUnitExponent(currency)
    return major * 10 ** exp + (fraction % 10 ** exp)
  })
// Up to the most one line can hold (unit price × quantity ≤ 10^14 minor units), and the very top of it.
const hugeArb = fc.tuple(fc.integer({ min: 1, max: maxLineAmount }), fc.integer({ min: 1, max: maxQuantity }))
  .map(([total, quantity]) => ({ unitPrice: Math.floor(total / quantity), quantity }))
const sizeArb = fc.oneof(
  fc.tuple(priceArb, fc.integer({ min: 1, max: 12 })).map(([unitPrice, quantity]) => ({ unitPrice, quantity })),
  hugeArb,
  fc.constantFrom({ unitPrice: maxLineAmount, quantity: 1 }, { unitPrice: maxLineAmount / 4, quantity: 4 }, { unitPrice: 33_333_333_333_333, quantity: 3 }, { unitPrice: 1, quantity: maxQuantity })
)
// Percents: any, none, 100%, and those that put a line exactly on a half minor unit (an odd gross at 50%, 25%, 12.5%).
const ppmArb = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(0, 1_000_000, 500_000, 750_000, 250_000, 875_000, 125_000, 333_333, 666_667, 999_999, 1))
const frequencyArb = fc.tuple(fc.constantFrom<FrequencyUnit>("day", "week", "month", "year"), fc.oneof(fc.constantFrom(1, 2, 3, 6), fc.integer({ min: 1, max: 400 })))

const lineArb: fc.Arbitrary<Line> = fc.tuple(sizeArb, fc.integer({ min: 0, max: 3 }), ppmArb, fc.double({ min: 0, max: 3, noNaN: true }), frequencyArb)
  .map(([{ unitPrice, quantity }, kind, ppm, share, [unit, count]]) => ({
    unitPrice,
    quantity,
    discountPpm: kind === 1 ? ppm : null,
    // An amount discount from none to three times the price: beyond it the line is 0.
    discountAmount: kind === 2 ? Math.min(Math.floor(unitPrice * share), Number.MAX_SAFE_INTEGER) : kind === 3 ? unitPrice + 1 : null,
    unit,
    count
  }))

const discountOf = (l: Line): UnitDiscount | undefined =>
  l.discountPpm !== null ? { _tag: "Percent", ppm: l.discountPpm } : l.discountAmount !== null ? { _tag: "Amount", amount: l.discountAmount as MinorUnits } : undefined

const expected = (l: Line) => {
  const net = lineNet({ unitPrice: l.unitPrice as MinorUnits, quantity: l.quantity, discount: discountOf(l) })
  return { net, monthly: normalizedMonthlyAmount(net, { unit: l.unit, count: l.count }) }
}

// line_items' own column types, without its check that an amount discount stays within the price.
const ddl = "id integer, unit_price bigint, quantity integer, discount_ppm integer, discount_amount bigint, frequency_unit varchar, frequency_count integer"
const net = lineNetSql({ unitPrice: "unit_price", quantity: "quantity", discountPpm: "discount_ppm", discountAmount: "discount_amount" })
const select = `select id, ${net} as net, ${monthlyAmountSql(net, "frequency_unit", "frequency_count")} as monthly from pl order by id`
const sqlValue = (v: number | string | null) => (v === null ? "null" : typeof v === "string" ? `'${v}'` : String(v))
const insert = (lines: ReadonlyArray<Line>) =>
  `insert into pl values ${lines.map((l, i) => `(${[i, l.unitPrice, l.quantity, l.discountPpm, l.discountAmount, l.unit, l.count].map(sqlValue).join(", ")})`).join(", ")}`

let pg: TestDatabase
let duck: DuckDBConnection
beforeAll(async () => {
  pg = await openTestDatabase()
  await pg.db.sql.unsafe(`create table pl (${ddl})`)
  duck = await (await DuckDBInstance.create(":memory:")).connect()
  await duck.run(`create table pl (${ddl})`)
})
afterAll(async () => {
  duck?.closeSync()
  await pg?.close()
})

const inPostgres = async (lines: ReadonlyArray<Line>) => {
  await pg.db.sql.unsafe("delete from pl")
  await pg.db.sql.unsafe(insert(lines))
  const rows = await pg.db.sql.unsafe<Array<{ net: number | string; monthly: number }>>(select)
  return rows.map((r) => ({ net: Number(r.net), monthly: Number(r.monthly) }))
}
const inDuckDb = async (lines: ReadonlyArray<Line>) => {
  await duck.run("delete from pl")
  await duck.run(insert(lines))
  const rows = (await duck.runAndReadAll(select)).getRows()
  return rows.map((r) => ({ net: Number(r[1] as bigint), monthly: r[2] as number }))
}

const agree = async (lines: ReadonlyArray<Line>) => {
  const want = lines.map(expected)
  const [p, d] = [await inPostgres(lines), await inDuckDb(lines)]
  for (let i = 0; i < lines.length; i++) {
    const at = JSON.stringify(lines[i])
    // Exact: the same minor units, the same double.
    expect(p[i], `PostgreSQL, ${at}`).toStrictEqual(want[i])
    expect(d[i], `DuckDB, ${at}`).toStrictEqual(want[i])
  }
}

describe("the money rules' SQL twins", () => {
  it("give the TypeScript's line net and monthly amount, exactly, in PostgreSQL and DuckDB", async () => {
    await fc.assert(fc.asyncProperty(fc.array(lineArb, { minLength: 100, maxLength: 300 }), agree), { numRuns: 4 })
  }, 120_000)

  it("round a line on the half up, as the invoice does, and price the edges", async () => {
    const lines: Array<Line> = [
      // 3 × 1.00 less 50%: 1.50 → 2; an odd 1 × 0.01 less 50% → 0.01; 100%: 0.
      { unitPrice: 1, quantity: 3, discountPpm: 500_000, discountAmount: null, unit: "month", count: 1 },
      { unitPrice: 1, quantity: 1, discountPpm: 500_000, discountAmount: null, unit: "month", count: 1 },
      { unitPrice: 1999, quantity: 3, discountPpm: 1_000_000, discountAmount: null, unit: "week", count: 2 },
      // The largest line with a percent discount: its exact product (10^20) is past a bigint.
      { unitPrice: maxLineAmount, quantity: 1, discountPpm: 999_999, discountAmount: null, unit: "year", count: 1 },
      { unitPrice: 100, quantity: 2, discountPpm: null, discountAmount: 250, unit: "day", count: 7 }
    ]
    expect(lines.map((l) => expected(l).net)).toStrictEqual([2, 1, 0, 100_000_000, 0])
    // The invoice prices the lines it accepts the same way.
    expect(lines.slice(0, 4).map((l) => lineAmounts({ unitPrice: l.unitPrice as MinorUnits, quantity: l.quantity, discount: discountOf(l) }).net)).toStrictEqual([2, 1, 0, 100_000_000])
    await agree(lines)
  })

  it("take a discount code off a payment as the invoice does (discountOff), in PostgreSQL and DuckDB", async () => {
    // A payment of up to 10^14 minor units (a whole subscription's lines), a percent or an amount code.
    const codeArb = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(0, 1, 99, 100_000_000, maxLineAmount)),
      fc.oneof(ppmArb.map((ppm): PaymentDiscount => ({ _tag: "Percent", ppm })), fc.integer({ min: 1, max: 200_000 }).map((amount): PaymentDiscount => ({ _tag: "Amount", amount }))))
    const off = discountOffSql("amount", { ppm: "ppm", amount: "off" })
    const query = `select id, ${off} as off from pd order by id`
    await pg.db.sql.unsafe("create table if not exists pd (id integer, amount bigint, ppm integer, off bigint)")
    await duck.run("create table if not exists pd (id integer, amount bigint, ppm integer, off bigint)")
    await fc.assert(fc.asyncProperty(fc.array(codeArb, { minLength: 50, maxLength: 200 }), async (codes) => {
      // An odd payment at 50% is exactly half a minor unit: rounded away from zero, as the invoice does.
      const all = [...codes, [3, { _tag: "Percent", ppm: 500_000 }] as const, [0, { _tag: "Amount", amount: 5 }] as const]
      const rows = `insert into pd values ${all.map(([amount, d], i) => `(${i}, ${amount}, ${d._tag === "Percent" ? d.ppm : "null"}, ${d._tag === "Amount" ? d.amount : "null"})`).join(", ")}`
      await pg.db.sql.unsafe("delete from pd")
      await pg.db.sql.unsafe(rows)
      await duck.run("delete from pd")
      await duck.run(rows)
      const want = all.map(([amount, d]) => discountOff(amount, d))
      expect(want.at(-2)).toBe(2)
      expect((await pg.db.sql.unsafe<Array<{ off: string | number }>>(query)).map((r) => Number(r.off))).toStrictEqual(want)
      expect((await duck.runAndReadAll(query)).getRows().map((r) => Number(r[1] as bigint))).toStrictEqual(want)
    }), { numRuns: 4 })
  }, 120_000)
})
