/**
 * Idempotency-Key of the HTTP API (Stripe's semantics): the first answer to
 * a key (status and body, errors included) is stored with a hash of the
 * request, in the same transaction as the change it answers. A crash before
 * that commit leaves neither the change nor the key (a retry runs it once);
 * after it, both (a retry replays the answer). Nothing here knows HTTP: the
 * door passes the work and gets back what to answer.
 */
import type { Sql, TransactionSql } from "../sql/index.ts"
import { NestedFailureRolledBack, pipelinedTransaction } from "../sql/index.ts"

/** An answer to keep: what a replay sends back. */
export interface StoredAnswer {
  readonly status: number
  readonly body: string
}

export type IdempotentOutcome<A> =
  /** Ran now: the change and the stored answer committed together (`kept`), or both rolled back. */
  | { readonly _tag: "Answered"; readonly answer: A; readonly kept: boolean }
  /** The key answered the same request before: its stored answer. */
  | { readonly _tag: "Replay"; readonly status: number; readonly body: string }
  /** A request with the key is still running (409). */
  | { readonly _tag: "InProgress" }
  /** The key was used for a different request (422). */
  | { readonly _tag: "Mismatch" }

/**
 * The transaction as the `Sql` the store's functions take: their own
 * `begin` becomes a savepoint, so a refused change rolls back alone and the
 * answer (its error) still commits with the key.
 */
export const transactionAsSql = (tx: TransactionSql): Sql =>
  new Proxy(tx, {
    get: (target, property, receiver) =>
      property === "begin"
        ? (a: unknown, b?: unknown) => target.savepoint((typeof a === "function" ? a : b) as (tx: TransactionSql) => unknown)
        : Reflect.get(target, property, receiver)
  }) as unknown as Sql

class RollBack<A> {
  readonly answer: A
  constructor(answer: A) {
    this.answer = answer
  }
}

/**
 * Answers a request under an idempotency key, once. In one transaction:
 * take the key's advisory lock without waiting (held by a request still
 * running: 409) and claim the key under its unique primary key (a row past
 * 24 hours is expired and taken over); a row already there is replayed
 * (same request hash) or refused (422). A claimed key runs `work` in the
 * transaction and stores its answer beside the change; `work` saying
 * `keep: false` (a failure of the server) rolls both back, so a retry runs
 * again. `beforeCommit` is the crash tests' failpoint. `pipelined` (a
 * server's pool): BEGIN goes out with the claim (sql/pipelinedTransaction.ts),
 * and the work's own begins take no savepoint unless one of them fails.
 */
export const answerOnce = async <A extends StoredAnswer>(
  sql: Sql,
  request: { readonly apiKeyId: number; readonly key: string; readonly requestHash: string },
  work: (tx: Sql) => Promise<{ readonly answer: A; readonly keep: boolean }>,
  beforeCommit: () => void = () => {},
  options: { readonly pipelined?: boolean } = {}
): Promise<IdempotentOutcome<A>> => {
  if (options.pipelined !== true) {
    return answerIn(sql, request, work, beforeCommit, <B>(body: (tx: Sql) => Promise<B>) => sql.begin((tx) => body(transactionAsSql(tx))) as Promise<B>)
  }
  // Pipelined (a server's pool): first without savepoints, a statement fewer for each begin of the work; a begin
  // that failed rolls all back, and the request runs again with them (its refusal then commits with the key). Safe
  // to run twice: an idempotent request's every effect is in this transaction (the gateway is asked only after it).
  try {
    return await answerIn(sql, request, work, beforeCommit, <B>(body: (tx: Sql) => Promise<B>) => pipelinedTransaction(sql, body, { savepoints: "none" }))
  } catch (e) {
    if (!(e instanceof NestedFailureRolledBack)) throw e
    return answerIn(sql, request, work, beforeCommit, <B>(body: (tx: Sql) => Promise<B>) => pipelinedTransaction(sql, body, { savepoints: "each" }))
  }
}

const answerIn = async <A extends StoredAnswer>(
  sql: Sql,
  request: { readonly apiKeyId: number; readonly key: string; readonly requestHash: string },
  work: (tx: Sql) => Promise<{ readonly answer: A; readonly keep: boolean }>,
  beforeCommit: () => void,
  inTransaction: <B>(body: (tx: Sql) => Promise<B>) => Promise<B>
): Promise<IdempotentOutcome<A>> => {
  const { apiKeyId, key, requestHash } = request
  let stored: Promise<unknown> | undefined
  try {
    const outcome = await inTransaction(async (tx): Promise<IdempotentOutcome<A>> => {
      // One statement: the lock first, then the claim. A request holding the lock is still running;
      // the unique key has the last word (a first request that committed between this statement's
      // snapshot and its lock shows as a conflict without a row: 409, and its retry replays).
      const [found] = await tx<Array<{ locked: boolean; claimed: boolean; request_hash: string | null; response_status: number | null; response_body: string | null }>>`
        with lock as (
          select pg_try_advisory_xact_lock(hashtextextended(${`${apiKeyId}:${key}`}, 0)) as locked
        ), claimed as (
          insert into idempotency_keys (api_key_id, key, request_hash)
          select ${apiKeyId}, ${key}, ${requestHash} from lock where locked
          on conflict (api_key_id, key) do update set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now()
            where idempotency_keys.created_at < now() - interval '24 hours'
          returning 1
        )
        select lock.locked, exists (select from claimed) as claimed, k.request_hash, k.response_status, k.response_body
        from lock left join idempotency_keys k on k.api_key_id = ${apiKeyId} and k.key = ${key}`
      if (!found!.locked) return { _tag: "InProgress" }
      if (!found!.claimed) {
        if (found!.request_hash === null) return { _tag: "InProgress" }
        if (found!.request_hash !== requestHash) return { _tag: "Mismatch" }
        if (found!.response_status === null) return { _tag: "InProgress" }
        return { _tag: "Replay", status: found!.response_status, body: found!.response_body ?? "" }
      }
      const { answer, keep } = await work(tx)
      if (!keep) throw new RollBack(answer)
      // The answer goes out with the commit, in one round trip (pipelined: run in this order). A failed
      // update aborts the transaction, so its COMMIT rolls back (PostgreSQL answers it without an error):
      // the update's own failure is awaited below and reported, never taken for a kept answer.
      stored = tx`update idempotency_keys set response_status = ${answer.status}, response_body = ${answer.body} where api_key_id = ${apiKeyId} and key = ${key}`.execute()
      // Handled from the start: its failure may arrive while the COMMIT is still awaited, or never be
      // awaited at all when the transaction fails as a whole; it must not surface as an unhandled rejection.
      stored.catch(() => {})
      beforeCommit()
      return { _tag: "Answered", answer, kept: true }
    })
    await stored
    return outcome
  } catch (e) {
    if (e instanceof RollBack) return { _tag: "Answered", answer: e.answer as A, kept: false }
    throw e
  }
}
