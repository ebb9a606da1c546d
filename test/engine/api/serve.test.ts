import { execFile } from "node:child_process"
import { describe, expect, it } from "vitest"
import { apiKeyTtlMs } from "../../../engine/api/index.ts"
import { billcyclePath, repoRoot, runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"
import { startServe } from "./serveProcess.ts"

// Async, so the test's own HTTP connections stay serviced while a command runs (spawnSync would freeze them).
const runAsync = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(billcyclePath, args, { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout) =>
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout })))

describe("billcycle serve", () => {
  it("--engine bills in the same process: a subscription made over HTTP gets its first invoice", async () => {
    const { db, env } = freshCliDatabase()
    const key = runCli(["api-keys", "create", "--name", "shop", "--db", db], { env }).stdout.trim()
    const serve = await startServe(["--engine", "--db", db], env)
    const post = (path: string, body: unknown) =>
      fetch(`${serve.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) })
    expect((await post("/v1/products", { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD" })).status).toBe(201)
    expect((await post("/v1/contacts", { email: "ana@example.com" })).status).toBe(201)
    expect((await post("/v1/subscriptions", { contact: "ana@example.com", items: ["sku=COFFEE"], collection: "invoice:net-30" })).status).toBe(201)
    let invoices: Array<unknown> = []
    for (let i = 0; i < 60 && invoices.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 1000))
      invoices = ((await (await fetch(`${serve.url}/v1/invoices`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: Array<unknown> }).data
    }
    expect(invoices).toHaveLength(1)
    expect(await serve.stop()).toBe(0)
  }, 240_000)


  it("serves the API with a key from api-keys create, lets other commands use the database meanwhile, and exits 0 on SIGTERM", async () => {
    const { db, env } = freshCliDatabase()
    const made = runCli(["api-keys", "create", "--name", "shop", "--db", db], { env })
    expect(made.code).toBe(0)
    const key = made.stdout.trim()
    expect(key).toMatch(/^bc_rw_/)
    expect(runCli(["api-keys", "list", "--db", db], { env }).stdout).not.toContain(key)
    const { url, stop } = await startServe(["--db", db], env)
    const r = await fetch(`${url}/v1/contacts`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ email: "ana@example.com" }) })
    expect(r.status).toBe(201)
    expect((await fetch(`${url}/v1/contacts`)).status).toBe(401)
    // Another command reaches the same database while serve holds it.
    const listed = await runAsync(["contacts", "list", "--db", db], env)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain("ana@example.com")
    const revoked = await runAsync(["api-keys", "revoke", "shop", "--db", db], env)
    expect(revoked.code).toBe(0)
    // serve remembers a live key for at most apiKeyTtlMs (1 s; README): past that, the revoked key is refused.
    // (The revoke used to take longer than that by itself; since commands start faster it does not.)
    await new Promise((r) => setTimeout(r, apiKeyTtlMs + 100))
    expect((await fetch(`${url}/v1/contacts`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401)
    expect(await stop()).toBe(0)
  }, 240_000)
  it("a request runs at the store's day, as a command would then: clock set after serve started moves the API too", async () => {
    const { db, env } = freshCliDatabase()
    const key = runCli(["api-keys", "create", "--name", "shop", "--db", db], { env }).stdout.trim()
    const serve = await startServe(["--db", db], env)
    const post = (path: string, body: unknown) =>
      fetch(`${serve.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) })
    expect((await post("/v1/contacts", { email: "ana@example.com", payment_method: "pm_ok" })).status).toBe(201)
    const later = "2031-03-14"
    expect((await runAsync(["clock", "set", later, "--db", db], env)).code).toBe(0)
    // The server remembers the store's clock for at most a second.
    await new Promise((r) => setTimeout(r, 1200))
    const made = await post("/v1/subscriptions", { contact: "ana@example.com", items: ["name=Tea,price=9.00"] })
    expect(made.status).toBe(201)
    const [body] = ((await made.json()) as { data: Array<{ start_date: string; next_billing_date: string }> }).data
    expect(body!.start_date).toBe(later)
    expect(body!.next_billing_date).toBe(later)
    const events = await runAsync(["events", "list", "--json", "--all", "--db", db], env)
    const days = (JSON.parse(events.stdout) as Array<{ occurred_on: string; type: string }>).map((e) => e.occurred_on)
    expect(days).toEqual([...days].sort())
    expect(days.at(-1)).toBe(later)
    expect(await serve.stop()).toBe(0)
  }, 240_000)
})
