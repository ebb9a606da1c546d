/**
 * SIGTERM cuts a hanging network call short: an engine blocked on an SMTP
 * server that greets and then never answers (its socket timeout set to 10
 * minutes here, nodemailer's default) stops when told to, and the message is
 * left to be retaken and sent again under the same delivery key.
 */
import { spawn } from "node:child_process"
import { createServer } from "node:net"
import type { AddressInfo, Socket } from "node:net"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot } from "../cliRunner.ts"
import { createSubscription, tickAt } from "../engine/runtime/engineHarness.ts"
import { freshCliDatabase, openTestDatabase, serverUrl } from "../storeHarness.ts"

describe("SIGTERM during a hanging SMTP send", () => {
  it("stops the engine at once instead of waiting out the socket; the email stays to be sent again", async () => {
    const { db, env } = freshCliDatabase()
    const t = await openTestDatabase(serverUrl === undefined ? { _tag: "Embedded", dataDir: db } : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
    try {
      // A paid invoice queues a receipt; this tick does not deliver it (the engine below does).
      await createSubscription(t.db.sql, { start: "2026-03-01", paymentMethod: "pm_ok" })
      await tickAt(t, "2026-03-01")
      expect((await t.db.sql`select count(*)::int as n from outbox where kind = 'email' and status = 'queued'`)[0]!["n"]).toBeGreaterThan(0)
    } finally {
      await t.close()
    }
    const sockets: Array<Socket> = []
    const sink = createServer((socket) => {
      sockets.push(socket)
      socket.write("220 sink ESMTP\r\n")
    })
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", () => resolve()))
    const smtpUrl = `smtp://127.0.0.1:${(sink.address() as AddressInfo).port}?socketTimeout=600000`
    const child = spawn(billcyclePath, ["engine", "--once", "--now", "2026-03-01", "--db", db], { cwd: repoRoot, env: { ...process.env, ...env, SMTP_URL: smtpUrl } })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      for (let i = 0; i < 1200 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(sockets.length).toBeGreaterThan(0)
      child.kill("SIGTERM")
      // Without the cut, the engine waits out the 10-minute socket and this test's limit fails it.
      expect(await exited).toBe(0)
    } finally {
      child.kill("SIGKILL")
      for (const s of sockets) s.destroy()
      sink.close()
    }
  }, 240_000)
})
