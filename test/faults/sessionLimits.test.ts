/**
 * No wait is unbounded on a PostgreSQL server (issue #21): every session of
 * billcycle has idle-in-transaction, lock and statement timeouts, and names
 * its process, so that a stop can find and cancel its own waiting statements.
 */
import { describe, expect, it } from "vitest"
import { connectionLost, statementCancelled } from "../../engine/sql/index.ts"
import { freshSchemaName, openTestDatabase } from "../storeHarness.ts"
import { testServerUrl } from "../testServer.ts"

const serverUrl = testServerUrl()

describe("server sessions", () => {
  it("carry bounded timeouts and the process id; a statement over statement_timeout is cancelled and counts as no bad record", async () => {
    const saved = process.env["BILLCYCLE_STATEMENT_TIMEOUT"]
    process.env["BILLCYCLE_STATEMENT_TIMEOUT"] = "1"
    const t = await openTestDatabase({ _tag: "Server", url: serverUrl, schema: freshSchemaName() })
    try {
      const [s] = await t.db.sql`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock,
        current_setting('idle_in_transaction_session_timeout') as idle, current_setting('application_name') as app`
      expect(s).toMatchObject({ statement: "1s", lock: "30s", idle: "1min" })
      expect(s!["app"]).toMatch(new RegExp(`\\(pid ${process.pid}\\)$`))
      const error = await t.db.sql`select pg_sleep(3)`.then(() => undefined, (e: unknown) => e)
      expect(statementCancelled(error)).toBe(true)
      // The engine rolls back and tries again; it never parks a record for it.
      expect(connectionLost(error)).toBe(true)
    } finally {
      await t.close()
      if (saved === undefined) delete process.env["BILLCYCLE_STATEMENT_TIMEOUT"]
      else process.env["BILLCYCLE_STATEMENT_TIMEOUT"] = saved
    }
  })
})
