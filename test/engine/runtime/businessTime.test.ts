/**
 * "Business time is monotonic" (issue #13, finding 7): random sequences of
 * the commands that read or move business time (clock set, clock real,
 * simulate, engine --once, invoices pay, contacts add and a read, each with or
 * without --now) run through the same functions the CLI calls, on one store.
 * After every command: the store's day never decreased, the dates of
 * subscriptions' history in the journal never decrease, a command with --now
 * ran exactly when its day was not before the store's day (one without never
 * is refused), and a refused command changed nothing.
 */
import { Cause, Effect, Exit, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addDays, calendarDateInZone, toDayNumber } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { engineOnce, EngineState, resolveCommandTime, runTick, simulateDays, simulationStart, storeClockLayer, TickHooks } from "../../../engine/runtime/index.ts"
import { Gateway } from "../../../engine/payments/index.ts"
import type { GivenNow } from "../../../engine/runtime/index.ts"
import { runSql } from "../../../engine/sql/index.ts"
import { clearStoreClock, moveStoreClock, readStoreClock, storeDay, dayTime, commandContext } from "../../../engine/account/index.ts"
import { addContact } from "../../../engine/catalogue/index.ts"
import { payInvoice } from "../../../engine/invoicing/index.ts"
import type { Sql } from "../../../engine/sql/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"
import { createSubscription } from "./engineHarness.ts"


const base = "2026-10-01" as CalendarDate
const dayArb = fc.integer({ min: 0, max: 150 }).map((n) => addDays(base, n))
const nowArb = fc.option(dayArb, { nil: undefined })

type Command =
  | { readonly kind: "clock set"; readonly day: CalendarDate }
  | { readonly kind: "clock real" }
  | { readonly kind: "simulate"; readonly now: CalendarDate | undefined; readonly span: number }
  | { readonly kind: "engine --once"; readonly now: CalendarDate | undefined }
  | { readonly kind: "invoices pay"; readonly now: CalendarDate | undefined }
  | { readonly kind: "contacts add"; readonly now: CalendarDate | undefined }
  | { readonly kind: "invoices list"; readonly now: CalendarDate | undefined }

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  dayArb.map((day) => ({ kind: "clock set" as const, day })),
  fc.constant({ kind: "clock real" as const }),
  // simulate --until the command's day + span (a negative span is an --until before the start: refused).
  fc.record({ now: nowArb, span: fc.integer({ min: -2, max: 6 }) }).map((r) => ({ kind: "simulate" as const, ...r })),
  nowArb.map((now) => ({ kind: "engine --once" as const, now })),
  nowArb.map((now) => ({ kind: "invoices pay" as const, now })),
  nowArb.map((now) => ({ kind: "contacts add" as const, now })),
  nowArb.map((now) => ({ kind: "invoices list" as const, now }))
)

const given = (day: CalendarDate | undefined): GivenNow | undefined =>
  day === undefined ? undefined : { time: dayTime(day), text: day, source: "--now" }

/** Everything a command could change, to compare before and after a refusal. */
const snapshot = async (sql: Sql) =>
  (await sql<Array<Record<string, unknown>>>`
    select (select coalesce(string_agg(key || '=' || value, ',' order by key), '') from engine_state) as engine_state,
           (select count(*)::int from events) as events,
           (select md5(coalesce(string_agg(row_to_json(i)::text, ',' order by id), '')) from invoices i) as invoices,
           (select md5(coalesce(string_agg(row_to_json(s)::text, ',' order by id), '')) from subscriptions s) as subscriptions,
           (select count(*)::int from contacts) as contacts,
           (select count(*)::int from outbox) as outbox`)[0]!

// What commands record "today" (source cli) of subscriptions' history, in journal order. The engine's catch-up dates
// some events on their effective day (a scheduled start on its start date), which may come before the day it ran.
// A contact added (the catalogue, not billing's history) is dated the day of its command and does not move the
// store's day: a contact added on the real date must not refuse a later --now 2026-03-01 for its subscription.
const commandJournalDates = async (sql: Sql) =>
  (await sql<Array<{ d: string }>>`select to_char(occurred_on, 'YYYY-MM-DD') as d from events where source = 'cli' and subscription_id is not null order by id`).map((r) => r.d)

const latestJournalDate = async (sql: Sql) =>
  (await sql<Array<{ d: string | null }>>`select to_char(max(occurred_on), 'YYYY-MM-DD') as d from events where subscription_id is not null`)[0]!.d

let contactCounter = 0

/** Runs one command as the CLI would: its clock from --now / the stored clock / the real clock, refused before the store's day. */
const runCommand = (t: TestDatabase, command: Command) => {
  const layer = (now: CalendarDate | undefined) =>
    Layer.mergeAll(storeClockLayer(given(now)), TickHooks.none, Gateway.simulated, EngineState.layer).pipe(Layer.provideMerge(t.layer))
  const realDate = () => calendarDateInZone(Date.now(), "UTC")
  switch (command.kind) {
    case "clock set":
      return Effect.runPromiseExit(Effect.promise(() => moveStoreClock(t.db.sql, command.day)).pipe(
        Effect.flatMap((r) => r._tag === "Moved" ? Effect.succeed(command.day) : Effect.fail("refused"))))
    case "clock real":
      return Effect.runPromiseExit(Effect.promise(() => clearStoreClock(t.db.sql, realDate())).pipe(
        Effect.flatMap((r) => r._tag === "Moved" ? Effect.succeed(realDate()) : Effect.fail("refused"))))
    case "simulate":
      return Effect.runPromiseExit(Effect.gen(function*() {
        const from = yield* simulationStart
        const until = addDays((yield* resolveCommandTime(given(command.now))).today, command.span)
        if (until < from) return yield* Effect.fail("refused: --until")
        yield* simulateDays({ from, days: toDayNumber(until) - toDayNumber(from) + 1, batch: 50 })
        return until
      }).pipe(Effect.provide(layer(command.now))))
    case "engine --once":
      return Effect.runPromiseExit(engineOnce(given(command.now), runTick({ batch: 50 })).pipe(Effect.map((s) => s.today), Effect.provide(layer(command.now))))
    case "invoices pay":
      return Effect.runPromiseExit(Effect.gen(function*() {
        const ctx = yield* commandContext
        yield* runSql(async (sql) => {
          const [open] = await sql<Array<{ id: number }>>`select id from invoices where status = 'open' order by id limit 1`
          if (open !== undefined) await payInvoice(sql, ctx, open.id, undefined)
        })
        return ctx.today
      }).pipe(Effect.provide(layer(command.now))))
    case "contacts add":
      return Effect.runPromiseExit(Effect.gen(function*() {
        const ctx = yield* commandContext
        yield* runSql((sql) => addContact(sql, { email: `walk-in${++contactCounter}@example.com` }, ctx.today))
        return ctx.today
      }).pipe(Effect.provide(layer(command.now))))
    case "invoices list":
      return Effect.runPromiseExit(Effect.gen(function*() {
        const ctx = yield* commandContext
        yield* runSql((sql) => sql`select id from invoices order by id`)
        return ctx.today
      }).pipe(Effect.provide(layer(command.now))))
  }
}

describe("business time is monotonic", () => {
  it("over random sequences of clock set / clock real / simulate / engine --once / invoices pay / contacts add / reads, with and without --now", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 3, maxLength: 8 }), async (commands) => {
        // One store per sequence, closed before the next opens (the embedded test database serves one connection).
        const t = await openTestDatabase()
        try {
          await runSequence(t, commands)
        } finally {
          await t.close()
        }
      }),
      {
        numRuns: 20,
        // Always tried: back to the real clock from a test clock in the past, then an --now before that test clock's day.
        examples: [[[{ kind: "clock set", day: addDays(base, 4) }, { kind: "clock real" }, { kind: "invoices list", now: addDays(base, 2) }]]]
      }
    )
  }, 600_000)
})

const runSequence = async (t: TestDatabase, commands: ReadonlyArray<Command>) => {
  const { sql } = t.db
  // Two buyers billed by invoice, so the engine issues invoices that `invoices pay` can pay.
  for (let i = 0; i < 2; i++) await createSubscription(sql, { start: addDays(base, 3 + i * 11), collection: "invoice", paymentTerms: "net-30", createdOn: base })
  for (const command of commands) {
    const stateBefore = await readStoreClock(sql)
    const dayBefore = storeDay(stateBefore)
    const before = await snapshot(sql)
    const exit = await runCommand(t, command)
    const stateAfter = await readStoreClock(sql)
    const dayAfter = storeDay(stateAfter)
    const label = `${JSON.stringify(command)} on a store at ${dayBefore ?? "(nothing)"}`
    // The store's day never goes back.
    if (dayBefore !== undefined) expect(dayAfter! >= dayBefore, label).toBe(true)
    // The journal's dates never decrease.
    const dates = await commandJournalDates(sql)
    expect(dates, label).toEqual([...dates].sort())
    const latest = await latestJournalDate(sql)
    if (Exit.isFailure(exit)) {
      // A refused command changes nothing, and is refused only for a day before the store's day (or an --until before its start);
      // a command without --now is never refused (on the real clock, a store ahead of the real date runs at its day).
      expect(await snapshot(sql), label).toEqual(before)
      const asked = "day" in command ? command.day : "now" in command ? command.now : undefined
      const realAhead = dayBefore !== undefined && calendarDateInZone(Date.now(), "UTC") < dayBefore
      const expected = command.kind === "clock real"
        ? realAhead
        : asked !== undefined
        ? dayBefore !== undefined && asked < dayBefore
        : false
      const untilBeforeStart = command.kind === "simulate" && Cause.pretty(exit.cause).includes("refused: --until")
      expect(expected || untilBeforeStart, `${label} was refused: ${Cause.pretty(exit.cause)}`).toBe(true)
    } else {
      // The command's day was not before the store's day (a --now may be later: it moves the store's day only by what it records).
      const ran = exit.value
      if (dayBefore !== undefined) expect(ran >= dayBefore, label).toBe(true)
      // Nothing is recorded after the command's day.
      if (latest !== null) expect(latest <= ran, label).toBe(true)
      // Commands that moved the clock leave the store on a test clock at their day; `clock real` takes it off.
      if (command.kind === "clock set" || command.kind === "simulate" || (command.kind === "engine --once" && command.now !== undefined)) {
        expect(stateAfter.clock, label).toBe(ran)
      }
      if (command.kind === "clock real") expect(stateAfter.clock, label).toBeUndefined()
      if (command.kind === "invoices list") expect(await snapshot(sql), label).toEqual(before)
    }
  }
}

describe("two engines at once on different days", () => {
  it("engine --once --now moves the store's clock to its day before its tick: an engine started meanwhile at an earlier day is refused before it bills", async () => {
    const t = await openTestDatabase()
    try {
      const layer = (now: CalendarDate) =>
        Layer.mergeAll(storeClockLayer(given(now)), TickHooks.none, Gateway.simulated, EngineState.layer).pipe(Layer.provideMerge(t.layer))
      await createSubscription(t.db.sql, { start: "2026-10-05", paymentMethod: "pm_declined", items: [{ price: 2500 }] })
      await moveStoreClock(t.db.sql, "2026-10-01" as CalendarDate)
      // The later engine's tick is where the earlier one comes in (found by running `engine --once --now 2027-02-05` and
      // `--now 2027-01-20` at once: the second billed 01-20 after the first had journaled 02-05, then exited 2).
      let clockDuringTick: CalendarDate | undefined
      const later = engineOnce(given("2026-11-05" as CalendarDate), Effect.flatMap(runSql(readStoreClock), (s) => {
        clockDuringTick = s.clock
        return runTick({ batch: 50 })
      }))
      await Effect.runPromise(later.pipe(Effect.provide(layer("2026-11-05" as CalendarDate))))
      // An engine at an earlier day that passed its check before this one moved the clock is refused when it moves the
      // clock itself, under the same lock, before its tick (the move refuses a day before the store's day).
      expect(clockDuringTick).toBe("2026-11-05")
      expect((await moveStoreClock(t.db.sql, "2026-10-20" as CalendarDate))._tag).toBe("Refused")
    } finally {
      await t.close()
    }
  }, 120_000)
})
