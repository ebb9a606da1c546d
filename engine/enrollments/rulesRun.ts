/**
 * The rules runtime's SQL. Events of the journal are read in order from a
 * stored offset; a match creates an enrollment (unique per rule, subject and
 * trigger) in the same transaction that moves the offset. Each step of an
 * enrollment commits with its effect and a step record keyed by
 * (enrollment, step), so a crash never repeats an email, a task or a change.
 *
 * A rule is judged on the subject as it was at the event: the current row
 * with the later changes of the journal undone (status changes, property
 * changes, item versions), newest first, in one pass per batch. Money comes
 * from the pricing code (line net, monthly normalisation), never a copy.
 */
import type { CompiledRule, CompiledRuleSet, EnrollmentRecord, EvalContext, ExplainInput, ResolvedAction, RuleNode } from "../../dsl/index.ts"
import { advance, compileRule, stateChangeEvents } from "../../dsl/index.ts"
import { lineNet, normalizedMonthlyAmount } from "../billing/index.ts"
import type { FrequencyUnit, MinorUnits } from "../domain/index.ts"
import { formatFrequency } from "../domain/index.ts"
import type { EngineContext } from "../account/index.ts"
import { languageOf, localeOf } from "../invoicing/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { enqueueMessages, writeJournal } from "../sql/index.ts"

export const maxRuleDepth = 5

const snapshotQuery = (tx: TransactionSql | Sql, ids: ReadonlyArray<number>) =>
  tx<Array<Record<string, any>>>`
    select s.id, s.name, s.status, s.currency, s.start_date, s.end_date, s.next_billing_date, s.created_on, s.canceled_on, s.payments_made,
           s.collection_method, s.owner, s.invoice_language, s.invoice_locale, s.reminders, coalesce(s.payment_method, c.payment_method) as payment_method,
           s.frequency_unit, s.frequency_count, s.terms_payments, s.properties,
           c.id as contact_id, c.email, c.name as contact_name, c.language as contact_language, c.locale as contact_locale, c.address ->> 'country' as contact_country,
           (select max(version) from item_versions v where v.subscription_id = s.id)::int as item_version
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = any(${ids as Array<number>}) and s.deleted_on is null`

/** Per subscription and item version, the recurring amount of one period: the sum of its lines' net (pricing.ts). */
const amountsByVersion = async (tx: TransactionSql | Sql, ids: ReadonlyArray<number>): Promise<Map<number, Map<number, number>>> => {
  const lines = ids.length === 0 ? [] : await tx<Array<{ subscription_id: number; version: number; unit_price: number; quantity: number; discount_ppm: number | null; discount_amount: number | null }>>`
    select subscription_id, version, unit_price, quantity, discount_ppm, discount_amount
    from line_items where subscription_id = any(${ids as Array<number>}) and not one_time`
  const out = new Map<number, Map<number, number>>()
  for (const l of lines) {
    const sub = Number(l.subscription_id)
    const byVersion = out.get(sub) ?? out.set(sub, new Map()).get(sub)!
    const net = lineNet({
      unitPrice: l.unit_price as MinorUnits, quantity: l.quantity,
      discount: l.discount_ppm !== null ? { _tag: "Percent", ppm: l.discount_ppm } : l.discount_amount !== null ? { _tag: "Amount", amount: l.discount_amount as MinorUnits } : undefined
    })
    byVersion.set(l.version, (byVersion.get(l.version) ?? 0) + net)
  }
  return out
}

/** A subscription as rules read it, with the item version its amounts come from. */
interface Subject {
  readonly row: Record<string, any>
  readonly subscription: Record<string, unknown>
  readonly contact: Record<string, unknown>
  readonly versions: ReadonlyMap<number, number>
  readonly version: number
}

const withVersion = (s: Subject, version: number): Subject => {
  const amount = s.versions.get(version) ?? 0
  const frequency = { unit: s.row["frequency_unit"] as FrequencyUnit, count: Number(s.row["frequency_count"]) }
  return { ...s, version, subscription: { ...s.subscription, amount, mrr: Math.round(normalizedMonthlyAmount(amount, frequency)) } }
}

const subjectOf = (row: Record<string, any>, versions: ReadonlyMap<number, number>): Subject => {
  const frequency = { unit: row["frequency_unit"] as FrequencyUnit, count: Number(row["frequency_count"]) }
  return withVersion({
    row,
    versions,
    version: 0,
    subscription: {
      id: Number(row["id"]), name: row["name"], status: row["status"], currency: row["currency"], start_date: row["start_date"], end_date: row["end_date"],
      next_billing_date: row["next_billing_date"], created_on: row["created_on"], canceled_on: row["canceled_on"], payments_made: row["payments_made"],
      collection_method: row["collection_method"], owner: row["owner"], language: row["invoice_language"], locale: row["invoice_locale"],
      reminders: row["reminders"], payment_method: row["payment_method"], frequency: formatFrequency(frequency),
      terms: row["terms_payments"] === null ? "auto-renew" : `fixed:${row["terms_payments"]}`, ...(row["properties"] ?? {})
    },
    contact: { id: Number(row["contact_id"]), email: row["email"], name: row["contact_name"], language: row["contact_language"], locale: row["contact_locale"], country: row["contact_country"] ?? null }
  }, Number(row["item_version"] ?? 1))
}

/** The subjects' current values, with every documented property filled (two queries for the whole batch). */
const loadSubjects = async (tx: TransactionSql | Sql, ids: ReadonlyArray<number>): Promise<Map<number, Subject>> => {
  if (ids.length === 0) return new Map()
  const [rows, amounts] = [await snapshotQuery(tx, ids), await amountsByVersion(tx, ids)]
  return new Map(rows.map((r) => [Number(r["id"]), subjectOf(r, amounts.get(Number(r["id"])) ?? new Map())]))
}

const contextOfSubject = (s: Subject): EvalContext => ({ subscription: s.subscription, contact: s.contact })

interface JournalRow { readonly id: number; readonly type: string; readonly subscription_id: number; readonly data: Record<string, any> }

/**
 * The subject before an event: the event's change undone. A status change
 * from nothing (creation) keeps the status when walking back to the
 * creation event itself, which records the status it was created in. Before
 * the change to canceled, `canceled_on` was not known: the cancellation is
 * journaled as that status change (no property change of its own), so
 * `canceled_on becomes known` fires on it.
 */
const undo = (s: Subject, e: JournalRow, forPrevious: boolean, renewed: ReadonlySet<unknown>): Subject => {
  switch (e.type) {
    case "subscription.status_changed":
      if (e.data["from"] === null && !forPrevious) return s
      return { ...s, subscription: { ...s.subscription, status: e.data["from"], ...(e.data["to"] === "canceled" ? { canceled_on: null } : {}) } }
    case "subscription.property_changed":
      return { ...s, subscription: { ...s.subscription, [e.data["property"]]: e.data["from"] ?? null } }
    case "subscription.renewed":
      // A renewal is a payment made: before it, one fewer (the first payment journals no renewal).
      return typeof e.data["payments_made"] === "number" ? { ...s, subscription: { ...s.subscription, payments_made: e.data["payments_made"] - 1 } } : s
    case "invoice.created":
      // Billing a period moves next_billing_date from the period's start to its end (billingRun persistPeriods), in the
      // transaction that journals the invoice: before it, the date was the start. A checkout's one-time invoice
      // (start = end = the day, before billing starts) moved nothing.
      return typeof e.data["period_start"] === "string" && e.data["period_end"] !== e.data["period_start"] && s.subscription["next_billing_date"] === e.data["period_end"]
        ? { ...s, subscription: { ...s.subscription, next_billing_date: e.data["period_start"] } } : s
    case "payment.succeeded":
      // The payment says what it counted (markInvoicesPaid): the subscription's count with it, or null for none (a
      // checkout's one-time invoice, whose bank debit may settle after the first recurring payment).
      if ("payments_made" in e.data) {
        return typeof e.data["payments_made"] === "number" ? { ...s, subscription: { ...s.subscription, payments_made: e.data["payments_made"] - 1 } } : s
      }
      // Journaled before payments said so: the first payment (markInvoicesPaid journals a renewal from the second
      // on): before it, none. A payment whose invoice has a renewal is counted by that renewal; one made while none
      // was counted (the one-time lines a checkout charged before billing starts) counted nothing.
      return typeof e.data["invoice_id"] === "number" && !renewed.has(e.data["invoice_id"]) && s.subscription["payments_made"] === 1
        ? { ...s, subscription: { ...s.subscription, payments_made: 0 } } : s
    case "subscription.items_changed": {
      const older = [...s.versions.keys()].filter((v) => v < Number(e.data["version"]))
      return withVersion(s, older.length === 0 ? s.version : Math.max(...older))
    }
    default:
      return s
  }
}

const noValues = (o: Record<string, unknown>) => Object.fromEntries(Object.keys(o).map((k) => [k, undefined]))

/** The invoice and the payment an invoice or payment event is about, as rules read them (`invoice.`, `payment.`). */
interface Documents {
  readonly invoices: ReadonlyMap<number, Record<string, unknown>>
  readonly attempts: ReadonlyMap<string, number>
}

const noDocuments: Documents = { invoices: new Map(), attempts: new Map() }

/**
 * The invoices the events name (`invoice_id` in their data: every invoice and payment event has it, an imported
 * one may not) and the ids of the payment attempts the `payment.failed` events count (`attempt`), in two statements.
 */
const documentsOf = async (tx: TransactionSql | Sql, events: ReadonlyArray<JournalRow>): Promise<Documents> => {
  const invoiceIds = [...new Set(events.flatMap((e) => (typeof e.data["invoice_id"] === "number" ? [e.data["invoice_id"]] : [])))]
  if (invoiceIds.length === 0) return noDocuments
  const invoices = await tx<Array<{ id: number; number: string; total: number; due_date: string; issue_date: string; status: string }>>`
    select id, number, total, due_date::text as due_date, issue_date::text as issue_date, status from invoices where id = any(${invoiceIds})`
  const failed = events.filter((e) => e.type === "payment.failed" && typeof e.data["invoice_id"] === "number" && typeof e.data["attempt"] === "number")
  const attempts = failed.length === 0 ? [] : await tx<Array<{ id: number; invoice_id: number; attempt_number: number }>>`
    select a.id, a.invoice_id, a.attempt_number from payment_attempts a
    join unnest(${failed.map((e) => e.data["invoice_id"] as number)}::int8[], ${failed.map((e) => e.data["attempt"] as number)}::int[]) as u(i, n)
      on a.invoice_id = u.i and a.attempt_number = u.n and a.kind = 'charge'`
  return {
    invoices: new Map(invoices.map((i) => [Number(i.id), { id: Number(i.id), number: i.number, total: Number(i.total), due_date: i.due_date, issue_date: i.issue_date, status: i.status }])),
    attempts: new Map(attempts.map((a) => [`${a.invoice_id}/${a.attempt_number}`, Number(a.id)]))
  }
}

/**
 * What an invoice or payment event adds to its context: the invoice it names, and for a payment event the payment
 * (its amount, outcome, attempt and reason, from the event; a failed one's attempt id). Other events have neither.
 */
const documentsAt = (e: JournalRow, docs: Documents): Pick<EvalContext, "invoice" | "payment"> => {
  const invoiceId = e.data["invoice_id"]
  const invoice = typeof invoiceId === "number" ? docs.invoices.get(invoiceId) : undefined
  if (!e.type.startsWith("payment.")) return invoice === undefined ? {} : { invoice }
  const failed = e.type === "payment.failed"
  const payment = {
    id: failed ? docs.attempts.get(`${String(invoiceId)}/${String(e.data["attempt"])}`) ?? null : null,
    amount: e.data["amount"] ?? null, status: failed ? "failed" : "succeeded", attempt: e.data["attempt"] ?? null,
    failure_reason: failed ? e.data["reason"] ?? null : null
  }
  return { ...(invoice === undefined ? {} : { invoice }), payment }
}

/** The context of one event: the subject as the event left it, the subject before it, the event's fields, its invoice and payment. */
const contextAt = (s: Subject, e: JournalRow, docs: Documents, renewed: ReadonlySet<unknown>): EvalContext => {
  const before = e.type === "subscription.created" ? noValues(s.subscription) : undo(s, e, true, renewed).subscription
  return { subscription: s.subscription, contact: s.contact, event: { type: e.type, ...e.data }, previous: { subscription: before, contact: s.contact }, ...documentsAt(e, docs) }
}

/** The event a change was journaled after, in the same transaction (`primary`), and those that may come between. */
interface Cause { readonly primary: string; readonly also: ReadonlyArray<string>; readonly invoice?: unknown }

const statusCauses: Record<string, Cause> = {
  payment_failed: { primary: "payment.failed", also: ["subscription.canceled", "subscription.paused"] },
  invoice_overdue: { primary: "invoice.overdue", also: [] },
  payment_recovered: { primary: "payment.succeeded", also: ["invoice.paid", "subscription.renewed"] },
  canceled: { primary: "subscription.canceled", also: [] },
  canceled_at_period_end: { primary: "subscription.canceled", also: [] },
  paused: { primary: "subscription.paused", also: [] },
  resumed: { primary: "subscription.resumed", also: [] },
  resume_date_reached: { primary: "subscription.resumed", also: [] },
  terms_completed: { primary: "subscription.expired", also: [] },
  one_time_order: { primary: "subscription.expired", also: [] }
}

const causeOf = (e: JournalRow): Cause | undefined =>
  e.type === "subscription.renewed" ? { primary: "payment.succeeded", also: ["invoice.paid"], invoice: e.data["invoice_id"] }
  : e.type === "subscription.status_changed" ? statusCauses[String(e.data["reason"])]
  : undefined

/** The events a change may be journaled after (`Cause`): read with the state changes, so the wait ends at them. */
const causeEvents = ["payment.failed", "payment.succeeded", "invoice.paid", "invoice.overdue", "subscription.canceled", "subscription.paused", "subscription.resumed", "subscription.expired"]

/**
 * The context of each wanted event, as it was: per subscription, walk its
 * state changes from the newest back to the oldest wanted event, undoing
 * each, and take the context when a wanted event is reached.
 */
const contextsAtEvents = async (tx: TransactionSql | Sql, wanted: ReadonlyArray<JournalRow>): Promise<Map<number, EvalContext>> => {
  const out = new Map<number, EvalContext>()
  if (wanted.length === 0) return out
  const ids = [...new Set(wanted.map((e) => e.subscription_id))]
  const from = Math.min(...wanted.map((e) => e.id))
  const [subjects, later, docs] = [await loadSubjects(tx, ids), await tx<Array<JournalRow>>`
    select id, type, subscription_id, data from events
    where subscription_id = any(${ids}) and id >= ${from} and type = any(${[...stateChangeEvents, ...causeEvents]})`, await documentsOf(tx, wanted)]
  const bySub = new Map<number, Array<JournalRow>>()
  const add = (e: JournalRow) => (bySub.get(Number(e.subscription_id)) ?? bySub.set(Number(e.subscription_id), []).get(Number(e.subscription_id))!).push(e)
  for (const e of later) add({ ...e, id: Number(e.id) })
  const wantedIds = new Set(wanted.map((e) => e.id))
  for (const e of wanted) if (!stateChangeEvents.includes(e.type) && !causeEvents.includes(e.type)) add(e)
  for (const [sub, events] of bySub) {
    let s = subjects.get(sub)
    if (s === undefined) continue
    events.sort((a, b) => b.id - a.id)
    // The invoices whose payment a renewal counted (it is journaled after the payment, so it is among the events read).
    const renewed = new Set(events.filter((e) => e.type === "subscription.renewed").map((e) => e.data["invoice_id"]))
    // A change journaled after the event that caused it, in its transaction (a renewal after its payment, a status
    // change after the failed payment, the overdue invoice, the cancellation…) is seen at that event too: its undoing
    // waits until the cause is passed. Any other event between them ends the wait: it is not of that transaction.
    let pending: Array<{ readonly e: JournalRow; readonly cause: Cause }> = []
    const partOf = (c: Cause, e: JournalRow) =>
      (e.type === c.primary || c.also.includes(e.type)) && (c.invoice === undefined || e.data["invoice_id"] === c.invoice)
    for (const e of events) {
      for (const p of pending.filter((p) => !partOf(p.cause, e))) s = undo(s, p.e, false, renewed)
      pending = pending.filter((p) => partOf(p.cause, e))
      if (wantedIds.has(e.id)) out.set(e.id, contextAt(s, e, docs, renewed))
      for (const p of pending.filter((p) => p.cause.primary === e.type)) s = undo(s, p.e, false, renewed)
      pending = pending.filter((p) => p.cause.primary !== e.type)
      const cause = causeOf(e)
      if (cause !== undefined) pending.push({ e, cause })
      else s = undo(s, e, false, renewed)
    }
    for (const p of pending) s = undo(s, p.e, false, renewed)
  }
  return out
}

/**
 * What an enrollment's steps read of the event that enrolled it: its fields (`{{event.reason}}`), and the invoice and
 * payment it is about. A date trigger has none. (The steps read the subscription and contact as they are now.)
 */
const triggerContext = async (tx: TransactionSql | Sql, eventId: number | null): Promise<Pick<EvalContext, "event" | "invoice" | "payment">> => {
  if (eventId === null) return {}
  const [row] = await tx<Array<JournalRow>>`select id, type, subscription_id, data from events where id = ${eventId}`
  if (row === undefined) return {}
  return { event: { type: row.type, ...row.data }, ...documentsAt(row, await documentsOf(tx, [row])) }
}

/** A subscription's current values as an evaluation context (steps of a running enrollment read these). */
export const currentContexts = async (sql: Sql | TransactionSql, ids: ReadonlyArray<number>): Promise<Map<number, EvalContext>> =>
  new Map([...(await loadSubjects(sql, ids))].map(([id, s]) => [id, contextOfSubject(s)]))

/**
 * Rules newly loaded start after the journal's end: HubSpot asks before
 * enrolling existing records, and so do we (`--enroll-existing`). With it, a
 * new rule reads the journal from its start: the shared offset goes back to
 * 0 and the rules already in force skip what they have read.
 */
export const activateRules = (sql: Sql, ruleIds: ReadonlyArray<string>, enrollExisting: boolean): Promise<{ activated: Array<string>; skippedThrough: number }> =>
  sql.begin(async (tx) => {
    await tx`insert into journal_offsets (consumer, last_event_id) values ('rules', 0) on conflict do nothing`
    const [offset] = await tx<Array<{ last_event_id: number }>>`select last_event_id from journal_offsets where consumer = 'rules' for update`
    const [end] = await tx<Array<{ id: number }>>`select coalesce(max(id), 0)::int8 as id from events`
    const fresh = await tx<Array<{ rule_id: string }>>`
      insert into rule_activations (rule_id, enroll_after)
      select r, ${enrollExisting ? 0 : Number(end!.id)} from unnest(${ruleIds as Array<string>}::text[]) as u(r)
      on conflict (rule_id) do nothing returning rule_id`
    const read = Number(offset!.last_event_id)
    if (enrollExisting && fresh.length > 0 && read > 0) {
      await tx`update rule_activations set enroll_after = greatest(enroll_after, ${read}) where not (rule_id = any(${fresh.map((f) => f.rule_id)}))`
      await tx`update journal_offsets set last_event_id = 0 where consumer = 'rules'`
    }
    return { activated: fresh.map((f) => f.rule_id), skippedThrough: enrollExisting ? 0 : Number(end!.id) }
  }) as Promise<{ activated: Array<string>; skippedThrough: number }>

/** Reads events after the stored offset and enrolls what matches, with the offset, in one transaction. */
export const enrollFromJournal = (sql: Sql, ctx: EngineContext, rules: CompiledRuleSet, batch: number): Promise<{ events: number; enrolled: number; cascadesStopped: number }> =>
  sql.begin(async (tx) => {
    await tx`insert into journal_offsets (consumer, last_event_id) values ('rules', 0) on conflict do nothing`
    const [offset] = await tx<Array<{ last_event_id: number }>>`select last_event_id from journal_offsets where consumer = 'rules' for update`
    const events = await tx<Array<{ id: number; type: string; subscription_id: number | null; source: string; data: Record<string, any> }>>`
      select id, type, subscription_id, source, data from events where id > ${offset!.last_event_id} order by id limit ${batch}`
    if (events.length === 0) return { events: 0, enrolled: 0, cascadesStopped: 0 }
    // Only events some rule listens to are looked at. Replayed history (import history) happened in another
    // system: it starts no workflow, and its subscriptions' snapshots are not loaded.
    const candidates = events.filter((e): e is typeof e & { subscription_id: number } =>
      e.subscription_id !== null && e.source !== "history" && rules.rulesFor(e.type).length > 0).map((e) => ({ ...e, id: Number(e.id), subscription_id: Number(e.subscription_id) }))
    const ids = [...new Set(candidates.map((e) => e.subscription_id))]
    const contexts = await contextsAtEvents(tx, candidates)
    // A rule loaded after an event does not enroll on it (activateRules); a rule never activated reads everything.
    const activations = new Map((await tx<Array<{ rule_id: string; enroll_after: number }>>`
      select rule_id, enroll_after from rule_activations where rule_id = any(${rules.rules.map((r) => r.id)})`).map((a) => [a.rule_id, Number(a.enroll_after)]))
    const existing = ids.length === 0 ? [] : await tx<Array<{ rule_id: string; subscription_id: number; running: boolean }>>`
      select rule_id, subscription_id, bool_or(status in ('active', 'waiting')) as running from enrollments where subscription_id = any(${ids}) group by 1, 2`
    const seen = new Map(existing.map((e) => [`${e.rule_id}|${e.subscription_id}`, e.running]))
    const rows: Array<{ rule: CompiledRule; sub: number; event: number; depth: number }> = []
    let cascadesStopped = 0
    for (const e of candidates) {
      const at = contexts.get(e.id)
      if (at === undefined) continue
      const depth = Number(e.data["depth"] ?? 0)
      for (const rule of rules.match(at)) {
        if (e.id <= (activations.get(rule.id) ?? 0)) continue
        // A rule's own change never re-triggers it; a cascade of rules stops at a depth limit.
        if (e.data["rule_id"] === rule.id) continue
        if (depth >= maxRuleDepth) {
          cascadesStopped++
          continue
        }
        const key = `${rule.id}|${e.subscription_id}`
        const running = seen.get(key)
        if (running === true || (running === false && !rule.reenroll)) continue
        seen.set(key, true)
        rows.push({ rule, sub: e.subscription_id, event: e.id, depth })
      }
    }
    if (rows.length > 0) {
      await tx`
        insert into enrollments (rule_id, rule_version, subscription_id, trigger_event_id, trigger_key, status, position, wake_on, depth, program, enrolled_on, updated_on)
        select r, v, s, e, e::text, 'active', '{"pc":0}'::jsonb, ${ctx.today}::date, d, p::jsonb, ${ctx.today}::date, ${ctx.today}::date from unnest(
          ${rows.map((r) => r.rule.id)}::text[], ${rows.map((r) => r.rule.version)}::text[], ${rows.map((r) => r.sub)}::int8[],
          ${rows.map((r) => r.event)}::int8[], ${rows.map((r) => r.depth)}::int[], ${rows.map((r) => JSON.stringify(r.rule.node))}::text[]) as u(r, v, s, e, d, p)
        on conflict (rule_id, subscription_id, trigger_key) do nothing`
    }
    await tx`update journal_offsets set last_event_id = ${events[events.length - 1]!.id} where consumer = 'rules'`
    return { events: events.length, enrolled: rows.length, cascadesStopped }
  }) as Promise<{ events: number; enrolled: number; cascadesStopped: number }>

const programs = new Map<string, CompiledRule>()
const compiledFor = (version: string, node: RuleNode) => {
  let c = programs.get(version)
  if (c === undefined) programs.set(version, (c = compileRule(node)))
  return c
}

const settable: Record<string, string> = { owner: "owner", name: "name", language: "invoice_language", locale: "invoice_locale", reminders: "reminders" }

const perform = async (tx: TransactionSql, ctx: EngineContext, e: { id: number; rule_id: string; subscription_id: number; depth: number }, row: Record<string, any>, action: ResolvedAction, stepKey: string) => {
  const key = `rule:${e.id}:${stepKey}`
  const language = languageOf({ invoice_language: row["invoice_language"], contact_language: row["contact_language"] }, ctx.settings)
  const locale = localeOf({ invoice_locale: row["invoice_locale"], contact_locale: row["contact_locale"] }, ctx.settings)
  switch (action.kind) {
    case "SendEmail":
      await enqueueMessages(tx, [{ kind: "email", template: action.template, dedupeKey: key, subscriptionId: e.subscription_id, recipient: row["email"], language, locale, payload: { rule_id: e.rule_id }, createdOn: ctx.today }])
      break
    case "Notify": {
      const to = action.target === "user" && action.who !== undefined ? action.who : action.target === "owner" && typeof row["owner"] === "string" && row["owner"].includes("@") ? row["owner"] : ctx.settings.adminEmail
      await enqueueMessages(tx, [{ kind: "notification", template: "internal_notification", dedupeKey: key, subscriptionId: e.subscription_id, recipient: to, language: ctx.settings.language, locale: ctx.settings.locale, payload: { message: action.text, team: action.who ?? null, rule_id: e.rule_id }, createdOn: ctx.today }])
      break
    }
    case "Set": {
      const column = settable[action.property]
      const from = column === undefined ? row["properties"]?.[action.property] ?? null : row[column === "invoice_language" ? "invoice_language" : column === "invoice_locale" ? "invoice_locale" : column] ?? null
      if (column !== undefined) await tx.unsafe(`update subscriptions set "${column}" = $1, updated_at = now() where id = $2`, [action.value as string, e.subscription_id])
      else await tx`update subscriptions set properties = properties || jsonb_build_object(${action.property}::text, ${JSON.stringify(action.value)}::text::jsonb), updated_at = now() where id = ${e.subscription_id}`
      await writeJournal(tx, [{ type: "subscription.property_changed", subscriptionId: e.subscription_id, occurredOn: ctx.today, data: { property: action.property, from, to: action.value, rule_id: e.rule_id, enrollment_id: e.id, depth: e.depth + 1 } }], "rule")
      break
    }
    case "CreateTask":
      await tx`insert into tasks (title, assignee, team, due_on, subscription_id, dedupe_key)
        values (${action.title}, ${action.assignee === "owner" ? row["owner"] ?? null : null}, ${action.team ?? null}, ${action.dueOn}, ${e.subscription_id}, ${key})
        on conflict (dedupe_key) do nothing`
      break
    case "ListChange":
      await tx`insert into lists (name) values (${action.list}) on conflict do nothing`
      if (action.op === "add") await tx`insert into list_members (list_name, contact_id, added_on) values (${action.list}, ${row["contact_id"]}, ${ctx.today}) on conflict do nothing`
      else await tx`delete from list_members where list_name = ${action.list} and contact_id = ${row["contact_id"]}`
      break
    case "Webhook":
      await enqueueMessages(tx, [{ kind: "webhook", template: `rule.${e.rule_id}`, dedupeKey: key, subscriptionId: e.subscription_id, recipient: action.url, payload: { rule_id: e.rule_id, subscription_id: e.subscription_id, status: row["status"] }, createdOn: ctx.today }])
      break
  }
}

/** Runs every enrollment whose time has come, one committed step at a time. */
export const runDueEnrollments = async (sql: Sql, ctx: EngineContext, batch: number, failpoint: (name: string) => void): Promise<{ steps: number; done: number; unenrolled: number }> => {
  const due = await sql<Array<{ id: number }>>`
    select id from enrollments where status in ('active', 'waiting') and (wake_on is null or wake_on <= ${ctx.today}) order by id limit ${batch}`
  let steps = 0, done = 0, unenrolled = 0
  for (const { id } of due) {
    for (let guard = 0; guard < 50; guard++) {
      const outcome = await sql.begin(async (tx) => {
        const [e] = await tx<Array<{ id: number; rule_id: string; rule_version: string; subscription_id: number; trigger_event_id: number | null; status: string; position: { pc: number }; wake_on: string | null; depth: number; program: RuleNode }>>`
          select id, rule_id, rule_version, subscription_id, trigger_event_id, status, position, wake_on, depth, program from enrollments
          where id = ${id} and status in ('active', 'waiting') and (wake_on is null or wake_on <= ${ctx.today}) for update skip locked`
        if (e === undefined) return "stop"
        const subject = (await loadSubjects(tx, [e.subscription_id])).get(Number(e.subscription_id))
        const row = subject?.row
        // The subject as it is now; the event that enrolled it, with its invoice and payment, as they were given.
        const evalCtx = subject === undefined ? undefined : { ...contextOfSubject(subject), ...await triggerContext(tx, e.trigger_event_id) }
        if (row === undefined || evalCtx === undefined) {
          await tx`update enrollments set status = 'done', updated_at = now(), updated_on = ${ctx.today} where id = ${id}`
          return "done"
        }
        const rule = compiledFor(e.rule_version, e.program)
        if (rule.unenroll?.(evalCtx) === true) {
          await tx`update enrollments set status = 'unenrolled', updated_at = now(), updated_on = ${ctx.today} where id = ${id}`
          return "unenrolled"
        }
        const step = advance(rule.program, e.position.pc, evalCtx, ctx.today)
        if (step.kind === "done") {
          await tx`update enrollments set status = 'done', updated_at = now(), updated_on = ${ctx.today} where id = ${id}`
          return "done"
        }
        if (step.kind === "wait") {
          await tx`update enrollments set status = 'waiting', wake_on = ${step.until}, position = ${JSON.stringify({ pc: step.next })}::text::jsonb, updated_at = now(), updated_on = ${ctx.today} where id = ${id}`
          return "stop"
        }
        // The step record and the effect commit together: after a crash the step is either done (and recorded) or not at all.
        const [fresh] = await tx`insert into enrollment_steps (enrollment_id, step_key) values (${id}, ${step.stepKey}) on conflict do nothing returning step_key`
        if (fresh !== undefined) await perform(tx, ctx, e, row, step.action, step.stepKey)
        failpoint("after-rule-step")
        await tx`update enrollments set status = 'active', position = ${JSON.stringify({ pc: step.next })}::text::jsonb, updated_at = now(), updated_on = ${ctx.today} where id = ${id}`
        return "step"
      })
      if (outcome === "step") steps++
      else {
        if (outcome === "done") done++
        if (outcome === "unenrolled") unenrolled++
        break
      }
    }
  }
  return { steps, done, unenrolled }
}

/** Enrollments of one subscription, or of one rule, newest first, with the event that started each (for `rules explain` and `enrollments list`). */
/** The enrollments query, newest first, not yet run: `enrollments list` pages through it. */
export const enrollmentsQuery = (sql: Sql, filter: { subscriptionId?: number | undefined; ruleId?: string | undefined }) =>
  sql<Array<Record<string, any>>>`
    select e.id, e.rule_id, e.rule_version, e.subscription_id, e.status, e.trigger_event_id, e.trigger_key, ev.type as event_type,
           e.enrolled_on::text as enrolled_on, ev.occurred_on::text as event_on, e.position, e.wake_on::text as wake_on, e.depth, e.program,
           e.updated_on::text as updated_on, e.last_error, (select count(*) from enrollment_steps st where st.enrollment_id = e.id)::int as steps_done
    from enrollments e left join events ev on ev.id = e.trigger_event_id
    where true
      ${filter.subscriptionId === undefined ? sql`` : sql`and e.subscription_id = ${filter.subscriptionId}`}
      ${filter.ruleId === undefined ? sql`` : sql`and e.rule_id = ${filter.ruleId}`}
    order by e.id desc`

/** A row of `enrollmentsQuery` as a record. */
export const enrollmentRecordOf = (r: Record<string, any>): EnrollmentRecord => ({
  id: Number(r["id"]), ruleId: r["rule_id"], ruleVersion: r["rule_version"], subscriptionId: Number(r["subscription_id"]), status: r["status"],
  eventId: r["trigger_event_id"] === null ? null : Number(r["trigger_event_id"]), eventType: r["event_type"] ?? null,
  trigger: r["trigger_key"].startsWith("date:") ? `date ${r["trigger_key"].slice(5)}` : `event #${r["trigger_key"]}`,
  enrolledOn: r["enrolled_on"], eventOn: r["event_on"] ?? null, position: Number(r["position"]?.["pc"] ?? 0), wakeOn: r["wake_on"], depth: Number(r["depth"]),
  program: r["program"] ?? null, updatedOn: r["updated_on"], lastError: r["last_error"] ?? null, stepsDone: Number(r["steps_done"])
})

export const listEnrollments = async (sql: Sql, filter: { subscriptionId?: number | undefined; ruleId?: string | undefined }): Promise<Array<EnrollmentRecord>> =>
  (await enrollmentsQuery(sql, filter)).map(enrollmentRecordOf)

/**
 * What `rules explain` reasons from: the subscription now; per event type,
 * its latest event with the subscription as it was at that event; the
 * enrollments that already happened; the business day (`today`).
 */
export const explainContexts = async (sql: Sql, subscriptionId: number, today?: string): Promise<ExplainInput | undefined> => {
  const current = (await currentContexts(sql, [subscriptionId])).get(subscriptionId)
  if (current === undefined) return undefined
  const latest = await sql<Array<JournalRow>>`
    select distinct on (type) id::int8 as id, type, subscription_id, data from events where subscription_id = ${subscriptionId} order by type, id desc`
  const at = await contextsAtEvents(sql, latest.map((e) => ({ ...e, id: Number(e.id), subscription_id: Number(e.subscription_id) })))
  const byType = new Map<string, EvalContext>()
  for (const e of latest) {
    const c = at.get(Number(e.id))
    if (c !== undefined) byType.set(e.type, c)
  }
  const activations = await sql<Array<{ rule_id: string; enroll_after: number }>>`select rule_id, enroll_after from rule_activations`
  const [offset] = await sql<Array<{ last_event_id: number }>>`select last_event_id from journal_offsets where consumer = 'rules'`
  return {
    ...(offset === undefined ? {} : { readThrough: Number(offset.last_event_id) }),
    current, byType, enrollments: await listEnrollments(sql, { subscriptionId }),
    eventIds: new Map(latest.map((e) => [e.type, Number(e.id)])),
    activations: new Map(activations.map((a) => [a.rule_id, Number(a.enroll_after)])),
    ...(today === undefined ? {} : { today })
  }
}

const dateColumns: Record<string, string> = { end_date: "end_date", next_billing_date: "next_billing_date", start_date: "start_date", created_on: "created_on", canceled_on: "canceled_on" }

/**
 * Date triggers (`14 days before subscription.next_billing_date`): a
 * subscription enrolls once per date value, on the day the offset date is
 * reached (or later, if the engine was down), while it is live; never while an
 * enrollment of the rule is running (a later tick enrolls it once that one
 * ends), and, without `reenroll`, not after the rule's event trigger enrolled it
 * (a rule enrolls once: `event subscription.created or 3 days after
 * subscription.start_date` enrolled twice).
 */
export const enrollDateTriggers = async (sql: Sql, ctx: EngineContext, rules: CompiledRuleSet, batch: number): Promise<number> => {
  let enrolled = 0
  for (const rule of rules.rules) {
    for (const t of rule.dateTriggers) {
      const column = t.path.parts[0] === "subscription" ? dateColumns[t.path.parts[1] ?? ""] : undefined
      if (column === undefined) continue
      const unit = t.duration.unit.replace(/s$/, "")
      const amount = unit === "week" ? t.duration.amount * 7 : t.duration.amount
      const pgUnit = unit === "week" ? "day" : unit
      const sign = t.direction === "before" ? "-" : "+"
      const candidates = await sql.unsafe<Array<{ id: number; at: string }>>(
        `select s.id, s.${column}::text as at from subscriptions s
         where s.${column} is not null and s.status not in ('canceled', 'expired')
           and (s.${column} ${sign} interval '${amount} ${pgUnit}')::date <= $1::date
           and not exists (select 1 from enrollments e where e.rule_id = $2 and e.subscription_id = s.id
             and (e.trigger_key = 'date:' || s.${column}::text or e.status in ('active', 'waiting')${rule.reenroll ? "" : " or e.trigger_key not like 'date:%'"}))
         order by s.id limit ${batch}`, [ctx.today, rule.id])
      if (candidates.length === 0) continue
      const snapshots = await currentContexts(sql, candidates.map((c) => c.id))
      const matching = candidates.filter((c) => {
        const now = snapshots.get(Number(c.id))
        return now !== undefined && rule.where(now)
      })
      if (matching.length === 0) continue
      await sql`
        insert into enrollments (rule_id, rule_version, subscription_id, trigger_key, status, position, wake_on, program, enrolled_on, updated_on)
        select ${rule.id}, ${rule.version}, s, 'date:' || a, 'active', '{"pc":0}'::jsonb, ${ctx.today}::date, ${JSON.stringify(rule.node)}::text::jsonb, ${ctx.today}::date, ${ctx.today}::date
        from unnest(${matching.map((m) => m.id)}::int8[], ${matching.map((m) => m.at)}::text[]) as u(s, a)
        on conflict (rule_id, subscription_id, trigger_key) do nothing`
      enrolled += matching.length
    }
  }
  return enrolled
}
