/**
 * `npm run bench`: runs every benchmark script in bench/ in turn (each prints
 * its figures and writes bench/results/NAME.json). Pass names to run a subset:
 * `npm run bench -- calendar rules`. Flags after the names go to each script:
 * `npm run bench -- scale --subscriptions 20000 --engines 1,2`. A name that is
 * no benchmark is refused (exit 2) before anything runs.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

const dir = fileURLToPath(new URL(".", import.meta.url))
const skip = new Set(["run.ts", "harness.ts", "seed.ts", "analyticsData.ts", "analyticsCopyRun.ts", "seedSimulation.ts", "scaleEngine.ts", "checkoutBuyers.ts"]) // helpers, not benchmarks
const args = process.argv.slice(2)
const firstFlag = args.findIndex((a) => a.startsWith("-"))
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag)
const flags = firstFlag < 0 ? [] : args.slice(firstFlag)
const benchmarks = readdirSync(dir).filter((f) => f.endsWith(".ts") && !skip.has(f) && !f.startsWith("_")).map((f) => f.replace(/\.ts$/, "")).sort()
const unknown = wanted.filter((w) => !benchmarks.includes(w))
if (unknown.length > 0) {
  console.error(`npm run bench: no benchmark named ${unknown.map((u) => `"${u}"`).join(", ")} (there are: ${benchmarks.join(", ")})`)
  process.exit(2)
}
const scripts = benchmarks.filter((b) => wanted.length === 0 || wanted.includes(b))
let failed = 0
for (const s of scripts) {
  console.log(`\n### ${s}.ts`)
  const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8", `${dir}${s}.ts`, ...flags], { stdio: "inherit" })
  if (r.status !== 0) failed++
}
process.exitCode = failed > 0 ? 1 : 0
