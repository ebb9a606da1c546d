/**
 * The PostgreSQL server the tests use: the server pass's `DATABASE_URL`, or
 * for the fault tests (which run against a server in every pass) `PG_TEST_URL`,
 * else the machine's own. The suite's teardown (globalSetup.ts) drops the
 * schemas this run made there.
 */
export const testServerUrl = (): string =>
  process.env["PG_TEST_URL"] || process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
