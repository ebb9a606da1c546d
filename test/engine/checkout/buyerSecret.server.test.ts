/**
 * The buyer's secret on a fresh server database, asked for by many requests at
 * once (the first buyers of a new store, each on a connection of the pool):
 * one secret, the same for all, and no request fails. The inserts that lost
 * the race stood back, and their statement's own read came from before the
 * winner's commit: they read the row again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buyerSecret } from "../../../engine/account/index.ts"
import { openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

describe("the buyer's secret (server)", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase()
  })
  afterAll(async () => {
    await t.close()
  })

  it("is made once when many requests ask for it at once, and every one gets it", async () => {
    // Each round on an empty table, each request as a new pool would (not the pool's remembered secret).
    for (let round = 0; round < 5; round++) {
      await t.db.sql`delete from buyer_secrets`
      const secrets = await Promise.all(Array.from({ length: 8 }, () => t.db.sql.reserve().then(async (c) => {
        try {
          return Buffer.from(await buyerSecret(c as never)).toString("hex")
        } finally {
          c.release()
        }
      })))
      expect(new Set(secrets).size).toBe(1)
      const [row] = await t.db.sql<Array<{ n: number }>>`select count(*)::int as n from buyer_secrets`
      expect(row!.n).toBe(1)
    }
  })
})
