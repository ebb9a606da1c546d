import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addDays, afterFailedCharge, daysBetween, fromDayNumber, toDayNumber } from "../../../engine/billing/index.ts"
import type { AfterRetries } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"

const d = (s: string) => s as CalendarDate
const dayArb = fc.integer({ min: toDayNumber(d("2000-01-01")), max: toDayNumber(d("2100-12-31")) }).map(fromDayNumber)
// The settings allow at most 20 retries, each day 0..366, increasing.
const scheduleArb = fc.uniqueArray(fc.integer({ min: 0, max: 366 }), { maxLength: 20 }).map((a) => [...a].sort((x, y) => x - y))
const policyArb = fc.constantFrom<AfterRetries>("keep-unpaid", "cancel", "pause")

describe("dunning: what a failed charge does", () => {
  it("the first failure starts the schedule today: unpaid, no retry used, the first retry day after today", () => {
    expect(afterFailedCharge({ status: "active", retryCount: 0, unpaidSince: null }, d("2026-03-01"), [1, 3, 5, 7], "cancel"))
      .toEqual({ status: "unpaid", retriesMade: 0, unpaidSince: "2026-03-01", nextRetryOn: "2026-03-02", exhausted: false })
  })

  it("retry days count from the first failure, not from the last retry", () => {
    const out = afterFailedCharge({ status: "unpaid", retryCount: 1, unpaidSince: d("2026-03-01") }, d("2026-03-04"), [1, 3, 5, 7], "cancel")
    expect(out).toEqual({ status: "unpaid", retriesMade: 2, unpaidSince: "2026-03-01", nextRetryOn: "2026-03-06", exhausted: false })
  })

  it("a retry day already past (a late engine) moves to tomorrow, never today or earlier", () => {
    const out = afterFailedCharge({ status: "unpaid", retryCount: 0, unpaidSince: d("2026-03-01") }, d("2026-03-20"), [1, 3], "cancel")
    expect(out.nextRetryOn).toBe("2026-03-21")
  })

  it("when the schedule runs out the policy applies: cancel, pause or keep unpaid, with no next retry", () => {
    const state = { status: "unpaid", retryCount: 1, unpaidSince: d("2026-03-01") }
    expect(afterFailedCharge(state, d("2026-03-08"), [1, 7], "cancel")).toMatchObject({ status: "canceled", nextRetryOn: null, exhausted: true, retriesMade: 2 })
    expect(afterFailedCharge(state, d("2026-03-08"), [1, 7], "pause")).toMatchObject({ status: "paused", nextRetryOn: null, exhausted: true })
    expect(afterFailedCharge(state, d("2026-03-08"), [1, 7], "keep-unpaid")).toMatchObject({ status: "unpaid", nextRetryOn: null, exhausted: true })
  })

  it("with no retry days the first failure applies the policy at once", () => {
    expect(afterFailedCharge({ status: "active", retryCount: 0, unpaidSince: null }, d("2026-03-01"), [], "cancel"))
      .toEqual({ status: "canceled", retriesMade: 0, unpaidSince: "2026-03-01", nextRetryOn: null, exhausted: true })
  })

  it("property: a whole run of failures makes exactly one attempt per retry day, each after the last, then applies the policy", () => {
    fc.assert(fc.property(dayArb, scheduleArb, policyArb, fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 25 }), (first, schedule, policy, lateness) => {
      let state = { status: "active", retryCount: 0, unpaidSince: null as CalendarDate | null }
      let today = first
      let failures = 0
      for (;;) {
        const out = afterFailedCharge(state, today, schedule, policy)
        failures += 1
        expect(out.unpaidSince).toBe(first)
        expect(out.retriesMade).toBe(failures - 1)
        if (out.exhausted) {
          expect(out.nextRetryOn).toBeNull()
          expect(failures).toBe(schedule.length + 1)
          expect(out.status).toBe(policy === "cancel" ? "canceled" : policy === "pause" ? "paused" : "unpaid")
          return
        }
        expect(out.status).toBe("unpaid")
        const next = out.nextRetryOn!
        expect(next > today).toBe(true)
        // On the schedule when the engine keeps up, else the day after.
        const due = addDays(first, schedule[out.retriesMade]!)
        expect(next).toBe(due > today ? due : addDays(today, 1))
        // The engine runs the retry on its day or some days late.
        today = addDays(next, lateness[failures % Math.max(1, lateness.length)] ?? 0)
        expect(daysBetween(first, today) >= 0).toBe(true)
        state = { status: out.status, retryCount: out.retriesMade, unpaidSince: out.unpaidSince }
      }
    }), { numRuns: 500 })
  })
})
