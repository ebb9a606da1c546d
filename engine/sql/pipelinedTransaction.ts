/**
 * A transaction whose bookkeeping statements travel with the statement after
 * them, for a server's pool. The driver's own `begin` sends BEGIN and waits
 * for its answer before the first statement, and its `savepoint` does the
 * same: two round trips that carry nothing. Here BEGIN is sent together with
 * the first statement of the work, and SAVEPOINT with the first statement
 * inside it: the driver writes the queries issued in one tick in one write,
 * and PostgreSQL runs them in order on the one reserved connection. A
 * statement failing after a BEGIN or SAVEPOINT that failed fails too (the
 * transaction is aborted), so nothing is lost by not waiting for them.
 *
 * What the work sees is the transaction as the `Sql` the store's functions
 * take: their own `begin` (and `savepoint`) is a savepoint, rolled back alone
 * when it throws. Only for a server: the embedded database's socket can hang
 * on queries sent at once (runSql.ts `readTogether`).
 *
 * Writes whose answers the work does not need (`awaitByCommit`) are not
 * waited for where they are made: they travel with the statements after
 * them, COMMIT included, and the commit waits for them. One of them failing
 * aborts the transaction (PostgreSQL answers the COMMIT as a ROLLBACK), and
 * the transaction fails with that write's error: nothing is kept.
 */
import type { Sql, TransactionSql } from "./Database.ts"

/** The writes left to each pipelined transaction's commit, by the `Sql` its work sees. */
const leftToCommit = new WeakMap<object, Array<Promise<unknown>>>()

/**
 * Waits for writes whose answers the caller does not need: at the commit of
 * a pipelined transaction (sent with what follows them, the COMMIT
 * included), at once in any other transaction.
 */
export const awaitByCommit = async (tx: Sql | TransactionSql, writes: ReadonlyArray<Promise<unknown> | undefined>): Promise<void> => {
  const pending = leftToCommit.get(tx)
  if (pending === undefined) {
    await Promise.all(writes)
    return
  }
  for (const write of writes) {
    if (write === undefined) continue
    // Handled now: a failure may arrive before the commit looks at it, or the work may fail first.
    write.catch(() => {})
    pending.push(write)
  }
}

/**
 * Another handle on a pipelined transaction, for one of several units of work that run in it at once
 * (checkout/checkoutPayments.ts settles concurrent buyers' payments in one transaction): the same
 * connection and the same writes left to the commit, but an identity of its own, so that what is kept
 * per transaction by its `Sql` (sql/journal.ts `holdJournal`) is kept per unit of work. Their statements
 * are sent in the order issued and run in it; issued in the same tick, they travel in one write.
 */
export const transactionBranch = (tx: Sql): Sql => {
  // A nested begin on the branch runs its work on the branch too (the transaction's own hands it the transaction).
  const branch: Sql = new Proxy(tx, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver) as unknown
      if (property !== "begin" && property !== "savepoint") return value
      return (a: unknown, b?: unknown) => {
        const body = (typeof a === "function" ? a : b) as (tx: Sql) => Promise<unknown>
        return (value as (body: (tx: Sql) => Promise<unknown>) => Promise<unknown>)(() => body(branch))
      }
    }
  })
  const pending = leftToCommit.get(tx)
  if (pending !== undefined) leftToCommit.set(branch, pending)
  return branch
}

/**
 * A transaction on `sql`: pipelined (above) when `pipelined` (a server's pool, outside any other
 * transaction), the driver's own otherwise.
 */
export const transactionOn = <A>(sql: Sql, pipelined: boolean, work: (tx: TransactionSql) => Promise<A>): Promise<A> =>
  pipelined ? pipelinedTransaction(sql, (tx) => work(tx as unknown as TransactionSql)) : sql.begin(work) as Promise<A>

/** The first of the writes left to the commit that failed, once all are answered. */
const firstFailure = async (pending: ReadonlyArray<Promise<unknown>>): Promise<PromiseRejectedResult | undefined> =>
  (await Promise.allSettled(pending)).find((r): r is PromiseRejectedResult => r.status === "rejected")

/**
 * A transaction run with `savepoints: "none"` whose nested `begin` failed: the whole transaction was
 * rolled back, whatever the work did after that failure. Its caller runs it again with savepoints.
 */
export class NestedFailureRolledBack extends Error {
  constructor() {
    super("a nested begin failed in a transaction without savepoints; the transaction was rolled back")
  }
}

/**
 * `savepoints: "none"`: the work's own `begin` runs in the transaction itself, without a SAVEPOINT
 * (a statement fewer per nested begin, and the savepoint's bookkeeping in PostgreSQL). What a
 * savepoint was for, rolling a failed nested begin back alone, is done by rolling everything back:
 * when one of them throws, the transaction rejects with `NestedFailureRolledBack` (nothing kept),
 * and the caller runs its work again with savepoints. Only for work whose every effect is in this
 * database (running it twice is then running it once).
 */
export interface PipelineOptions {
  readonly savepoints?: "each" | "none"
}

export const pipelinedTransaction = async <A>(sql: Sql, work: (tx: Sql) => Promise<A>, options: PipelineOptions = {}): Promise<A> => {
  const connection = await sql.reserve()
  // Sent now, not awaited: the next statement goes out in the same write. Its failure is the next statement's failure.
  const send = (statement: string) => {
    connection.unsafe(statement).execute().catch(() => {})
  }
  let savepoints = 0
  let nestedFailed = false
  const savepoint = async <B>(body: (tx: Sql) => Promise<B>): Promise<B> => {
    if (options.savepoints === "none") {
      try {
        return await body(tx)
      } catch (e) {
        nestedFailed = true
        throw e
      }
    }
    const name = `s${savepoints++}`
    send(`savepoint ${name}`)
    try {
      return await body(tx)
    } catch (e) {
      await connection.unsafe(`rollback to savepoint ${name}`)
      throw e
    }
  }
  const tx = new Proxy(connection, {
    get: (target, property, receiver) =>
      property === "begin" || property === "savepoint"
        ? (a: unknown, b?: unknown) => savepoint((typeof a === "function" ? a : b) as (tx: Sql) => Promise<unknown>)
        : Reflect.get(target, property, receiver)
  }) as unknown as Sql
  const pending: Array<Promise<unknown>> = []
  leftToCommit.set(tx, pending)
  try {
    send("begin")
    let result: A
    try {
      result = await work(tx)
    } catch (e) {
      await connection.unsafe("rollback").catch(() => {})
      if (nestedFailed) throw new NestedFailureRolledBack()
      // A write left to the commit that failed first is the cause (what failed after it only found the transaction aborted).
      const failed = await firstFailure(pending)
      throw failed === undefined ? e : failed.reason
    }
    if (nestedFailed) {
      // The work went on after its nested begin failed (it answered a refusal): what it did is not kept.
      await Promise.allSettled(pending)
      await connection.unsafe("rollback").catch(() => {})
      throw new NestedFailureRolledBack()
    }
    // COMMIT goes out behind the writes left to it; one of them failed aborted the transaction (the COMMIT rolled back).
    const commit = connection.unsafe("commit").execute()
    commit.catch(() => {})
    const failed = await firstFailure(pending)
    if (failed !== undefined) {
      await commit.catch(() => {})
      throw failed.reason
    }
    await commit
    return result
  } finally {
    connection.release()
  }
}
