/**
 * The rules runtime's SQL. Events of the journal are read in order from a
 * stored offset; a match creates an enrollment (unique per rule, subject and
 * trigger) in the same transaction that moves the offset. Each step of an
 * enrollment commits with its effect and a step record keyed by
 * (enrollment, step), so a crash never repeats an email, a task or a change.
 */
import type { CompiledRule, CompiledRuleSet, EvalContext, ResolvedAction, RuleNode } from "../../dsl/index.ts"
import { advance, compileRule } from "../../dsl/index.ts"
import type { EngineContext } from "./billingRun.ts"
import { languageOf, localeOf } from "./billingRun.ts"
import type { Sql, TransactionSql } from "./Database.ts"
import { enqueueMessages, writeJournal } from "./journalBatch.ts"

export const maxRuleDepth = 5

const snapshotQuery = (tx: TransactionSql | Sql, ids: ReadonlyArray<number>) =>
  tx<Array<Record<string, any>>>`
    select s.id, s.name, s.status, s.currency, s.start_date, s.end_date, s.next_billing_date, s.created_on, s.canceled_on, s.payments_made,
           s.collection_method, s.owner, s.invoice_language, s.invoice_locale, s.reminders, coalesce(s.payment_method, c.payment_method) as payment_method,
           s.frequency_unit, s.frequency_count, s.terms_payments, s.properties,
           c.id as contact_id, c.email, c.name as contact_name, c.language as contact_language, c.locale as contact_locale,
           coalesce((select sum(case when l.discount_ppm is not null then round(l.unit_price * l.quantity * (1000000 - l.discount_ppm) / 1000000.0)
                                     when l.discount_amount is not null then greatest(l.unit_price - l.discount_amount, 0) * l.quantity
                                     else l.unit_price * l.quantity end)
                     from line_items l where l.subscription_id = s.id and not l.one_time
                       and l.version = (select max(version) from item_versions v where v.subscription_id = s.id)), 0)::float8 as amount
    from subscriptions s join contacts c on c.id = s.contact_id where s.id = any(${ids as Array<number>}) and s.deleted_on is null`

const perMonth = (row: Record<string, any>) => {
  const a = Number(row["amount"]), n = Number(row["frequency_count"])
  switch (row["frequency_unit"]) {
    case "day": return Math.round((a * 365) / 12 / n)
    case "week": return Math.round((a * 52) / 12 / n)
    case "month": return Math.round(a / n)
    default: return Math.round(a / (12 * n))
  }
}

export const contextOf = (row: Record<string, any>): EvalContext => ({
  subscription: {
    id: row["id"], name: row["name"], status: row["status"], currency: row["currency"], start_date: row["start_date"], end_date: row["end_date"],
    next_billing_date: row["next_billing_date"], created_on: row["created_on"], canceled_on: row["canceled_on"], payments_made: row["payments_made"],
    collection_method: row["collection_method"], owner: row["owner"], language: row["invoice_language"], locale: row["invoice_locale"],
    reminders: row["reminders"], payment_method: row["payment_method"], amount: Number(row["amount"]), mrr: perMonth(row),
    terms: row["terms_payments"] === null ? "auto-renew" : `fixed:${row["terms_payments"]}`, ...(row["properties"] ?? {})
  },
  contact: { id: row["contact_id"], email: row["email"], name: row["contact_name"], language: row["contact_language"], locale: row["contact_locale"] }
})

/** The state an event describes: the change it records applied to the current snapshot, and the state before it. */
export const eventContext = (event: { type: string; data: Record<string, any> }, current: EvalContext): EvalContext => {
  const now = { ...current.subscription }
  const before: Record<string, unknown> = { ...current.subscription }
  if (event.type === "subscription.status_changed") {
    now["status"] = event.data["to"]
    before["status"] = event.data["from"]
  } else if (event.type === "subscription.property_changed") {
    now[event.data["property"]] = event.data["to"]
    before[event.data["property"]] = event.data["from"]
  } else if (event.type === "subscription.created") {
    for (const k of Object.keys(before)) before[k] = undefined
  }
  return { ...current, subscription: now, event: { type: event.type, ...event.data }, previous: { subscription: before, contact: current.contact } }
}

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
      e.subscription_id !== null && e.source !== "history" && rules.rulesFor(e.type).length > 0)
    const ids = [...new Set(candidates.map((e) => e.subscription_id))]
    const snapshots = new Map((ids.length === 0 ? [] : await snapshotQuery(tx, ids)).map((r) => [Number(r["id"]), contextOf(r)]))
    const existing = ids.length === 0 ? [] : await tx<Array<{ rule_id: string; subscription_id: number; running: boolean }>>`
      select rule_id, subscription_id, bool_or(status in ('active', 'waiting')) as running from enrollments where subscription_id = any(${ids}) group by 1, 2`
    const seen = new Map(existing.map((e) => [`${e.rule_id}|${e.subscription_id}`, e.running]))
    const rows: Array<{ rule: CompiledRule; sub: number; event: number; depth: number }> = []
    let cascadesStopped = 0
    for (const e of candidates) {
      const current = snapshots.get(e.subscription_id)
      if (current === undefined) continue
      const depth = Number(e.data["depth"] ?? 0)
      for (const rule of rules.match(eventContext(e, current))) {
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
        insert into enrollments (rule_id, rule_version, subscription_id, trigger_event_id, trigger_key, status, position, wake_on, depth, program)
        select r, v, s, e, e::text, 'active', '{"pc":0}'::jsonb, ${ctx.today}::date, d, p::jsonb from unnest(
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
        const [e] = await tx<Array<{ id: number; rule_id: string; rule_version: string; subscription_id: number; status: string; position: { pc: number }; wake_on: string | null; depth: number; program: RuleNode }>>`
          select id, rule_id, rule_version, subscription_id, status, position, wake_on, depth, program from enrollments
          where id = ${id} and status in ('active', 'waiting') and (wake_on is null or wake_on <= ${ctx.today}) for update skip locked`
        if (e === undefined) return "stop"
        const [row] = await snapshotQuery(tx, [e.subscription_id])
        if (row === undefined) {
          await tx`update enrollments set status = 'done', updated_at = now() where id = ${id}`
          return "done"
        }
        const rule = compiledFor(e.rule_version, e.program)
        const evalCtx = contextOf(row)
        if (rule.unenroll?.(evalCtx) === true) {
          await tx`update enrollments set status = 'unenrolled', updated_at = now() where id = ${id}`
          return "unenrolled"
        }
        const step = advance(rule.program, e.position.pc, evalCtx, ctx.today)
        if (step.kind === "done") {
          await tx`update enrollments set status = 'done', updated_at = now() where id = ${id}`
          return "done"
        }
        if (step.kind === "wait") {
          await tx`update enrollments set status = 'waiting', wake_on = ${step.until}, position = ${JSON.stringify({ pc: step.next })}::text::jsonb, updated_at = now() where id = ${id}`
          return "stop"
        }
        // The step record and the effect commit together: after a crash the step is either done (and recorded) or not at all.
        const [fresh] = await tx`insert into enrollment_steps (enrollment_id, step_key) values (${id}, ${step.stepKey}) on conflict do nothing returning step_key`
        if (fresh !== undefined) await perform(tx, ctx, e, row, step.action, step.stepKey)
        failpoint("after-rule-step")
        await tx`update enrollments set status = 'active', position = ${JSON.stringify({ pc: step.next })}::text::jsonb, updated_at = now() where id = ${id}`
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

/** The subject's current values and, per event type, its latest event as an evaluation context (for `rules explain`). */
export const explainContexts = async (sql: Sql, subscriptionId: number): Promise<{ current: EvalContext; byType: Map<string, EvalContext> } | undefined> => {
  const [row] = await snapshotQuery(sql, [subscriptionId])
  if (row === undefined) return undefined
  const current = contextOf(row)
  const latest = await sql<Array<{ type: string; data: Record<string, any> }>>`
    select distinct on (type) type, data from events where subscription_id = ${subscriptionId} order by type, id desc`
  return { current, byType: new Map(latest.map((e) => [e.type, eventContext(e, current)])) }
}

const dateColumns: Record<string, string> = { end_date: "end_date", next_billing_date: "next_billing_date", start_date: "start_date", created_on: "created_on", canceled_on: "canceled_on" }

/**
 * Date triggers (`14 days before subscription.next_billing_date`): a
 * subscription enrolls once per date value, on the day the offset date is
 * reached (or later, if the engine was down), while it is live.
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
           and not exists (select 1 from enrollments e where e.rule_id = $2 and e.subscription_id = s.id and e.trigger_key = 'date:' || s.${column}::text)
         order by s.id limit ${batch}`, [ctx.today, rule.id])
      if (candidates.length === 0) continue
      const snapshots = await snapshotQuery(sql, candidates.map((c) => c.id))
      const matching = candidates.filter((c) => {
        const row = snapshots.find((r) => Number(r["id"]) === c.id)
        return row !== undefined && rule.where(contextOf(row))
      })
      if (matching.length === 0) continue
      await sql`
        insert into enrollments (rule_id, rule_version, subscription_id, trigger_key, status, position, wake_on, program)
        select ${rule.id}, ${rule.version}, s, 'date:' || a, 'active', '{"pc":0}'::jsonb, ${ctx.today}::date, ${JSON.stringify(rule.node)}::text::jsonb
        from unnest(${matching.map((m) => m.id)}::int8[], ${matching.map((m) => m.at)}::text[]) as u(s, a)
        on conflict (rule_id, subscription_id, trigger_key) do nothing`
      enrolled += matching.length
    }
  }
  return enrolled
}
