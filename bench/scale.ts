/**
 * Scale-out benchmark: N monthly renewals (default 200,000) due on one day on
 * the local PostgreSQL server, billed by 1, 2 and 4 engine processes started
 * together (each its own OS process running the tick of `billcycle engine
 * --once`, bench/scaleEngine.ts, sharing the work through FOR UPDATE SKIP
 * LOCKED; the outbox's messages are queued, their delivery is timed apart by
 * bench/simulate.ts). For each: renewals per second
 * (from the moment every process has loaded and connected, or with `--warm W`
 * has also billed a warm-up day of W renewals due the day before, to the last
 * exit; the wall time from the first start, and the warm-up day's own rate, are
 * printed beside it), the engines' CPU in the timed day and the rest of the
 * machine's (PostgreSQL), the peak RSS of each
 * process, and the once-only checks in SQL. Run twice: every token pm_ok
 * (each subscription exactly one invoice and exactly one successful gateway
 * charge), and a 10% mix of pm_timeout and pm_declined (settled by one more
 * tick the next day: at most one successful charge per invoice, a successful
 * charge exactly for each paid invoice, invoiced = paid + open). pgbench's
 * TPS on the same server, in the same run, is printed beside it.
 *
 * Each run gets a fresh database of its own (billcycle_scale, dropped at the
 * end), so other users of the server are not disturbed.
 *
 *   node bench/scale.ts [--subscriptions N] [--warm N] [--engines 1,2,4] [--mixes clean,mix] [--batch N] [--workers N]
 */
import { spawn, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { Effect, Exit, Scope } from "effect"
import { openDatabase } from "../engine/sql/index.ts"
import type { Sql } from "../engine/sql/index.ts"
import { seedDueSubscriptions } from "../test/seed.ts"
import { fmt, pgbenchTps, writeResults } from "./harness.ts"

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const N = Number(argOf("--subscriptions") ?? 200_000)
const engineCounts = (argOf("--engines") ?? "1,2,4").split(",").map(Number)
const mixes = (argOf("--mixes") ?? "clean,mix").split(",") as Array<"clean" | "mix">
const batch = argOf("--batch") ?? "500"
/** Billing workers per engine process (the engine's default when not given). */
const workers = argOf("--workers")
/**
 * Renewals due the day before, billed first by the same processes, untimed (default 0: none): a long-running
 * engine has its code optimized and its connections warm; started cold, each process pays for that within the
 * timed day (its JIT, and each new PostgreSQL backend's first touch of the shared buffers' pages, costly on some
 * machines). Not the default: the issue's engines start together. It also puts the day on statistics taken
 * before it, as a real store's are: that found the partial-index scans in paying and settling a batch (one engine's
 * day of 200,000 took 40.2 s after a warm-up day against 30.7 s without; 27.4 s since, in the same A/B run).
 */
const warm = Number(argOf("--warm") ?? 0)
const warmDay = "2026-02-28"
const due = "2026-03-01"
const nextDay = "2026-03-02"

const server = new URL(process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test")
const dbName = "billcycle_scale"
const urlOf = (db: string) => {
  const u = new URL(server)
  u.pathname = `/${db}`
  return u.toString()
}
const admin = (statement: string) => {
  const r = spawnSync("psql", [urlOf("postgres"), "-v", "ON_ERROR_STOP=1", "-qc", statement], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${statement}: ${r.stderr.trim()}`)
}
const scaleEngine = new URL("./scaleEngine.ts", import.meta.url).pathname
/** bin/billcycle's Node flags (the small young generation keeps an engine's batches under 300 MB RSS). */
const engineNodeFlags = ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8"]
const repoRoot = new URL("..", import.meta.url).pathname

/** Token lists cycled over the seeded contacts: all pm_ok, or 5% pm_timeout and 5% pm_declined. */
const tokens = {
  clean: ["pm_ok"],
  mix: [...Array.from({ length: 18 }, () => "pm_ok"), "pm_timeout", "pm_declined"]
}

const withDatabase = async <A>(work: (sql: Sql) => Promise<A>): Promise<A> => {
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase({ _tag: "Server", url: urlOf(dbName), schema: undefined }).pipe(Scope.provide(scope)))
  try {
    return await work(db.sql)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** The machine's busy CPU seconds since boot, over all cores (/proc/stat: user, nice, system, irq, softirq, steal). */
const machineCpuSeconds = (): number => {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number)
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100
}

/** The high-water mark of a process's resident set (Linux), in MB. */
const peakRssMb = (pid: number): number | undefined => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? undefined : Number(m[1]) / 1024
  } catch {
    return undefined
  }
}

interface EngineRun {
  readonly code: number | null
  readonly stderr: string
  readonly invoiced: number
  readonly peakRssMb: number
  readonly cpuSeconds: number
  /** CPU seconds of its tick alone (from `go` to the tick's end: no start-up). */
  readonly tickCpuSeconds: number
}

interface Engine {
  /** Resolves when the process has loaded its code and connected (it printed `ready`). */
  readonly ready: Promise<void>
  /** Resolves when it has billed the warm-up day (it printed `warmed`), with what it invoiced and its CPU. */
  readonly warmed: Promise<{ readonly invoiced: number; readonly tickCpuSeconds: number }>
  /** Starts its next tick (the warm-up day's, then the day's: the last, which closes its input). */
  readonly go: (last: boolean) => void
  readonly done: Promise<EngineRun>
}

/** One engine process (one tick), started and made ready: its exit, what it invoiced (its JSON summary), its peak RSS. */
const startEngine = (now: string, warmUp: boolean): Engine => {
  const child = spawn(process.execPath, [...engineNodeFlags, scaleEngine, now, batch, "--ready", ...(warmUp ? ["--warm-day", warmDay] : []), ...(workers === undefined ? [] : ["--workers", workers])], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: urlOf(dbName), BILLCYCLE_DB_SCHEMA: "" },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let markReady = () => {}
  const ready = new Promise<void>((resolve) => { markReady = resolve })
  let markWarmed = (_: { invoiced: number; tickCpuSeconds: number }) => {}
  const warmed = new Promise<{ invoiced: number; tickCpuSeconds: number }>((resolve) => { markWarmed = resolve })
  const done = new Promise<EngineRun>((resolve) => {
    let stdout = ""
    let stderr = ""
    let peak = 0
    child.stdout!.on("data", (d) => {
      stdout += String(d)
      if (stdout.startsWith("ready\n")) markReady()
      const w = /^warmed (\{.*\})$/m.exec(stdout)
      if (w !== null) markWarmed(JSON.parse(w[1]!) as { invoiced: number; tickCpuSeconds: number })
    })
    child.stderr!.on("data", (d) => { stderr += String(d) })
    // VmHWM is the process's own high-water mark: sampling it often enough to see it before the exit is all it takes.
    const sampler = setInterval(() => { peak = Math.max(peak, peakRssMb(child.pid!) ?? 0) }, 100)
    child.on("exit", (code) => {
      clearInterval(sampler)
      markReady()
      markWarmed({ invoiced: 0, tickCpuSeconds: 0 })
      const invoiced = stdout.split("\n").filter((l) => l.startsWith("{")).reduce((n, l) => n + ((JSON.parse(l) as { invoiced?: number }).invoiced ?? 0), 0)
      const summed = (field: "cpuSeconds" | "tickCpuSeconds") =>
        stdout.split("\n").filter((l) => l.startsWith("{")).reduce((n, l) => n + ((JSON.parse(l) as Record<string, number | undefined>)[field] ?? 0), 0)
      resolve({ code, stderr, invoiced, peakRssMb: peak, cpuSeconds: summed("cpuSeconds"), tickCpuSeconds: summed("tickCpuSeconds") })
    })
  })
  return { ready, warmed, done, go: (last) => last ? child.stdin!.end("go\n") : child.stdin!.write("go\n") }
}

/** One engine process run on its own, from its start to its exit. */
const runEngine = (now: string): Promise<EngineRun> => {
  const engine = startEngine(now, false)
  engine.go(true)
  return engine.done
}

interface Checks {
  subscriptions: number
  invoices: number
  subscriptionsWithoutExactlyOneInvoice: number
  invoicesWithTwoSuccessfulCharges: number
  paidInvoicesWithoutExactlyOneCharge: number
  chargesForUnpaidInvoices: number
  paid: number
  open: number
  invoicedTotal: number
  paidPlusOpenTotal: number
  attemptsUnsettled: number
  gatewayCharges: number
}

/** The once-only checks, in SQL, over the whole run. */
const check = async (sql: Sql): Promise<Checks> => {
  const [row] = await sql<Array<Checks>>`
    with inv as (select subscription_id, count(*) as n from invoices group by 1),
    ok as (select merchant_reference, count(*) as n from sim_gateway_ledger where kind = 'charge' and outcome = 'succeeded' group by 1)
    select
      (select count(*) from subscriptions)::int as "subscriptions",
      (select count(*) from invoices)::int as "invoices",
      (select count(*) from subscriptions s left join inv on inv.subscription_id = s.id where coalesce(inv.n, 0) <> 1)::int as "subscriptionsWithoutExactlyOneInvoice",
      (select count(*) from ok where n > 1)::int as "invoicesWithTwoSuccessfulCharges",
      (select count(*) from invoices i left join ok on ok.merchant_reference = i.number where i.status = 'paid' and coalesce(ok.n, 0) <> 1)::int as "paidInvoicesWithoutExactlyOneCharge",
      (select count(*) from ok left join invoices i on i.number = ok.merchant_reference where i.status is distinct from 'paid')::int as "chargesForUnpaidInvoices",
      (select count(*) from invoices where status = 'paid')::int as "paid",
      (select count(*) from invoices where status = 'open')::int as "open",
      (select coalesce(sum(total), 0) from invoices)::int8 as "invoicedTotal",
      (select coalesce(sum(total), 0) from invoices where status in ('paid', 'open'))::int8 as "paidPlusOpenTotal",
      (select count(*) from payment_attempts where status in ('pending', 'unknown'))::int as "attemptsUnsettled",
      (select count(*) from sim_gateway_ledger where kind = 'charge' and outcome = 'succeeded')::int as "gatewayCharges"`
  return row!
}

const problemsOf = (c: Checks, mix: "clean" | "mix"): Array<string> => {
  const problems: Array<string> = []
  if (c.subscriptions !== N + warm) problems.push(`${c.subscriptions} subscriptions seeded, expected ${N + warm}`)
  if (c.subscriptionsWithoutExactlyOneInvoice > 0) problems.push(`${c.subscriptionsWithoutExactlyOneInvoice} subscriptions without exactly one invoice`)
  if (c.invoicesWithTwoSuccessfulCharges > 0) problems.push(`${c.invoicesWithTwoSuccessfulCharges} invoices charged twice`)
  if (c.paidInvoicesWithoutExactlyOneCharge > 0) problems.push(`${c.paidInvoicesWithoutExactlyOneCharge} paid invoices without exactly one successful charge`)
  if (c.chargesForUnpaidInvoices > 0) problems.push(`${c.chargesForUnpaidInvoices} successful charges for invoices not paid`)
  if (c.invoicedTotal !== c.paidPlusOpenTotal) problems.push(`invoiced ${c.invoicedTotal} <> paid + open ${c.paidPlusOpenTotal}`)
  if (c.attemptsUnsettled > 0) problems.push(`${c.attemptsUnsettled} attempts left pending or unknown`)
  if (mix === "clean" && (c.paid !== N + warm || c.gatewayCharges !== N + warm)) problems.push(`clean run: ${c.paid} paid, ${c.gatewayCharges} charges, expected ${N + warm} each`)
  if (mix === "mix" && c.open !== N / 20) problems.push(`mix run: ${c.open} open invoices, expected ${N / 20} (the pm_declined ones)`)
  return problems
}

const scenario = async (engines: number, mix: "clean" | "mix") => {
  admin(`drop database if exists ${dbName} with (force)`)
  admin(`create database ${dbName}`)
  try {
    const seedStart = performance.now()
    if (warm > 0) await withDatabase((sql) => seedDueSubscriptions(sql, { count: warm, due: warmDay, paymentMethods: ["pm_ok"] }))
    await withDatabase((sql) => seedDueSubscriptions(sql, { count: N, due, paymentMethods: tokens[mix] }))
    await withDatabase((sql) => sql`vacuum analyze`)
    const seedSeconds = (performance.now() - seedStart) / 1000
    // Started together; billing is timed from the moment every engine is ready (Node loaded, connected) to the
    // last exit. The wall time from the first start is printed beside it: start-up is once per process, not per renewal.
    const started = performance.now()
    const processes = Array.from({ length: engines }, () => startEngine(due, warm > 0))
    await Promise.all(processes.map((p) => p.ready))
    // The warm-up day, untimed in the figure: the same processes bill it together first.
    const w0 = performance.now()
    let warmUp: { seconds: number; invoiced: number; tickCpuSeconds: number } | undefined
    if (warm > 0) {
      for (const p of processes) p.go(false)
      const warmed = await Promise.all(processes.map((p) => p.warmed))
      warmUp = { seconds: (performance.now() - w0) / 1000, invoiced: warmed.reduce((n, w) => n + w.invoiced, 0), tickCpuSeconds: warmed.reduce((n, w) => n + w.tickCpuSeconds, 0) }
    }
    const t0 = performance.now()
    const cpu0 = machineCpuSeconds()
    for (const p of processes) p.go(true)
    const runs = await Promise.all(processes.map((p) => p.done))
    const seconds = (performance.now() - t0) / 1000
    // Where the machine's CPU went while billing: the engines' ticks, and the rest (PostgreSQL, nearly all of it).
    const machineCpu = machineCpuSeconds() - cpu0
    const enginesCpu = runs.reduce((n, r) => n + r.tickCpuSeconds, 0)
    const wallSeconds = (performance.now() - started) / 1000
    for (const r of runs) if (r.code !== 0) throw new Error(`an engine exited with ${r.code}: ${r.stderr.trim().slice(-2000)}`)
    // Lost replies (pm_timeout) are asked about again under the same key on a later tick.
    const settle = mix === "mix" ? await runEngine(nextDay) : undefined
    if (settle !== undefined && settle.code !== 0) throw new Error(`the settling engine exited with ${settle.code}: ${settle.stderr.trim().slice(-2000)}`)
    // Fresh statistics first: an engine's mid-run ANALYZE (autovacuum off) can leave the checks a nested-loop plan over 200,000 rows.
    const checks = await withDatabase(async (sql) => {
      await sql`analyze`
      return check(sql)
    })
    const problems = problemsOf(checks, mix)
    if (warmUp !== undefined && warmUp.invoiced !== warm) problems.push(`warm-up day: ${warmUp.invoiced} invoiced, expected ${warm}`)
    const rate = N / seconds
    console.log(`  ${String(engines).padStart(1)} engine${engines === 1 ? " " : "s"} ${mix.padEnd(5)}  ${seconds.toFixed(1).padStart(6)} s  ${fmt(rate).padStart(6)} renewals/s  ` +
      `(${wallSeconds.toFixed(1)} s with start-up)  ` +
      `invoiced per process ${runs.map((r) => fmt(r.invoiced)).join(" / ")}  peak RSS ${runs.map((r) => r.peakRssMb.toFixed(0)).join(" / ")} MB  ` +
      `CPU ${runs.map((r) => r.cpuSeconds.toFixed(1)).join(" / ")} s (ticks ${enginesCpu.toFixed(1)} s, the rest of the machine ${(machineCpu - enginesCpu).toFixed(1)} s)  ` +
      `${warmUp === undefined ? "" : `(warm-up day before: ${fmt(warm)} in ${warmUp.seconds.toFixed(1)} s, ${fmt(warm / warmUp.seconds)}/s)  `}` +
      `(seeded in ${seedSeconds.toFixed(1)} s)  ${problems.length === 0 ? "checks: OK" : `CHECKS FAILED: ${problems.join("; ")}`}`)
    return {
      engines, mix, seconds, wallSeconds, renewalsPerSecond: Math.round(rate), invoicedPerProcess: runs.map((r) => r.invoiced),
      peakRssMbPerProcess: runs.map((r) => Math.round(r.peakRssMb)), cpuSecondsPerProcess: runs.map((r) => Math.round(r.cpuSeconds * 10) / 10),
      warmUp, tickCpuSeconds: Math.round(enginesCpu * 10) / 10, otherCpuSeconds: Math.round((machineCpu - enginesCpu) * 10) / 10, seedSeconds, checks, problems
    }
  } finally {
    admin(`drop database if exists ${dbName} with (force)`)
  }
}

console.log(`scale: ${fmt(N)} monthly renewals due on one day, engine processes started together (batch ${batch})`)
const results = []
for (const mix of mixes) for (const engines of engineCounts) results.push(await scenario(engines, mix))
const tps = await pgbenchTps()
console.log(`  pgbench (TPC-B-like, 2 clients, 10 s): ${fmt(tps)} tps; renewals per pgbench transaction: ${results.map((r) => `${r.engines}×${r.mix} ${(r.renewalsPerSecond / tps).toFixed(2)}`).join(", ")}`)
writeResults("scale", { subscriptions: N, batch: Number(batch), pgbenchTps: tps, runs: results.map((r) => ({ ...r, ratioToPgbenchTps: r.renewalsPerSecond / tps })) })
if (results.some((r) => r.problems.length > 0)) process.exitCode = 1
