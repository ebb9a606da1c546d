/**
 * The hand-computed datasets (hand.test.ts checks every figure against
 * fixtures/NAME/expected.json) through the analytics copy: a copy made of the
 * empty store, refreshed incrementally after `import history`, and a copy
 * rebuilt from scratch give byte-identical reports to each other and to the
 * in-memory load, and match the hand-computed MRR.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildReports, computeReports, openCopy, readFxFile, rebuildCopy, refreshCopy } from "../../reports/index.ts"
import type { ReportOptions } from "../../reports/index.ts"
import { importHistory } from "../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../storeHarness.ts"

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "billcycle-hand-copy-"))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

const text = ({ timings: _t, ...set }: Awaited<ReturnType<typeof buildReports>>) => JSON.stringify(set)

for (const name of ["hand", "independent"]) {
  describe(`fixtures/${name} through the analytics copy (${backend})`, () => {
    it("incremental refresh after import history = full rebuild = in-memory load", async () => {
      const fixture = fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url))
      const expected = JSON.parse(readFileSync(`${fixture}expected.json`, "utf8"))
      const options: ReportOptions = { from: expected.from, to: expected.to, currency: expected.currency, details: true, fx: { file: expected.fx, rates: readFxFile(`${fixture}${expected.fx}`) } }
      const t = await openTestDatabase()
      const inc = (await openCopy(join(dir, `${name}-inc.duckdb`)))!
      const full = (await openCopy(join(dir, `${name}-full.duckdb`)))!
      try {
        expect((await refreshCopy(t.db.sql, inc)).mode).toBe("rebuild") // the empty store
        await importHistory(t.db.sql, fixture, { today: expected.today })
        const refreshed = await refreshCopy(t.db.sql, inc)
        expect(refreshed.mode).toBe("refresh")
        expect(refreshed.subscriptions).toBeGreaterThan(0)
        await rebuildCopy(t.db.sql, full.db)
        const viaRefresh = text(await computeReports(inc.db, options))
        const viaRebuild = text(await computeReports(full.db, options))
        const inMemory = text(await buildReports(t.db.sql, options))
        expect(viaRefresh).toBe(viaRebuild)
        expect(viaRefresh).toBe(inMemory)
        for (const kind of ["mrr", "movements", "churn", "retention", "growth", "cohorts"]) expect(JSON.parse(viaRefresh)[kind]).toEqual(expected.reports[kind])
      } finally {
        inc.db.closeSync()
        inc.instance.closeSync()
        full.db.closeSync()
        full.instance.closeSync()
        await t.close()
      }
    }, 120_000)
  })
}
