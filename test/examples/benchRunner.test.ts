/**
 * `npm run bench -- NAME…`: a name that is no benchmark is refused with exit 2, naming it and the benchmarks there
 * are, before anything runs (it used to run nothing and exit 0, as a typo'd `scal` or a flag taken for a name did).
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const runner = fileURLToPath(new URL("../../bench/run.ts", import.meta.url))

describe("the benchmark runner", () => {
  it("refuses a name that is no benchmark, with exit 2, naming it and the ones there are; nothing runs", () => {
    const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", runner, "calendar", "scal"], { encoding: "utf8" })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`no benchmark named "scal"`)
    expect(r.stderr).toContain("scale")
    expect(r.stdout).not.toContain("### ")
  })
})
