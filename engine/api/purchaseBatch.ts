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
import type { BatchLimits, Sql, Waiting } from "../sql/index.ts"
import { batchScheduler, journalSource } from "../sql/index.ts"
import type { CreatedSubscription, Purchase } from "../subscriptions/index.ts"
import { createPurchases, purchaseStandIn } from "../subscriptions/index.ts"

export interface BatchedRequest<A extends StoredAnswer> {
  readonly key: string
  readonly requestHash: string
  /** The request's route, run with `tx` standing for its transaction: its answer, and whether to keep it (below 500). */
  readonly run: (tx: Sql) => Promise<{ readonly answer: A; readonly keep: boolean }>
}

export interface PurchaseBatchOptions extends BatchLimits {
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

/** Answers batched requests of each API key (batches never mix keys), `inFlight` batches at a time (sql/groupCommit.ts's scheduler). */
export const purchaseBatcher = <A extends StoredAnswer>(sql: Sql, options: PurchaseBatchOptions) => {
  const answerBatch = async (apiKeyId: number, batch: ReadonlyArray<Waiting<BatchedRequest<A>, IdempotentOutcome<A>>>) => {
    const outcomes = await answerManyOnce<A>(sql, apiKeyId, batch.map((w) => w.item), (tx, claimed) => runTogether(tx, claimed.map((i) => batch[i]!.item)), options.beforeCommit)
      .catch(() => undefined)
    if (outcomes !== undefined) return batch.forEach((w, i) => w.resolve(outcomes[i]!))
    // Nothing of the batch was kept: each request on its own, as if it had come alone.
    await Promise.all(batch.map((w) =>
      answerOnce(sql, { apiKeyId, key: w.item.key, requestHash: w.item.requestHash }, w.item.run, options.beforeCommit, { pipelined: true }).then(w.resolve, w.reject)))
  }
  return { answer: batchScheduler(answerBatch, options) }
}
