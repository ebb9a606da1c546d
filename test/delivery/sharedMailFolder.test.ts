/**
 * Two stores, one mail folder: two engines started in the same directory (two
 * embedded databases, or two server schemas) both write their emails to
 * ./out/mail. Each store numbers its outbox from 1, so each sends a receipt
 * under the same delivery key; the files must not overwrite each other, and a
 * re-send after a crash must still overwrite its own file.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../cliRunner.ts"
import { createSubscription, tickAt } from "../engine/runtime/engineHarness.ts"
import { backend, freshCliDatabase, openTestDatabase, serverUrl } from "../storeHarness.ts"

/** A store made as a user would, with one buyer billed (not yet emailed) on 2026-03-01; its id (migration 0036). */
const storeWithOneReceipt = async (buyer: string) => {
  const { db, env } = freshCliDatabase()
  const open = () => openTestDatabase(serverUrl === undefined ? { _tag: "Embedded", dataDir: db } : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
  const t = await open()
  try {
    await createSubscription(t.db.sql, { start: "2026-03-01", paymentMethod: "pm_ok", email: buyer })
    await tickAt(t, "2026-03-01")
    const [store] = await t.db.sql<Array<{ id: string }>>`select id from store_identity`
    return { db, env, open, storeId: store!.id }
  } finally {
    await t.close()
  }
}

const mailOf = (dir: string) => readdirSync(join(dir, "out", "mail")).sort()

describe(`two stores delivering into one mail folder (${backend})`, () => {
  it("each buyer's receipt 1 is its own file, named by the delivery key and a short tag of its store; a re-send after a crash overwrites its own file", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "billcycle-shared-mail-"))
    const stores = [await storeWithOneReceipt("ana@example.com"), await storeWithOneReceipt("bo@example.com")]
    for (const s of stores) {
      const run = runCli(["engine", "--once", "--now", "2026-03-01", "--db", s.db], { cwd, env: s.env })
      expect(run.code, run.stderr).toBe(0)
    }
    // Each store sent a receipt and its admin notification: four emails, four files.
    const names = stores.flatMap((s) => [`email_receipt_1.${s.storeId.slice(0, 12)}.eml`, `notification_payment_succeeded_1.${s.storeId.slice(0, 12)}.eml`]).sort()
    expect(mailOf(cwd)).toEqual(names)
    for (const [s, buyer] of [[stores[0]!, "ana@example.com"], [stores[1]!, "bo@example.com"]] as const) {
      expect(readFileSync(join(cwd, "out", "mail", `email_receipt_1.${s.storeId.slice(0, 12)}.eml`), "utf8")).toContain(`To: ${buyer}`)
    }

    // The first store's engine died after writing the receipt and before recording it: the next engine writes it
    // again, into the same file, not a second one.
    const t = await stores[0]!.open()
    try {
      await t.db.sql`update outbox set status = 'sending', lease_owner = 'dead-engine', lease_until = now() - interval '1 second' where dedupe_key = 'email:receipt:1'`
    } finally {
      await t.close()
    }
    const again = runCli(["engine", "--once", "--now", "2026-03-01", "--db", stores[0]!.db], { cwd, env: stores[0]!.env })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("delivered 1")
    expect(mailOf(cwd)).toEqual(names)
    expect(readFileSync(join(cwd, "out", "mail", `email_receipt_1.${stores[0]!.storeId.slice(0, 12)}.eml`), "utf8")).toContain("To: ana@example.com")
  }, 240_000)
})
