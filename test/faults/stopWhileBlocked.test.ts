/**
 * SIGTERM while an engine waits for a lock (issue #21, finding 5): a zombie
 * engine (SIGSTOP) holds the invoice-numbering row; a second engine blocks on
 * it. Told to stop, the second engine must not wait out lock_timeout (set to
 * two minutes here): it cancels its own waiting statement, which rolls back
 * the batch in hand, says so in one line and exits 0. Nothing it had in hand
 * is lost: once the zombie is woken, a rerun bills every period once with
 * gapless numbers.
 */
import { spawn } from "node:child_process"
import postgres from "postgres"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli } from "../cliRunner.ts"
import { freshSchemaName } from "../storeHarness.ts"
import { stall, violations } from "./books.ts"
import { testServerUrl } from "../testServer.ts"

const serverUrl = testServerUrl()

const waitFor = async (what: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (!(await what()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
}

describe("SIGTERM to an engine blocked on a lock", () => {
  it("cancels the wait, rolls back the batch in hand and exits 0 at once; a rerun bills everything once", async () => {
    const schema = freshSchemaName()
    const env = { BILLCYCLE_DB_SCHEMA: schema, BILLCYCLE_IDLE_IN_TRANSACTION_TIMEOUT: "600", BILLCYCLE_LOCK_TIMEOUT: "120" }
    const cli = (...args: Array<string>) => runCli([...args, "--db", serverUrl, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
    for (let i = 0; i < 4; i++) {
      expect(cli("contacts", "add", "--email", `c${i}@example.com`, "--payment-method", "pm_ok").code).toBe(0)
      expect(cli("subscriptions", "create", "--contact", `c${i}@example.com`, "--item", "sku=COFFEE").code).toBe(0)
    }
    const start = (name: string, extraEnv: Record<string, string>) => {
      const child = spawn(billcyclePath, ["engine", "--once", "--batch", "1", "--db", serverUrl, "--now", "2026-03-01"], { cwd: repoRoot, env: { ...process.env, ...env, ...extraEnv } })
      const out = { stdout: "", stderr: "", name }
      child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()))
      child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()))
      const done = new Promise<number | null>((resolve) => child.on("close", resolve))
      return { child, out, done }
    }
    const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
    const zombie = start("zombie", { BILLCYCLE_FAILPOINT: "after-numbering@stop" })
    try {
      await waitFor(() => zombie.out.stderr.includes("failpoint after-numbering reached"), 120_000)
      expect(zombie.out.stderr).toContain("failpoint after-numbering reached: stopping the process")

      const blocked = start("blocked", {})
      // Wait until the second engine is really waiting on a lock held by the zombie.
      const waiting = async () =>
        (await sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and application_name like ${`%(pid ${blocked.child.pid})`}`)[0]!["n"] > 0
      await waitFor(waiting, 60_000)
      expect(await waiting()).toBe(true)

      const stopped = Date.now()
      blocked.child.kill("SIGTERM")
      const code = await blocked.done
      const took = Date.now() - stopped
      stall("SIGTERM to an engine blocked on the numbering lock, until it exited", took)
      expect(code, blocked.out.stderr).toBe(0)
      // Not the two-minute lock_timeout: the grace for the batch in hand, then the wait is cancelled.
      expect(took).toBeLessThan(15_000)
      expect(blocked.out.stderr).not.toMatch(/^\s+at /m)
      expect(blocked.out.stderr).toMatch(/stopped while waiting for a lock/)
    } finally {
      zombie.child.kill("SIGCONT")
    }
    expect(await zombie.done, zombie.out.stderr).toBe(0)
    try {
      expect(cli("engine", "--once").code).toBe(0)
      const invoices = await sql<Array<{ number: string; subscription_id: number }>>`select number, subscription_id from invoices order by number`
      expect(invoices.map((i) => i.number)).toEqual(["INV-000001", "INV-000002", "INV-000003", "INV-000004"])
      expect(new Set(invoices.map((i) => i.subscription_id)).size).toBe(4)
      const [paid] = await sql<Array<{ n: number }>>`select count(*)::int as n from payment_attempts where status = 'succeeded'`
      expect(paid!.n).toBe(4)
      expect(await violations(serverUrl, schema, { settled: true })).toEqual([])
    } finally {
      await sql.end()
    }
  }, 300_000)
})
