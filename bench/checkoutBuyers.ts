/**
 * The buyers of `npm run bench -- checkout` (bench/checkout.ts), in a process of their own, as real buyers are:
 * a load generator in the server's own event loop would queue the server's work behind its own. Started with
 * the server's port and the run's settings (argv[2], JSON); `connections` buyers each loop on checkouts for
 * `warmup` seconds, then tells its parent "timed" and loops for `seconds` more, then sends the timed run's
 * figures and exits.
 */
import { httpClient } from "./harness.ts"

interface Settings { readonly port: number; readonly slug: string; readonly connections: number; readonly warmup: number; readonly seconds: number }
const { port, slug, connections, warmup, seconds } = JSON.parse(process.argv[2]!) as Settings
const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()))

const { http, close } = httpClient(port, connections)

let emails = 0
type Outcome = { readonly ok: true; readonly payMs: number; readonly totalMs: number } | { readonly ok: false; readonly why: string }
/** One buyer's checkout: open the link, read the form, pay. */
const checkout = async (): Promise<Outcome> => {
  const t0 = performance.now()
  const opened = await http("GET", `/l/${slug}`)
  if (opened.status !== 303 || opened.location === undefined) return { ok: false, why: `GET /l ${opened.status}` }
  const path = opened.location
  const page = await http("GET", path)
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.body)?.[1]
  if (page.status !== 200 || page.cookie === undefined || csrf === undefined) return { ok: false, why: `GET /c ${page.status}` }
  const form = new URLSearchParams({ csrf, action: "pay", email: `buyer-${process.pid}-${++emails}@example.com`, name: "Bench Buyer", payment_method: "pm_ok" }).toString()
  const t1 = performance.now()
  const paid = await http("POST", path, { cookie: page.cookie, "content-type": "application/x-www-form-urlencoded" }, form)
  const t2 = performance.now()
  if (paid.status !== 303 || paid.location !== path) return { ok: false, why: `POST /c ${paid.status} ${paid.location ?? ""}` }
  return { ok: true, payMs: t2 - t1, totalMs: t2 - t0 }
}

// Warm-up (the server's JIT and pool), then the timed run.
const warmupEnd = performance.now() + warmup * 1000
let warmed = 0
await Promise.all(Array.from({ length: connections }, async () => {
  while (performance.now() < warmupEnd) if ((await checkout()).ok) warmed++
}))
await send({ timed: true })
const payMs: Array<number> = []
const totalMs: Array<number> = []
const failures: Record<string, number> = {}
let completed = 0
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const deadline = t0 + seconds * 1000
await Promise.all(Array.from({ length: connections }, async () => {
  while (performance.now() < deadline) {
    const r = await checkout().catch((e): Outcome => ({ ok: false, why: String(e) }))
    if (r.ok) {
      completed++
      payMs.push(r.payMs)
      totalMs.push(r.totalMs)
    } else failures[r.why] = (failures[r.why] ?? 0) + 1
  }
}))
const elapsed = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
close()
await send({ done: { warmed, completed, elapsed, payMs, totalMs, failures, cpuMs: (cpu.user + cpu.system) / 1e3 } })
process.disconnect()
