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
 */
import type { Sql } from "./Database.ts"

export const pipelinedTransaction = async <A>(sql: Sql, work: (tx: Sql) => Promise<A>): Promise<A> => {
  const connection = await sql.reserve()
  // Sent now, not awaited: the next statement goes out in the same write. Its failure is the next statement's failure.
  const send = (statement: string) => {
    connection.unsafe(statement).execute().catch(() => {})
  }
  let savepoints = 0
  const savepoint = async <B>(body: (tx: Sql) => Promise<B>): Promise<B> => {
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
  try {
    send("begin")
    let result: A
    try {
      result = await work(tx)
    } catch (e) {
      await connection.unsafe("rollback").catch(() => {})
      throw e
    }
    await connection.unsafe("commit")
    return result
  } finally {
    connection.release()
  }
}
