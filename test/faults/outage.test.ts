/**
 * The engine survives its database (issue #21, findings 1 and 2): a
 * connection lost in the middle of a tick (a PostgreSQL restart, a network
 * outage) rolls back the batch in hand; the continuous engine logs one line,
 * waits with backoff and carries on; `engine --once` exits 1 with one clean
 * line. Driven through the real bin/billcycle against the machine's
 * PostgreSQL server behind a TCP proxy the test cuts and restores. The
 * invariants are checked in SQL afterwards: one invoice per period, at most
 * one successful charge per invoice.
 */
import { spawn } from "node:child_process"
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli, runCliAsync } from "../cliRunner.ts"
import { freshSchemaName } from "../storeHarness.ts"
import { stall, violations } from "./books.ts"
import { startTcpProxy, type TcpProxy } from "./tcpProxy.ts"
import { testServerUrl } from "../testServer.ts"

const serverUrl = testServerUrl()

let proxy: TcpProxy
beforeAll(async () => {
  const u = new URL(serverUrl)
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) })
})
afterAll(() => proxy.close())

const setUp = (schema: string) => {
  const env = { BILLCYCLE_DB_SCHEMA: schema }
  const cli = (...args: Array<string>) => runCli([...args, "--db", serverUrl, "--now", "2026-03-01"], { env })
  expect(cli("products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
  for (let i = 0; i < 3; i++) {
    expect(cli("contacts", "add", "--email", `c${i}@example.com`, "--payment-method", "pm_ok").code).toBe(0)
    const made = cli("subscriptions", "create", "--contact", `c${i}@example.com`, "--item", "sku=COFFEE")
    expect(made.code, made.stderr).toBe(0)
  }
  return { env, cli }
}

/** Invariants of the books, read straight from the schema. */
const books = async (schema: string) => {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
  try {
    const [r] = await sql<Array<{ invoices: number; periods: number; doubly_paid: number; succeeded: number }>>`
      select (select count(*)::int from invoices) as invoices,
             (select count(distinct (subscription_id, period_index))::int from invoices) as periods,
             (select count(*)::int from (select invoice_id from payment_attempts where status = 'succeeded' group by invoice_id having count(*) > 1) d) as doubly_paid,
             (select count(*)::int from payment_attempts where status = 'succeeded') as succeeded`
    return r!
  } finally {
    await sql.end()
  }
}

const oneCleanLine = (stderr: string) => {
  expect(stderr, stderr).not.toMatch(/^\s+at /m)
  expect(stderr, stderr).not.toContain("TypeError")
}

describe("the engine survives its database", () => {
  it("engine --once: a connection lost mid-tick exits 1 with one line; the rerun bills every period once", async () => {
    const schema = freshSchemaName()
    const { env } = setUp(schema)
    const cut = proxy.cutOn("insert into invoices")
    const { code, stderr } = await runCliAsync(["engine", "--once", "--db", proxy.url(serverUrl), "--now", "2026-03-01"], { env })
    await cut
    proxy.restore()
    expect(code).toBe(1)
    oneCleanLine(stderr)
    expect(stderr.trim().split("\n"), stderr).toHaveLength(1)
    expect(await books(schema)).toMatchObject({ invoices: 0 })

    const rerunAt = Date.now()
    const rerun = await runCliAsync(["engine", "--once", "--db", proxy.url(serverUrl), "--now", "2026-03-01"], { env })
    stall("database lost mid-tick, engine --once rerun", Date.now() - rerunAt)
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(await books(schema)).toEqual({ invoices: 3, periods: 3, doubly_paid: 0, succeeded: 3 })
    expect(await violations(serverUrl, schema, { settled: true })).toEqual([])
  }, 300_000)

  it("the continuous engine logs one line per outage, waits with backoff and carries on; SIGTERM still stops it", async () => {
    const schema = freshSchemaName()
    const { env } = setUp(schema)
    const engine = spawn(billcyclePath, ["engine", "--interval", "1", "--db", proxy.url(serverUrl), "--now", "2026-03-01"], { cwd: repoRoot, env: { ...process.env, ...env } })
    let stdout = ""
    let stderr = ""
    engine.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    engine.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    let exited = false
    const done = new Promise<number | null>((resolve) => engine.on("close", (c) => {
      exited = true
      resolve(c)
    }))
    const cut = proxy.cutOn("insert into invoices")
    await cut
    // The database stays away for a while: the engine must not exit meanwhile.
    await new Promise((r) => setTimeout(r, 5_000))
    expect(exited, stderr).toBe(false)
    proxy.restore()
    const restoredAt = Date.now()
    const deadline = Date.now() + 120_000
    // Until a tick has reported its work (a stop in the middle of delivering would cut the tick short).
    while (!stdout.includes("invoiced") && Date.now() < deadline && !exited) await new Promise((r) => setTimeout(r, 500))
    stall("database away 5 s, continuous engine billing again after it came back", 5_000 + Date.now() - restoredAt)
    expect(exited, stderr).toBe(false)
    expect(await books(schema)).toEqual({ invoices: 3, periods: 3, doubly_paid: 0, succeeded: 3 })
    engine.kill("SIGTERM")
    expect(await done).toBe(0)
    oneCleanLine(stderr)
    expect(stderr).toMatch(/database unavailable/)
    expect(stdout, `stdout: ${stdout}\nstderr: ${stderr}`).toContain("invoiced")
    expect(await violations(serverUrl, schema, { settled: false })).toEqual([])
  }, 300_000)
})
