/**
 * `DATABASE_URL` naming the local server's Unix socket, libpq's way: the command line and the store open through
 * the socket (no TCP: the server sees no client address), not with "unrecognized configuration parameter host".
 */
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

describe("a Unix socket URL (server)", () => {
  let socketUrl: string
  beforeAll(async () => {
    // The directory this server listens in, as it says (Debian: /var/run/postgresql).
    const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} })
    const [row] = await admin<Array<{ dirs: string; port: string; db: string }>>`
      select current_setting('unix_socket_directories') as dirs, current_setting('port') as port, current_database() as db`
    await admin.end()
    const dir = row!.dirs.split(",")[0]!.trim()
    expect(dir.startsWith("/")).toBe(true)
    socketUrl = `postgres://postgres@/${row!.db}?host=${dir}&port=${row!.port}`
  })
  let t: TestDatabase | undefined
  afterAll(async () => {
    await t?.close()
  })

  it("opens the store through the socket", async () => {
    t = await openTestDatabase({ _tag: "Server", url: socketUrl, schema: freshSchemaName() })
    const [row] = await t.db.sql<Array<{ addr: string | null; products: number }>>`
      select inet_server_addr()::text as addr, (select count(*)::int from products) as products`
    expect(row).toEqual({ addr: null, products: 0 })
  })

  it("runs the command line with DATABASE_URL naming the socket", () => {
    const env = { DATABASE_URL: socketUrl, BILLCYCLE_DB_SCHEMA: freshSchemaName() }
    const migrated = runCli(["db", "migrate"], { env })
    expect(migrated.stderr).toBe("")
    expect(migrated.code).toBe(0)
    const added = runCli(["products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD", "--frequency", "monthly"], { env })
    expect(added.stdout).toContain("product 1: Coffee (COFFEE) 12.50 USD monthly")
    expect(runCli(["products", "list"], { env }).stdout).toContain("COFFEE")
  })
})
