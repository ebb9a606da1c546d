/**
 * Random store histories for the analytics copy's tests: on random
 * histories written into the store transaction by transaction, each with its
 * journal event (writeJournal, the store's one writer), with refreshes at
 * random points in between, the incrementally refreshed copy gives
 * byte-identical reports to a copy rebuilt from scratch. The histories create
 * subscriptions, change statuses, add item versions, replace a future
 * version (a row deleted), delete subscriptions and rename contacts.
 */
import fc from "fast-check"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fromDayNumber, toDayNumber } from "../../engine/billing/index.ts"
import type { CalendarDate } from "../../engine/domain/index.ts"
import { writeJournal } from "../../engine/sql/index.ts"
import type { Sql } from "../../engine/sql/index.ts"
import { computeReports, monthIndex, monthName, openCopy, readMeta, rebuildCopy, refreshCopy } from "../../reports/index.ts"
import type { ReportOptions } from "../../reports/index.ts"

const base = toDayNumber("2025-11-01" as CalendarDate)
const day = (n: number) => fromDayNumber(base + n)

export type Op =
  | { readonly _tag: "Create"; readonly contact: number; readonly currency: "USD" | "EUR"; readonly freq: readonly ["week" | "month" | "year", number]; readonly day: number; readonly price: number }
  | { readonly _tag: "Status"; readonly sub: number; readonly status: string; readonly gap: number; readonly target?: number }
  | { readonly _tag: "Version"; readonly sub: number; readonly gap: number; readonly price: number; readonly replace: boolean; readonly target?: number }
  | { readonly _tag: "Delete"; readonly sub: number }
  | { readonly _tag: "Rename"; readonly contact: number }
  | { readonly _tag: "Refresh" }

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("Create" as const), contact: fc.integer({ min: 1, max: 4 }), currency: fc.constantFrom<"USD" | "EUR">("USD", "USD", "EUR"), freq: fc.constantFrom(["month", 1] as const, ["month", 3] as const, ["week", 2] as const, ["year", 1] as const), day: fc.integer({ min: 0, max: 200 }), price: fc.integer({ min: 0, max: 40_000 }) }) },
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("Status" as const), sub: fc.nat(), status: fc.constantFrom("active", "paused", "past_due", "unpaid", "canceled", "expired", "active"), gap: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Version" as const), sub: fc.nat(), gap: fc.integer({ min: 1, max: 60 }), price: fc.integer({ min: 0, max: 40_000 }), replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Delete" as const), sub: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Rename" as const), contact: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ _tag: "Refresh" as const }) }
)

interface SubState { id: number; status: string; lastDay: number; version: number; versionDay: number; deleted: boolean }

/** Applies one operation in its own transaction (the caller may give an open one), with its journal event(s), as the store's writers do. */
export class Writer {
  readonly subs: Array<SubState> = []
  readonly contacts = new Map<number, number>()
  private renames = 0
  private readonly sql: Sql
  constructor(sql: Sql) {
    this.sql = sql
  }

  pick(n: number, target?: number): SubState | undefined {
    if (target !== undefined) return this.subs.find((s) => s.id === target)
    const live = this.subs.filter((s) => !s.deleted)
    return live.length === 0 ? undefined : live[n % live.length]
  }

  async apply(tx: Sql, op: Op): Promise<void> {
    switch (op._tag) {
      case "Create": {
        let contactId = this.contacts.get(op.contact)
        if (contactId === undefined) {
          const [c] = await tx<Array<{ id: number }>>`insert into contacts (email, name, external_id) values (${`c${op.contact}@example.com`}, ${`C${op.contact}`}, ${`ext-${op.contact}`}) returning id`
          contactId = c!.id
          await writeJournal(tx as never, [{ type: "contact.created", subscriptionId: null, contactId, occurredOn: day(op.day), data: {} }], "cli")
        }
        const [s] = await tx<Array<{ id: number }>>`
          insert into subscriptions (contact_id, name, currency, frequency_unit, frequency_count, start_date, collection_method, status, created_on)
          values (${contactId}, 'plan', ${op.currency}, ${op.freq[0]}, ${op.freq[1]}, ${day(op.day)}, 'charge', 'active', ${day(op.day)}) returning id`
        await tx`insert into item_versions (subscription_id, version, effective_from) values (${s!.id}, 1, ${day(op.day)})`
        await tx`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity) values (${s!.id}, 1, 1, 'plan', ${op.price}, 1)`
        await writeJournal(tx as never, [{ type: "subscription.status_changed", subscriptionId: s!.id, contactId, occurredOn: day(op.day), data: { from: null, to: "active" } }], "cli")
        if (!this.contacts.has(op.contact)) this.contacts.set(op.contact, contactId)
        this.subs.push({ id: s!.id, status: "active", lastDay: op.day, version: 1, versionDay: op.day, deleted: false })
        return
      }
      case "Status": {
        const s = this.pick(op.sub, op.target)
        if (s === undefined || s.status === "canceled" || s.status === "expired") return
        const on = s.lastDay + op.gap
        await tx`update subscriptions set status = ${op.status} where id = ${s.id}`
        await writeJournal(tx as never, [{ type: "subscription.status_changed", subscriptionId: s.id, occurredOn: day(on), data: { from: s.status, to: op.status } }], "engine")
        s.status = op.status
        s.lastDay = on
        return
      }
      case "Version": {
        const s = this.pick(op.sub, op.target)
        if (s === undefined) return
        if (op.replace && s.version > 1) {
          // Two changes before the same date: the later replaces the earlier (subscriptionWrites' rule), a row deleted.
          await tx`delete from item_versions where subscription_id = ${s.id} and version = ${s.version}`
          s.version--
        }
        const on = s.versionDay + op.gap
        s.version++
        s.versionDay = on
        await tx`insert into item_versions (subscription_id, version, effective_from) values (${s.id}, ${s.version}, ${day(on)})`
        await tx`insert into line_items (subscription_id, version, line_no, name, unit_price, quantity) values (${s.id}, ${s.version}, 1, 'plan', ${op.price}, 2)`
        await writeJournal(tx as never, [{ type: "subscription.items_changed", subscriptionId: s.id, occurredOn: day(on), data: { version: s.version } }], "cli")
        return
      }
      case "Delete": {
        const s = this.pick(op.sub)
        if (s === undefined) return
        await tx`update subscriptions set deleted_on = ${day(s.lastDay)} where id = ${s.id}`
        await writeJournal(tx as never, [{ type: "subscription.deleted", subscriptionId: s.id, occurredOn: day(s.lastDay), data: {} }], "cli")
        s.deleted = true
        return
      }
      case "Rename": {
        const id = this.contacts.get(op.contact)
        if (id === undefined) return
        const ext = `renamed-${++this.renames}`
        await tx`update contacts set external_id = ${ext} where id = ${id}`
        await writeJournal(tx as never, [{ type: "contact.updated", subscriptionId: null, contactId: id, occurredOn: day(0), data: {} }], "cli")
        return
      }
      case "Refresh":
        return
    }
  }

  run(op: Op): Promise<void> {
    return this.sql.begin((tx) => this.apply(tx as unknown as Sql, op)) as Promise<void>
  }
}

const rates = () => {
  const out: Array<{ month: string; from: string; to: string; rate: number }> = []
  for (let k = monthIndex("2025-01"); k <= monthIndex("2026-12"); k++) out.push({ month: monthName(k), from: "EUR", to: "USD", rate: 1 + (k % 7) / 10 })
  return out
}
export const reportOptions: ReportOptions = { from: "2026-01", to: "2026-06", currency: "USD", details: true, fx: { file: "test rates", rates: rates() } }

/** The whole report set as text, timings left out. */
export const reportText = async (db: Parameters<typeof computeReports>[0]) => {
  const { timings: _t, ...set } = await computeReports(db, reportOptions)
  return JSON.stringify(set)
}

/** The reports from a copy rebuilt from scratch in a fresh file. */
export const rebuiltText = async (sql: Sql, dir: string, name: string) => {
  const copy = (await openCopy(join(dir, name)))!
  try {
    await rebuildCopy(sql, copy.db)
    return await reportText(copy.db)
  } finally {
    copy.db.closeSync()
    copy.instance.closeSync()
  }
}

