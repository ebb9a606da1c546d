/**
 * `npm run bench -- cli`: how long the command line takes to answer and how
 * much memory it peaks at, the way a user runs it (bin/billcycle, a fresh
 * process each time), against `node -e ''` measured in the same run (the
 * ratio is what to compare across these noisy machines).
 *
 * Goals (issue #20): `--help` < 0.4 s; `contacts list` on the embedded demo
 * store (.billcycle/demo, made by `npm start`; made here when missing) < 1.0 s
 * and < 250 MB peak RSS; on the PostgreSQL server < 0.5 s. The server figures
 * use PG_TEST_URL (default postgres://postgres@127.0.0.1:5432/test) and a
 * schema of their own, `bench_cli`, refilled each run.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { writeResults } from "./harness.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const billcycle = join(root, "bin", "billcycle")
const demoStore = join(root, ".billcycle", "demo")
const serverUrl = process.env["PG_TEST_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"
const serverSchema = "bench_cli"
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5)

// Peak RSS of the measured process itself (VmHWM) and its CPU time (user + system, which a
// busy machine inflates far less than wall time), written on exit by a preload;
// a separate run from the timed ones, so the preload never counts in a time.
const scratch = mkdtempSync(join(tmpdir(), "billcycle-bench-cli-"))
const peakFile = join(scratch, "peak")
const preload = join(scratch, "peak.mjs")
writeFileSync(preload, `import { readFileSync, writeFileSync } from "node:fs"
process.on("exit", () => {
  const kb = /VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]
  const cpu = process.cpuUsage()
  if (kb !== undefined) writeFileSync(${JSON.stringify(peakFile)}, kb + " " + (cpu.user + cpu.system) / 1000)
})
`)

interface Run {
  readonly ms: number
  readonly code: number | null
  readonly stderr: string
}

const run = (command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Run => {
  const t0 = performance.now()
  const r = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 30 })
  return { ms: performance.now() - t0, code: r.status, stderr: r.stderr }
}

interface Figure {
  readonly name: string
  readonly bestMs: number
  readonly medianMs: number
  readonly ratioToNode: number
  readonly peakRssMb: number | undefined
  readonly cpuMs: number | undefined
  readonly goal?: { readonly ms?: number; readonly rssMb?: number; readonly met: boolean }
}

const measure = (name: string, command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): { bestMs: number; medianMs: number; peakRssMb: number | undefined; cpuMs: number | undefined } => {
  const warm = run(command, args, env) // fills Node's compile cache and the OS's file cache
  if (warm.code !== 0) throw new Error(`${name}: exit ${warm.code}: ${warm.stderr}`)
  const times: Array<number> = []
  for (let i = 0; i < rounds; i++) times.push(run(command, args, env).ms)
  times.sort((a, b) => a - b)
  rmSync(peakFile, { force: true })
  run(command, args, { ...env, NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import=${preload}`.trim() })
  const [kb, cpu] = existsSync(peakFile) ? readFileSync(peakFile, "utf8").split(" ").map(Number) : []
  return { bestMs: times[0]!, medianMs: times[Math.floor(times.length / 2)]!, peakRssMb: kb === undefined ? undefined : kb / 1024, cpuMs: cpu }
}

// The Node bin/billcycle runs on (the pinned one), so the baseline starts the same runtime.
const pinned = join(root, "node_modules", ".bin", "node")
const nodeBin = existsSync(pinned) ? pinned : process.execPath

if (!existsSync(demoStore)) {
  console.log("making the demo store (.billcycle/demo) with `billcycle demo` …")
  const made = run(billcycle, ["demo"])
  if (made.code !== 0) throw new Error(`billcycle demo failed: ${made.stderr}`)
}

// The server store: 200 contacts (the demo's count) in a schema of our own.
const serverEnv = { BILLCYCLE_DB_SCHEMA: serverSchema }
const dropped = spawnSync(nodeBin, ["--input-type=module", "-e", `
  const postgres = (await import("postgres")).default
  const sql = postgres(process.env.URL, { max: 1, onnotice: () => {} })
  try { await sql.unsafe('drop schema if exists "${serverSchema}" cascade') } finally { await sql.end() }
`], { cwd: root, env: { ...process.env, URL: serverUrl }, encoding: "utf8" })
let serverReady = dropped.status === 0
if (serverReady) {
  const csv = join(scratch, "contacts.csv")
  writeFileSync(csv, ["email,name,language,payment_method", ...Array.from({ length: 200 }, (_, i) => `customer${i}@example.com,Customer ${i},en,pm_ok`)].join("\n") + "\n")
  serverReady = run(billcycle, ["--db", serverUrl, "import", csv], serverEnv).code === 0
}
if (!serverReady) console.log(`(no PostgreSQL server at ${serverUrl}: the server figures are left out)`)

// bin/billcycle starts from the bundle of the command line while it is fresh (scripts/build-cli.mjs).
const bundleFile = join(root, "node_modules", ".cache", "billcycle", "cli", "main.js")
const newestSource = Math.max(...["engine", "dsl", "reports", "templates"].flatMap((d) =>
  readdirSync(join(root, d), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => statSync(join(root, d, f)).mtimeMs)))
const bundleFresh = existsSync(bundleFile) && statSync(bundleFile).mtimeMs > newestSource && process.env["BILLCYCLE_SOURCES"] !== "1"
console.log(bundleFresh ? "bin/billcycle runs the bundle (node_modules/.cache/billcycle/cli)" : "bin/billcycle runs the TypeScript sources (no fresh bundle: npm run build:cli)")

const baseline = measure("node -e ''", nodeBin, ["-e", ""])
const figures: Array<Figure> = []
const add = (name: string, args: ReadonlyArray<string>, goal: { ms?: number; rssMb?: number }, env: Record<string, string> = {}) => {
  const m = measure(name, billcycle, args, env)
  const met = (goal.ms === undefined || m.bestMs < goal.ms) && (goal.rssMb === undefined || (m.peakRssMb ?? Infinity) < goal.rssMb)
  figures.push({ name, ...m, ratioToNode: m.bestMs / baseline.bestMs, goal: goal.ms === undefined && goal.rssMb === undefined ? undefined : { ...goal, met } })
}

add("billcycle --help", ["--help"], { ms: 400 })
add("contacts list (embedded demo store)", ["--db", demoStore, "contacts", "list"], { ms: 1000, rssMb: 250 })
add("events list --all (embedded demo store)", ["--db", demoStore, "events", "list", "--all"], {})
add("invoices list --all --json (embedded demo store)", ["--db", demoStore, "--json", "invoices", "list", "--all"], {})
if (serverReady) add("contacts list (server)", ["--db", serverUrl, "contacts", "list"], { ms: 500 }, serverEnv)

const mb = (x: number | undefined) => (x === undefined ? "-" : `${Math.round(x)} MB`)
const cpuText = (x: number | undefined) => (x === undefined ? "-" : `${Math.round(x)} ms`)
console.log(`node -e '': best ${baseline.bestMs.toFixed(0)} ms, median ${baseline.medianMs.toFixed(0)} ms, cpu ${cpuText(baseline.cpuMs)}, peak ${mb(baseline.peakRssMb)} (best of ${rounds}, after one warm-up run)`)
for (const f of figures) {
  const goal = f.goal === undefined ? "" : `  goal ${[f.goal.ms === undefined ? "" : `< ${f.goal.ms} ms`, f.goal.rssMb === undefined ? "" : `< ${f.goal.rssMb} MB`].filter(Boolean).join(", ")}: ${f.goal.met ? "met" : "NOT met"}`
  console.log(`${f.name.padEnd(48)} best ${f.bestMs.toFixed(0).padStart(5)} ms  median ${f.medianMs.toFixed(0).padStart(5)} ms  ${f.ratioToNode.toFixed(1).padStart(5)}x node -e  cpu ${cpuText(f.cpuMs).padStart(8)} (${f.cpuMs === undefined || baseline.cpuMs === undefined ? "-" : (f.cpuMs / baseline.cpuMs).toFixed(1)}x)  peak ${mb(f.peakRssMb).padStart(7)}${goal}`)
}

writeResults("cli", {
  rounds,
  bundle: bundleFresh,
  baseline: { name: "node -e ''", bestMs: Math.round(baseline.bestMs), medianMs: Math.round(baseline.medianMs), cpuMs: baseline.cpuMs === undefined ? null : Math.round(baseline.cpuMs), peakRssMb: baseline.peakRssMb === undefined ? null : Math.round(baseline.peakRssMb) },
  figures: figures.map((f) => ({ ...f, bestMs: Math.round(f.bestMs), medianMs: Math.round(f.medianMs), ratioToNode: Number(f.ratioToNode.toFixed(2)), cpuMs: f.cpuMs === undefined ? null : Math.round(f.cpuMs), peakRssMb: f.peakRssMb === undefined ? null : Math.round(f.peakRssMb) }))
})
rmSync(scratch, { recursive: true, force: true })
