/**
 * `import history DIR`: a past the engine did not live through, from a
 * previous billing system (CLI.md: customers.csv, subscriptions.csv,
 * line_items.csv, events.csv), replayed into the same tables and event
 * journal the engine writes, so that reports cannot tell the two apart.
 *
 * All or nothing: every file is validated first and every problem reported as
 * `FILE:ROW:COLUMN: message`; then each subscription's history is replayed and
 * every event checked against the status it meets (a second layer of
 * problems); only then is everything written in one transaction of multi-row
 * inserts.
 *
 * Replay rules, where the source is silent:
 * - a subscription is `scheduled` from `created_on` when `start_date` is
 *   later, and `active` from `start_date` unless canceled before;
 * - an event is accepted only in a status where the store's own command
 *   would accept it: `pause` from active, past due or unpaid
 *   (`subscriptions pause`), `resume` from paused, `payment_failed` from
 *   active or past due, `invoice_overdue` from active, `payment_recovered` /
 *   `invoice_paid` from unpaid or past due; nothing before `created_on`, and
 *   nothing after a cancellation or expiry (within a day, rows apply in file
 *   order and an expiry after them);
 * - `payment_failed` makes it `unpaid`, `invoice_overdue` `past_due`,
 *   `payment_recovered` / `invoice_paid` `active` again;
 * - `update_items` switches on its effective date, which must be the
 *   version's `effective_from`; it is journaled on `requested_on`;
 * - `cancel_at_period_end` is journaled as a request on `requested_on` and
 *   takes effect on `effective_on`, or when that is empty on the first billing
 *   date on or after `requested_on`; one still in the future is kept as a
 *   pending cancellation (`cancel_at`);
 * - a billing date is a payment made unless the subscription is paused, or
 *   canceled, that day (an unpaid one is counted: the engine bills it once
 *   recovered); fixed terms expire on the first billing date after their
 *   last payment, so a pause moves the expiry as it does in the engine;
 * - events dated after the import's today are not replayed, except pending
 *   cancellations; the state as of today is what the engine continues from
 *   (its next billing date is the first anchor date after today).
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { BillingSchedule, parseCalendarDate, parsePercentPpm, recurringAmount, toDayNumber } from "../billing/index.ts"
import type { CalendarDate, Frequency, JournalLine, MinorUnits, SubscriptionStatus, UnitDiscount } from "../domain/index.ts"
import {
  autoRenew, canPause, canResume, fixedPayments, isCurrencyCode, isTerminal, itemsData, parseBillingTerms, parseFrequency, parseMajorAmount, subscriptionCreatedData
} from "../domain/index.ts"
import { cellProblems, csvRecords, CsvSyntaxError, parseCsv } from "./csv.ts"
import type { Sql } from "../sql/index.ts"
import { InputError } from "../sql/index.ts"
import { writeJournal } from "../sql/index.ts"

export interface HistoryImportSummary {
  readonly customers: number
  readonly subscriptions: number
  readonly lineItems: number
  readonly events: number
}

const files = {
  customers: ["customer_id", "name", "email", "currency"],
  subscriptions: ["subscription_id", "customer_id", "currency", "frequency", "terms", "collection", "created_on", "start_date"],
  line_items: ["subscription_id", "version", "effective_from", "line_no", "name", "unit_price", "quantity", "discount", "tax_rate", "one_time"],
  events: ["event_id", "subscription_id", "type", "requested_on", "effective_on", "version", "note"]
} as const

const eventTypes = ["update_items", "cancel_immediately", "cancel_at_period_end", "pause", "resume", "payment_failed", "payment_recovered", "invoice_overdue", "invoice_paid"] as const
type HistoryEventType = (typeof eventTypes)[number]

type Rec = { line: number; get: (c: string) => string }

interface HSub {
  id: string
  line: number
  customer: string
  currency: string
  frequency: Frequency
  payments: number | null
  collection: "charge" | "invoice"
  paymentTerms: string | null
  createdOn: CalendarDate
  startDate: CalendarDate
}

interface HLine {
  sub: string
  version: number
  effectiveFrom: CalendarDate
  lineNo: number
  name: string
  unitPrice: number
  quantity: number
  discountPpm: number | null
  discountAmount: number | null
  taxPpm: number | null
  oneTime: boolean
}

interface HEvent {
  id: string
  line: number
  sub: string
  type: HistoryEventType
  requestedOn: CalendarDate
  effectiveOn: CalendarDate | null
  version: number | null
  note: string
}

/** A journal event to write: `data` in the shape EVENTS.md documents for its type. */
interface JournalEntry {
  type: string
  sub: string
  on: CalendarDate
  data: Record<string, unknown>
}

/** One step of a subscription's replay: an event row (or its request or effect half), or the start date. */
interface ReplayStep {
  on: CalendarDate
  /** The row in events.csv; 0 for the start date, which comes first on its day. */
  line: number
  /** 0 for a request, 1 for its effect on the same day. */
  phase: number
  column: string
  /** The statuses the event makes sense in, after the rule of the store command doing the same. */
  guard?: { type: string; allowed: (s: SubscriptionStatus) => boolean; needs: string }
  /** Moot once the subscription has ended (a start date, a cancellation at a period end): skipped, not bad input. */
  quiet?: boolean
  apply: () => void
}

const delinquent = (s: SubscriptionStatus) => s === "unpaid" || s === "past_due"

const discountOf = (l: HLine): UnitDiscount | undefined =>
  l.discountPpm !== null ? { _tag: "Percent", ppm: l.discountPpm } : l.discountAmount !== null ? { _tag: "Amount", amount: l.discountAmount as MinorUnits } : undefined

/** A version's lines as the journal records them (no SKU: the previous system's lines have none). */
const journalLines = (lines: ReadonlyArray<HLine>): Array<JournalLine> =>
  lines.map((l) => ({ name: l.name, unitPrice: l.unitPrice as MinorUnits, quantity: l.quantity, oneTime: l.oneTime, discount: discountOf(l), taxRate: l.taxPpm ?? undefined }))

/** What one payment of a version bills, as `subscriptions create` journals it (`amount`): recurring lines, tax included. */
const amountOf = (lines: ReadonlyArray<HLine>) => recurringAmount(journalLines(lines))

const throwIfProblems = (problems: ReadonlyArray<string>) => {
  if (problems.length > 0) throw new InputError(problems.slice(0, 50).join("\n") + (problems.length > 50 ? `\n… and ${problems.length - 50} more` : ""))
}

const readCsv = (dir: string, name: string, problems: Array<string>): Array<Rec> | undefined => {
  const path = join(dir, `${name}.csv`)
  if (!existsSync(path)) {
    problems.push(`${name}.csv: missing from ${dir}`)
    return undefined
  }
  try {
    const rows = parseCsv(readFileSync(path, "utf8"))
    const cells = cellProblems(rows)
    if (cells.length > 0) {
      problems.push(...cells.slice(0, 50).map((c) => `${name}.csv:${c.line}:${c.column}: ${c.message}`))
      return undefined
    }
    const { header, records } = csvRecords(rows)
    const missing = files[name as keyof typeof files].filter((c) => !header.includes(c))
    if (missing.length > 0) {
      problems.push(`${name}.csv:1: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`)
      return undefined
    }
    return records
  } catch (e) {
    if (e instanceof CsvSyntaxError) problems.push(`${name}.csv:${e.line}: ${e.message}`)
    else throw e
    return undefined
  }
}

export const importHistory = async (sql: Sql, dir: string, options: { readonly today?: string } = {}): Promise<HistoryImportSummary> => {
  const today = (options.today ?? new Date().toISOString().slice(0, 10)) as CalendarDate
  const problems: Array<string> = []
  const customersCsv = readCsv(dir, "customers", problems)
  const subscriptionsCsv = readCsv(dir, "subscriptions", problems)
  const linesCsv = readCsv(dir, "line_items", problems)
  const eventsCsv = readCsv(dir, "events", problems)
  if (customersCsv === undefined || subscriptionsCsv === undefined || linesCsv === undefined || eventsCsv === undefined) throw new InputError(problems.join("\n"))
  const bad = (file: string, line: number, column: string, message: string) => problems.push(`${file}.csv:${line}:${column}: ${message}`)
  const date = (file: string, r: Rec, column: string, required = true): CalendarDate | null => {
    const v = r.get(column)
    if (v === "") {
      if (required) bad(file, r.line, column, "a date YYYY-MM-DD is required")
      return null
    }
    const d = parseCalendarDate(v)
    if (d === undefined) bad(file, r.line, column, `"${v}" is not a calendar date YYYY-MM-DD`)
    return d ?? null
  }

  const customers = new Map<string, { id: string; name: string; email: string; currency: string; line: number }>()
  const emails = new Set<string>()
  for (const r of customersCsv) {
    const id = r.get("customer_id")
    const email = r.get("email")
    if (id === "") bad("customers", r.line, "customer_id", "empty")
    else if (customers.has(id)) bad("customers", r.line, "customer_id", `${id} appears again (first on row ${customers.get(id)!.line})`)
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) bad("customers", r.line, "email", `"${email}" is not an email address`)
    else if (emails.has(email.toLowerCase())) bad("customers", r.line, "email", `${email} appears again`)
    emails.add(email.toLowerCase())
    if (!isCurrencyCode(r.get("currency"))) bad("customers", r.line, "currency", `"${r.get("currency")}" is not an ISO 4217 code`)
    customers.set(id, { id, name: r.get("name"), email, currency: r.get("currency"), line: r.line })
  }

  const subs = new Map<string, HSub>()
  for (const r of subscriptionsCsv) {
    const id = r.get("subscription_id")
    if (id === "") bad("subscriptions", r.line, "subscription_id", "empty")
    else if (subs.has(id)) bad("subscriptions", r.line, "subscription_id", `${id} appears again (first on row ${subs.get(id)!.line})`)
    const customer = r.get("customer_id")
    if (!customers.has(customer)) bad("subscriptions", r.line, "customer_id", `no customer ${customer} in customers.csv`)
    const currency = r.get("currency")
    if (!isCurrencyCode(currency)) bad("subscriptions", r.line, "currency", `"${currency}" is not an ISO 4217 code`)
    const frequency = parseFrequency(r.get("frequency"))
    if (frequency === undefined) bad("subscriptions", r.line, "frequency", `unknown frequency "${r.get("frequency")}"`)
    const terms = parseBillingTerms(r.get("terms"))
    if (terms === undefined) bad("subscriptions", r.line, "terms", `expected auto-renew or fixed:N, got "${r.get("terms")}"`)
    const cm = /^(charge|invoice)(?::net-(\d+))?$/.exec(r.get("collection"))
    if (cm === null) bad("subscriptions", r.line, "collection", `expected charge or invoice:net-N, got "${r.get("collection")}"`)
    const createdOn = date("subscriptions", r, "created_on")
    const startDate = date("subscriptions", r, "start_date")
    if (createdOn !== null && startDate !== null && toDayNumber(startDate) < toDayNumber(createdOn)) bad("subscriptions", r.line, "start_date", `${startDate} is before created_on ${createdOn}`)
    if (frequency === undefined || terms === undefined || cm === null || createdOn === null || startDate === null) continue
    const netDays = cm[2] === undefined ? null : Number(cm[2])
    subs.set(id, {
      id, line: r.line, customer, currency, frequency, payments: terms._tag === "Fixed" ? terms.payments : null,
      collection: cm[1] as "charge" | "invoice",
      paymentTerms: cm[1] === "invoice" ? (netDays === null || netDays === 0 ? "due-on-receipt" : netDays <= 15 ? "net-15" : netDays <= 30 ? "net-30" : "net-60") : null,
      createdOn, startDate
    })
  }

  const lines: Array<HLine> = []
  const versionStart = new Map<string, CalendarDate>()
  const lineKeys = new Set<string>()
  for (const r of linesCsv) {
    const sub = subs.get(r.get("subscription_id"))
    if (sub === undefined) {
      if (!subscriptionsCsv.some((s) => s.get("subscription_id") === r.get("subscription_id"))) bad("line_items", r.line, "subscription_id", `no subscription ${r.get("subscription_id")} in subscriptions.csv`)
      continue
    }
    const version = Number(r.get("version"))
    if (!Number.isInteger(version) || version < 1) bad("line_items", r.line, "version", `expected a whole number from 1, got "${r.get("version")}"`)
    const effectiveFrom = date("line_items", r, "effective_from")
    const lineNo = Number(r.get("line_no"))
    if (!Number.isInteger(lineNo) || lineNo < 1) bad("line_items", r.line, "line_no", `expected a whole number from 1, got "${r.get("line_no")}"`)
    const key = `${sub.id}/${version}/${lineNo}`
    if (lineKeys.has(key)) bad("line_items", r.line, "line_no", `line ${lineNo} of version ${version} appears again`)
    lineKeys.add(key)
    const price = parseMajorAmount(r.get("unit_price"), sub.currency)
    if (typeof price === "string") bad("line_items", r.line, "unit_price", price)
    else if (price <= 0) bad("line_items", r.line, "unit_price", "must be greater than 0")
    const quantity = Number(r.get("quantity"))
    if (!/^\d+$/.test(r.get("quantity")) || quantity <= 0) bad("line_items", r.line, "quantity", `must be a whole number greater than 0, got "${r.get("quantity")}"`)
    const discountText = r.get("discount")
    let discountPpm: number | null = null
    let discountAmount: number | null = null
    if (discountText.endsWith("%")) {
      const ppm = parsePercentPpm(discountText)
      if (ppm === undefined || ppm > 1_000_000) bad("line_items", r.line, "discount", `a percent discount must be between 0% and 100%, got "${discountText}"`)
      else discountPpm = ppm
    } else if (discountText !== "") {
      const d = parseMajorAmount(discountText, sub.currency)
      if (typeof d === "string") bad("line_items", r.line, "discount", d)
      else if (typeof price === "number" && d > price) bad("line_items", r.line, "discount", "an amount discount cannot exceed the unit price")
      else discountAmount = d
    }
    const taxText = r.get("tax_rate")
    const taxPpm = taxText === "" ? null : parsePercentPpm(taxText) ?? null
    if (taxText !== "" && taxPpm === null) bad("line_items", r.line, "tax_rate", `expected a percent such as 25%, got "${taxText}"`)
    else if (taxPpm !== null && taxPpm > 1_000_000) bad("line_items", r.line, "tax_rate", `a tax rate must be between 0% and 100%, got "${taxText}"`)
    const oneTimeText = r.get("one_time").toLowerCase()
    if (!["true", "false", ""].includes(oneTimeText)) bad("line_items", r.line, "one_time", `expected true or false, got "${r.get("one_time")}"`)
    if (effectiveFrom === null || typeof price === "string") continue
    const known = versionStart.get(`${sub.id}/${version}`)
    if (known !== undefined && known !== effectiveFrom) bad("line_items", r.line, "effective_from", `version ${version} starts ${known} on an earlier row`)
    else if (known === undefined && toDayNumber(effectiveFrom) < toDayNumber(sub.startDate)) bad("line_items", r.line, "effective_from", `version ${version} starts ${effectiveFrom}, before the subscription's start_date ${sub.startDate}`)
    versionStart.set(`${sub.id}/${version}`, effectiveFrom)
    lines.push({ sub: sub.id, version, effectiveFrom, lineNo, name: r.get("name") || `Line ${lineNo}`, unitPrice: price, quantity, discountPpm, discountAmount, taxPpm, oneTime: oneTimeText === "true" })
  }
  for (const sub of subs.values()) {
    if (!versionStart.has(`${sub.id}/1`)) bad("subscriptions", sub.line, "subscription_id", `subscription ${sub.id} has no line items of version 1 in line_items.csv`)
  }

  const events: Array<HEvent> = []
  const eventIds = new Set<string>()
  const switchRows = new Map<string, number>()
  for (const r of eventsCsv) {
    const id = r.get("event_id")
    if (eventIds.has(id)) bad("events", r.line, "event_id", `${id} appears again`)
    eventIds.add(id)
    const sub = subs.get(r.get("subscription_id"))
    if (sub === undefined && !subscriptionsCsv.some((s) => s.get("subscription_id") === r.get("subscription_id"))) bad("events", r.line, "subscription_id", `no subscription ${r.get("subscription_id")} in subscriptions.csv`)
    const type = r.get("type") as HistoryEventType
    if (!(eventTypes as ReadonlyArray<string>).includes(type)) bad("events", r.line, "type", `unknown type "${r.get("type")}" (${eventTypes.join(", ")})`)
    const requestedOn = date("events", r, "requested_on")
    const effectiveOn = date("events", r, "effective_on", false)
    const versionText = r.get("version")
    const version = versionText === "" ? null : Number(versionText)
    if (type === "update_items") {
      if (version === null || !versionStart.has(`${r.get("subscription_id")}/${version}`)) bad("events", r.line, "version", `update_items needs a version defined in line_items.csv, got "${versionText}"`)
    }
    if (sub === undefined || requestedOn === null) continue
    // The replay starts from the status the subscription was created in: nothing can happen to it before.
    if (toDayNumber(requestedOn) < toDayNumber(sub.createdOn)) bad("events", r.line, "requested_on", `${requestedOn} is before ${sub.id} was created on ${sub.createdOn}`)
    if (effectiveOn !== null && toDayNumber(effectiveOn) < toDayNumber(sub.createdOn)) bad("events", r.line, "effective_on", `${effectiveOn} is before ${sub.id} was created on ${sub.createdOn}`)
    if (type === "cancel_at_period_end" && effectiveOn !== null && toDayNumber(effectiveOn) < toDayNumber(requestedOn)) {
      bad("events", r.line, "effective_on", `a cancellation at period end takes effect after it is asked for: ${effectiveOn} is before requested_on ${requestedOn}`)
    }
    if (type === "update_items" && version !== null) {
      // A version is the set of lines billed from its effective_from: the switch to it happens that day, once.
      const from = versionStart.get(`${sub.id}/${version}`)
      const on = effectiveOn ?? requestedOn
      if (from !== undefined && from !== on) bad("events", r.line, effectiveOn === null ? "requested_on" : "effective_on", `update_items switches to version ${version} on ${on}, but version ${version} starts on ${from} (effective_from in line_items.csv)`)
      const first = switchRows.get(`${sub.id}/${version}`)
      if (first !== undefined) bad("events", r.line, "version", `version ${version} is switched to again (first on row ${first})`)
      else switchRows.set(`${sub.id}/${version}`, r.line)
    }
    events.push({ id, line: r.line, sub: sub.id, type, requestedOn, effectiveOn, version, note: r.get("note") })
  }
  throwIfProblems(problems)

  // Replay each subscription's history into status changes and journal events. Each event is checked against the
  // status it meets, by the rules of the store's own commands: a second layer of problems, still before any write.
  const out: Array<JournalEntry> = []
  const finalState = new Map<string, { status: SubscriptionStatus; cancelAt: CalendarDate | null; canceledOn: CalendarDate | null; pausedOn: CalendarDate | null; endDate: CalendarDate | null; nextBillingDate: CalendarDate | null; paymentsMade: number }>()
  const eventsBySub = new Map<string, Array<HEvent>>()
  for (const e of events) {
    const list = eventsBySub.get(e.sub)
    if (list === undefined) eventsBySub.set(e.sub, [e])
    else list.push(e)
  }
  const linesOf = new Map<string, Array<HLine>>()
  for (const l of [...lines].sort((a, b) => a.lineNo - b.lineNo)) {
    const list = linesOf.get(`${l.sub}/${l.version}`)
    if (list === undefined) linesOf.set(`${l.sub}/${l.version}`, [l])
    else list.push(l)
  }
  const versionsOf = new Map<string, Array<{ version: number; from: CalendarDate }>>()
  for (const [k, from] of versionStart) {
    // Keys are `subscription/version`; a subscription id may hold a slash, a version cannot.
    const sub = k.slice(0, k.lastIndexOf("/"))
    const version = Number(k.slice(k.lastIndexOf("/") + 1))
    const list = versionsOf.get(sub)
    if (list === undefined) versionsOf.set(sub, [{ version, from }])
    else list.push({ version, from })
  }
  // The version in force on a day, as the reports read item_versions: the latest effective_from, then the highest version.
  const versionOn = (sub: string, on: CalendarDate) => {
    let best = { version: 1, from: "" }
    for (const v of versionsOf.get(sub) ?? []) {
      if (v.from <= on && (v.from > best.from || (v.from === best.from && v.version > best.version))) best = v
    }
    return best.version
  }
  const nameOf = (sub: string) => linesOf.get(`${sub}/1`)?.[0]?.name ?? "Subscription"
  const isPast = (d: CalendarDate) => toDayNumber(d) <= toDayNumber(today)
  for (const sub of subs.values()) {
    const schedule = new BillingSchedule(sub.startDate, sub.frequency)
    const plannedEnd = sub.payments === null ? null : schedule.endDate(sub.payments)
    const perPayment = (on: CalendarDate) => amountOf(linesOf.get(`${sub.id}/${versionOn(sub.id, on)}`) ?? [])
    // Typed wide on purpose: the steps below change it from closures, which narrowing does not see.
    let status = (toDayNumber(sub.startDate) > toDayNumber(sub.createdOn) ? "scheduled" : "active") as SubscriptionStatus
    let cancelAt: CalendarDate | null = null
    let canceledOn: CalendarDate | null = null
    let pausedOn: CalendarDate | null = null
    let endedOn = null as CalendarDate | null
    let failed = false
    const change = (to: SubscriptionStatus, on: CalendarDate, reason: string) => {
      if (to === status) return
      out.push({ type: "subscription.status_changed", sub: sub.id, on, data: { from: status, to, reason } })
      status = to
      if (isTerminal(to)) endedOn = on
    }
    const cancel = (on: CalendarDate, reason: string) => {
      change("canceled", on, reason)
      canceledOn = on
      cancelAt = null
    }
    out.push({
      type: "subscription.created", sub: sub.id, on: sub.createdOn,
      data: subscriptionCreatedData({
        name: nameOf(sub.id), currency: sub.currency, frequency: sub.frequency, terms: sub.payments === null ? autoRenew : fixedPayments(sub.payments),
        startDate: sub.startDate, endDate: plannedEnd, collection: sub.collection, status,
        amount: amountOf(linesOf.get(`${sub.id}/1`) ?? []), items: journalLines(linesOf.get(`${sub.id}/1`) ?? [])
      })
    })
    out.push({ type: "subscription.status_changed", sub: sub.id, on: sub.createdOn, data: { from: null, to: status, reason: "created" } })

    // Billing dates passed while live and not paused are payments made (an unpaid one is owed and billed once
    // recovered, as the engine catches up). A date with a cancellation or pause effective that day is not billed;
    // fixed terms expire on the first billing date after their last payment, so a pause moves the expiry, as in
    // the engine (it expires on next_billing_date once payments_made reaches the terms).
    let k = 0
    let paymentsMade = 0
    const billBefore = (day: number) => {
      for (; !isTerminal(status) && schedule.dayAt(k) < day; k++) {
        if (status === "scheduled" || status === "paused") continue
        if (sub.payments !== null && paymentsMade === sub.payments) {
          const on = schedule.dateAt(k)
          out.push({ type: "subscription.expired", sub: sub.id, on, data: { end_date: on } })
          change("expired", on, "terms_completed")
          return
        }
        paymentsMade++
      }
    }

    const steps: Array<ReplayStep> = []
    if (status === "scheduled") {
      steps.push({ on: sub.startDate, line: 0, phase: 0, column: "", quiet: true, apply: () => {
        if (status === "scheduled") change("active", sub.startDate, "start_date_reached")
      } })
    }
    for (const e of eventsBySub.get(sub.id) ?? []) {
      const on = e.effectiveOn ?? (e.type === "cancel_at_period_end" ? schedule.nextOnOrAfter(e.requestedOn) : e.requestedOn)
      const column = e.effectiveOn === null ? "requested_on" : "effective_on"
      const note = e.note === "" ? {} : { note: e.note }
      switch (e.type) {
        case "update_items":
          // Journaled on the day it was asked for, as `subscriptions update` does; the lines take effect on effective_from.
          steps.push({ on: e.requestedOn, line: e.line, phase: 0, column: "requested_on", apply: () => {
            out.push({ type: "subscription.items_changed", sub: sub.id, on: e.requestedOn, data: { version: e.version, effective_from: on, items: itemsData(journalLines(linesOf.get(`${sub.id}/${e.version}`) ?? [])), ...note } })
          } })
          break
        case "cancel_immediately":
          steps.push({ on, line: e.line, phase: 0, column, apply: () => {
            out.push({ type: "subscription.canceled", sub: sub.id, on, data: { at_period_end: false, effective_on: on, refund_unused: false, refund_amount: 0, ...note } })
            cancel(on, "canceled")
          } })
          break
        case "cancel_at_period_end":
          steps.push({ on: e.requestedOn, line: e.line, phase: 0, column: "requested_on", apply: () => {
            out.push({ type: "subscription.cancel_requested", sub: sub.id, on: e.requestedOn, data: { at_period_end: true, effective_on: on, ...note } })
            out.push({ type: "subscription.property_changed", sub: sub.id, on: e.requestedOn, data: { property: "cancel_at", from: cancelAt, to: on } })
            cancelAt = on
          } })
          // As in the engine, a later request moves the date and an earlier end makes it moot.
          steps.push({ on, line: e.line, phase: 1, column, quiet: true, apply: () => {
            if (cancelAt !== on) return
            out.push({ type: "subscription.canceled", sub: sub.id, on, data: { at_period_end: true, effective_on: on } })
            cancel(on, "canceled_at_period_end")
          } })
          break
        case "pause":
          steps.push({ on, line: e.line, phase: 0, column, guard: { type: e.type, allowed: canPause, needs: "an active, past-due or unpaid" }, apply: () => {
            out.push({ type: "subscription.paused", sub: sub.id, on, data: { resume_on: null, ...note } })
            change("paused", on, "paused")
            pausedOn = on
          } })
          break
        case "resume":
          steps.push({ on, line: e.line, phase: 0, column, guard: { type: e.type, allowed: canResume, needs: "a paused" }, apply: () => {
            out.push({ type: "subscription.resumed", sub: sub.id, on, data: { next_billing_date: schedule.nextOnOrAfter(on), ...note } })
            change("active", on, "resumed")
            pausedOn = null
          } })
          break
        case "payment_failed":
          steps.push({ on, line: e.line, phase: 0, column, guard: { type: e.type, allowed: (s) => s === "active" || s === "past_due", needs: "an active or past-due" }, apply: () => {
            out.push({ type: "payment.failed", sub: sub.id, on, data: { invoice_id: null, number: null, attempt: null, reason: null, amount: perPayment(on), currency: sub.currency, next_retry_on: null, ...note } })
            change("unpaid", on, "payment_failed")
          } })
          break
        case "invoice_overdue":
          steps.push({ on, line: e.line, phase: 0, column, guard: { type: e.type, allowed: (s) => s === "active", needs: "an active" }, apply: () => {
            out.push({ type: "invoice.overdue", sub: sub.id, on, data: { invoice_id: null, number: null, total: perPayment(on), currency: sub.currency, due_date: null, ...note } })
            change("past_due", on, "invoice_overdue")
          } })
          break
        case "payment_recovered":
        case "invoice_paid":
          // A payment that settles the debt: the engine journals both the payment and the paid invoice.
          steps.push({ on, line: e.line, phase: 0, column, guard: { type: e.type, allowed: delinquent, needs: "an unpaid or past-due" }, apply: () => {
            out.push({ type: "payment.succeeded", sub: sub.id, on, data: { invoice_id: null, number: null, amount: perPayment(on), currency: sub.currency, via: null, ...note } })
            out.push({ type: "invoice.paid", sub: sub.id, on, data: { invoice_id: null, number: null, total: perPayment(on), currency: sub.currency, ...note } })
            change("active", on, "payment_recovered")
          } })
          break
      }
    }
    // Within a day: the start first, then the rows in file order; a request before its own effect.
    steps.sort((a, b) => toDayNumber(a.on) - toDayNumber(b.on) || a.line - b.line || a.phase - b.phase)
    const reject = (step: ReplayStep, column: string, message: string) => {
      bad("events", step.line, column, message)
      failed = true
    }
    // One problem per subscription: after a rejected event, the statuses that follow would be guesses.
    for (const step of steps) {
      if (!isPast(step.on)) continue
      billBefore(toDayNumber(step.on))
      if (isTerminal(status)) {
        if (step.quiet === true) continue
        reject(step, step.column, `${sub.id} ended on ${endedOn} (${status}): no event can follow, got one on ${step.on}`)
        break
      }
      if (step.guard !== undefined && !step.guard.allowed(status)) {
        reject(step, "type", `${step.guard.type} needs ${step.guard.needs} subscription, but ${sub.id} is ${status} on ${step.on}`)
        break
      }
      step.apply()
    }
    if (failed) continue
    billBefore(toDayNumber(today) + 1)
    // Rows dated after today are not replayed (the engine continues from today), but none may follow an end.
    const late = isTerminal(status) ? steps.find((s) => !isPast(s.on) && s.quiet !== true) : undefined
    if (late !== undefined) reject(late, late.column, `${sub.id} ended on ${endedOn} (${status}): no event can follow, got one on ${late.on}`)
    const live = !isTerminal(status)
    finalState.set(sub.id, {
      status, cancelAt: live ? cancelAt : null, canceledOn, pausedOn: status === "paused" ? pausedOn : null,
      endDate: status === "expired" ? endedOn : plannedEnd, nextBillingDate: live ? schedule.nextAfter(today) : null, paymentsMade
    })
  }
  throwIfProblems(problems)
  // The journal's order is its ids: by date, and within a day and subscription in the order the replay wrote them.
  out.sort((a, b) => toDayNumber(a.on) - toDayNumber(b.on))

  await sql.begin(async (tx) => {
    const custList = [...customers.values()]
    const existing = await tx<Array<{ email: string }>>`select email from contacts where lower(email) = any(${custList.map((c) => c.email.toLowerCase())}) or external_id = any(${custList.map((c) => c.id)})`
    if (existing.length > 0) throw new InputError(`customers.csv: ${existing.length} customer(s) exist already, e.g. ${existing[0]!.email}; history can be imported once`)
    const contactIds = await tx<Array<{ id: number; external_id: string }>>`
      insert into contacts (email, name, external_id)
      select * from unnest(${custList.map((c) => c.email)}::text[], ${custList.map((c) => c.name || null)}::text[], ${custList.map((c) => c.id)}::text[])
      returning id, external_id`
    const contactOf = new Map(contactIds.map((c) => [c.external_id, c.id]))
    const subList = [...subs.values()]
    const ids = (await tx<Array<{ id: number }>>`select nextval(pg_get_serial_sequence('subscriptions', 'id'))::int8 as id from generate_series(1, ${subList.length})`).map((r) => r.id)
    const idOf = new Map(subList.map((s, i) => [s.id, ids[i]!]))
    const st = subList.map((s) => finalState.get(s.id)!)
    await tx`
      insert into subscriptions (id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, billing_anchor, end_date,
        next_billing_date, payments_made, periods_billed, collection_method, payment_terms, status, created_on, canceled_on, cancel_at, paused_on, external_id)
      overriding system value
      select id, c, n, cur, fu, fc, tp, sd, sd, ed, nbd, pm, pm, cm, pt, stt, co, cxo, cat, po, ext from unnest(
        ${ids}::int8[], ${subList.map((s) => contactOf.get(s.customer)!)}::int8[], ${subList.map((s) => nameOf(s.id))}::text[],
        ${subList.map((s) => s.currency)}::text[], ${subList.map((s) => s.frequency.unit)}::text[], ${subList.map((s) => s.frequency.count)}::int[],
        ${subList.map((s) => s.payments)}::int[], ${subList.map((s) => s.startDate)}::date[], ${st.map((x) => x.endDate)}::date[],
        ${st.map((x) => x.nextBillingDate)}::date[], ${st.map((x) => x.paymentsMade)}::int[], ${subList.map((s) => s.collection)}::text[],
        ${subList.map((s) => s.paymentTerms)}::text[], ${st.map((x) => x.status)}::text[], ${subList.map((s) => s.createdOn)}::date[],
        ${st.map((x) => x.canceledOn)}::date[], ${st.map((x) => x.cancelAt)}::date[], ${st.map((x) => x.pausedOn)}::date[], ${subList.map((s) => s.id)}::text[]
      ) as u(id, c, n, cur, fu, fc, tp, sd, ed, nbd, pm, cm, pt, stt, co, cxo, cat, po, ext)`
    const versions = [...versionsOf].flatMap(([sub, list]) => list.map((v) => ({ sub: idOf.get(sub)!, version: v.version, from: v.from })))
    await tx`insert into item_versions (subscription_id, version, effective_from)
      select * from unnest(${versions.map((v) => v.sub)}::int8[], ${versions.map((v) => v.version)}::int[], ${versions.map((v) => v.from)}::date[])`
    await tx`
      insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm, discount_amount, tax_rate_ppm, one_time)
      select s, v, n, nm, up, q, dp, da, tr, ot::bool from unnest(
        ${lines.map((l) => idOf.get(l.sub)!)}::int8[], ${lines.map((l) => l.version)}::int[], ${lines.map((l) => l.lineNo)}::int[], ${lines.map((l) => l.name)}::text[],
        ${lines.map((l) => l.unitPrice)}::int8[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.discountPpm)}::int[], ${lines.map((l) => l.discountAmount)}::int8[],
        ${lines.map((l) => l.taxPpm)}::int[], ${lines.map((l) => (l.oneTime ? "t" : "f"))}::text[]) as u(s, v, n, nm, up, q, dp, da, tr, ot)`
    await writeJournal(tx, out.map((o) => ({
      type: o.type, subscriptionId: idOf.get(o.sub)!, contactId: contactOf.get(subs.get(o.sub)!.customer)!, occurredOn: o.on, data: o.data
    })), "history")
  })
  return { customers: customers.size, subscriptions: subs.size, lineItems: lines.length, events: out.length }
}
