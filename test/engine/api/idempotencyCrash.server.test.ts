/**
 * An Idempotency-Key's answer commits in the same transaction as the change
 * it answers: `billcycle serve` killed (SIGKILL, a failpoint) just before that
 * commit leaves neither, so the retry runs once; killed just after it leaves
 * both, so the retry replays. Never two subscriptions, never a stuck key.
 * (Server database: the crash kills the process that would own an embedded one.)
 */
import { describe, expect, it } from "vitest"
import postgres from "postgres"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase, serverUrl } from "../../storeHarness.ts"
import { startServe } from "./serveProcess.ts"

const setUp = () => {
  const { db, env } = freshCliDatabase()
  expect(runCli(["products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD", "--db", db], { env }).code).toBe(0)
  expect(runCli(["contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok", "--db", db], { env }).code).toBe(0)
  const key = runCli(["api-keys", "create", "--name", "shop", "--db", db], { env }).stdout.trim()
  const sql = postgres(serverUrl!, { max: 1, onnotice: () => {}, connection: { search_path: env["BILLCYCLE_DB_SCHEMA"]! } })
  return { db, env, key, sql }
}

const create = (url: string, key: string) =>
  fetch(`${url}/v1/subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": "order-1" },
    body: JSON.stringify({ contact: "ana@example.com", items: ["sku=COFFEE"] })
  })

describe("Idempotency-Key across a crash", () => {
  it("killed before the commit: no subscription and no key; the retry creates it once", async () => {
    const { db, env, key, sql } = setUp()
    try {
      const doomed = await startServe(["--db", db], { ...env, BILLCYCLE_FAILPOINT: "api-before-idempotent-commit" })
      await expect(create(doomed.url, key)).rejects.toThrow()
      expect(await doomed.exited).toBeNull()
      expect((await sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(0)
      expect((await sql`select count(*)::int as n from idempotency_keys`)[0]!["n"]).toBe(0)
      const serve = await startServe(["--db", db], env)
      const retry = await create(serve.url, key)
      expect(retry.status).toBe(201)
      expect(retry.headers.get("idempotent-replayed")).toBeNull()
      const again = await create(serve.url, key)
      expect(again.headers.get("idempotent-replayed")).toBe("true")
      expect((await sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(1)
      expect(await serve.stop()).toBe(0)
    } finally {
      await sql.end()
    }
  }, 240_000)

  it("killed after the commit, before answering: the change and its answer are both kept; the retry replays it", async () => {
    const { db, env, key, sql } = setUp()
    try {
      const doomed = await startServe(["--db", db], { ...env, BILLCYCLE_FAILPOINT: "api-after-idempotent-commit" })
      await expect(create(doomed.url, key)).rejects.toThrow()
      expect(await doomed.exited).toBeNull()
      const [kept] = await sql`select response_status from idempotency_keys`
      expect(kept!["response_status"]).toBe(201)
      const serve = await startServe(["--db", db], env)
      const retry = await create(serve.url, key)
      expect(retry.status).toBe(201)
      expect(retry.headers.get("idempotent-replayed")).toBe("true")
      const body = (await retry.json()) as { data: Array<{ id: number }> }
      const rows = await sql`select id::int as id from subscriptions`
      expect(rows.map((r) => r["id"])).toEqual([body.data[0]!.id])
      expect(await serve.stop()).toBe(0)
    } finally {
      await sql.end()
    }
  }, 240_000)
})
