/**
 * The engine's tick: everything due at business "today", in an order that
 * keeps the rules of billing (period-end cancellations before billing, so a
 * canceled period is never invoiced; scheduled starts before billing, so a
 * subscription starting today is billed today). Each step claims work in
 * batches with FOR UPDATE SKIP LOCKED and commits its state, events and
 * outbox messages together; gateway calls sit between two commits.
 */
import { Effect } from "effect"
import type { CalendarDate } from "../domain/index.ts"
import type { PendingCharge } from "../store/index.ts"
import {
  activateScheduled,
  applyPeriodEndCancellations,
  billDueBatch,
  claimUnsettledAttempts,
  createDueRetries,
  Database,
  DatabaseError,
  expireCompletedTerms,
  loadSettings,
  markOverdueInvoices,
  messageOf,
  recordSubscriptionFailure,
  resumeDuePaused,
  sendDueReminders,
  settleAttempts,
  unsettledLeaseOwners,
  dueSubscriptionIds,
  dueWork,
  vacuumHotTables
} from "../store/index.ts"
import { BusinessClock } from "./BusinessClock.ts"
import { deadLocalOwner } from "./leaseOwners.ts"
import { engineOwner, makeEngineContext } from "./engineContext.ts"
import { Gateway } from "./Gateway.ts"
import { TickHooks } from "./TickHooks.ts"

export interface TickSummary {
  today: CalendarDate
  activated: number
  canceled: number
  resumed: number
  expired: number
  invoiced: number
  charged: number
  failed: number
  unknown: number
  retried: number
  overdue: number
  reminders: number
  parked: number
  rules: number
  delivered: number
}


/** Leases held by processes on this host that no longer exist can be taken over at once. */
const isDeadOwner = (owner: string): boolean => deadLocalOwner(owner, engineOwner)

/** Time spent per step since the process started, for benchmarks and `--log-format json`. */
export const stepTimings = new Map<string, { calls: number; ms: number }>()

const timed = <A>(what: string, work: () => Promise<A>) => async () => {
  const t0 = performance.now()
  try {
    return await work()
  } finally {
    const entry = stepTimings.get(what) ?? { calls: 0, ms: 0 }
    entry.calls++
    entry.ms += performance.now() - t0
    stepTimings.set(what, entry)
  }
}

const db = <A>(what: string, work: () => Promise<A>) =>
  Effect.tryPromise({ try: timed(what, work), catch: (cause) => new DatabaseError({ message: `${what}: ${messageOf(cause)}`, cause }) })

export interface TickOptions {
  readonly batch: number
  /** Billing workers inside this process (default 3 on a server, 1 on the embedded database). */
  readonly workers?: number
  /** Embedded database: changes (invoices, charges, messages, …) between two VACUUM ANALYZE (default 40,000). */
  readonly vacuumEvery?: number
}

export const runTick = Effect.fn("runTick")(function*(options: TickOptions) {
  const { sql, concurrent } = yield* Database
  const clock = yield* BusinessClock
  const gateway = yield* Gateway
  const hooks = yield* TickHooks
  const settings = yield* db("loading settings", () => loadSettings(sql))
  const today = yield* clock.today(settings.timezone)
  const now = yield* clock.now
  const ctx = makeEngineContext(settings, today, { now })
  const batch = options.batch
  const summary: TickSummary = {
    today, activated: 0, canceled: 0, resumed: 0, expired: 0, invoiced: 0, charged: 0, failed: 0, unknown: 0,
    retried: 0, overdue: 0, reminders: 0, parked: 0, rules: 0, delivered: 0
  }

  const sendAndSettle = (charges: ReadonlyArray<PendingCharge>) =>
    Effect.gen(function*() {
      if (charges.length === 0) return
      const t0 = performance.now()
      const results = yield* gateway.submit(charges)
      const entry = stepTimings.get("gateway") ?? { calls: 0, ms: 0 }
      entry.calls++
      entry.ms += performance.now() - t0
      stepTimings.set("gateway", entry)
      const outcome = yield* db("recording payment outcomes", () =>
        settleAttempts(sql, ctx, charges.map((c, i) => ({ attemptId: c.attemptId, result: results[i]! }))))
      summary.charged += outcome.succeeded
      summary.failed += outcome.failed
      summary.unknown += outcome.unknown
    })

  const repeat = (name: string, step: () => Promise<number>) =>
    Effect.gen(function*() {
      let total = 0
      for (;;) {
        const n = yield* db(name, step)
        total += n
        if (n < batch) return total
      }
    })

  // One pass runs every step once. A step can make an earlier one due on the same day (a retry that
  // succeeds makes its subscription billable again; a rule may pause or cancel), so passes repeat until
  // one changes nothing: a second tick on the same day then finds nothing to do. Every step claims only
  // what is due by data, so a repeated pass is harmless; the bound guards against a step that keeps
  // finding work (a bug), which is logged rather than looped forever.
  // (The pass's steps keep the tick's indentation.)
  const onePass = Effect.gen(function*() {
  const before = changesOf(summary)
  const due = yield* db("checking for due work", () => dueWork(sql, ctx))

  // 1. Attempts left unsettled by a crash or a lost reply: ask again with the same key.
  const dead = due.unsettled ? (yield* db("reading leases", () => unsettledLeaseOwners(sql))).filter(isDeadOwner) : []
  while (due.unsettled) {
    const claimed = yield* db("claiming unsettled attempts", () => claimUnsettledAttempts(sql, ctx, batch, dead))
    yield* sendAndSettle(claimed)
    if (claimed.length < batch) break
  }

  // 2. Lifecycle before billing.
  if (due.cancellations) summary.canceled += yield* repeat("period-end cancellations", () => applyPeriodEndCancellations(sql, ctx, batch))
  if (due.resumes) summary.resumed += yield* repeat("resumes", () => resumeDuePaused(sql, ctx, batch))
  if (due.starts) summary.activated += yield* repeat("scheduled starts", () => activateScheduled(sql, ctx, batch))
  if (due.expiries) summary.expired += yield* repeat("expiries", () => expireCompletedTerms(sql, ctx, batch))

  // 3. Billing: one period per subscription per batch, until nothing is due. Workers claim
  // disjoint batches (SKIP LOCKED), so one invoices while another waits on the gateway.
  const billingLoop = Effect.gen(function*() {
  for (;;) {
    const billed = yield* db("billing", () => billDueBatch(sql, ctx, batch)).pipe(
      Effect.catch((error) =>
        // One bad record must not stop billing: bill the batch one by one, park what keeps failing.
        Effect.gen(function*() {
          yield* Effect.logWarning(`billing batch failed (${error.message}); retrying one by one`)
          const ids = yield* db("listing due subscriptions", () => dueSubscriptionIds(sql, ctx, batch))
          const charges: Array<PendingCharge> = []
          let invoices = 0
          for (const id of ids) {
            const one = yield* db("billing", () => billDueBatch(sql, ctx, 1, [id])).pipe(
              Effect.catch((e) =>
                db("recording a failure", () => recordSubscriptionFailure(sql, id, e.message)).pipe(
                  Effect.tap((parked) => Effect.sync(() => { if (parked) summary.parked++ })),
                  Effect.as({ invoices: 0, charges: [] as Array<PendingCharge>, ids: [] as Array<number>, more: false })
                ))
            )
            invoices += one.invoices
            charges.push(...one.charges)
          }
          return { invoices, charges, ids, more: ids.length > 0 }
        })
      )
    )
    summary.invoiced += billed.invoices
    yield* sendAndSettle(billed.charges)
    // A subscription behind by several periods is billed one period per pass, in order, until none is due.
    if (!billed.more) break
  }
  })
  const workers = concurrent ? options.workers ?? 3 : 1
  // Resumes and scheduled starts above may have made billing due, so those days check again.
  const billingDue = due.billing || due.resumes || due.starts
  if (billingDue) yield* Effect.forEach(Array.from({ length: workers }, () => billingLoop), (loop) => loop, { concurrency: workers, discard: true })

  // 4. Retries of failed charges whose day has come.
  while (due.retries) {
    const retries = yield* db("creating retries", () => createDueRetries(sql, ctx, batch))
    summary.retried += retries.length
    yield* sendAndSettle(retries)
    if (retries.length < batch) break
  }

  // 5. Overdue invoices, reminders.
  if (due.overdue) summary.overdue += yield* repeat("overdue invoices", () => markOverdueInvoices(sql, ctx, batch))
  // Billing today moves next billing dates into the reminder window: check reminders whenever something was billed.
  if (due.reminders || summary.invoiced > 0) summary.reminders += yield* repeat("reminders", () => sendDueReminders(sql, ctx, batch))

  // 6. Rules, plugged in by their room (their actions can make lifecycle steps due: they run in the passes).
  summary.rules += yield* hooks.runRules(ctx)
  return changesOf(summary) - before
  })
  for (let pass = 1; ; pass++) {
    const changes = yield* onePass
    if (changes === 0) break
    if (pass >= maxPasses) {
      yield* Effect.logWarning(`${today}: still finding work after ${maxPasses} passes of the tick; the rest waits for the next tick`)
      break
    }
  }

  // Delivery, plugged in by its room, once the passes are done. The outbox's retries run on business time, so `--now` and the simulator retry (and give up) on their own ticks.
  summary.delivered += yield* hooks.deliverOutbox(ctx, yield* clock.now)

  // 7. The embedded database has no autovacuum: without this its indexes fill with dead entries
  // and its planner has no statistics, and every step slows down as the rows pile up.
  if (!concurrent) {
    changesSinceVacuum += summary.invoiced + summary.charged + summary.failed + summary.retried + summary.reminders + summary.delivered + summary.rules + summary.overdue
    if (changesSinceVacuum >= (options.vacuumEvery ?? vacuumEvery)) {
      yield* db("vacuuming the embedded database", () => vacuumHotTables(sql))
      changesSinceVacuum = 0
    }
  }
  return summary
})

/** Passes of one tick at most; each pass after the first follows from work the previous one did. */
const maxPasses = 10

/**
 * What a pass changed (delivery excluded: it runs once, after the passes). An attempt left unknown
 * is not counted: it is asked about again once its backoff has passed, on a later tick.
 */
const changesOf = (s: TickSummary): number =>
  s.activated + s.canceled + s.resumed + s.expired + s.invoiced + s.charged + s.failed + s.retried + s.overdue + s.reminders + s.parked + s.rules

const vacuumEvery = 40_000
let changesSinceVacuum = 0

export const describeTick = (s: TickSummary): string => {
  const parts = Object.entries(s).filter(([k, v]) => k !== "today" && typeof v === "number" && v > 0).map(([k, v]) => `${k} ${v}`)
  return `${s.today}: ${parts.length === 0 ? "nothing due" : parts.join(", ")}`
}
