import { defineConfig } from "vitest/config"

// Tests named *.server.test.ts need several real connections (crash and
// concurrency tests): they run when DATABASE_URL names a PostgreSQL server, as
// CI does in its second pass, and fail loudly if asked for without one.
const serverTests = "test/**/*.server.test.ts"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...(process.env["DATABASE_URL"] ? [] : [serverTests])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Unpacks the npm-shipped Chromium once, before workers start (test/browser.ts).
    globalSetup: ["test/globalSetup.ts"]
  }
})
