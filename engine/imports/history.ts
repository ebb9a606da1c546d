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
 *   version's `effective_from`; it is journaled on `requested_on`; a switch
 *   to a version never in force (a higher one is effective by its date) is
 *   refused;
 * - the version in force on a day is the billing's (`versionInForce`): the
 *   highest version effective on or before it, whatever the order of the
 *   effective dates; the journal's amounts are its lines';
 * - `cancel_at_period_end` is journaled as a request on `requested_on` and
 *   takes effect on `effective_on`, or when that is empty on the first billing
 *   date on or after `requested_on`; one still in the future is kept as a
 *   pending cancellation (`cancel_at`);
 * - a billing date is a payment made unless the subscription is paused, or
 *   canceled, that day (an unpaid one is counted: the engine bills it once
 *   recovered); fixed terms expire on the first billing date after their
 *   last payment, so a pause moves the expiry as it does in the engine;
 * - an event dated after the import's today is refused (a history holds what
 *   has happened), except the effect of a cancellation at period end asked for
 *   by today, kept as pending; the state as of today is what the engine
 *   continues from (its next billing date is the first anchor date after today).
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { BillingSchedule, parseCalendarDate, parsePercentPpm, recurringAmount, toDayNumber, versionInForce } from "../billing/index.ts"
import type { CalendarDate, Frequency, JournalLine, MinorUnits, SubscriptionStatus, UnitDiscount } from "../domain/index.ts"
import { lockContactEmails } from "../catalogue/index.ts"
import {
  autoRenew, canPause, canResume, emailAddressPattern, fixedPayments, isCurrencyCode, maxQuantity, isTerminal, notACurrency, itemsData, parseBillingTerms, parseFrequency, parseMajorAmount, subscriptionCreatedData
} from "../domain/index.ts"
import { cellProblems, csvRecords, CsvSyntaxError, csvText, parseCsv } from "./csv.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError } from "../sql/index.ts"
import { writeJournal } from "../sql/index.ts"

export interface HistoryImportSummary {
  readonly customers: number
  readonly subscriptions: number
  readonly lineItems: number
  readonly events: number
  /**
   * The live subscriptions that charge, whose customers came without a payment method (the history has none to
   * give): their next charge fails, and the buyer is emailed, unless one is set first (`contacts update`).
   */
  readonly withoutPaymentMethod: ReadonlyArray<{ readonly subscription: string; readonly email: string }>
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
  /** The row's type (none for the start date). */
  type?: string
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

/** The input's problems, each `FILE:ROW:COLUMN: message`, collected so that all of them are reported at once. */
class Problems {
  readonly list: Array<string> = []

  bad(file: string, line: number, column: string, message: string): void {
    this.list.push(`${file}.csv:${line}:${column}: ${message}`)
  }

  /** A date cell: null when empty (a problem when required) or not a calendar date. */
  date(file: string, r: Rec, column: string, required = true): CalendarDate | null {
    const v = r.get(column)
    if (v === "") {
      if (required) this.bad(file, r.line, column, "a date YYYY-MM-DD is required")
      return null
    }
    const d = parseCalendarDate(v)
    if (d === undefined) this.bad(file, r.line, column, `"${v}" is not a calendar date YYYY-MM-DD`)
    return d ?? null
  }

  throwIfAny(): void {
    const problems = this.list
    if (problems.length > 0) throw new InputError(problems.slice(0, 50).join("\n") + (problems.length > 50 ? `\n… and ${problems.length - 50} more` : ""))
  }
}

const readCsv = (dir: string, name: string, problems: Array<string>): Array<Rec> | undefined => {
  const path = join(dir, `${name}.csv`)
  if (!existsSync(path)) {
    problems.push(`${name}.csv: missing from ${dir}`)
    return undefined
  }
  try {
    const rows = parseCsv(csvText(readFileSync(path), `${name}.csv`))
    const cells = cellProblems(rows)
    if (cells.length > 0) {
      problems.push(...cells.slice(0, 50).map((c) => `${name}.csv:${c.line}:${c.column}: ${c.message}`))
      return undefined
    }
    const { header, records } = csvRecords(rows)
    const columns: ReadonlyArray<string> = files[name as keyof typeof files]
    const missing = columns.filter((c) => !header.includes(c))
    if (missing.length > 0) problems.push(`${name}.csv:1: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`)
    // A column we do not know would be dropped without a word (as `import FILE.csv` refuses it): refuse the file instead.
    const unknown = header.map((h, i) => ({ h, i })).filter(({ h }) => h !== "" && !columns.includes(h))
    problems.push(...unknown.map(({ h, i }) => `${name}.csv:1:${i + 1}: unknown column "${h}" (columns: ${columns.join(", ")})`))
    return missing.length > 0 || unknown.length > 0 ? undefined : records
  } catch (e) {
    if (e instanceof CsvSyntaxError) problems.push(`${name}.csv:${e.line}: ${e.message}`)
    else throw e
    return undefined
  }
}

interface HCustomer {
  id: string
  name: string
  email: string
  currency: string
  line: number
}

/** The four files read and every row checked: what the replay starts from. */
interface HistoryPlan {
  readonly customers: Map<string, HCustomer>
  readonly subs: Map<string, HSub>
  readonly lines: ReadonlyArray<HLine>
  /** Each version's effective_from, keyed `subscription/version`, in the order line_items.csv defines them. */
  readonly versionStart: Map<string, CalendarDate>
  readonly events: ReadonlyArray<HEvent>
}

/** A subscription as of the import's today, as the engine continues from it. */
interface FinalState {
  status: SubscriptionStatus
  cancelAt: CalendarDate | null
  canceledOn: CalendarDate | null
  pausedOn: CalendarDate | null
  endDate: CalendarDate | null
  nextBillingDate: CalendarDate | null
  paymentsMade: number
}

/** What the replay makes of a plan: the rows and the journal to write. */
interface Replayed {
  /** In journal order: by date, and within a day and subscription in the order the replay wrote them. */
  readonly entries: ReadonlyArray<JournalEntry>
  /** Every subscription of the plan, in its order. */
  readonly subscriptions: ReadonlyArray<{ readonly sub: HSub; readonly name: string; readonly state: FinalState }>
  /** Every item version, grouped by subscription. */
  readonly versions: ReadonlyArray<{ readonly sub: string; readonly version: number; readonly from: CalendarDate }>
}

export const importHistory = async (sql: Sql, dir: string, options: { readonly today?: string } = {}): Promise<HistoryImportSummary> => {
  const today = (options.today ?? new Date().toISOString().slice(0, 10)) as CalendarDate
  const plan = readAndValidate(dir)
  const replayed = replay(plan, today)
  await write(sql, plan, replayed)
  const withoutPaymentMethod = replayed.subscriptions
    .filter((s) => s.sub.collection === "charge" && !["canceled", "expired"].includes(s.state.status))
    .map((s) => ({ subscription: s.sub.id, email: plan.customers.get(s.sub.customer)!.email }))
  return { customers: plan.customers.size, subscriptions: plan.subs.size, lineItems: plan.lines.length, events: replayed.entries.length, withoutPaymentMethod }
}

/** Reads the four files and checks every row (the first layer of problems): all of them are reported, or none. */
const readAndValidate = (dir: string): HistoryPlan => {
  const problems = new Problems()
  const customersCsv = readCsv(dir, "customers", problems.list)
  const subscriptionsCsv = readCsv(dir, "subscriptions", problems.list)
  const linesCsv = readCsv(dir, "line_items", problems.list)
  const eventsCsv = readCsv(dir, "events", problems.list)
  if (customersCsv === undefined || subscriptionsCsv === undefined || linesCsv === undefined || eventsCsv === undefined) throw new InputError(problems.list.join("\n"))
  // The subscriptions.csv rows, valid or not: a reference to an invalid one is not a second problem.
  const listed = new Set(subscriptionsCsv.map((s) => s.get("subscription_id")))
  const customers = validateCustomers(customersCsv, problems)
  const subs = validateSubscriptions(subscriptionsCsv, customers, problems)
  const { lines, versionStart } = validateLineItems(linesCsv, subs, listed, problems)
  const events = validateEvents(eventsCsv, subs, listed, versionStart, problems)
  problems.throwIfAny()
  return { customers, subs, lines, versionStart, events }
}

/** The most an integer column (int4) of the store holds. */
const maxInt4 = 2_147_483_647

const validateCustomers = (customersCsv: ReadonlyArray<Rec>, problems: Problems): Map<string, HCustomer> => {
  const customers = new Map<string, HCustomer>()
  const emails = new Set<string>()
  for (const r of customersCsv) {
    const id = r.get("customer_id")
    const email = r.get("email")
    if (id === "") problems.bad("customers", r.line, "customer_id", "empty")
    else if (customers.has(id)) problems.bad("customers", r.line, "customer_id", `${id} appears again (first on row ${customers.get(id)!.line})`)
    if (!emailAddressPattern.test(email)) problems.bad("customers", r.line, "email", `"${email}" is not an email address`)
    else if (emails.has(email.toLowerCase())) problems.bad("customers", r.line, "email", `${email} appears again`)
    emails.add(email.toLowerCase())
    if (!isCurrencyCode(r.get("currency"))) problems.bad("customers", r.line, "currency", notACurrency(r.get("currency")))
    customers.set(id, { id, name: r.get("name"), email, currency: r.get("currency"), line: r.line })
  }
  return customers
}

const validateSubscriptions = (subscriptionsCsv: ReadonlyArray<Rec>, customers: Map<string, HCustomer>, problems: Problems): Map<string, HSub> => {
  const subs = new Map<string, HSub>()
  for (const r of subscriptionsCsv) {
    const id = r.get("subscription_id")
    if (id === "") problems.bad("subscriptions", r.line, "subscription_id", "empty")
    else if (subs.has(id)) problems.bad("subscriptions", r.line, "subscription_id", `${id} appears again (first on row ${subs.get(id)!.line})`)
    const customer = r.get("customer_id")
    if (!customers.has(customer)) problems.bad("subscriptions", r.line, "customer_id", `no customer ${customer} in customers.csv`)
    const currency = r.get("currency")
    if (!isCurrencyCode(currency)) problems.bad("subscriptions", r.line, "currency", notACurrency(currency))
    // customers.csv gives each customer a currency, and the store keeps none on a contact (`subscriptions create`
    // bills in its items' currency and has no contact's to compare): this file is the only place the two meet.
    const owner = customers.get(customer)
    if (owner !== undefined && isCurrencyCode(currency) && isCurrencyCode(owner.currency) && owner.currency !== currency) {
      problems.bad("subscriptions", r.line, "currency", `${id} bills in ${currency}, but its customer ${customer} is in ${owner.currency} (customers.csv row ${owner.line}): a subscription bills in its customer's currency`)
    }
    const frequency = parseFrequency(r.get("frequency"))
    if (frequency === undefined) problems.bad("subscriptions", r.line, "frequency", `unknown frequency "${r.get("frequency")}"`)
    const terms = parseBillingTerms(r.get("terms"))
    if (terms === undefined) problems.bad("subscriptions", r.line, "terms", `expected auto-renew or fixed:N, got "${r.get("terms")}"`)
    const cm = /^(charge|invoice)(?::net-(\d+))?$/.exec(r.get("collection"))
    if (cm === null) problems.bad("subscriptions", r.line, "collection", `expected charge or invoice:net-N, got "${r.get("collection")}"`)
    const createdOn = problems.date("subscriptions", r, "created_on")
    const startDate = problems.date("subscriptions", r, "start_date")
    if (createdOn !== null && startDate !== null && toDayNumber(startDate) < toDayNumber(createdOn)) problems.bad("subscriptions", r.line, "start_date", `${startDate} is before created_on ${createdOn}`)
    // A row with a bad cell is not kept: its lines and events are not checked against it (their amounts need its currency).
    if (!isCurrencyCode(currency) || frequency === undefined || terms === undefined || cm === null || createdOn === null || startDate === null) continue
    const netDays = cm[2] === undefined ? null : Number(cm[2])
    subs.set(id, {
      id, line: r.line, customer, currency, frequency, payments: terms._tag === "Fixed" ? terms.payments : null,
      collection: cm[1] as "charge" | "invoice",
      paymentTerms: cm[1] === "invoice" ? (netDays === null || netDays === 0 ? "due-on-receipt" : netDays <= 15 ? "net-15" : netDays <= 30 ? "net-30" : "net-60") : null,
      createdOn, startDate
    })
  }
  return subs
}

const validateLineItems = (
  linesCsv: ReadonlyArray<Rec>, subs: Map<string, HSub>, listed: ReadonlySet<string>, problems: Problems
): { lines: Array<HLine>; versionStart: Map<string, CalendarDate> } => {
  const lines: Array<HLine> = []
  const versionStart = new Map<string, CalendarDate>()
  const lineKeys = new Set<string>()
  // Versions with a row, good or bad: a version whose rows were all refused already has its problem named.
  const versionsListed = new Set<string>()
  // Each subscription's versions with their first row: one must be in force on its start date.
  const versionsOf = new Map<string, Array<{ version: number; effectiveFrom: CalendarDate; line: number }>>()
  for (const r of linesCsv) {
    const sub = subs.get(r.get("subscription_id"))
    if (sub === undefined) {
      if (!listed.has(r.get("subscription_id"))) problems.bad("line_items", r.line, "subscription_id", `no subscription ${r.get("subscription_id")} in subscriptions.csv`)
      continue
    }
    const version = Number(r.get("version"))
    // The store keeps versions and line numbers as integer (int4): past it, the database's "out of range" named no row.
    if (!Number.isInteger(version) || version < 1 || version > maxInt4) problems.bad("line_items", r.line, "version", `expected a whole number from 1 to ${maxInt4}, got "${r.get("version")}"`)
    const effectiveFrom = problems.date("line_items", r, "effective_from")
    const lineNo = Number(r.get("line_no"))
    if (!Number.isInteger(lineNo) || lineNo < 1 || lineNo > maxInt4) problems.bad("line_items", r.line, "line_no", `expected a whole number from 1 to ${maxInt4}, got "${r.get("line_no")}"`)
    versionsListed.add(`${sub.id}/${version}`)
    const key = `${sub.id}/${version}/${lineNo}`
    if (lineKeys.has(key)) problems.bad("line_items", r.line, "line_no", `line ${lineNo} of version ${version} appears again`)
    lineKeys.add(key)
    const price = parseMajorAmount(r.get("unit_price"), sub.currency)
    if (typeof price === "string") problems.bad("line_items", r.line, "unit_price", price)
    else if (price <= 0) problems.bad("line_items", r.line, "unit_price", "must be greater than 0")
    const quantity = Number(r.get("quantity"))
    if (!/^\d+$/.test(r.get("quantity")) || quantity <= 0) problems.bad("line_items", r.line, "quantity", `must be a whole number greater than 0, got "${r.get("quantity")}"`)
    else if (quantity > maxQuantity) problems.bad("line_items", r.line, "quantity", `quantity must be at most ${maxQuantity}, got ${r.get("quantity")}`)
    const { discountPpm, discountAmount } = lineDiscount(r, sub, price, problems)
    const taxText = r.get("tax_rate")
    const taxPpm = taxText === "" ? null : parsePercentPpm(taxText) ?? null
    if (taxText !== "" && taxPpm === null) problems.bad("line_items", r.line, "tax_rate", `expected a percent such as 25%, got "${taxText}"`)
    else if (taxPpm !== null && taxPpm > 1_000_000) problems.bad("line_items", r.line, "tax_rate", `a tax rate must be between 0% and 100%, got "${taxText}"`)
    const oneTimeText = r.get("one_time").toLowerCase()
    if (!["true", "false", ""].includes(oneTimeText)) problems.bad("line_items", r.line, "one_time", `expected true or false, got "${r.get("one_time")}"`)
    if (effectiveFrom === null || typeof price === "string") continue
    const known = versionStart.get(`${sub.id}/${version}`)
    if (known !== undefined && known !== effectiveFrom) problems.bad("line_items", r.line, "effective_from", `version ${version} starts ${known} on an earlier row`)
    else if (known === undefined && toDayNumber(effectiveFrom) < toDayNumber(sub.startDate)) problems.bad("line_items", r.line, "effective_from", `version ${version} starts ${effectiveFrom}, before the subscription's start_date ${sub.startDate}`)
    if (known === undefined) {
      const list = versionsOf.get(sub.id)
      if (list === undefined) versionsOf.set(sub.id, [{ version, effectiveFrom, line: r.line }])
      else list.push({ version, effectiveFrom, line: r.line })
    }
    versionStart.set(`${sub.id}/${version}`, effectiveFrom)
    lines.push({ sub: sub.id, version, effectiveFrom, lineNo, name: r.get("name") || `Line ${lineNo}`, unitPrice: price, quantity, discountPpm, discountAmount, taxPpm, oneTime: oneTimeText === "true" })
  }
  for (const sub of subs.values()) {
    if (!versionStart.has(`${sub.id}/1`) && !versionsListed.has(`${sub.id}/1`)) problems.bad("subscriptions", sub.line, "subscription_id", `subscription ${sub.id} has no line items of version 1 in line_items.csv`)
    // No version in force on the start date (the billing's rule, `versionInForce`): its first periods would have no
    // price. Not said again when version 1's rows were all refused (their problem is named).
    const versions = versionsOf.get(sub.id)
    if (versions === undefined || (versionsListed.has(`${sub.id}/1`) && !versionStart.has(`${sub.id}/1`)) || versionInForce(versions, sub.startDate) !== undefined) continue
    const first = versions.reduce((a, b) => (b.effectiveFrom < a.effectiveFrom || (b.effectiveFrom === a.effectiveFrom && b.version < a.version) ? b : a))
    problems.bad("line_items", first.line, "effective_from", `version ${first.version} starts ${first.effectiveFrom}, after the subscription's start_date ${sub.startDate}: ` +
      `no version prices its billing from ${sub.startDate} (a version is the set of lines billed from its effective_from; version 1 starts on start_date)`)
  }
  return { lines, versionStart }
}

/**
 * A line's discount cell: a percent (`10%`) or an amount in the subscription's currency, at most the unit price.
 * CLI.md spells the amount `N.NN per unit`; the suffix only says what the bare amount already means, so both read alike.
 */
const lineDiscount = (r: Rec, sub: HSub, price: number | string, problems: Problems): { discountPpm: number | null; discountAmount: number | null } => {
  const discountText = r.get("discount").replace(/(\S)\s+per\s+unit$/i, "$1")
  let discountPpm: number | null = null
  let discountAmount: number | null = null
  if (discountText.endsWith("%")) {
    const ppm = parsePercentPpm(discountText)
    if (ppm === undefined || ppm > 1_000_000) problems.bad("line_items", r.line, "discount", `a percent discount must be between 0% and 100%, got "${discountText}"`)
    else discountPpm = ppm
  } else if (discountText !== "") {
    const d = parseMajorAmount(discountText, sub.currency)
    if (typeof d === "string") problems.bad("line_items", r.line, "discount", d)
    else if (typeof price === "number" && d > price) problems.bad("line_items", r.line, "discount", "an amount discount cannot exceed the unit price")
    else discountAmount = d
  }
  return { discountPpm, discountAmount }
}

const validateEvents = (
  eventsCsv: ReadonlyArray<Rec>, subs: Map<string, HSub>, listed: ReadonlySet<string>, versionStart: Map<string, CalendarDate>, problems: Problems
): Array<HEvent> => {
  const events: Array<HEvent> = []
  const eventIds = new Set<string>()
  const switchRows = new Map<string, number>()
  const versionsOf = versionsBySub(versionStart)
  for (const r of eventsCsv) {
    const id = r.get("event_id")
    if (eventIds.has(id)) problems.bad("events", r.line, "event_id", `${id} appears again`)
    eventIds.add(id)
    const sub = subs.get(r.get("subscription_id"))
    if (sub === undefined && !listed.has(r.get("subscription_id"))) problems.bad("events", r.line, "subscription_id", `no subscription ${r.get("subscription_id")} in subscriptions.csv`)
    const type = r.get("type") as HistoryEventType
    if (!(eventTypes as ReadonlyArray<string>).includes(type)) problems.bad("events", r.line, "type", `unknown type "${r.get("type")}" (${eventTypes.join(", ")})`)
    const requestedOn = problems.date("events", r, "requested_on")
    const effectiveOn = problems.date("events", r, "effective_on", false)
    const versionText = r.get("version")
    const version = versionText === "" ? null : Number(versionText)
    if (type === "update_items") {
      if (version === null || !versionStart.has(`${r.get("subscription_id")}/${version}`)) problems.bad("events", r.line, "version", `update_items needs a version defined in line_items.csv, got "${versionText}"`)
    }
    if (sub === undefined || requestedOn === null) continue
    // The replay starts from the status the subscription was created in: nothing can happen to it before.
    if (toDayNumber(requestedOn) < toDayNumber(sub.createdOn)) problems.bad("events", r.line, "requested_on", `${requestedOn} is before ${sub.id} was created on ${sub.createdOn}`)
    if (effectiveOn !== null && toDayNumber(effectiveOn) < toDayNumber(sub.createdOn)) problems.bad("events", r.line, "effective_on", `${effectiveOn} is before ${sub.id} was created on ${sub.createdOn}`)
    if (type === "cancel_at_period_end" && effectiveOn !== null && toDayNumber(effectiveOn) < toDayNumber(requestedOn)) {
      problems.bad("events", r.line, "effective_on", `a cancellation at period end takes effect after it is asked for: ${effectiveOn} is before requested_on ${requestedOn}`)
    }
    if (type === "update_items" && version !== null) {
      // A version is the set of lines billed from its effective_from: the switch to it happens that day, once.
      const from = versionStart.get(`${sub.id}/${version}`)
      const on = effectiveOn ?? requestedOn
      if (from !== undefined && from !== on) problems.bad("events", r.line, effectiveOn === null ? "requested_on" : "effective_on", `update_items switches to version ${version} on ${on}, but version ${version} starts on ${from} (effective_from in line_items.csv)`)
      // By the billing's rule a higher version effective by that day is in force instead: this switch never happens.
      const inForce = from === undefined ? undefined : versionInForce(versionsOf.get(sub.id) ?? [], from)
      if (inForce !== undefined && inForce.version !== version) {
        problems.bad("events", r.line, "version", `update_items switches to version ${version} on ${from}, but version ${inForce.version} (effective_from ${inForce.effectiveFrom} in line_items.csv) is in force then: ` +
          `a higher version effective on or before a version's date replaces it, so version ${version} never bills`)
      }
      const first = switchRows.get(`${sub.id}/${version}`)
      if (first !== undefined) problems.bad("events", r.line, "version", `version ${version} is switched to again (first on row ${first})`)
      else switchRows.set(`${sub.id}/${version}`, r.line)
    }
    events.push({ id, line: r.line, sub: sub.id, type, requestedOn, effectiveOn, version, note: r.get("note") })
  }
  return events
}

/** Each subscription's versions from `versionStart` (keyed `subscription/version`), as `versionInForce` reads them. */
const versionsBySub = (versionStart: ReadonlyMap<string, CalendarDate>): Map<string, Array<{ version: number; effectiveFrom: CalendarDate }>> => {
  const out = new Map<string, Array<{ version: number; effectiveFrom: CalendarDate }>>()
  for (const [k, effectiveFrom] of versionStart) {
    // Keys are `subscription/version`; a subscription id may hold a slash, a version cannot.
    const sub = k.slice(0, k.lastIndexOf("/"))
    const version = Number(k.slice(k.lastIndexOf("/") + 1))
    const list = out.get(sub)
    if (list === undefined) out.set(sub, [{ version, effectiveFrom }])
    else list.push({ version, effectiveFrom })
  }
  return out
}

/** A plan's rows looked up by subscription: its events, the lines of each version, the version in force on a day. */
class HistoryIndex {
  private readonly eventsBySub = new Map<string, Array<HEvent>>()
  private readonly linesByVersion = new Map<string, Array<HLine>>()
  private readonly versionsOf: Map<string, Array<{ version: number; effectiveFrom: CalendarDate }>>

  constructor(plan: HistoryPlan) {
    for (const e of plan.events) {
      const list = this.eventsBySub.get(e.sub)
      if (list === undefined) this.eventsBySub.set(e.sub, [e])
      else list.push(e)
    }
    for (const l of [...plan.lines].sort((a, b) => a.lineNo - b.lineNo)) {
      const list = this.linesByVersion.get(`${l.sub}/${l.version}`)
      if (list === undefined) this.linesByVersion.set(`${l.sub}/${l.version}`, [l])
      else list.push(l)
    }
    this.versionsOf = versionsBySub(plan.versionStart)
  }

  eventsOf(sub: string): ReadonlyArray<HEvent> {
    return this.eventsBySub.get(sub) ?? []
  }

  linesOf(sub: string, version: number | null): ReadonlyArray<HLine> {
    return this.linesByVersion.get(`${sub}/${version}`) ?? []
  }

  /**
   * The version in force on a day: the billing's rule (`versionInForce`, which the reports' SQL twins), so the
   * journal's amounts are those the engine bills. Validation has one in force from the start date on.
   */
  versionOn(sub: string, on: CalendarDate): number | null {
    return versionInForce(this.versionsOf.get(sub) ?? [], on)?.version ?? null
  }

  nameOf(sub: string): string {
    return this.linesByVersion.get(`${sub}/1`)?.[0]?.name ?? "Subscription"
  }

  /** Every item version, grouped by subscription. */
  versions(): Array<{ sub: string; version: number; from: CalendarDate }> {
    return [...this.versionsOf].flatMap(([sub, list]) => list.map((v) => ({ sub, version: v.version, from: v.effectiveFrom })))
  }
}

/**
 * Replays each subscription's history into status changes and journal entries. Each event is checked against the
 * status it meets, by the rules of the store's own commands: a second layer of problems, still before any write.
 */
const replay = (plan: HistoryPlan, today: CalendarDate): Replayed => {
  const problems = new Problems()
  const index = new HistoryIndex(plan)
  const entries: Array<JournalEntry> = []
  const subscriptions: Array<{ sub: HSub; name: string; state: FinalState }> = []
  for (const sub of plan.subs.values()) {
    const state = replaySubscription(sub, index, today, entries, problems)
    if (state !== undefined) subscriptions.push({ sub, name: index.nameOf(sub.id), state })
  }
  problems.throwIfAny()
  // The journal's order is its ids: by date, and within a day and subscription in the order the replay wrote them.
  entries.sort((a, b) => toDayNumber(a.on) - toDayNumber(b.on))
  return { entries, subscriptions, versions: index.versions() }
}

/** One subscription's status through its replay, and the journal entries the replay writes for it. */
class SubscriptionReplay {
  status: SubscriptionStatus
  cancelAt: CalendarDate | null = null
  canceledOn: CalendarDate | null = null
  pausedOn: CalendarDate | null = null
  endedOn: CalendarDate | null = null
  paymentsMade = 0
  readonly sub: HSub
  readonly schedule: BillingSchedule
  private readonly out: Array<JournalEntry>
  /** The next billing date's index in the schedule. */
  private k = 0

  constructor(sub: HSub, schedule: BillingSchedule, out: Array<JournalEntry>) {
    this.sub = sub
    this.schedule = schedule
    this.out = out
    this.status = toDayNumber(sub.startDate) > toDayNumber(sub.createdOn) ? "scheduled" : "active"
  }

  journal(type: string, on: CalendarDate, data: Record<string, unknown>): void {
    this.out.push({ type, sub: this.sub.id, on, data })
  }

  change(to: SubscriptionStatus, on: CalendarDate, reason: string): void {
    if (to === this.status) return
    this.journal("subscription.status_changed", on, { from: this.status, to, reason })
    this.status = to
    if (isTerminal(to)) this.endedOn = on
  }

  cancel(on: CalendarDate, reason: string): void {
    this.change("canceled", on, reason)
    this.canceledOn = on
    this.cancelAt = null
  }

  /**
   * Billing dates passed while live and not paused are payments made (an unpaid one is owed and billed once
   * recovered, as the engine catches up). A date with a cancellation or pause effective that day is not billed;
   * fixed terms expire on the first billing date after their last payment, so a pause moves the expiry, as in
   * the engine (it expires on next_billing_date once payments_made reaches the terms).
   */
  billBefore(day: number): void {
    for (; !isTerminal(this.status) && this.schedule.dayAt(this.k) < day; this.k++) {
      if (this.status === "scheduled" || this.status === "paused") continue
      if (this.sub.payments !== null && this.paymentsMade === this.sub.payments) {
        const on = this.schedule.dateAt(this.k)
        this.journal("subscription.expired", on, { end_date: on })
        this.change("expired", on, "terms_completed")
        return
      }
      this.paymentsMade++
    }
  }
}

/** One subscription's replay: its state as of today, or undefined when an event was rejected (a problem reported). */
const replaySubscription = (
  sub: HSub, index: HistoryIndex, today: CalendarDate, out: Array<JournalEntry>, problems: Problems
): FinalState | undefined => {
  const schedule = new BillingSchedule(sub.startDate, sub.frequency)
  const plannedEnd = sub.payments === null ? null : schedule.endDate(sub.payments)
  const isPast = (d: CalendarDate) => toDayNumber(d) <= toDayNumber(today)
  const r = new SubscriptionReplay(sub, schedule, out)
  r.journal("subscription.created", sub.createdOn, subscriptionCreatedData({
    name: index.nameOf(sub.id), currency: sub.currency, frequency: sub.frequency, terms: sub.payments === null ? autoRenew : fixedPayments(sub.payments),
    startDate: sub.startDate, endDate: plannedEnd, collection: sub.collection, status: r.status,
    amount: amountOf(index.linesOf(sub.id, 1)), items: journalLines(index.linesOf(sub.id, 1))
  }))
  r.journal("subscription.status_changed", sub.createdOn, { from: null, to: r.status, reason: "created" })

  const steps = replaySteps(r, index)
  // Within a day: the start first, then the rows in file order; a request before its own effect.
  steps.sort((a, b) => toDayNumber(a.on) - toDayNumber(b.on) || a.line - b.line || a.phase - b.phase)
  const ended = (on: CalendarDate) => `${sub.id} ended on ${r.endedOn} (${r.status}): no event can follow, got one on ${on}`
  // One problem per subscription: after a rejected event, the statuses that follow would be guesses.
  for (const step of steps) {
    if (!isPast(step.on)) continue
    r.billBefore(toDayNumber(step.on))
    if (isTerminal(r.status)) {
      if (step.quiet === true) continue
      problems.bad("events", step.line, step.column, ended(step.on))
      return undefined
    }
    if (step.guard !== undefined && !step.guard.allowed(r.status)) {
      problems.bad("events", step.line, "type", `${step.guard.type} needs ${step.guard.needs} subscription, but ${sub.id} is ${r.status} on ${step.on}`)
      return undefined
    }
    step.apply()
  }
  r.billBefore(toDayNumber(today) + 1)
  // Rows dated after today are not replayed (the engine continues from today), but none may follow an end.
  const late = steps.find((s) => !isPast(s.on) && s.quiet !== true)
  if (late !== undefined && isTerminal(r.status)) problems.bad("events", late.line, late.column, ended(late.on))
  else if (late !== undefined) {
    // Skipped, a cancellation to come was lost without a word and its subscription billed on after it.
    problems.bad("events", late.line, late.column, `${late.type} of ${sub.id} on ${late.on} is after today (${today}): a history holds what has happened; ` +
      "a change to come is made after the import (subscriptions cancel, pause, update) or, for a cancellation at period end, kept as cancel_at_period_end")
    return undefined
  }
  const live = !isTerminal(r.status)
  return {
    status: r.status, cancelAt: live ? r.cancelAt : null, canceledOn: r.canceledOn, pausedOn: r.status === "paused" ? r.pausedOn : null,
    endDate: r.status === "expired" ? r.endedOn : plannedEnd, nextBillingDate: live ? schedule.nextAfter(today) : null, paymentsMade: r.paymentsMade
  }
}

/** The steps of one subscription's replay, unsorted: its start date, and each event row (a cancellation at period end in two halves). */
const replaySteps = (r: SubscriptionReplay, index: HistoryIndex): Array<ReplayStep> => {
  const { sub, schedule } = r
  const perPayment = (on: CalendarDate) => amountOf(index.linesOf(sub.id, index.versionOn(sub.id, on)))
  const steps: Array<ReplayStep> = []
  if (r.status === "scheduled") {
    steps.push({ on: sub.startDate, line: 0, phase: 0, column: "", quiet: true, apply: () => {
      if (r.status === "scheduled") r.change("active", sub.startDate, "start_date_reached")
    } })
  }
  for (const e of index.eventsOf(sub.id)) {
    const on = e.effectiveOn ?? (e.type === "cancel_at_period_end" ? schedule.nextOnOrAfter(e.requestedOn) : e.requestedOn)
    const column = e.effectiveOn === null ? "requested_on" : "effective_on"
    const note = e.note === "" ? {} : { note: e.note }
    switch (e.type) {
      case "update_items":
        // Journaled on the day it was asked for, as `subscriptions update` does; the lines take effect on effective_from.
        steps.push({ on: e.requestedOn, line: e.line, type: e.type, phase: 0, column: "requested_on", apply: () => {
          r.journal("subscription.items_changed", e.requestedOn, { version: e.version, effective_from: on, items: itemsData(journalLines(index.linesOf(sub.id, e.version))), ...note })
        } })
        break
      case "cancel_immediately":
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, apply: () => {
          r.journal("subscription.canceled", on, { at_period_end: false, effective_on: on, refund_unused: false, refund_amount: 0, ...note })
          r.cancel(on, "canceled")
        } })
        break
      case "cancel_at_period_end":
        steps.push({ on: e.requestedOn, line: e.line, type: e.type, phase: 0, column: "requested_on", apply: () => {
          r.journal("subscription.cancel_requested", e.requestedOn, { at_period_end: true, effective_on: on, ...note })
          r.journal("subscription.property_changed", e.requestedOn, { property: "cancel_at", from: r.cancelAt, to: on })
          r.cancelAt = on
        } })
        // As in the engine, a later request moves the date and an earlier end makes it moot.
        steps.push({ on, line: e.line, type: e.type, phase: 1, column, quiet: true, apply: () => {
          if (r.cancelAt !== on) return
          r.journal("subscription.canceled", on, { at_period_end: true, effective_on: on })
          r.cancel(on, "canceled_at_period_end")
        } })
        break
      case "pause":
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, guard: { type: e.type, allowed: canPause, needs: "an active, past-due or unpaid" }, apply: () => {
          r.journal("subscription.paused", on, { resume_on: null, ...note })
          r.change("paused", on, "paused")
          r.pausedOn = on
        } })
        break
      case "resume":
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, guard: { type: e.type, allowed: canResume, needs: "a paused" }, apply: () => {
          r.journal("subscription.resumed", on, { next_billing_date: schedule.nextOnOrAfter(on), ...note })
          r.change("active", on, "resumed")
          r.pausedOn = null
        } })
        break
      case "payment_failed":
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, guard: { type: e.type, allowed: (s) => s === "active" || s === "past_due", needs: "an active or past-due" }, apply: () => {
          r.journal("payment.failed", on, { invoice_id: null, number: null, attempt: null, reason: null, amount: perPayment(on), currency: sub.currency, next_retry_on: null, ...note })
          r.change("unpaid", on, "payment_failed")
        } })
        break
      case "invoice_overdue":
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, guard: { type: e.type, allowed: (s) => s === "active", needs: "an active" }, apply: () => {
          r.journal("invoice.overdue", on, { invoice_id: null, number: null, total: perPayment(on), currency: sub.currency, due_date: null, ...note })
          r.change("past_due", on, "invoice_overdue")
        } })
        break
      case "payment_recovered":
      case "invoice_paid":
        // A payment that settles the debt: the engine journals both the payment and the paid invoice.
        steps.push({ on, line: e.line, type: e.type, phase: 0, column, guard: { type: e.type, allowed: delinquent, needs: "an unpaid or past-due" }, apply: () => {
          r.journal("payment.succeeded", on, { invoice_id: null, number: null, amount: perPayment(on), currency: sub.currency, via: null, ...note })
          r.journal("invoice.paid", on, { invoice_id: null, number: null, total: perPayment(on), currency: sub.currency, ...note })
          r.change("active", on, "payment_recovered")
        } })
        break
    }
  }
  return steps
}

/** Writes the replayed history in one transaction of multi-row inserts: contacts, subscriptions, item versions, lines, journal. */
const write = async (sql: Sql, plan: HistoryPlan, replayed: Replayed): Promise<void> => {
  await sql.begin(async (tx) => {
    const contactOf = await insertContacts(tx, [...plan.customers.values()])
    const idOf = await insertSubscriptions(tx, replayed.subscriptions, contactOf)
    const versions = replayed.versions.map((v) => ({ sub: idOf.get(v.sub)!, version: v.version, from: v.from }))
    await tx`insert into item_versions (subscription_id, version, effective_from)
      select * from unnest(${versions.map((v) => v.sub)}::int8[], ${versions.map((v) => v.version)}::int[], ${versions.map((v) => v.from)}::date[])`
    const lines = plan.lines
    await tx`
      insert into line_items (subscription_id, version, line_no, name, unit_price, quantity, discount_ppm, discount_amount, tax_rate_ppm, one_time)
      select s, v, n, nm, up, q, dp, da, tr, ot::bool from unnest(
        ${lines.map((l) => idOf.get(l.sub)!)}::int8[], ${lines.map((l) => l.version)}::int[], ${lines.map((l) => l.lineNo)}::int[], ${lines.map((l) => l.name)}::text[],
        ${lines.map((l) => l.unitPrice)}::int8[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.discountPpm)}::int[], ${lines.map((l) => l.discountAmount)}::int8[],
        ${lines.map((l) => l.taxPpm)}::int[], ${lines.map((l) => (l.oneTime ? "t" : "f"))}::text[]) as u(s, v, n, nm, up, q, dp, da, tr, ot)`
    await writeJournal(tx, replayed.entries.map((o) => ({
      type: o.type, subscriptionId: idOf.get(o.sub)!, contactId: contactOf.get(plan.subs.get(o.sub)!.customer)!, occurredOn: o.on, data: o.data
    })), "history")
  })
}

/** The customers as contacts, refused when any exists already (history is imported once); their ids by customer_id. */
const insertContacts = async (tx: TransactionSql, custList: ReadonlyArray<HCustomer>): Promise<Map<string, number>> => {
  // A writer of one of these emails in any case that got here first (`contacts add`, a checkout's buyer) has committed its contact.
  await lockContactEmails(tx, custList.map((c) => c.email))
  const existing = await tx<Array<{ email: string; external_id: string | null }>>`
    select email, external_id from contacts where lower(email) = any(${custList.map((c) => c.email.toLowerCase())}) or external_id = any(${custList.map((c) => c.id)})`
  if (existing.length > 0) {
    // Said as it is: this history imported before (its customer ids are known), or a contact made otherwise (by
    // `import` or `contacts add`) with a customer's email, whose past this history cannot be joined to.
    const imported = new Set(custList.map((c) => c.id))
    const first = existing[0]!
    const customer = custList.find((c) => (first.external_id !== null && imported.has(first.external_id) ? c.id === first.external_id : c.email.toLowerCase() === first.email.toLowerCase()))!
    throw new InputError(first.external_id !== null && imported.has(first.external_id)
      ? `customers.csv:${customer.line}:customer_id: customer ${customer.id} was imported before (${existing.length} of this file's customers were): a history is imported once, into a store without it`
      : `customers.csv:${customer.line}:email: a contact with email ${first.email} exists already, made before this history (${existing.length} of this file's customers do): import the history first, into a store without them, then the contacts that are new`)
  }
  const contactIds = await tx<Array<{ id: number; external_id: string }>>`
    insert into contacts (email, name, external_id)
    select * from unnest(${custList.map((c) => c.email)}::text[], ${custList.map((c) => c.name || null)}::text[], ${custList.map((c) => c.id)}::text[])
    returning id, external_id`
  return new Map(contactIds.map((c) => [c.external_id, c.id]))
}

/** The subscriptions in their state as of today; their ids by subscription_id. */
const insertSubscriptions = async (
  tx: TransactionSql, subscriptions: Replayed["subscriptions"], contactOf: Map<string, number>
): Promise<Map<string, number>> => {
  const subList = subscriptions.map((s) => s.sub)
  const ids = (await tx<Array<{ id: number }>>`select nextval(pg_get_serial_sequence('subscriptions', 'id'))::int8 as id from generate_series(1, ${subList.length})`).map((r) => r.id)
  const st = subscriptions.map((s) => s.state)
  await tx`
    insert into subscriptions (id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, billing_anchor, end_date,
      next_billing_date, payments_made, periods_billed, collection_method, payment_terms, status, created_on, canceled_on, cancel_at, paused_on, external_id)
    overriding system value
    select id, c, n, cur, fu, fc, tp, sd, sd, ed, nbd, pm, pm, cm, pt, stt, co, cxo, cat, po, ext from unnest(
      ${ids}::int8[], ${subList.map((s) => contactOf.get(s.customer)!)}::int8[], ${subscriptions.map((s) => s.name)}::text[],
      ${subList.map((s) => s.currency)}::text[], ${subList.map((s) => s.frequency.unit)}::text[], ${subList.map((s) => s.frequency.count)}::int[],
      ${subList.map((s) => s.payments)}::int[], ${subList.map((s) => s.startDate)}::date[], ${st.map((x) => x.endDate)}::date[],
      ${st.map((x) => x.nextBillingDate)}::date[], ${st.map((x) => x.paymentsMade)}::int[], ${subList.map((s) => s.collection)}::text[],
      ${subList.map((s) => s.paymentTerms)}::text[], ${st.map((x) => x.status)}::text[], ${subList.map((s) => s.createdOn)}::date[],
      ${st.map((x) => x.canceledOn)}::date[], ${st.map((x) => x.cancelAt)}::date[], ${st.map((x) => x.pausedOn)}::date[], ${subList.map((s) => s.id)}::text[]
    ) as u(id, c, n, cur, fu, fc, tp, sd, ed, nbd, pm, cm, pt, stt, co, cxo, cat, po, ext)`
  return new Map(subList.map((s, i) => [s.id, ids[i]!]))
}
