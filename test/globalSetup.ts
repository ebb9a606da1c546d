/**
 * Runs once before the test files: unpacks the npm-shipped Chromium
 * (@sparticuz/chromium) into the temp directory, so that browser tests running
 * in parallel workers do not unpack it at the same time.
 *
 * It also names this run (`BILLCYCLE_TEST_RUN`, inherited by the workers and
 * the CLI processes they start): every schema a test makes on a PostgreSQL
 * server carries the name (storeHarness.ts `freshSchemaName`), and once the
 * files are done the teardown drops this run's schemas, and only them (another
 * run may be using the same server), on the server pass's database and on the
 * fault tests' server of an embedded pass (testServer.ts). Left behind, they piled up by the
 * hundred on a developer's server, and its catalog with them.
 */
import { randomBytes } from "node:crypto"
import { chromiumExecutable } from "./browser.ts"
import { testServerUrl } from "./testServer.ts"

export default async function setup() {
  const run = process.env["BILLCYCLE_TEST_RUN"] ?? randomBytes(4).toString("hex")
  process.env["BILLCYCLE_TEST_RUN"] = run
  await chromiumExecutable()
  return async () => {
    const { default: postgres } = await import("postgres")
    // The server pass's database (DATABASE_URL) and the fault tests' server, which they use in every pass.
    const servers = new Set([process.env["DATABASE_URL"] || undefined, testServerUrl()].filter((u): u is string => u !== undefined))
    for (const url of servers) {
      const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5 })
      try {
        const schemas = await sql<Array<{ name: string }>>`
          select nspname as name from pg_namespace where nspname like ${`t\\_${run}\\_%`} order by nspname`
        // Two at a time, each in its own transaction: one transaction dropping them all would need a lock per object.
        const queue = schemas.map((s) => s.name)
        await Promise.all([0, 1].map(async () => {
          for (let name = queue.shift(); name !== undefined; name = queue.shift()) await sql`drop schema if exists ${sql(name)} cascade`
        }))
      } catch (e) {
        // A run on the embedded database alone, on a machine without the default server: nothing was made there
        // (its fault tests failed, loudly). The server pass's own database must answer.
        if (url === process.env["DATABASE_URL"]) throw e
      } finally {
        await sql.end()
      }
    }
  }
}
