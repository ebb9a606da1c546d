/**
 * Group commit on a server's pool: units of work that arrive while a batch
 * of them is being committed wait for it and go in the next, all in one
 * pipelined transaction (pipelinedTransaction.ts), each on a branch of it
 * (`transactionBranch`: its own identity, so its held journal is its own)
 * and all at once, so that their statements travel together: one BEGIN,
 * one round trip for each step of all of them, one COMMIT. A checkout's
 * buyers paying at the same moment are recorded this way
 * (checkout/checkoutPayments.ts).
 *
 * One batch at a time. Nothing of a batch is kept unless all of it is: any
 * failure rolls it back (nested begins run without savepoints, whose names
 * the units would share) and each unit is then run on its own (`alone`), as
 * if it had come alone. So a unit must be safe to run again after a
 * rollback: all its effects are in this database.
 */
import type { Sql } from "./Database.ts"
import { pipelinedTransaction, transactionBranch } from "./pipelinedTransaction.ts"

export interface GroupWork<I, O> {
  /** A unit in a transaction of its own: a batch of one, or each unit of a batch that failed. */
  readonly alone: (item: I) => Promise<O>
  /** A unit in the batch's transaction (`tx`, its branch). */
  readonly together: (tx: Sql, item: I) => Promise<O>
  /**
   * The locks of all the batch's units that other transactions take in one order (a checkout's buyers' emails), taken
   * in the batch's transaction before any unit's statement: the units arrive in no order, and run at once, so each
   * taking its own as it goes would take them in the order of arrival, interleaved with the others' row locks.
   */
  readonly first?: (tx: Sql, items: ReadonlyArray<I>) => Promise<void>
}

/** A unit waiting for its batch: its answer or failure is given by whoever runs the batch. */
export interface Waiting<I, O> {
  readonly item: I
  readonly resolve: (out: O) => void
  readonly reject: (e: unknown) => void
}

export interface BatchLimits {
  /** Batches running at once (each holds a connection of the pool). */
  readonly inFlight: number
  /** Units in one batch at most. */
  readonly size: number
}

/**
 * The scheduler of every group commit here (this one, and the HTTP API's purchases, api/purchaseBatch.ts): the
 * units given in one turn of the event loop go together, per `key` (units of different keys never share a batch),
 * up to `size` in a batch and `inFlight` batches at a time; the rest wait for a batch to end. `run` answers every
 * unit of its batch (resolves or rejects each one) before its promise settles.
 */
export const batchScheduler = <K, I, O>(run: (key: K, batch: ReadonlyArray<Waiting<I, O>>) => Promise<void>, limits: BatchLimits) => {
  const queues = new Map<K, Array<Waiting<I, O>>>()
  let inFlight = 0
  let scheduled = false
  const pump = () => {
    scheduled = false
    for (const [key, queue] of queues) {
      while (inFlight < limits.inFlight && queue.length > 0) {
        inFlight++
        const batch = queue.splice(0, limits.size)
        void run(key, batch)
          // A run that failed without answering its units: they get its failure rather than waiting for ever.
          .catch((e: unknown) => batch.forEach((w) => w.reject(e)))
          .finally(() => {
            inFlight--
            schedule()
          })
      }
      if (queue.length === 0) queues.delete(key)
    }
  }
  const schedule = () => {
    if (scheduled) return
    scheduled = true
    setImmediate(pump)
  }
  return (key: K, item: I): Promise<O> =>
    new Promise((resolve, reject) => {
      const queue = queues.get(key)
      if (queue === undefined) queues.set(key, [{ item, resolve, reject }])
      else queue.push({ item, resolve, reject })
      schedule()
    })
}

/** Runs each unit given to the function it returns with the others that arrive meanwhile, up to `size` in one transaction, one batch at a time. */
export const groupCommit = <I, O>(sql: Sql, work: GroupWork<I, O>, size: number): ((item: I) => Promise<O>) => {
  const alone = (w: Waiting<I, O>) => work.alone(w.item).then(w.resolve, w.reject)
  const runBatch = async (_: undefined, batch: ReadonlyArray<Waiting<I, O>>) => {
    if (batch.length === 1) return alone(batch[0]!)
    const outs = await pipelinedTransaction(sql, async (tx) => {
      await work.first?.(tx, batch.map((w) => w.item))
      // Every unit's work ends before the transaction does (a failed one aborts it, and the others' next statements fail).
      const settled = await Promise.allSettled(batch.map((w) => work.together(transactionBranch(tx), w.item)))
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected")
      if (failed !== undefined) throw failed.reason
      return settled.map((s) => (s as PromiseFulfilledResult<O>).value)
    }, { savepoints: "none" }).catch(() => undefined)
    if (outs !== undefined) return batch.forEach((w, i) => w.resolve(outs[i]!))
    await Promise.all(batch.map(alone))
  }
  const scheduled = batchScheduler(runBatch, { inFlight: 1, size })
  return (item) => scheduled(undefined, item)
}
