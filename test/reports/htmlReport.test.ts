/**
 * The HTML report's chart axes: round values only (steps of 1, 2, 2.5 or 5 ×
 * 10^k), never the data's own maximum (924, 1.8k, 2.8k).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { niceAxis, revenueReportHtml } from "../../reports/index.ts"

const roundStep = (step: number) => {
  const k = Math.floor(Math.log10(step) + 1e-9)
  const m = step / 10 ** k
  return [1, 2, 2.5, 5].some((x) => Math.abs(m - x) < 1e-9)
}

describe("chart axes", () => {
  it("go to round values above the data's maximum", () => {
    expect(niceAxis(924).ticks).toEqual([0, 200, 400, 600, 800, 1000])
    expect(niceAxis(1800).ticks).toEqual([0, 500, 1000, 1500, 2000])
    expect(niceAxis(2800).ticks).toEqual([0, 1000, 2000, 3000])
    expect(niceAxis(12.5).ticks).toEqual([0, 2.5, 5, 7.5, 10, 12.5])
    expect(niceAxis(0).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
  })

  it("for any maximum: steps of 1, 2, 2.5 or 5 × 10^k, the top at or just above it, four to six lines", () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 1e9, noNaN: true }), (max) => {
      const { step, top, ticks } = niceAxis(max)
      expect(roundStep(step)).toBe(true)
      expect(top).toBeGreaterThanOrEqual(max * (1 - 1e-9))
      expect(top - step).toBeLessThan(max)
      expect(ticks.length).toBeGreaterThanOrEqual(4)
      expect(ticks.length).toBeLessThanOrEqual(6)
      ticks.forEach((t, i) => expect(t).toBeCloseTo(i * step, 6))
    }))
  })

  it("the page labels its axes with round values", () => {
    const months = ["2026-01", "2026-02", "2026-03"]
    const mrr = [310, 620, 924].map((v, i) => ({ month: months[i], mrr: v }))
    const movements = [310, 310, 1800].map((v, i) => ({ month: months[i], new: v, expansion: 0, reactivation: 0, contraction: 0, churn: 0, fx_adjustment: 0, net_new_mrr: v }))
    const html = revenueReportHtml({ kind: "mrr", currency: "USD", from: "2026-01", to: "2026-03", mrr, movements, cohorts: [], table: mrr })
    const [mrrSvg, moveSvg] = html.split("<svg ").slice(1) as [string, string]
    const labels = (svg: string) => [...svg.matchAll(/text-anchor="end" fill="#6b7280">([^<]+)</g)].map((m) => m[1])
    expect(labels(mrrSvg)).toEqual(["0", "200", "400", "600", "800", "1k"])
    expect(labels(moveSvg)).toEqual(["+2k", "−2k"])
    expect(html).not.toMatch(/>924<|1\.8k|0\.9k/)
  })

  it("shows n/a in the table where a ratio has no denominator", () => {
    const table = [{ month: "2026-01", nrr: null, grr: null }, { month: "2026-02", nrr: 1, grr: 0.5 }]
    const html = revenueReportHtml({ kind: "retention", currency: "USD", from: "2026-01", to: "2026-02", mrr: [], movements: [], cohorts: [], table })
    expect(html).toContain("<td>2026-01</td><td>n/a</td><td>n/a</td>")
    expect(html).toContain("<td>100.0%</td><td>50.0%</td>")
  })
})
