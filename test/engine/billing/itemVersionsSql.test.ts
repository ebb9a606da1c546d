/**
 * The SQL twin of "the item version in force on a day" (engine/billing/
 * itemVersionsSql.ts) picks what `versionInForce` picks, on random version
 * histories (changes replaced before their date came, several on one day), in
 * PostgreSQL (PGlite, or the server when DATABASE_URL is set) and in DuckDB.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addDays, versionInForce, versionInForceSql, versionsTakingForceSql } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"

interface Row { readonly sub: number; readonly version: number; readonly effectiveFrom: CalendarDate }

const base = "2026-03-01" as CalendarDate
// Versions numbered in the order they were made, each effective within a month: later ones may take force earlier.
const historiesArb = fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 })
  .map((subs) => subs.flatMap((offsets, s) => offsets.map((o, i): Row => ({ sub: s + 1, version: i + 1, effectiveFrom: addDays(base, o) }))))

let pg: TestDatabase
let duck: DuckDBConnection
const ddl = "subscription_id bigint, version integer, effective_from date"
beforeAll(async () => {
  pg = await openTestDatabase()
  await pg.db.sql.unsafe(`create table iv (${ddl})`)
  duck = await (await DuckDBInstance.create(":memory:")).connect()
  await duck.run(`create table iv (${ddl})`)
})
afterAll(async () => {
  duck?.closeSync()
  await pg?.close()
})

const engines = {
  PostgreSQL: async (q: string) => (await pg.db.sql.unsafe<Array<Record<string, unknown>>>(q)).map((r) => Object.values(r).map(String)),
  DuckDB: async (q: string) => (await duck.runAndReadAll(q)).getRows().map((r) => r.map(String))
}

describe("the item version in force, in SQL", () => {
  it("is the version versionInForce picks, on every day, in PostgreSQL and DuckDB", async () => {
    await fc.assert(fc.asyncProperty(historiesArb, async (rows) => {
      const values = rows.map((r) => `(${r.sub}, ${r.version}, date '${r.effectiveFrom}')`).join(", ")
      await pg.db.sql.unsafe(`delete from iv`)
      await pg.db.sql.unsafe(`insert into iv values ${values}`)
      await duck.run(`delete from iv`)
      await duck.run(`insert into iv values ${values}`)
      const subs = [...new Set(rows.map((r) => r.sub))]
      const want = (day: CalendarDate) =>
        subs.flatMap((s) => {
          const v = versionInForce(rows.filter((r) => r.sub === s), day)
          return v === undefined ? [] : [[String(s), String(v.version)]]
        })
      for (const [name, run] of Object.entries(engines)) {
        // The timeline: each version that takes force, from its day until the next one's.
        const taking = (await run(`select subscription_id, version, cast(effective_from as varchar) from (${versionsTakingForceSql("iv")}) x order by 1, 3`))
          .map(([s, v, d]) => ({ sub: Number(s), version: Number(v), effectiveFrom: d as CalendarDate }))
        for (let i = -1; i <= 32; i += 3) {
          const day = addDays(base, i)
          const point = await run(`select subscription_id, version from (${versionInForceSql("iv", `date '${day}'`)}) x order by 1`)
          expect(point, `${name}, on ${day}`).toStrictEqual(want(day))
          const fromTimeline = subs.flatMap((s) => {
            const last = taking.filter((t) => t.sub === s && t.effectiveFrom <= day).at(-1)
            return last === undefined ? [] : [[String(s), String(last.version)]]
          })
          expect(fromTimeline, `${name}, timeline on ${day}`).toStrictEqual(want(day))
        }
      }
    }), { numRuns: 25 })
  }, 180_000)
})
