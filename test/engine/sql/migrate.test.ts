import { Effect, Exit, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { migrate, migrations, openDatabase } from "../../../engine/sql/index.ts"
import { backend, freshSchemaName, openTestDatabase, serverUrl } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

const opened: Array<TestDatabase> = []
afterEach(async () => {
  while (opened.length > 0) await opened.pop()!.close()
})

describe(`migrations (${backend})`, () => {
  it("a fresh database is migrated on first use, and migrating again applies nothing", async () => {
    const t = await openTestDatabase()
    opened.push(t)
    const rows = await t.db.sql<Array<{ version: number }>>`select version from schema_migrations order by version`
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
    expect(await migrate(t.db.sql)).toEqual([])
  })

  it("the schema carries the invariants: one invoice per subscription and period", async () => {
    const t = await openTestDatabase()
    opened.push(t)
    const sql = t.db.sql
    const [c] = await sql`insert into contacts (email) values ('ana@example.com') returning id`
    const [s] = await sql`insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, start_date, collection_method, status, created_on)
      values (${c!["id"]}, 'Coffee', 'USD', 'month', 1, '2026-03-01', 'charge', 'active', '2026-03-01') returning id`
    const insertInvoice = (n: string) => sql`insert into invoices (number, subscription_id, period_index, period_start, period_end, issue_date, due_date, currency, subtotal, discount, tax, total, collection_method, status)
      values (${n}, ${s!["id"]}, 0, '2026-03-01', '2026-04-01', '2026-03-01', '2026-03-01', 'USD', 2500, 0, 0, 2500, 'charge', 'open')`
    await insertInvoice("INV-1")
    await expect(insertInvoice("INV-2")).rejects.toThrow(/unique/)
    await expect(sql`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity) values (${s!["id"]}, 1, 1, 'x', 100, 0)`).rejects.toThrow()
  })

  it("an external id is unique when set, and subscriptions without one are not indexed by it", async () => {
    const t = await openTestDatabase()
    opened.push(t)
    const sql = t.db.sql
    const [c] = await sql`insert into contacts (email) values ('bo@example.com') returning id`
    const insert = (externalId: string | null) => sql`insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, start_date, collection_method, status, created_on, external_id)
      values (${c!["id"]}, 'Coffee', 'USD', 'month', 1, '2026-03-01', 'charge', 'active', '2026-03-01', ${externalId})`
    await insert(null)
    await insert(null)
    await insert("sub_1")
    await expect(insert("sub_1")).rejects.toMatchObject({ constraint_name: "subscriptions_external_id_key" })
    // Billing and reminders move a subscription's row twice per renewal: an index of every row's NULL took an entry each time.
    const [index] = await sql<Array<{ def: string }>>`select indexdef as def from pg_indexes where schemaname = current_schema() and indexname = 'subscriptions_external_id_key'`
    expect(index!.def).toMatch(/WHERE \(external_id IS NOT NULL\)/)
  })

  it("the engine's own keys are indexed bytewise, whatever the database's collation", async () => {
    const t = await openTestDatabase()
    opened.push(t)
    const rows = await t.db.sql<Array<{ key: string; collation: string }>>`
      select c.relname || '.' || a.attname as key, co.collname as collation
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_collation co on co.oid = a.attcollation
      where c.relnamespace = current_schema()::regnamespace and (c.relname, a.attname) in (
        ('outbox', 'dedupe_key'), ('tasks', 'dedupe_key'), ('payment_attempts', 'idempotency_key'), ('checkout_payments', 'idempotency_key'),
        ('invoices', 'number'), ('enrollments', 'trigger_key'), ('enrollment_steps', 'step_key'), ('sim_gateway_ledger', 'idempotency_key'),
        ('sim_gateway_ledger', 'merchant_reference'), ('sim_gateway_refusals', 'idempotency_key'))
      order by 1`
    expect(rows).toHaveLength(10)
    expect(rows.filter((r) => r.collation !== "C")).toEqual([])
    // Equality and the order of the keys the engine makes are what they were.
    await t.db.sql`insert into tasks (title, dedupe_key) values ('a', 'rule:10:2'), ('b', 'rule:9:2'), ('c', 'Rule:9:2')`
    expect((await t.db.sql<Array<{ dedupe_key: string }>>`select dedupe_key from tasks where dedupe_key = ${"rule:9:2"}`).map((r) => r.dedupe_key)).toEqual(["rule:9:2"])
    expect((await t.db.sql<Array<{ dedupe_key: string }>>`select dedupe_key from tasks order by dedupe_key`).map((r) => r.dedupe_key)).toEqual(["Rule:9:2", "rule:10:2", "rule:9:2"])
  })

  // Concurrency needs several connections: the PostgreSQL server only (CI runs it there).
  if (backend === "server") it("two concurrent migrations leave one correct schema", async () => {
    const schema = freshSchemaName()
    const target = { _tag: "Server" as const, url: serverUrl!, schema }
    const scopes = [Scope.makeUnsafe(), Scope.makeUnsafe(), Scope.makeUnsafe()]
    const dbs = await Promise.all(scopes.map((scope) => Effect.runPromise(openDatabase(target).pipe(Scope.provide(scope)))))
    try {
      const rows = await dbs[0]!.sql<Array<{ version: number }>>`select version from schema_migrations order by version`
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
      const n = (await dbs[0]!.sql<Array<{ n: number }>>`select count(*)::int as n from information_schema.tables where table_schema = ${schema}`)[0]!.n
      expect(n).toBeGreaterThan(15)
      const seq = (await dbs[0]!.sql<Array<{ seq: number }>>`select count(*)::int as seq from invoice_sequence`)[0]!.seq
      expect(seq).toBe(1)
    } finally {
      for (const scope of scopes) await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })
})
