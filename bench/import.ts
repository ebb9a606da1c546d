/**
 * Import benchmark: `import FILE.csv` of N subscriptions with two line items
 * each (default 100,000 subscriptions, 200,000 rows), all or nothing, into a
 * fresh schema on the PostgreSQL server and into the embedded database.
 * Baseline in the same run: the same kind of rows inserted one statement per
 * row (a sample of 2,000 subscriptions), to show what set-based writing buys.
 *
 *   node bench/import.ts [--subscriptions N]
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { CalendarDate } from "../engine/domain/index.ts"
import type { DatabaseTarget, Sql } from "../engine/sql/index.ts"
import type { EngineContext } from "../engine/account/index.ts"
import { openDatabase } from "../engine/sql/index.ts"
import { defaultSettings, makeEngineContext } from "../engine/account/index.ts"
import { addProduct } from "../engine/catalogue/index.ts"
import { importCsv } from "../engine/imports/index.ts"
import { fmt, writeResults } from "./harness.ts"

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const N = arg("--subscriptions", 100_000)
const sample = 2_000
const ctx: EngineContext = makeEngineContext(defaultSettings(), "2026-03-01" as CalendarDate, { owner: "bench", failpoint: () => {} })

const contactsCsv = (n: number) => "email,name,payment_method\n" + Array.from({ length: n }, (_, i) => `buyer${i}@example.com,Buyer ${i},pm_ok`).join("\n") + "\n"
const subscriptionsCsv = (n: number) =>
  "subscription,contact,item,terms\n" +
  Array.from({ length: n }, (_, i) => `s${i},buyer${i}@example.com,"sku=COFFEE-1KG,qty=${1 + (i % 3)}",auto-renew\ns${i},buyer${i}@example.com,"sku=CASUAL,discount=10%",`).join("\n") + "\n"

const withDb = async <A>(target: DatabaseTarget, f: (sql: Sql) => Promise<A>): Promise<A> => {
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase(target).pipe(Scope.provide(scope)))
  try {
    return await f(db.sql)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const prepare = async (sql: Sql, n: number) => {
  await addProduct(sql, { name: "Just one more cup – 1 kg", sku: "COFFEE-1KG", price: "25.00", currency: "USD", frequency: "monthly" })
  await addProduct(sql, { name: "Coffee casual – 250 g", sku: "CASUAL", price: "12.50", currency: "USD", frequency: "monthly" })
  await importCsv(sql, ctx, "contacts.csv", contactsCsv(n))
}

const measureImport = async (label: string, target: DatabaseTarget) =>
  withDb(target, async (sql) => {
    await prepare(sql, N)
    const csv = subscriptionsCsv(N)
    const t0 = performance.now()
    const summary = await importCsv(sql, ctx, "subscriptions.csv", csv)
    const seconds = (performance.now() - t0) / 1000
    if (summary.created !== N) throw new Error(`expected ${N} subscriptions, got ${summary.created}`)
    const rowsPerSecond = (2 * N) / seconds
    console.log(`  ${label.padEnd(9)} ${seconds.toFixed(2)} s  ${fmt(rowsPerSecond)} CSV rows/s  (${fmt(N / seconds)} subscriptions/s)`)
    return { seconds, rowsPerSecond, subscriptionsPerSecond: N / seconds }
  })

/** The baseline: one INSERT per subscription, item version, line item and event. */
const measureRowAtATime = async (target: DatabaseTarget) =>
  withDb(target, async (sql) => {
    await prepare(sql, sample)
    const contacts = await sql<Array<{ id: number }>>`select id from contacts order by id`
    const t0 = performance.now()
    await sql.begin(async (tx) => {
      for (const c of contacts) {
        const [s] = await tx<Array<{ id: number }>>`insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, start_date, billing_anchor, next_billing_date, collection_method, status, created_on)
          values (${c.id}, 'Coffee', 'USD', 'month', 1, '2026-03-01', '2026-03-01', '2026-03-01', 'charge', 'active', '2026-03-01') returning id`
        await tx`insert into item_versions (subscription_id, version, effective_from) values (${s!.id}, 1, '2026-03-01')`
        await tx`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity) values (${s!.id}, 1, 1, 'Just one more cup – 1 kg', 2500, 1)`
        await tx`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm) values (${s!.id}, 1, 2, 'Coffee casual – 250 g', 1250, 1, 100000)`
        await tx`insert into events (type, subscription_id, occurred_on, source, data) values ('subscription.created', ${s!.id}, '2026-03-01', 'import', '{}')`
      }
    })
    const seconds = (performance.now() - t0) / 1000
    const rowsPerSecond = (2 * sample) / seconds
    console.log(`  baseline  row at a time on the server, ${fmt(sample)} subscriptions: ${fmt(rowsPerSecond)} CSV rows/s`)
    return { seconds, rowsPerSecond }
  })

const url = process.env["DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
const schemas: Array<string> = []
const serverTarget = (): DatabaseTarget => {
  const schema = `bench_import_${Date.now().toString(36)}_${schemas.length}`
  schemas.push(schema)
  return { _tag: "Server", url, schema }
}

console.log(`import: ${fmt(N)} subscriptions × 2 line items (${fmt(2 * N)} CSV rows), all or nothing`)
const server = await measureImport("server", serverTarget())
const dir = mkdtempSync(join(tmpdir(), "billcycle-import-"))
const embedded = await measureImport("embedded", { _tag: "Embedded", dataDir: join(dir, "db") })
rmSync(dir, { recursive: true, force: true })
const baseline = await measureRowAtATime(serverTarget())
console.log(`  set-based import vs row at a time (server): ${(server.rowsPerSecond / baseline.rowsPerSecond).toFixed(1)}x`)
await withDb({ _tag: "Server", url }, async (sql) => {
  for (const s of schemas) await sql.unsafe(`drop schema if exists ${s} cascade`)
})
writeResults("import", { subscriptions: N, rows: 2 * N, server, embedded, baseline, ratio: server.rowsPerSecond / baseline.rowsPerSecond })
