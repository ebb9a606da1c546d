/**
 * `npm run bench`: runs every benchmark script in bench/ in turn (each prints
 * its figures and writes bench/results/NAME.json). Pass names to run a subset:
 * `npm run bench -- calendar rules`.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

const dir = fileURLToPath(new URL(".", import.meta.url))
const skip = new Set(["run.ts", "harness.ts", "seed.ts", "analyticsData.ts", "analyticsCopyRun.ts", "seedSimulation.ts", "scaleEngine.ts", "checkoutBuyers.ts"]) // helpers, not benchmarks
const wanted = process.argv.slice(2)
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !skip.has(f) && !f.startsWith("_"))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, "")))
  .sort()
let failed = 0
for (const s of scripts) {
  console.log(`\n### ${s}`)
  const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8", dir + s], { stdio: "inherit" })
  if (r.status !== 0) failed++
}
process.exitCode = failed > 0 ? 1 : 0
