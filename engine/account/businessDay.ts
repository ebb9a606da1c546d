/**
 * The store's business day: what the stored test clock (`billcycle clock`)
 * keeps in `engine_state`. Business time never runs backwards, so the store's
 * day is the latest of
 *  - the stored test clock (`clock`, set by `clock set`, `simulate`, `engine --now`),
 *  - the last day the engine ran in simulated time (`simulated_through`),
 *  - the test clock's day when the store went back to the real clock (`real_clock_from`),
 *  - the latest business date the journal records of a subscription (replayed history aside; a contact,
 *    product, link or discount code changed on the real date does not hold back a later `--now`).
 * A store with a stored clock is "on a test clock": commands without `--now`
 * run at its day. Every change of the stored clock is one transaction under
 * a lock on `engine_state`, and checks the day it moves to against the
 * store's day read in that transaction, so two writers cannot move it back.
 */
import type { CalendarDate } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import type { AccountSettings } from "./settings.ts"
import { settingsFrom } from "./settings.ts"

export interface StoreClockState {
  /** The stored test clock; undefined on the real clock. */
  readonly clock: CalendarDate | undefined
  /** The last day the engine ran in simulated time. */
  readonly simulatedThrough: CalendarDate | undefined
  /** The latest business date in the journal (replayed history aside). */
  readonly journalDay: CalendarDate | undefined
  /** The store's day when it last went back to the real clock (`clock real`). */
  readonly realClockFrom?: CalendarDate | undefined
}

const clockKey = "clock"
const simulatedThroughKey = "simulated_through"
const realClockFromKey = "real_clock_from"

// Calendar dates as YYYY-MM-DD compare as text.
const latest = (...days: ReadonlyArray<CalendarDate | undefined>): CalendarDate | undefined =>
  days.reduce<CalendarDate | undefined>((a, d) => (d === undefined || (a !== undefined && a >= d) ? a : d), undefined)

/** The store's day: no business day may come before it. Undefined for a store that has recorded nothing. */
export const storeDay = (state: StoreClockState): CalendarDate | undefined =>
  latest(state.clock, state.simulatedThrough, state.journalDay, state.realClockFrom)

type ClockRow = { clock: string | null; simulated_through: string | null; real_clock_from: string | null; journal_day: string | null }

const stateOf = (row: ClockRow | undefined): StoreClockState => ({
  clock: (row?.clock ?? undefined) as CalendarDate | undefined,
  simulatedThrough: (row?.simulated_through ?? undefined) as CalendarDate | undefined,
  journalDay: (row?.journal_day ?? undefined) as CalendarDate | undefined,
  realClockFrom: (row?.real_clock_from ?? undefined) as CalendarDate | undefined
})

/** The columns of a `ClockRow`: the stored clocks and the journal's last day. */
const clockColumns = (sql: Sql | TransactionSql) => sql`
  (select value from engine_state where key = ${clockKey}) as clock,
  (select value from engine_state where key = ${simulatedThroughKey}) as simulated_through,
  (select value from engine_state where key = ${realClockFromKey}) as real_clock_from,
  (select to_char(max(occurred_on), 'YYYY-MM-DD') from events where source <> 'history' and subscription_id is not null) as journal_day`

export const readStoreClock = async (sql: Sql | TransactionSql): Promise<StoreClockState> => {
  const [row] = await sql<Array<ClockRow>>`select ${clockColumns(sql)}`
  return stateOf(row)
}

/**
 * The store's clock and the account's settings in one round trip: what a
 * command on a store reads before it runs (runtime/StoreClock.ts).
 */
export const readStoreClockAndSettings = async (sql: Sql | TransactionSql): Promise<{ readonly state: StoreClockState; readonly settings: AccountSettings }> => {
  const [row] = await sql<Array<ClockRow & { settings: string }>>`
    select ${clockColumns(sql)}, (select coalesce(json_object_agg(key, value), '{}')::text from settings) as settings`
  return { state: stateOf(row), settings: settingsFrom(new Map(Object.entries(JSON.parse(row?.settings ?? "{}") as Record<string, string>))) }
}

/** What a change of the stored clock did: the state after it, or the store's day that refused it. */
export type StoreClockChange =
  | { readonly _tag: "Moved"; readonly before: StoreClockState; readonly after: StoreClockState }
  | { readonly _tag: "Refused"; readonly storeDay: CalendarDate; readonly state: StoreClockState }

const lockedState = async (tx: TransactionSql): Promise<StoreClockState> => {
  // Writers of the stored clock queue here; readers are not blocked.
  await tx`lock table engine_state in share row exclusive mode`
  return readStoreClock(tx)
}

/**
 * Puts the store on a test clock at `day` (`clock set`, `engine --now`), or
 * moves it forward; `ranEngine` also records that the engine ran through `day`
 * (`simulate`, `engine --once`). Refused, changing nothing, when `day` comes
 * before the store's day.
 */
export const moveStoreClock = (sql: Sql, day: CalendarDate, options: { readonly ranEngine?: boolean } = {}): Promise<StoreClockChange> =>
  sql.begin(async (tx) => {
    const before = await lockedState(tx)
    const current = storeDay(before)
    if (current !== undefined && day < current) return { _tag: "Refused", storeDay: current, state: before } as const
    const keys = options.ranEngine === true ? [clockKey, simulatedThroughKey] : [clockKey]
    await tx`insert into engine_state (key, value) select k, ${day} from unnest(${keys}::text[]) as u(k)
      on conflict (key) do update set value = excluded.value`
    return { _tag: "Moved", before, after: await readStoreClock(tx) } as const
  }) as Promise<StoreClockChange>

/**
 * Takes the store off its test clock (`clock real`): refused, changing
 * nothing, when the store's day is after `realToday` (time would run back).
 */
export const clearStoreClock = (sql: Sql, realToday: CalendarDate): Promise<StoreClockChange> =>
  sql.begin(async (tx) => {
    const before = await lockedState(tx)
    const current = storeDay(before)
    if (current !== undefined && realToday < current) return { _tag: "Refused", storeDay: current, state: before } as const
    await tx`delete from engine_state where key = ${clockKey}`
    // The test clock's day stays the store's floor: a later --now may not go back before it.
    if (current !== undefined) {
      await tx`insert into engine_state (key, value) values (${realClockFromKey}, ${current})
        on conflict (key) do update set value = excluded.value`
    }
    return { _tag: "Moved", before, after: await readStoreClock(tx) } as const
  }) as Promise<StoreClockChange>
