/**
 * The simulated gateway enters a batch in its ledger and reads the batch's
 * entries back in one statement (simulatedGatewayLedger.ts
 * `enterInLedgerAndRead`). That statement's snapshot predates an entry another
 * transaction commits while the statement waits on it: the entry is then
 * neither inserted (the key conflicts) nor read. It must be read all the same,
 * or the gateway answers nothing for a charge it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { enterInLedgerAndRead } from "../../../engine/payments/simulatedGatewayLedger.ts"
import { freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

if (serverUrl === undefined) throw new Error("this test needs the PostgreSQL server: set DATABASE_URL (CI does)")

const entry = (key: string, outcome: "succeeded" | "declined") => ({
  idempotencyKey: key, kind: "charge" as const, amount: 1250, currency: "USD", paymentMethod: "pm_ok",
  outcome, reference: `ch_${key}`, merchantReference: `inv_${key}`
})

describe("the simulated gateway's ledger (server)", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase({ _tag: "Server", url: serverUrl!, schema: freshSchemaName() })
  })
  afterAll(async () => {
    await t.close()
  })

  it("reads back an entry another transaction committed while the batch waited on its key", async () => {
    const sql = t.db.sql
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let entered!: () => void
    const isEntered = new Promise<void>((r) => (entered = r))
    // Another submission of the same key, holding its uncommitted entry.
    const other = sql.begin(async (tx) => {
      await tx`insert into sim_gateway_ledger (idempotency_key, kind, amount, currency, payment_method, outcome, reference, merchant_reference)
               values ('k1', 'charge', 1250, 'USD', 'pm_ok', 'succeeded', 'ch_first', 'inv_k1')`
      entered()
      await released
    })
    await isEntered
    const batch = enterInLedgerAndRead(sql, [entry("k1", "declined"), entry("k2", "succeeded")], ["k1", "k2"])
    // Commit the other only once the batch waits on its key.
    for (let i = 0; i < 200; i++) {
      const [w] = await sql<Array<{ n: number }>>`select count(*)::int as n from pg_locks where not granted and pid <> pg_backend_pid()`
      if (w!.n > 0) break
      await new Promise((r) => setTimeout(r, 25))
    }
    release()
    await other
    const { inserted, ledger } = await batch
    expect([...inserted]).toEqual(["k2"])
    expect(ledger.get("k1")).toEqual({ outcome: "succeeded", reference: "ch_first", paymentMethod: "pm_ok" })
    expect(ledger.get("k2")?.outcome).toBe("succeeded")
  })
})
