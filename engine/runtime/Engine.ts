/**
 * The engine's tick: everything due at business "today", in an order that
 * keeps the rules of billing (period-end cancellations before billing, so a
 * canceled period is never invoiced; scheduled starts before billing, so a
 * subscription starting today is billed today). Each step claims work in
 * batches with FOR UPDATE SKIP LOCKED and commits its state, events and
 * outbox messages together; gateway calls sit between two commits.
 *
 * A tick is an ordered list of named steps: `passSteps` run in passes until
 * one changes nothing, then `closingSteps` run once.
 */
import { Deferred, Effect } from "effect"
import type { CalendarDate } from "../domain/index.ts"
import type { Sql } from "../sql/index.ts"
import type { BilledBatch, DueKey, PendingCharge } from "../invoicing/index.ts"
import type { EngineContext } from "../account/index.ts"
import type { DueWork } from "../lifecycle/index.ts"
import {
  connectionLost, countChangesForVacuum, Database, DatabaseError, messageOf, serverAutovacuums, vacuumHotTables, vacuumStoreWhenDue
} from "../sql/index.ts"
import { loadSettings, BusinessClock, engineOwner, makeEngineContext } from "../account/index.ts"
import {
  billDueBatch, claimUnsettledAttempts, createDueRetries, settleAttempts, unsettledLeaseOwners
} from "../invoicing/index.ts"
import {
  activateScheduled, applyPeriodEndCancellations, dueSubscriptionIds, dueWork, expireCompletedTerms, markOverdueInvoices,
  recordSubscriptionFailure, resumeDuePaused, sendDueReminders
} from "../lifecycle/index.ts"
import type { EngineStateService } from "./EngineState.ts"
import { EngineState } from "./EngineState.ts"
import type { GatewayUnavailable } from "../payments/index.ts"
import { Gateway } from "../payments/index.ts"
import { deadLocalOwner } from "./leaseOwners.ts"
import { TickHooks } from "./TickHooks.ts"
// The one step of a higher room the engine runs: completing a checkout whose payment reply was lost.
import { checkoutAttemptsDue, settleUnsettledCheckouts } from "../checkout/index.ts"

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
  pending: number
  retried: number
  overdue: number
  reminders: number
  parked: number
  rules: number
  delivered: number
}

export interface TickOptions {
  readonly batch: number
  /** Billing workers inside this process (default 3 on a server, 1 on the embedded database). */
  readonly workers?: number
  /** Embedded database: changes (invoices, charges, messages, …) between two VACUUM ANALYZE (default 40,000). */
  readonly vacuumEvery?: number
}

/** Leases held by processes on this host that no longer exist can be taken over at once. */
const isDeadOwner = (owner: string): boolean => deadLocalOwner(owner, engineOwner)

/** What every step of one tick works with. */
interface Tick {
  readonly sql: Sql
  readonly database: Database["Service"]
  readonly concurrent: boolean
  readonly ctx: EngineContext
  readonly batch: number
  readonly options: TickOptions
  readonly summary: TickSummary
  readonly gateway: Gateway["Service"]
  readonly hooks: TickHooks["Service"]
  readonly clock: BusinessClock["Service"]
  readonly state: EngineStateService
  /** The summary's invoice count when the current pass began (its due check predates this pass's billing). */
  readonly pass: { invoicedBefore: number }
}

type TickError = DatabaseError | GatewayUnavailable

export interface TickStep {
  readonly name: string
  readonly run: (tick: Tick, due: DueWork) => Effect.Effect<void, TickError>
}

/**
 * A store call, timed as `what` in the engine's state (or, once it answered, as `timedAs` its answer); its
 * failure a DatabaseError naming `what`.
 */
const db = <A>(state: EngineStateService, what: string, work: () => Promise<A>, timedAs?: (answer: A) => string) =>
  Effect.tryPromise({
    try: async () => {
      const t0 = performance.now()
      let answer: { readonly value: A } | undefined
      try {
        answer = { value: await work() }
        return answer.value
      } finally {
        state.recordStep(answer === undefined || timedAs === undefined ? what : timedAs(answer.value), performance.now() - t0)
      }
    },
    catch: (cause) => new DatabaseError({ message: `${what}: ${messageOf(cause)}`, cause })
  })

/** Sends charges to the gateway (between two commits) and records their outcomes. */
const sendAndSettle = (tick: Tick, charges: ReadonlyArray<PendingCharge>) =>
  Effect.gen(function*() {
    if (charges.length === 0) return
    const t0 = performance.now()
    const results = yield* tick.gateway.submit(charges.map((c) => ({ ...c, at: tick.ctx.now })))
    tick.state.recordStep("gateway", performance.now() - t0)
    const outcome = yield* db(tick.state, "recording payment outcomes", () =>
      settleAttempts(tick.sql, tick.ctx, charges.map((c, i) => ({ attemptId: c.attemptId, result: results[i]! }))))
    tick.summary.charged += outcome.succeeded
    tick.summary.failed += outcome.failed
    tick.summary.unknown += outcome.unknown
    tick.summary.pending += outcome.pending
  })

/** Runs a batch step until it finds less than a full batch; the number of rows it handled. */
const repeat = (tick: Tick, name: string, step: () => Promise<number>) =>
  Effect.gen(function*() {
    let total = 0
    for (;;) {
      const n = yield* db(tick.state, name, step)
      total += n
      if (n < tick.batch) return total
    }
  })

/** A lifecycle step: `when` the due check says so, repeated in batches, counted in `field`. */
const lifecycleStep = (
  name: string,
  when: keyof DueWork,
  field: "canceled" | "resumed" | "activated" | "expired" | "overdue",
  work: (sql: Sql, ctx: EngineContext, batch: number) => Promise<number>
): TickStep => ({
  name,
  run: (tick, due) =>
    due[when]
      ? Effect.map(repeat(tick, name, () => work(tick.sql, tick.ctx, tick.batch)), (n) => {
        tick.summary[field] += n
      })
      : Effect.void
})

/** Attempts left unsettled by a crash or a lost reply: ask again with the same key. */
const settleUnsettled: TickStep = {
  name: "unsettled attempts",
  run: (tick, due) =>
    Effect.gen(function*() {
      if (!due.unsettled) return
      const dead = (yield* db(tick.state, "reading leases", () => unsettledLeaseOwners(tick.sql))).filter(isDeadOwner)
      for (;;) {
        const claimed = yield* db(tick.state, "claiming unsettled attempts", () => claimUnsettledAttempts(tick.sql, tick.ctx, tick.batch, dead))
        yield* sendAndSettle(tick, claimed)
        if (claimed.length < tick.batch) return
      }
    })
}

/**
 * Checkout payments whose reply was lost (`pm_timeout`), or whose page's process died between
 * recording and settling: asked about again with the same key; a success completes the purchase
 * (engine/checkout/checkoutPayments.ts, the same step the page runs).
 */
const settleCheckouts: TickStep = {
  name: "checkout payments",
  run: (tick) =>
    Effect.gen(function*() {
      const now = tick.ctx.now ?? Date.now()
      if (!(yield* db(tick.state, "checking checkout payments", () => checkoutAttemptsDue(tick.sql, now)))) return
      for (;;) {
        const settled = yield* settleUnsettledCheckouts(tick.ctx, tick.batch).pipe(
          Effect.provideService(Gateway, tick.gateway),
          Effect.provideService(Database, tick.database),
          Effect.catchTag("BadInput", (e) => Effect.fail(new DatabaseError({ message: `settling checkout payments: ${e.message}`, cause: e })))
        )
        tick.summary.charged += settled.succeeded
        tick.summary.failed += settled.declined
        tick.summary.unknown += settled.unknown
        tick.summary.pending += settled.pending
        if (settled.claimed < tick.batch) return
      }
    })
}

/**
 * One billing worker: one period per subscription per batch, until nothing is due. On a server, each batch's
 * transaction takes the worker's billing slot (`billingSlots`), shared with the other engines on the database.
 * A slot not had within its bounded wait (`billingSlotWaitMs`: a session holds it and does not end) is not waited
 * for again in this tick: the worker bills without one. `firstBatch`, when given, hears whether the worker's first
 * batch left more to bill (`BilledBatch.more`).
 *
 * Each claim starts after the last subscription the worker's previous batch claimed (`DueKey`), not from the day's
 * first, whose rows billed are only skipped. What the claims passed by is billed by the tick's next pass, whose
 * workers start from the beginning (a pass that billed anything is followed by another).
 */
const billingWorker = (tick: Tick, worker: number, firstBatch?: (more: boolean) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const { sql, ctx, batch, summary, state } = tick
    let slot = tick.concurrent ? worker : undefined
    let told = firstBatch === undefined
    let after: DueKey | undefined
    for (;;) {
      const billed: BilledBatch & { readonly slotMissed: boolean } = yield* db(state, "billing", () => billDueBatch(sql, ctx, batch, undefined, slot, after)).pipe(
        Effect.catch((error) =>
          // One bad record must not stop billing: bill the batch one by one, park what keeps failing.
          // A lost database is no bad record: the tick stops there (its batch rolled back).
          Effect.gen(function*() {
            if (connectionLost(error)) return yield* Effect.fail(error)
            yield* Effect.logWarning(`billing batch failed (${error.message}); retrying one by one`)
            const ids = yield* db(state, "listing due subscriptions", () => dueSubscriptionIds(sql, ctx, batch))
            const charges: Array<PendingCharge> = []
            let invoices = 0
            for (const id of ids) {
              const one = yield* db(state, "billing", () => billDueBatch(sql, ctx, 1, [id], slot)).pipe(
                Effect.catch((e) =>
                  connectionLost(e) ? Effect.fail(e) : db(state, "recording a failure", () => recordSubscriptionFailure(sql, id, e.message)).pipe(
                    Effect.tap((parked) => Effect.sync(() => { if (parked) summary.parked++ })),
                    Effect.as({ invoices: 0, charges: [] as Array<PendingCharge>, ids: [] as Array<number>, more: false, slotMissed: false })
                  ))
              )
              invoices += one.invoices
              charges.push(...one.charges)
              if (one.slotMissed) slot = undefined
            }
            return { invoices, charges, ids, more: ids.length > 0, slotMissed: false }
          })
        )
      )
      summary.invoiced += billed.invoices
      if (billed.slotMissed) slot = undefined
      if (!told) {
        told = true
        yield* firstBatch!(billed.more)
      }
      yield* sendAndSettle(tick, billed.charges)
      // A subscription behind by several periods is billed one period per pass, in order, until none is due.
      if (!billed.more) return
      after = billed.last
    }
  })

/**
 * Billing. Workers claim disjoint batches (SKIP LOCKED), so one invoices while another waits on the
 * gateway. Resumes and scheduled starts earlier in the pass may have made billing due, so those days check again.
 *
 * The first worker bills alone until its first batch says more is due than that batch (`BilledBatch.more`): only
 * then do the others start. A day with less than a batch due (a business of 10,000 monthly renewals has ~330 a day)
 * is one batch, one gateway call and one settlement: started together, the others split it into smaller batches
 * or claimed nothing, and a simulated year took 13–18% longer on the server (bench/simulate.ts, 120 days, 1 worker
 * against 3: 14.4 and 15.2 s against 17.2 and 17.0 s).
 */
const bill: TickStep = {
  name: "billing",
  run: (tick, due) =>
    Effect.gen(function*() {
      if (!(due.billing || due.resumes || due.starts)) return
      const workers = tick.concurrent ? tick.options.workers ?? 3 : 1
      const more = yield* Deferred.make<boolean>()
      const helper = (i: number) => Effect.flatMap(Deferred.await(more), (join) => (join ? billingWorker(tick, i) : Effect.void))
      const first = billingWorker(tick, 0, (left) => Effect.asVoid(Deferred.succeed(more, left))).pipe(
        // A first worker that fails before its first batch is told (a lost connection) does not leave the others waiting.
        Effect.ensuring(Deferred.succeed(more, false))
      )
      // On a server, the reminders due before billing are sent beside it, on their own connection: they lock other
      // subscriptions (a payment after today's), and billing waits on the gateway and on the numbering row meanwhile.
      // The reminders step after billing still runs (billing moves dates into the window), and finds only those.
      const work = [first, ...Array.from({ length: workers - 1 }, (_, i) => helper(i + 1)), ...(tick.concurrent && due.reminders ? [sendReminders(tick)] : [])]
      yield* Effect.forEach(work, (worker) => worker, { concurrency: work.length, discard: true })
    })
}

/** Retries of failed charges whose day has come. */
const retry: TickStep = {
  name: "retries",
  run: (tick, due) =>
    Effect.gen(function*() {
      if (!due.retries) return
      for (;;) {
        const retries = yield* db(tick.state, "creating retries", () => createDueRetries(tick.sql, tick.ctx, tick.batch))
        tick.summary.retried += retries.length
        yield* sendAndSettle(tick, retries)
        if (retries.length < tick.batch) return
      }
    })
}

/**
 * Billing moves next billing dates into the reminder window after the pass's due check was made:
 * check reminders whenever this pass billed something. A later pass's due check sees those dates.
 */
const remind: TickStep = {
  name: "reminders",
  run: (tick, due) => (due.reminders || tick.summary.invoiced > tick.pass.invoicedBefore ? sendReminders(tick) : Effect.void)
}

const sendReminders = (tick: Tick) =>
  Effect.map(repeat(tick, "reminders", () => sendDueReminders(tick.sql, tick.ctx, tick.batch)), (n) => {
    tick.summary.reminders += n
  })

/** Rules, plugged in by their room (their actions can make lifecycle steps due: they run in the passes). */
const runRules: TickStep = {
  name: "rules",
  run: (tick) => Effect.map(tick.hooks.runRules(tick.ctx), (n) => {
    tick.summary.rules += n
  })
}

/** The steps of one pass, in order: settle, lifecycle before billing, billing, retries, dunning, rules. */
export const passSteps: ReadonlyArray<TickStep> = [
  settleUnsettled,
  settleCheckouts,
  lifecycleStep("period-end cancellations", "cancellations", "canceled", applyPeriodEndCancellations),
  lifecycleStep("resumes", "resumes", "resumed", resumeDuePaused),
  lifecycleStep("scheduled starts", "starts", "activated", activateScheduled),
  lifecycleStep("expiries", "expiries", "expired", expireCompletedTerms),
  bill,
  retry,
  lifecycleStep("overdue invoices", "overdue", "overdue", markOverdueInvoices),
  remind,
  runRules
]

/**
 * Delivery, plugged in by its room, once the passes are done. The outbox's retries run on business
 * time, so `--now` and the simulator retry (and give up) on their own ticks.
 */
const deliver: TickStep = {
  name: "delivery",
  run: (tick) =>
    Effect.gen(function*() {
      tick.summary.delivered += yield* tick.hooks.deliverOutbox(tick.ctx, yield* tick.clock.now)
    })
}

/**
 * The embedded database has no autovacuum, and a server may have it switched off: without this
 * their indexes fill with dead entries and their planners have no statistics, and every step
 * slows down as the rows pile up. The embedded database's engine counts its own changes; a
 * server's engines count theirs together in the store, and one of them vacuums for all
 * (`vacuumStoreWhenDue`). A server is asked once whether it vacuums by itself.
 */
const vacuum: TickStep = {
  name: "vacuum",
  run: (tick) =>
    Effect.gen(function*() {
      const s = tick.summary
      const changes = s.invoiced + s.charged + s.failed + s.retried + s.reminders + s.delivered + s.rules + s.overdue
      const every = tick.options.vacuumEvery ?? vacuumEvery
      if (!tick.concurrent) {
        if (tick.state.addChanges(changes) < every) return
        yield* db(tick.state, "vacuuming the database", () => vacuumHotTables(tick.sql))
        return tick.state.vacuumed()
      }
      if (changes === 0) return
      if (tick.state.serverAutovacuums() === undefined) {
        tick.state.setServerAutovacuums(yield* db(tick.state, "asking whether the server vacuums", () => serverAutovacuums(tick.sql)))
      }
      if (tick.state.serverAutovacuums() === true) return
      if (!(yield* db(tick.state, "counting changes for the vacuum", () => countChangesForVacuum(tick.sql, changes, every)))) return
      yield* db(tick.state, "vacuuming the database", () => vacuumStoreWhenDue(tick.sql, every), (did) => did ? "vacuuming the database" : "vacuum left to another engine")
    })
}

/** The steps after the passes, once per tick. */
export const closingSteps: ReadonlyArray<TickStep> = [deliver, vacuum]

// One pass runs every step once. A step can make an earlier one due on the same day (a retry that
// succeeds makes its subscription billable again; a rule may pause or cancel), so passes repeat until
// one changes nothing: a second tick on the same day then finds nothing to do. Every step claims only
// what is due by data, so a repeated pass is harmless; the bound guards against a step that keeps
// finding work (a bug), which is logged rather than looped forever.
const onePass = (tick: Tick) =>
  Effect.gen(function*() {
    const before = changesOf(tick.summary)
    tick.pass.invoicedBefore = tick.summary.invoiced
    const due = yield* db(tick.state, "checking for due work", () => dueWork(tick.sql, tick.ctx))
    for (const step of passSteps) yield* step.run(tick, due)
    return changesOf(tick.summary) - before
  })

/** What one tick works with: the services, today and the instant on the business clock, an empty summary. */
const openTick = (options: TickOptions) =>
  Effect.gen(function*() {
    const database = yield* Database
    const { sql, concurrent } = database
    const clock = yield* BusinessClock
    const state = yield* EngineState
    const settings = yield* db(state, "loading settings", () => loadSettings(sql))
    const today = yield* clock.today(settings.timezone)
    const now = yield* clock.now
    const tick: Tick = {
      sql, database, concurrent, clock, state, options,
      ctx: makeEngineContext(settings, today, { now }),
      batch: options.batch,
      gateway: yield* Gateway,
      hooks: yield* TickHooks,
      summary: emptySummary(today),
      pass: { invoicedBefore: 0 }
    }
    return tick
  })

const emptySummary = (today: CalendarDate): TickSummary => ({
  today, activated: 0, canceled: 0, resumed: 0, expired: 0, invoiced: 0, charged: 0, failed: 0, unknown: 0, pending: 0,
  retried: 0, overdue: 0, reminders: 0, parked: 0, rules: 0, delivered: 0
})

/** Passes until one changes nothing (at most `maxPasses`). */
const runPasses = (tick: Tick) =>
  Effect.gen(function*() {
    for (let pass = 1; ; pass++) {
      const changes = yield* onePass(tick)
      if (changes === 0) return
      if (pass >= maxPasses) {
        yield* Effect.logWarning(`${tick.summary.today}: still finding work after ${maxPasses} passes of the tick; the rest waits for the next tick`)
        return
      }
    }
  })

/** The closing steps, once. */
const runClosingSteps = (tick: Tick) =>
  Effect.gen(function*() {
    for (const step of closingSteps) yield* step.run(tick, noWorkDue)
  })

/** One tick: open it, run the passes, then the closing steps; what it did. */
export const runTick = Effect.fn("runTick")(function*(options: TickOptions) {
  const tick = yield* openTick(options)
  yield* runPasses(tick)
  yield* runClosingSteps(tick)
  return tick.summary
})

/** Passes of one tick at most; each pass after the first follows from work the previous one did. */
const maxPasses = 10

const vacuumEvery = 40_000

/** The closing steps do not read the due check. */
const noWorkDue: DueWork = {
  unsettled: false, cancellations: false, resumes: false, starts: false, expiries: false, billing: false, retries: false, overdue: false, reminders: false
}

/**
 * What a pass changed (delivery excluded: it runs once, after the passes). An attempt left unknown
 * (or a bank debit left pending) is not counted: it is asked about again once its backoff has passed, on a later tick.
 */
const changesOf = (s: TickSummary): number =>
  s.activated + s.canceled + s.resumed + s.expired + s.invoiced + s.charged + s.failed + s.retried + s.overdue + s.reminders + s.parked + s.rules

export const describeTick = (s: TickSummary): string => {
  const parts = Object.entries(s).filter(([k, v]) => k !== "today" && typeof v === "number" && v > 0).map(([k, v]) => `${k} ${v}`)
  return `${s.today}: ${parts.length === 0 ? "nothing due" : parts.join(", ")}`
}
