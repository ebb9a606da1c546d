/**
 * `POST /v1/subscriptions` with an Idempotency-Key on a server's pool: the
 * requests that arrive while others are being answered are answered
 * together (group commit). Their keys are claimed in one statement
 * (`answerManyOnce`), each request's route runs as it would alone, except
 * that its purchase is handed over (`purchaseStandIn`) instead of written,
 * and once every route has handed its purchase over or answered without
 * one, the purchases are made by `createPurchases` in two statements; the
 * answers are stored with the COMMIT. Measured on the SQL alone (a scratch
 * harness), batches of five to ten made 2.5 to 3 times the purchases a
 * second of one transaction each.
 *
 * Nothing of a batch is kept unless all of it is: a request answered 500
 * (the database failed, or a bug) rolls the batch back, and each of its
 * requests is then answered on its own (`answerOnce`), as if it had come
 * alone. A request that is refused (4xx) keeps its refusal, as alone.
 */
import type { IdempotentOutcome, StoredAnswer } from "../account/index.ts"
import { answerManyOnce, answerOnce } from "../account/index.ts"
import type { Sql } from "../sql/index.ts"
import { journalSource } from "../sql/index.ts"
import type { CreatedSubscription, Purchase } from "../subscriptions/index.ts"
import { createPurchases, purchaseStandIn } from "../subscriptions/index.ts"

export interface BatchedRequest<A extends StoredAnswer> {
  readonly key: string
  readonly requestHash: string
  /** The request's route, run with `tx` standing for its transaction: its answer, and whether to keep it (below 500). */
  readonly run: (tx: Sql) => Promise<{ readonly answer: A; readonly keep: boolean }>
}

interface Waiting<A extends StoredAnswer> {
  readonly request: BatchedRequest<A>
  readonly resolve: (outcome: IdempotentOutcome<A>) => void
  readonly reject: (e: unknown) => void
}

export interface PurchaseBatchOptions {
  /** Batches answered at once (each holds a connection of the pool). */
  readonly inFlight: number
  /** Requests in one batch at most. */
  readonly size: number
  /** The crash tests' failpoint, before each COMMIT. */
  readonly beforeCommit: () => void
}

/**
 * The requests' routes, run together in `tx`: each purchase waits until every route has handed its
 * purchase over or answered without one; then all are made at once and each route goes on with its own
 * subscriptions (or its refusal).
 */
const runTogether = async <A extends StoredAnswer>(tx: Sql, requests: ReadonlyArray<BatchedRequest<A>>) => {
  const handed: Array<{ readonly purchase: Purchase; readonly source: string | undefined; readonly resolve: (c: Array<CreatedSubscription>) => void; readonly reject: (e: unknown) => void }> = []
  let undecided = requests.length
  let made = false
  const makeWhenAllDecided = () => {
    if (undecided > 0 || made) return
    made = true
    if (handed.length === 0) return
    const purchases = handed.map((h) => h.purchase)
    // Every request of a batch comes with one API key: one source for the journal (who did what).
    const source = handed[0]!.source
    const make = () => createPurchases(tx as never, purchases)
    ;(handed.some((h) => h.source !== source) ? Promise.reject(new Error("a batch's purchases come from one door")) : source === undefined ? make() : journalSource.run(source, make)).then(
      (outcomes) => outcomes.forEach((o, i) => (o._tag === "Created" ? handed[i]!.resolve(o.created) : handed[i]!.reject(o.error))),
      (e: unknown) => handed.forEach((h) => h.reject(e))
    )
  }
  return Promise.all(requests.map(async (request) => {
    let submitted = false
    const standIn = purchaseStandIn((purchase) => {
      if (submitted || made) return Promise.reject(new Error("a batched request makes one purchase"))
      submitted = true
      return new Promise<Array<CreatedSubscription>>((resolve, reject) => {
        handed.push({ purchase, source: journalSource.getStore(), resolve, reject })
        undecided--
        makeWhenAllDecided()
      })
    })
    try {
      return await request.run(standIn)
    } finally {
      if (!submitted) {
        undecided--
        makeWhenAllDecided()
      }
    }
  }))
}

/** Answers batched requests of each API key, `inFlight` batches at a time. */
export const purchaseBatcher = <A extends StoredAnswer>(sql: Sql, options: PurchaseBatchOptions) => {
  const queues = new Map<number, Array<Waiting<A>>>()
  let inFlight = 0
  let scheduled = false
  const answerBatch = async (apiKeyId: number, batch: ReadonlyArray<Waiting<A>>) => {
    const outcomes = await answerManyOnce<A>(sql, apiKeyId, batch.map((w) => w.request), (tx, claimed) => runTogether(tx, claimed.map((i) => batch[i]!.request)), options.beforeCommit)
      .catch(() => undefined)
    if (outcomes !== undefined) return batch.forEach((w, i) => w.resolve(outcomes[i]!))
    // Nothing of the batch was kept: each request on its own, as if it had come alone.
    await Promise.all(batch.map((w) =>
      answerOnce(sql, { apiKeyId, key: w.request.key, requestHash: w.request.requestHash }, w.request.run, options.beforeCommit, { pipelined: true }).then(w.resolve, w.reject)))
  }
  const pump = () => {
    scheduled = false
    for (const [apiKeyId, queue] of queues) {
      while (inFlight < options.inFlight && queue.length > 0) {
        inFlight++
        void answerBatch(apiKeyId, queue.splice(0, options.size)).finally(() => {
          inFlight--
          schedule()
        })
      }
      if (queue.length === 0) queues.delete(apiKeyId)
    }
  }
  // Requests read in one turn of the event loop go out together; the rest wait for a batch to end.
  const schedule = () => {
    if (scheduled) return
    scheduled = true
    setImmediate(pump)
  }
  return {
    answer: (apiKeyId: number, request: BatchedRequest<A>): Promise<IdempotentOutcome<A>> =>
      new Promise((resolve, reject) => {
        const queue = queues.get(apiKeyId)
        if (queue === undefined) queues.set(apiKeyId, [{ request, resolve, reject }])
        else queue.push({ request, resolve, reject })
        schedule()
      })
  }
}
