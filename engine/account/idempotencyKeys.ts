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

/** What the claim of one key found: claimed now (run the request), or the outcome without running it. */
type Claim = { readonly _tag: "Claimed" } | Exclude<IdempotentOutcome<never>, { readonly _tag: "Answered" }>

/**
 * Claims keys of one API key, in one statement: for each, the key's advisory lock first (taken without
 * waiting: held by a request still running, 409), then the claim under the unique primary key (a row past
 * 24 hours is expired and taken over); a row already there is replayed (same request hash) or refused (422).
 * The unique key has the last word: a first request that committed between this statement's snapshot and
 * its lock shows as a conflict without a row (409, and its retry replays). The keys must differ.
 */
const claimKeys = async (tx: Sql, apiKeyId: number, requests: ReadonlyArray<{ readonly key: string; readonly requestHash: string }>): Promise<Array<Claim>> => {
  // The keys are also given as a list the primary key is searched by (`key = any(…)`): joined to the unnest alone, a
  // plan made while the table was small reads every key of the API key (a new store's plans are made so, and kept).
  const keys = requests.map((r) => r.key)
  const rows = await tx<Array<{ n: string; locked: boolean; claimed: boolean; request_hash: string | null; response_status: number | null; response_body: string | null }>>`
    with lock as (
      select u.key, u.request_hash, u.n, pg_try_advisory_xact_lock(hashtextextended(${`${apiKeyId}:`} || u.key, 0)) as locked
      from unnest(${keys}::text[], ${requests.map((r) => r.requestHash)}::text[]) with ordinality as u(key, request_hash, n)
    ), claimed as (
      insert into idempotency_keys (api_key_id, key, request_hash)
      select ${apiKeyId}, key, request_hash from lock where locked order by n
      on conflict (api_key_id, key) do update set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now()
        where idempotency_keys.created_at < now() - interval '24 hours'
      returning key
    )
    select lock.n, lock.locked, exists (select from claimed c where c.key = lock.key) as claimed, k.request_hash, k.response_status, k.response_body
    from lock left join idempotency_keys k on k.api_key_id = ${apiKeyId} and k.key = any(${keys}::text[]) and k.key = lock.key
    order by lock.n`
  return rows.map((found, i): Claim => {
    if (!found.locked) return { _tag: "InProgress" }
    if (found.claimed) return { _tag: "Claimed" }
    if (found.request_hash === null) return { _tag: "InProgress" }
    if (found.request_hash !== requests[i]!.requestHash) return { _tag: "Mismatch" }
    if (found.response_status === null) return { _tag: "InProgress" }
    return { _tag: "Replay", status: found.response_status, body: found.response_body ?? "" }
  })
}

/** Stores the answers of claimed keys (one statement), not awaited: it goes out with the COMMIT (see `answerIn`). */
const storeAnswers = (tx: Sql, apiKeyId: number, answers: ReadonlyArray<{ readonly key: string; readonly answer: StoredAnswer }>): Promise<unknown> => {
  const stored = tx`
    update idempotency_keys k set response_status = u.status, response_body = u.body
    from unnest(${answers.map((a) => a.key)}::text[], ${answers.map((a) => a.answer.status)}::int[], ${answers.map((a) => a.answer.body)}::text[]) as u(key, status, body)
    where k.api_key_id = ${apiKeyId} and k.key = any(${answers.map((a) => a.key)}::text[]) and k.key = u.key`.execute()
  // Handled from the start: its failure may arrive while the COMMIT is still awaited, or never be
  // awaited at all when the transaction fails as a whole; it must not surface as an unhandled rejection.
  stored.catch(() => {})
  return stored
}

const answerIn = async <A extends StoredAnswer>(
  sql: Sql,
  request: { readonly apiKeyId: number; readonly key: string; readonly requestHash: string },
  work: (tx: Sql) => Promise<{ readonly answer: A; readonly keep: boolean }>,
  beforeCommit: () => void,
  inTransaction: <B>(body: (tx: Sql) => Promise<B>) => Promise<B>
): Promise<IdempotentOutcome<A>> => {
  const { apiKeyId, key } = request
  let stored: Promise<unknown> | undefined
  try {
    const outcome = await inTransaction(async (tx): Promise<IdempotentOutcome<A>> => {
      const [claim] = await claimKeys(tx, apiKeyId, [request])
      if (claim!._tag !== "Claimed") return claim!
      const { answer, keep } = await work(tx)
      if (!keep) throw new RollBack(answer)
      // The answer goes out with the commit, in one round trip (pipelined: run in this order). A failed
      // update aborts the transaction, so its COMMIT rolls back (PostgreSQL answers it without an error):
      // the update's own failure is awaited below and reported, never taken for a kept answer.
      stored = storeAnswers(tx, apiKeyId, [{ key, answer }])
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

/**
 * Answers several requests of one API key (each under its own idempotency key) in one transaction on a
 * server's pool: their keys claimed in one statement, the claimed ones run by `work` together (it gets
 * their indexes and answers each), and every answer stored in one statement with the COMMIT. A key that
 * appears twice is answered 409 the second time (the first is still running). `undefined` when the batch
 * kept nothing: `work` threw, or one of its answers says `keep: false`; nothing was committed, and the
 * caller answers each request on its own (`answerOnce`).
 */
export const answerManyOnce = async <A extends StoredAnswer>(
  sql: Sql,
  apiKeyId: number,
  requests: ReadonlyArray<{ readonly key: string; readonly requestHash: string }>,
  work: (tx: Sql, claimed: ReadonlyArray<number>) => Promise<ReadonlyArray<{ readonly answer: A; readonly keep: boolean }>>,
  beforeCommit: () => void = () => {}
): Promise<Array<IdempotentOutcome<A>> | undefined> => {
  const first = new Map<string, number>()
  requests.forEach((r, i) => {
    if (!first.has(r.key)) first.set(r.key, i)
  })
  const unique = [...first.values()]
  let stored: Promise<unknown> | undefined
  try {
    const outcomes = await pipelinedTransaction(sql, async (tx) => {
      const claims = await claimKeys(tx, apiKeyId, unique.map((i) => requests[i]!))
      const outcomes: Array<IdempotentOutcome<A>> = requests.map(() => ({ _tag: "InProgress" }))
      unique.forEach((i, c) => {
        if (claims[c]!._tag !== "Claimed") outcomes[i] = claims[c] as IdempotentOutcome<A>
      })
      const claimed = unique.filter((_, c) => claims[c]!._tag === "Claimed")
      if (claimed.length === 0) return outcomes
      const answers = await work(tx, claimed)
      if (answers.length !== claimed.length || answers.some((a) => !a.keep)) throw new RollBack(undefined)
      stored = storeAnswers(tx, apiKeyId, claimed.map((i, a) => ({ key: requests[i]!.key, answer: answers[a]!.answer })))
      beforeCommit()
      claimed.forEach((i, a) => {
        outcomes[i] = { _tag: "Answered", answer: answers[a]!.answer, kept: true }
      })
      return outcomes
    }, { savepoints: "none" })
    await stored
    return outcomes
  } catch (e) {
    if (e instanceof RollBack || e instanceof NestedFailureRolledBack) return undefined
    throw e
  }
}
