/**
 * Buyers paying at the same moment on a server are recorded in one transaction (checkout/checkoutPayments.ts
 * `settleBatcherOf`), and each finds or makes its contact under its email's lock (catalogue `lockContactEmails`).
 * Each payment used to take its buyer's lock as it went, in the order the buyers arrived; a contacts import takes
 * its emails' locks in the order of their keys. A batch holding one buyer's email then waited for another's, held by
 * an import waiting for the first: PostgreSQL broke the circle by failing the import (`billcycle import`: a database
 * error, exit 1). Now the batch takes all its buyers' locks first, in key order, as every writer of several emails
 * does: the import waits for the batch and finds its contacts.
 *
 * Made deterministic: a writer that takes no lock holds an insert of the first buyer's email uncommitted, so the batch
 * stops at that buyer's look-up (the old code holding that buyer's lock alone); the import is started and seen
 * waiting on an email's lock; then the writer rolls back.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { createPaymentLink, settleCheckoutAttempts } from "../../../engine/checkout/index.ts"
import type { CheckoutAttempt } from "../../../engine/checkout/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { dayTime, loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import { runCliAsync } from "../../cliRunner.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"
import { useApi } from "../api/apiHarness.ts"
import { engineLayer } from "../runtime/engineHarness.ts"
import { getPage, monthlyWithSetup, recordAttemptAsPage } from "./buyerPagesHarness.ts"

const today = "2026-04-02" as CalendarDate
const apiOf = useApi(today)
const sql = () => apiOf().db.db.sql

/** A gateway that answers at once: the buyers' answers reach the recording together, and are recorded in one batch. */
const answeringAtOnce = Layer.succeed(Gateway, { submit: (requests) => Effect.succeed(requests.map((r) => ({ _tag: "Succeeded" as const, gatewayRef: `ch_${r.idempotencyKey}` }))) })

/** Each attempt settled as its own pay request does, all at once (recorded together), by the process whose pool is `db`. */
const payingAtOnce = async (attempts: ReadonlyArray<CheckoutAttempt>, db: TestDatabase = apiOf().db) => {
  const ctx = makeEngineContext(await loadSettings(sql()), today, { now: dayTime(today).epochMillis })
  return Promise.all(attempts.map((a) =>
    Effect.runPromise(settleCheckoutAttempts(ctx, [a], true).pipe(Effect.provide(Layer.merge(engineLayer(db, today), answeringAtOnce))) as Effect.Effect<ReadonlyArray<{ _tag: string }>, never, never>)
      .then(([s]) => s!._tag)))
}

/** Sessions opened on the link and their attempts recorded as the page does, one per email. */
const recordAttempts = (slug: string, emails: ReadonlyArray<string>) =>
  Promise.all(emails.map(async (email) => {
    const opened = await getPage(apiOf(), `/l/${slug}`)
    return recordAttemptAsPage(apiOf(), today, opened.headers.get("location")!.slice(3), email)
  }))

/** The transactions that completed these attempts' sessions (one: they were recorded together, not rolled back and run again one by one). */
const transactionsOf = async (attempts: ReadonlyArray<CheckoutAttempt>) => {
  const [row] = await sql()<Array<{ n: number }>>`
    select count(distinct xmin::text)::int as n from checkout_sessions where id = any(${attempts.map((a) => a.sessionId)}) and completed_on is not null`
  return row!.n
}

/**
 * A writer of `email` that takes no lock (the unique key has the last word for it), its insert held uncommitted
 * until `rollBack`: a buyer of that exact email stops at its look-up until then.
 */
const holdingInsertOf = async (email: string) => {
  let rollBack!: () => void
  const rolledBack = new Promise<void>((r) => (rollBack = r))
  let held!: () => void
  const holding = new Promise<void>((r) => (held = r))
  const writer = sql().begin(async (tx) => {
    await tx`insert into contacts (email) values (${email})`
    held()
    await rolledBack
    throw new Error("rolled back")
  }).catch(() => undefined)
  await holding
  return async () => {
    rollBack()
    await writer
  }
}

/** Until a statement of this database waits on a lock of `kind` (`advisory`: an email's; `transactionid`: a row another transaction wrote). */
const untilWaiting = async (kind: "advisory" | "transactionid") => {
  for (;;) {
    const [waiting] = await sql()`
      select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = ${kind}`
    if (waiting !== undefined) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** The two emails ordered so that the first's lock comes after the second's in key order (the order an import takes them in). */
const againstKeyOrder = async (emails: [string, string]): Promise<[string, string]> => {
  const [row] = await sql()<Array<{ first: boolean }>>`
    select hashtextextended(current_schema() || ':billcycle:contact-email:' || lower(${emails[0]}), 0)
         > hashtextextended(current_schema() || ':billcycle:contact-email:' || lower(${emails[1]}), 0) as first`
  return row!.first ? emails : [emails[1], emails[0]]
}

describe("buyers recorded together and a contacts import of their emails at the same moment", () => {
  it("billcycle import of both buyers' emails waits for the batch and finds their contacts: exit 0, no database error", async () => {
    const link = await createPaymentLink(sql(), today, monthlyWithSetup, { slug: "lock-order" })
    const [late, early] = await againstKeyOrder(["ana@x.test", "bo@x.test"])
    const attempts = await recordAttempts(link.slug, [late, early])
    const release = await holdingInsertOf(late)
    const paid = payingAtOnce(attempts)
    await untilWaiting("transactionid")
    const [{ schema }] = await sql()<[{ schema: string }]>`select current_schema() as schema`
    const file = join(mkdtempSync(join(tmpdir(), "billcycle-lock-order-")), "contacts.csv")
    writeFileSync(file, `email\n${late}\n${early}\n`)
    const imported = runCliAsync(["import", file, "--db", process.env["DATABASE_URL"]!], { env: { BILLCYCLE_DB_SCHEMA: schema } })
    await untilWaiting("advisory")
    await release()
    const answer = await imported
    expect([answer.code, answer.stderr.trim()]).toEqual([0, ""])
    expect(answer.stdout).toMatch(/^imported 0 contacts from 2 rows of .*; all 2 rows were imported before with the same data: nothing changed$/m)
    expect(await paid).toEqual(["Completed", "Completed"])
    expect(await transactionsOf(attempts)).toBe(1)
    const contacts = await sql()<Array<{ email: string }>>`select email from contacts where lower(email) = any(${[late, early]}) order by email`
    expect(contacts.map((c) => c.email)).toEqual([late, early].sort())
  })

  it("two processes recording buyers of the same two emails in opposite orders: each batch in one transaction, one contact per email", async () => {
    const link = await createPaymentLink(sql(), today, monthlyWithSetup, { slug: "lock-order-two" })
    const [late, early] = await againstKeyOrder(["cy@x.test", "di@x.test"])
    const first = await recordAttempts(link.slug, [late, early])
    const second = await recordAttempts(link.slug, [early, late])
    // A second `serve` on the same database: a pool, and so a batch, of its own.
    const [{ schema }] = await sql()<[{ schema: string }]>`select current_schema() as schema`
    const other = await openTestDatabase({ _tag: "Server", url: process.env["DATABASE_URL"]!, schema })
    try {
      const release = await holdingInsertOf(late)
      const paidFirst = payingAtOnce(first)
      await untilWaiting("transactionid")
      const paidSecond = payingAtOnce(second, other)
      await untilWaiting("advisory")
      await release()
      expect([...await paidFirst, ...await paidSecond]).toEqual(["Completed", "Completed", "Completed", "Completed"])
      // The old code's batches waited on each other in a circle: PostgreSQL failed one, which ran again payment by payment.
      expect([await transactionsOf(first), await transactionsOf(second)]).toEqual([1, 1])
      const contacts = await sql()<Array<{ email: string; n: number }>>`
        select c.email, count(s.id)::int as n from contacts c join checkout_sessions s on s.contact_id = c.id
        where c.email = any(${[late, early]}) group by c.email order by c.email`
      expect(contacts).toEqual([late, early].sort().map((email) => ({ email, n: 2 })))
    } finally {
      await other.close()
    }
  })
})
