/**
 * `npm run bench -- checkout`: completed checkouts per second over HTTP (no
 * browser) against the local PostgreSQL server, `billcycle serve`'s server on
 * a random port. N concurrent buyers (BENCH_CONNECTIONS, default 10) each loop
 * for BENCH_SECONDS (default 5), after BENCH_WARMUP seconds (default 3) of the same: GET /l/SLUG (303 to /c/ID), GET /c/ID (CSRF
 * cookie + field), POST /c/ID pay with a unique email (303 to /c/ID = done).
 * p50/p99 of the pay POST and of the whole 3-request checkout. In the same
 * run, the baseline: the engine's renewals per second, one runTick one
 * month later billing the subscriptions the checkouts made plus
 * BENCH_RENEWALS (default 5,000) seeded monthly subscriptions due that day; the
 * ratio checkouts/s ÷ renewals/s. Then the check: sessions completed ==
 * subscriptions == succeeded gateway charges, no duplicates. Before the
 * timed run, a few sequential checkouts are counted in SQL statements per
 * request (postgres.js debug hook), the pay path's statements (some are
 * pipelined: fewer round trips). CPU per checkout: the server's process (user
 * and sys), the buyers' process, and PostgreSQL — all its processes, and this
 * run's own sessions (found by the pid in their application_name): the server
 * is shared, and on a 2-core machine checkouts/s ≈ 2 cores ÷ CPU per checkout.
 *
 * The buyers run in a process of their own (bench/checkoutBuyers.ts), as real buyers do: in the server's event
 * loop, their own work would queue the server's requests (on 2026-12-05, 10 buyers: 210 checkouts/s and a pay p99
 * of 117 ms with the buyers in the server's process, 246/s and 54 ms in their own, which took 0.3 ms of CPU a checkout).
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import { fork } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { apiServer } from "../engine/api/index.ts"
import { createPaymentLink } from "../engine/checkout/index.ts"
import type { CalendarDate, PaymentLinkSettings } from "../engine/domain/index.ts"
import { EngineState, makeEngineState, runTick, TickHooks } from "../engine/runtime/index.ts"
import { BusinessClock, dayTime } from "../engine/account/index.ts"
import { Gateway } from "../engine/payments/index.ts"
import { Database, openDatabase } from "../engine/sql/index.ts"
import { seedDueSubscriptions } from "../test/seed.ts"
import { monthlyWithSetup } from "../test/engine/checkout/buyerPagesHarness.ts"
import { fmt, httpClient, writeResults } from "./harness.ts"

const url = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
const seconds = Number(process.env["BENCH_SECONDS"] ?? 5)
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 10)
const seeded = Number(process.env["BENCH_RENEWALS"] ?? 5000)
const warmup = Number(process.env["BENCH_WARMUP"] ?? 3)
const schema = `bench_checkout_${process.pid}`
const today = "2026-03-01" as CalendarDate
const renewalDay = "2026-04-01" as CalendarDate
const slug = "bench-checkout"
const loadBefore = loadavg()

const scope = Scope.makeUnsafe()
const db = await Effect.runPromise(openDatabase({ _tag: "Server", url, schema }).pipe(Scope.provide(scope)))
const sql = db.sql

const settings: PaymentLinkSettings = { ...monthlyWithSetup, name: "Bench club" }
await createPaymentLink(sql, today, settings, { slug })

const layer = apiServer({ port: 0, host: "127.0.0.1" }).pipe(Layer.provide(Layer.mergeAll(Layer.succeed(Database, db), BusinessClock.fixed(dayTime(today)))))
const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
const port = (Context.get(context, HttpServer.HttpServer).address as unknown as { port: number }).port

const { http, close } = httpClient(port, connections)

/**
 * CPU seconds used so far by the PostgreSQL server's processes on this machine (Linux /proc; 0 elsewhere): all of them,
 * or only `backends` (this process's sessions: the server is shared, other programs' queries are not ours).
 */
const postgresCpuSeconds = (backends?: ReadonlyArray<number>): number => {
  let ticks = 0
  for (const pid of backends?.map(String) ?? readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      if (!stat.includes("(postgres)")) continue
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      ticks += Number(fields[11]) + Number(fields[12])
    } catch { /* gone */ }
  }
  return ticks / 100
}

// 1. The pay path's SQL round trips: a few sequential checkouts with every statement counted per request.
const statements: Array<string> = []
const options = (sql as unknown as { options: { debug: unknown } }).options
options.debug = (_conn: number, text: string) => { statements.push(text.replace(/\s+/g, " ").trim()) }
const perRequest = { openLink: 0, page: 0, pay: 0 }
const payStatements = new Map<string, number>()
const profiled = 5
for (let i = 0; i < profiled; i++) {
  statements.length = 0
  const opened = await http("GET", `/l/${slug}`)
  perRequest.openLink += statements.length
  statements.length = 0
  const page = await http("GET", opened.location!)
  perRequest.page += statements.length
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.body)![1]!
  statements.length = 0
  const paid = await http("POST", opened.location!, { cookie: page.cookie!, "content-type": "application/x-www-form-urlencoded" },
    new URLSearchParams({ csrf, action: "pay", email: `profile-${i}@example.com`, name: "Bench Buyer", payment_method: "pm_ok" }).toString())
  if (paid.status !== 303) throw new Error(`profiling checkout: POST answered ${paid.status}`)
  perRequest.pay += statements.length
  if (i === profiled - 1) for (const s of statements) payStatements.set(s.slice(0, 90), (payStatements.get(s.slice(0, 90)) ?? 0) + 1)
}
options.debug = false
close()
const roundTrips = { openLink: perRequest.openLink / profiled, page: perRequest.page / profiled, pay: perRequest.pay / profiled }

// 2. The buyers, in a process of their own (bench/checkoutBuyers.ts): `warmup` seconds to warm the server up (JIT,
// pool; after 30 checkouts V8 had not compiled the hot paths yet), then the timed run, `connections` buyers in a loop
// until the deadline. The server's CPU and PostgreSQL's are read when the timed run starts and ends.
interface BuyersDone {
  readonly warmed: number; readonly completed: number; readonly elapsed: number; readonly payMs: Array<number>; readonly totalMs: Array<number>
  readonly failures: Record<string, number>; readonly cpuMs: number
}
let backends: Array<number> = []
let cpu0 = process.cpuUsage()
let pgCpu0 = 0
let ownCpu0 = 0
const buyers = fork(fileURLToPath(new URL("checkoutBuyers.ts", import.meta.url)), [JSON.stringify({ port, slug, connections, warmup, seconds })],
  { execArgv: ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8"] })
const done = await new Promise<BuyersDone>((resolve, reject) => {
  buyers.on("message", (m: { timed?: true; done?: BuyersDone }) => {
    if (m.timed === true) {
      cpu0 = process.cpuUsage()
      pgCpu0 = postgresCpuSeconds()
      // This process's sessions (their application_name carries our pid, engine/sql/Database.ts): the pool is open after the warm-up.
      void sql<Array<{ pid: number }>>`select pid from pg_stat_activity where application_name like ${`%(pid ${process.pid})`}`.then((rows) => {
        backends = rows.map((r) => Number(r.pid))
        ownCpu0 = postgresCpuSeconds(backends)
      })
    } else if (m.done !== undefined) resolve(m.done)
  })
  buyers.on("exit", (code) => reject(new Error(`the buyers' process ended (exit ${code}) before its figures`)))
})
const cpu = process.cpuUsage(cpu0)
const pgCpu = postgresCpuSeconds() - pgCpu0
const ownCpu = postgresCpuSeconds(backends) - ownCpu0
const { warmed, completed, elapsed, payMs, totalMs } = done
const failures = new Map(Object.entries(done.failures))
const processCpuShare = (cpu.user + cpu.system) / 1e6 / elapsed
const buyersCpuShare = done.cpuMs / 1e3 / elapsed
const postgresCpuShare = pgCpu / elapsed
const ownBackendsCpuShare = ownCpu / elapsed
const cpuMsPerCheckout = {
  server: (cpu.user + cpu.system) / 1e3 / Math.max(1, completed), buyers: done.cpuMs / Math.max(1, completed),
  postgres: pgCpu * 1000 / Math.max(1, completed), postgresOwnSessions: ownCpu * 1000 / Math.max(1, completed)
}
const loadDuring = loadavg()
const checkoutsPerSecond = completed / elapsed
const pct = (xs: Array<number>, p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : Number(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!.toFixed(1))
}
const pay = { p50: pct(payMs, 50), p99: pct(payMs, 99), max: pct(payMs, 100) }
const whole = { p50: pct(totalMs, 50), p99: pct(totalMs, 99), max: pct(totalMs, 100) }

// 3. Verify: every completed session made one subscription and one succeeded charge, nothing twice.
const [v] = await sql<Array<{ sessions: number; completedSessions: number; subscriptions: number; charges: number; chargedSessions: number; contacts: number; attempts: number }>>`
  select (select count(*) from checkout_sessions)::int as "sessions",
         (select count(*) from checkout_sessions where completed_on is not null)::int as "completedSessions",
         (select count(*) from subscriptions)::int as "subscriptions",
         (select count(*) from sim_gateway_ledger where outcome = 'succeeded' and kind = 'charge')::int as "charges",
         (select count(distinct merchant_reference) from sim_gateway_ledger where outcome = 'succeeded' and kind = 'charge')::int as "chargedSessions",
         (select count(*) from contacts)::int as "contacts",
         (select count(*) from checkout_payments)::int as "attempts"`
const verification = v!
const consistent = verification.completedSessions === verification.subscriptions && verification.subscriptions === verification.charges &&
  verification.charges === verification.chargedSessions && verification.contacts === verification.completedSessions && verification.attempts === verification.charges

// 4. The baseline in the same run: one engine tick one month later bills every subscription the checkouts made,
// plus `seeded` monthly subscriptions due that day (bench/engine.ts's seed), so the tick is big enough to time.
await seedDueSubscriptions(sql, { count: seeded, due: renewalDay })
const engineLayer = Layer.mergeAll(Layer.succeed(Database, db), BusinessClock.fixed(dayTime(renewalDay)), TickHooks.none,
  Gateway.simulated.pipe(Layer.provide(Layer.succeed(Database, db))), Layer.succeed(EngineState, makeEngineState()))
const r0 = performance.now()
const tick = await Effect.runPromise(runTick({ batch: 1000 }).pipe(Effect.provide(engineLayer)))
const renewalSeconds = (performance.now() - r0) / 1000
const renewalsPerSecond = tick.invoiced / renewalSeconds
const ratio = checkoutsPerSecond / renewalsPerSecond
const loadAfter = loadavg()

const la = (l: Array<number>) => l.map((x) => x.toFixed(2)).join(" ")
console.log(`checkout over HTTP: ${connections} buyers, ${elapsed.toFixed(1)} s after ${warmup} s (${fmt(warmed)} checkouts) of warm-up, link with 1 monthly + 1 one-time item (at checkout, auto-renew)`)
console.log(`  ${fmt(completed)} completed checkouts  ${checkoutsPerSecond.toFixed(1)} checkouts/s  (goal >= 300/s)${failures.size > 0 ? `  failures: ${JSON.stringify(Object.fromEntries(failures))}` : ""}`)
console.log(`  pay POST      p50 ${pay.p50} ms  p99 ${pay.p99} ms  max ${pay.max} ms  (goal p99 < 100 ms)`)
console.log(`  whole checkout (3 requests)  p50 ${whole.p50} ms  p99 ${whole.p99} ms  max ${whole.max} ms`)
console.log(`  CPU: server process ${(processCpuShare * 100).toFixed(0)}% of one core, buyers' process ${(buyersCpuShare * 100).toFixed(0)}%, PostgreSQL ${(postgresCpuShare * 100).toFixed(0)}% (all its processes; the server is shared), its ${backends.length} sessions of this run ${(ownBackendsCpuShare * 100).toFixed(0)}%`)
console.log(`  CPU split: server user ${(cpu.user / 1e3 / Math.max(1, completed)).toFixed(1)} ms sys ${(cpu.system / 1e3 / Math.max(1, completed)).toFixed(1)} ms per checkout`)
console.log(`  CPU per checkout: server process ${cpuMsPerCheckout.server.toFixed(1)} ms + PostgreSQL ${cpuMsPerCheckout.postgres.toFixed(1)} ms (this run's sessions ${cpuMsPerCheckout.postgresOwnSessions.toFixed(1)} ms); the buyers ${cpuMsPerCheckout.buyers.toFixed(1)} ms`)
console.log(`  SQL statements per request (postgres.js, incl. begin/commit): GET /l ${roundTrips.openLink}, GET /c ${roundTrips.page}, POST pay ${roundTrips.pay}`)
console.log(`  pay POST statements: ${[...payStatements].map(([s, n]) => `${n}× ${s}`).join("\n    ")}`)
console.log(`engine renewals (baseline, same run): ${fmt(tick.invoiced)} subscriptions (${fmt(verification.subscriptions)} from the checkouts + ${fmt(seeded)} seeded) billed on ${renewalDay} in ${renewalSeconds.toFixed(2)} s  ${fmt(renewalsPerSecond)} renewals/s`)
console.log(`  checkouts/s ÷ renewals/s = ${ratio.toFixed(3)}`)
console.log(`verify: ${verification.completedSessions} sessions completed (of ${verification.sessions} opened), ${verification.subscriptions} subscriptions, ${verification.charges} succeeded charges for ${verification.chargedSessions} sessions, ${verification.contacts} contacts, ${verification.attempts} attempts: ${consistent ? "consistent, no duplicates" : "MISMATCH"}`)
console.log(`load average (1/5/15 min): before ${la(loadBefore)}, after the HTTP run ${la(loadDuring)}, at the end ${la(loadAfter)}`)
writeResults("checkout", {
  seconds: elapsed, warmupSeconds: warmup, warmupCheckouts: warmed, connections, completed, checkoutsPerSecond, failures: Object.fromEntries(failures), payPostMs: pay, wholeCheckoutMs: whole,
  processCpuShare, buyersCpuShare, postgresCpuShare, ownBackendsCpuShare, cpuMsPerCheckout, sqlStatementsPerRequest: roundTrips, payStatements: Object.fromEntries(payStatements),
  renewals: { seeded, invoiced: tick.invoiced, charged: tick.charged, seconds: renewalSeconds, renewalsPerSecond }, ratioCheckoutsToRenewals: ratio,
  verification, consistent, loadAverage: { before: loadBefore, afterHttpRun: loadDuring, end: loadAfter }
})

await Effect.runPromise(Scope.close(scope, Exit.void))
// A fresh connection drops the schema once the server's pool has closed (dropping under open connections can deadlock).
const { default: postgres } = await import("postgres")
const admin = postgres(url, { max: 1, onnotice: () => {} })
await admin`drop schema if exists ${admin(schema)} cascade`
await admin.end()
if (!consistent || tick.invoiced !== verification.subscriptions + seeded) process.exitCode = 1
