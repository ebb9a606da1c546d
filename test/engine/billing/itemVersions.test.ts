import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addDays, nextVersionAfter, versionInForce } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"

const d = (s: string) => s as CalendarDate
const base = d("2026-01-01")

describe("item versions: which one a day bills, and which comes next", () => {
  it("a change waiting for the next billing date is next, not in force today", () => {
    const versions = [{ version: 1, effectiveFrom: d("2026-03-01") }, { version: 2, effectiveFrom: d("2026-04-01") }]
    expect(versionInForce(versions, d("2026-03-05"))?.version).toBe(1)
    expect(nextVersionAfter(versions, d("2026-03-05"))?.version).toBe(2)
    expect(versionInForce(versions, d("2026-04-01"))?.version).toBe(2)
    expect(nextVersionAfter(versions, d("2026-04-01"))).toBeUndefined()
    // Not started yet: nothing in force, the first version is next.
    expect(versionInForce(versions, d("2026-02-01"))).toBeUndefined()
    expect(nextVersionAfter(versions, d("2026-02-01"))?.version).toBe(1)
  })

  it("a version overtaken by a later version effective earlier is never next", () => {
    const versions = [{ version: 1, effectiveFrom: d("2026-01-01") }, { version: 2, effectiveFrom: d("2026-05-01") }, { version: 3, effectiveFrom: d("2026-04-15") }]
    expect(nextVersionAfter(versions, d("2026-03-01"))?.version).toBe(3)
    expect(versionInForce(versions, d("2026-05-01"))?.version).toBe(3)
  })

  it("every day from today until the next version's date bills today's version, and that date bills the next", () => {
    const arb = fc.array(fc.record({ offset: fc.integer({ min: 0, max: 120 }) }), { minLength: 1, maxLength: 6 })
    fc.assert(fc.property(arb, fc.integer({ min: 0, max: 130 }), (raw, todayOffset) => {
      const versions = raw.map((r, i) => ({ version: i + 1, effectiveFrom: addDays(base, r.offset) }))
      const today = addDays(base, todayOffset)
      const current = versionInForce(versions, today)
      const next = nextVersionAfter(versions, today)
      for (let k = 1; k <= 130; k++) {
        const day = addDays(today, k)
        if (next !== undefined && day >= next.effectiveFrom) {
          expect(versionInForce(versions, next.effectiveFrom)).toBe(next)
          break
        }
        expect(versionInForce(versions, day)).toBe(current)
      }
      if (next !== undefined) expect(next).not.toBe(current)
    }))
  })
})
