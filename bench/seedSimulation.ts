/**
 * Seeds the simulation benchmark's 10,000 subscriptions (anchors spread over
 * January 2026, reminders on, a quarter on pm_fail_once) into an embedded
 * database directory, to time the `simulate` command itself, email delivery
 * included:
 *
 *   node bench/seedSimulation.ts /tmp/sim/db
 *   cd /tmp/sim && billcycle --db /tmp/sim/db simulate --now 2026-01-01 --until 2026-12-31
 */
import { Effect, Exit, Scope } from "effect"
import { openDatabase } from "../engine/sql/index.ts"
import { seedDueSubscriptions } from "../test/seed.ts"

const dir = process.argv[2]
if (dir === undefined) {
  console.error("usage: node bench/seedSimulation.ts DB_DIR")
  process.exit(2)
}
const scope = Scope.makeUnsafe()
const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: dir }).pipe(Scope.provide(scope)))
await seedDueSubscriptions(db.sql, { count: 10_000, due: "2026-01-01", spreadDays: 28, reminders: true, paymentMethods: ["pm_ok", "pm_ok", "pm_ok", "pm_fail_once"] })
await Effect.runPromise(Scope.close(scope, Exit.void))
console.log(`seeded 10,000 subscriptions into ${dir}`)
