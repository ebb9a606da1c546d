/**
 * sql/pipelinedTransaction.ts on a server's pool: BEGIN and each SAVEPOINT go
 * out with the statement after them, and the transaction still behaves as the
 * driver's own: all or nothing, a failed savepoint rolled back alone, and
 * nothing visible to another session before the commit. Writes left to the
 * commit (`awaitByCommit`) go out with it, and one of them failing fails the
 * whole transaction with its own error. Branches of one transaction
 * (`transactionBranch`) run at once, each holding its own journal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { answerOnce, createApiKey, transactionAsSql } from "../../../engine/account/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { awaitByCommit, holdJournal, NestedFailureRolledBack, pipelinedTransaction, transactionBranch, writeJournal, writtenJournal } from "../../../engine/sql/index.ts"
import type { JournalEvent, Sql, TransactionSql } from "../../../engine/sql/index.ts"
import { openTestDatabase, serverWrites } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

describe("a pipelined transaction (server)", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase()
    await t.db.sql`create table pt (n int primary key)`
  })
  afterAll(async () => {
    await t.close()
  })
  const rows = async () => (await t.db.sql<Array<{ n: number }>>`select n from pt order by n`).map((r) => r.n)
  /** How many writes `run` makes to the server's socket. */
  const writes = async (run: () => Promise<unknown>) => (await serverWrites(run)).n

  it("commits the work; a savepoint that throws rolls back alone; a throwing work rolls back everything", async () => {
    await t.db.sql`truncate pt`
    const result = await pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (1)`
      await tx.begin(async (inner) => {
        await inner`insert into pt values (2)`
      })
      await tx.begin(async (inner) => {
        await inner`insert into pt values (3)`
        await inner`insert into pt values (1)` // duplicate key: this savepoint only
      }).catch((e: { code?: string }) => expect(e.code).toBe("23505"))
      // The transaction goes on after the rolled-back savepoint.
      await tx`insert into pt values (4)`
      return "done"
    })
    expect(result).toBe("done")
    expect(await rows()).toEqual([1, 2, 4])
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (5)`
      throw new Error("refused")
    })).rejects.toThrow("refused")
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (6)`
      await tx`insert into pt values (6)`
    })).rejects.toMatchObject({ code: "23505" })
    expect(await rows()).toEqual([1, 2, 4])
  })

  it("is one transaction: another session sees nothing before the commit, and every connection goes back outside a transaction", async () => {
    await t.db.sql`truncate pt`
    let seenInside: Array<number> = []
    await pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (7)`
      seenInside = await rows() // another pooled connection
    })
    expect(seenInside).toEqual([])
    expect(await rows()).toEqual([7])
    for (let i = 0; i < 10; i++) {
      await pipelinedTransaction(t.db.sql, async (tx) => {
        await tx`insert into pt values (${100 + i})`
        throw new Error("refused")
      }).catch(() => undefined)
    }
    // A connection left inside its transaction would still hold the xid its insert was given.
    const xids = await Promise.all(Array.from({ length: 10 }, () => t.db.sql<Array<{ x: string | null }>>`select pg_current_xact_id_if_assigned()::text as x`))
    expect(xids.map(([r]) => r!.x)).toEqual(Array.from({ length: 10 }, () => null))
    expect(await rows()).toEqual([7])
  })

  it("sends BEGIN with the first statement and a savepoint with the statement after it: two writes fewer than the driver's begin", async () => {
    const work = async (tx: Sql) => {
      await tx`insert into pt values (${Math.floor(Math.random() * 1e9)})`
      await tx.begin(async (inner) => {
        await inner`select 1`
      })
    }
    // Warm both paths (statements prepared on every connection they may land on).
    for (let i = 0; i < 12; i++) {
      await pipelinedTransaction(t.db.sql, work)
      await t.db.sql.begin((tx) => work(transactionAsSql(tx)))
    }
    const driver = await writes(() => t.db.sql.begin((tx) => work(transactionAsSql(tx))))
    const pipelined = await writes(() => pipelinedTransaction(t.db.sql, work))
    expect(driver).toBe(5) // begin, insert, savepoint, select, commit
    expect(pipelined).toBe(3) // begin + insert, savepoint + select, commit
  })

  it("leaves writes to the commit: sent with it, kept with it, and one that fails fails the transaction with its own error and keeps nothing", async () => {
    await t.db.sql`truncate pt`
    const work = (n: number) => pipelinedTransaction(t.db.sql, async (tx) => {
      await awaitByCommit(tx, [tx`insert into pt values (${n})`.execute(), tx`insert into pt values (${n + 1})`.execute()])
    })
    for (let i = 0; i < 12; i++) await work(1000 + 2 * i) // statements prepared on every connection
    await t.db.sql`truncate pt`
    // BEGIN, both inserts and the COMMIT in one write: the work returned without waiting for the inserts.
    expect(await writes(() => work(1))).toBe(1)
    expect(await rows()).toEqual([1, 2])
    // A duplicate key left to the commit: the COMMIT finds the transaction aborted (PostgreSQL answers it as a
    // rollback); the transaction fails with the write's own error, and the write made before it is gone too.
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (3)`
      await awaitByCommit(tx, [tx`insert into pt values (1)`.execute()])
      return "answered"
    })).rejects.toMatchObject({ code: "23505" })
    // The same when the work goes on after it: what follows finds the transaction aborted; the cause is the write's.
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await awaitByCommit(tx, [tx`insert into pt values (2)`.execute()])
      await tx`insert into pt values (4)`
    })).rejects.toMatchObject({ code: "23505" })
    expect(await rows()).toEqual([1, 2])
    // In the driver's own transaction the writes are awaited where they are made.
    await expect(t.db.sql.begin(async (tx) => {
      await awaitByCommit(tx, [tx`insert into pt values (1)`.execute()]).catch((e: { code?: string }) => {
        throw new Error(`awaited at once: ${e.code}`)
      })
    })).rejects.toThrow("awaited at once: 23505")
    expect(await rows()).toEqual([1, 2])
  })

  /** The statements a pipelined transaction sends itself (BEGIN, SAVEPOINT, COMMIT, ROLLBACK), in order. */
  const bookkeeping = (sql: Sql) => {
    const sent: Array<string> = []
    const watched = new Proxy(sql, {
      get: (target, property, receiver) =>
        property === "reserve"
          ? async () => {
            const connection = await target.reserve()
            return new Proxy(connection, {
              get: (c, p, r) => p === "unsafe" ? (text: string, ...rest: Array<unknown>) => {
                sent.push(text.split(" ")[0]!)
                return (c.unsafe as (...a: Array<unknown>) => unknown)(text, ...rest)
              } : Reflect.get(c, p, r)
            })
          }
          : Reflect.get(target, property, receiver)
    }) as Sql
    return { sql: watched, sent }
  }

  it("without savepoints: a nested begin sends none; one that fails rolls the whole transaction back, even when the work goes on", async () => {
    await t.db.sql`truncate pt`
    const watched = bookkeeping(t.db.sql)
    await pipelinedTransaction(watched.sql, async (tx) => {
      await tx`insert into pt values (1)`
      await tx.begin(async (inner) => {
        await inner`insert into pt values (2)`
      })
    }, { savepoints: "none" })
    expect(watched.sent).toEqual(["begin", "commit"])
    expect(await rows()).toEqual([1, 2])
    // The work catches its nested begin's failure and answers: nothing it did is kept, before, in or after the begin.
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await tx`insert into pt values (3)`
      await tx.begin(async (inner) => {
        await inner`insert into pt values (4)`
        throw new Error("refused")
      }).catch(() => undefined)
      await tx`insert into pt values (5)`
      return "answered"
    }, { savepoints: "none" })).rejects.toBeInstanceOf(NestedFailureRolledBack)
    // A nested failure that left the transaction aborted, and a work that throws after it: the same.
    await expect(pipelinedTransaction(t.db.sql, async (tx) => {
      await tx.begin(async (inner) => {
        await inner`insert into pt values (1)`
      }).catch(() => undefined)
      await tx`insert into pt values (6)`
    }, { savepoints: "none" })).rejects.toBeInstanceOf(NestedFailureRolledBack)
    expect(await rows()).toEqual([1, 2])
    const xids = await Promise.all(Array.from({ length: 10 }, () => t.db.sql<Array<{ x: string | null }>>`select pg_current_xact_id_if_assigned()::text as x`))
    expect(xids.map(([r]) => r!.x)).toEqual(Array.from({ length: 10 }, () => null))
  })

  it("branches: units of work at once in one transaction, each holding its own journal (a nested begin on its branch), their writes left to the one commit", async () => {
    const count = async (sql: Sql) => (await sql<Array<{ n: number }>>`select count(*)::int as n from events where data ->> 'branch_test' is not null`)[0]!.n
    const event = (n: number): JournalEvent => ({ type: "contact.created", subscriptionId: null, contactId: n, occurredOn: "2026-01-01" as CalendarDate, data: { branch_test: n } })
    const inside = await pipelinedTransaction(t.db.sql, async (tx) => {
      const [a, b] = [transactionBranch(tx), transactionBranch(tx)]
      holdJournal(a as unknown as TransactionSql)
      holdJournal(b as unknown as TransactionSql)
      await Promise.all([
        a.begin(async (inner) => writeJournal(inner as unknown as TransactionSql, [event(1)])),
        writeJournal(b as unknown as TransactionSql, [event(2), event(3)])
      ])
      // Held by their branches: nothing written yet, the nested begin's event included.
      const held = await count(tx)
      await awaitByCommit(a, [writtenJournal(a as unknown as TransactionSql), writtenJournal(b as unknown as TransactionSql)])
      return held
    }, { savepoints: "none" })
    expect(inside).toBe(0)
    expect(await count(t.db.sql)).toBe(3)
    const order = await t.db.sql<Array<{ n: string }>>`select data ->> 'branch_test' as n from events where data ->> 'branch_test' is not null order by id`
    expect(order.map((r) => Number(r.n))).toEqual([1, 2, 3])
  })

  it("an idempotent request runs without savepoints; one refused inside a nested begin runs again with them, and only its answer is kept", async () => {
    await t.db.sql`truncate pt`
    const { id: apiKeyId } = await createApiKey(t.db.sql, `pt-${Date.now()}`, false)
    const watched = bookkeeping(t.db.sql)
    const created = await answerOnce(watched.sql, { apiKeyId, key: "k1", requestHash: "h1" }, async (tx) => {
      await tx.begin(async (inner) => {
        await inner`insert into pt values (1)`
      })
      return { answer: { status: 201, body: "created" }, keep: true }
    }, () => {}, { pipelined: true })
    expect(created).toMatchObject({ _tag: "Answered", kept: true })
    expect(watched.sent).toEqual(["begin", "commit"])
    let runs = 0
    const refused = await answerOnce(watched.sql, { apiKeyId, key: "k2", requestHash: "h2" }, async (tx) => {
      runs++
      const answer = await tx.begin(async (inner) => {
        await inner`insert into pt values (2)`
        throw new Error("refused after a write")
      }).then(() => ({ status: 201, body: "created" }), () => ({ status: 400, body: "refused" }))
      return { answer, keep: true }
    }, () => {}, { pipelined: true })
    expect(refused).toMatchObject({ _tag: "Answered", answer: { status: 400 }, kept: true })
    expect(runs).toBe(2)
    expect(await rows()).toEqual([1])
    const replay = await answerOnce(t.db.sql, { apiKeyId, key: "k2", requestHash: "h2" }, async () => {
      throw new Error("a replay runs nothing")
    }, () => {}, { pipelined: true })
    expect(replay).toEqual({ _tag: "Replay", status: 400, body: "refused" })
  })
})
