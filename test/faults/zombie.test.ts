/**
 * A zombie engine (issue #21, finding 5): an engine stopped (SIGSTOP) while
 * it holds the invoice-numbering lock must not block every other engine. The
 * server ends a session idle inside a transaction (idle_in_transaction_
 * session_timeout), which rolls the zombie's batch back and frees the lock;
 * the other engine bills everything, numbers stay gapless, and the zombie,
 * woken, finds its connection gone and exits 1 with one line.
 */
import { spawn } from "node:child_process"
import postgres from "postgres"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli } from "../cliRunner.ts"
import { freshSchemaName } from "../storeHarness.ts"
import { stall, violations } from "./books.ts"
import { testServerUrl } from "../testServer.ts"

const serverUrl = testServerUrl()

describe("a zombie engine holding the numbering lock", () => {
  it("does not block another engine for longer than the idle-in-transaction timeout; numbers stay gapless", async () => {
    const schema = freshSchemaName()
    // Short timeouts, so that the test does not wait a minute.
    const env = { BILLCYCLE_DB_SCHEMA: schema, BILLCYCLE_IDLE_IN_TRANSACTION_TIMEOUT: "3", BILLCYCLE_LOCK_TIMEOUT: "20" }
    const cli = (...args: Array<string>) => runCli([...args, "--db", serverUrl, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
    for (let i = 0; i < 4; i++) {
      expect(cli("contacts", "add", "--email", `c${i}@example.com`, "--payment-method", "pm_ok").code).toBe(0)
      expect(cli("subscriptions", "create", "--contact", `c${i}@example.com`, "--item", "sku=COFFEE").code).toBe(0)
    }

    const zombie = spawn(billcyclePath, ["engine", "--once", "--batch", "1", "--db", serverUrl, "--now", "2026-03-01"], {
      cwd: repoRoot, env: { ...process.env, ...env, BILLCYCLE_FAILPOINT: "after-numbering@stop" }
    })
    let zombieErr = ""
    zombie.stderr.on("data", (d: Buffer) => (zombieErr += d.toString()))
    const zombieDone = new Promise<number | null>((resolve) => zombie.on("close", resolve))
    const deadline = Date.now() + 120_000
    while (!zombieErr.includes("failpoint after-numbering reached") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(zombieErr).toContain("failpoint after-numbering reached: stopping the process")

    // Another engine, while the zombie holds the numbering row: it gets through once the server ends the zombie's session.
    const started = Date.now()
    const other = cli("engine", "--once")
    const waited = Date.now() - started
    stall("zombie engine holding the numbering lock (idle-in-transaction timeout 3 s)", waited)
    expect(other.code, other.stderr).toBe(0)
    expect(waited).toBeLessThan(100_000)

    zombie.kill("SIGCONT")
    expect(await zombieDone).toBe(1)
    expect(zombieErr).not.toMatch(/^\s+at /m)

    const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
    try {
      const invoices = await sql<Array<{ number: string; subscription_id: number }>>`select number, subscription_id from invoices order by number`
      expect(invoices.map((i) => i.number)).toEqual(["INV-000001", "INV-000002", "INV-000003", "INV-000004"])
      expect(new Set(invoices.map((i) => i.subscription_id)).size).toBe(4)
      const [paid] = await sql<Array<{ n: number }>>`select count(*)::int as n from payment_attempts where status = 'succeeded'`
      expect(paid!.n).toBe(4)
      expect(cli("engine", "--once").code).toBe(0)
      expect(await violations(serverUrl, schema, { settled: true })).toEqual([])
    } finally {
      await sql.end()
    }
  }, 300_000)
})
