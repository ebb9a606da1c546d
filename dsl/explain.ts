/**
 * Explaining rules against one subject: whether a rule already enrolled it
 * (when, on which event, where it is now, what is left), otherwise which
 * trigger would fire next and why not now; the filter as its and/or/not
 * tree with each leaf's value. The engine passes the values (the subject
 * now, the subject at its latest event of each type, its enrollments); this
 * room knows nothing of how they are stored.
 */
import type { Action, Condition, Path, RuleNode, Trigger } from "./ast.ts"
import type { CompiledRule, CompiledRuleSet, EvalContext } from "./compiler.ts"
import { compileCondition, isMoney, scaleOf, stateChangeEvents, toProgram } from "./compiler.ts"
import { formatCondition, formatRule } from "./formatter.ts"
import { addDuration } from "./program.ts"
import { onceOnlyEvents } from "./schema.ts"

export interface ConditionExplanation {
  readonly condition: string
  readonly old: unknown
  readonly new: unknown
  readonly result: boolean
}

/** A filter as its tree: `and`/`or`/`not` nodes over leaves, each with its result; a leaf with its value. */
export type FilterTree =
  | { readonly op: "and" | "or" | "not"; readonly result: boolean; readonly children: ReadonlyArray<FilterTree> }
  | { readonly condition: string; readonly value: unknown; readonly result: boolean }

/** An enrollment as the engine stored it. */
export interface EnrollmentRecord {
  readonly id: number
  readonly ruleId: string
  readonly ruleVersion: string
  readonly subscriptionId: number
  readonly status: string
  readonly eventId: number | null
  readonly eventType: string | null
  /** `event #ID` or `date YYYY-MM-DD` */
  readonly trigger: string
  /** The business day the engine enrolled the subscription (`enrollments.enrolled_on`). */
  readonly enrolledOn: string
  /** The day of the event that triggered it (which may be earlier); null for a date trigger. */
  readonly eventOn: string | null
  /** The next instruction of the enrollment's program. */
  readonly position: number
  readonly wakeOn: string | null
  readonly depth: number
  readonly program: RuleNode | null
  readonly updatedOn: string
  readonly lastError: string | null
  /** Actions already run (each recorded with its effect). */
  readonly stepsDone: number
}

export interface ExplainInput {
  readonly current: EvalContext
  /** Per event type, the subject's latest event of that type, with the subject as it was at that event. */
  readonly byType: ReadonlyMap<string, EvalContext>
  readonly enrollments: ReadonlyArray<EnrollmentRecord>
  /** Per event type, the id of that latest event. */
  readonly eventIds?: ReadonlyMap<string, number>
  /** Per rule, the journal position it was loaded at: it does not enroll on events at or before it. */
  readonly activations?: ReadonlyMap<string, number>
  /** The store's business day: a date trigger's day before it has passed. */
  readonly today?: string
  /** The last journal event the engine's rules have read: each event is judged once, when it is read. */
  readonly readThrough?: number
}

export interface EnrollmentExplanation {
  readonly id: number
  readonly status: string
  readonly enrolledOn: string
  readonly event: string | null
  readonly eventId: number | null
  readonly eventOn: string | null
  readonly trigger: string
  readonly step: number
  readonly wakeOn: string | null
  /** The actions (and waits) not yet run, as the rule writes them. */
  readonly remaining: ReadonlyArray<string>
}

export interface RuleExplanation {
  readonly rule: string
  readonly event: string | undefined
  readonly triggered: boolean
  readonly filter: boolean
  readonly wouldEnroll: boolean
  /** The latest enrollment of this subscription by this rule, if any. */
  readonly enrollment: EnrollmentExplanation | undefined
  /** Why it would not enroll now, and what would make it fire next. */
  readonly reason: string
  readonly next: ReadonlyArray<string>
  readonly filterTree: FilterTree | undefined
  readonly conditions: ReadonlyArray<ConditionExplanation>
}

/** A property's value as the rule writes it: money in major units of the subscription's currency, as in `mrr > 50.00`. */
const value = (ctx: EvalContext, path: Path, previous: boolean) => {
  const [o, p] = path.parts as [string, string]
  const root = (previous ? ctx.previous : ctx) as Record<string, Record<string, unknown> | undefined> | undefined
  const v = root?.[o]?.[p] ?? null
  if (typeof v !== "number" || !isMoney(path)) return v
  const scale = scaleOf(ctx.subscription?.["currency"])
  return Math.round(v) / scale
}

const leaves = (c: Condition): Array<Condition> => (c.kind === "And" || c.kind === "Or" ? [...leaves(c.left), ...leaves(c.right)] : c.kind === "Not" ? leaves(c.operand) : [c])

/** Flattens chains of the same operator: `a and b and c` is one node with three children. */
/** A leaf shown on its own: the parentheses its author wrote around it only grouped it. */
const formatLeaf = (c: Condition): string => formatCondition(c.parens === true ? { ...c, parens: undefined } as Condition : c)

export const filterTree = (c: Condition, ctx: EvalContext): FilterTree => {
  switch (c.kind) {
    case "And":
    case "Or": {
      const flat: Array<Condition> = []
      const collect = (x: Condition): unknown => (x.kind === c.kind ? (collect((x as { left: Condition }).left), collect((x as { right: Condition }).right)) : flat.push(x))
      collect(c)
      return { op: c.kind === "And" ? "and" : "or", result: compileCondition(c)(ctx), children: flat.map((x) => filterTree(x, ctx)) }
    }
    case "Not":
      return { op: "not", result: compileCondition(c)(ctx), children: [filterTree(c.operand, ctx)] }
    default:
      return { condition: formatLeaf(c), value: value(ctx, c.path, false), result: compileCondition(c)(ctx) }
  }
}

/** The tree as indented lines, each with its result. */
export const formatFilterTree = (t: FilterTree, indent = ""): Array<string> =>
  "op" in t
    ? [`${indent}${t.result ? "true " : "false"}  ${t.op}`, ...t.children.flatMap((c) => formatFilterTree(c, indent + "  "))]
    : [`${indent}${t.result ? "true " : "false"}  ${t.condition}  (${JSON.stringify(t.value)})`]

const lit = (v: { kind: string; value: unknown }) => (v.kind === "String" ? JSON.stringify(v.value) : String(v.value))
const triggerText = (t: Trigger): string => {
  switch (t.kind) {
    case "Event":
      return `event ${t.name}`
    case "DateTrigger":
      return `${t.duration.text} ${t.duration.unit} ${t.direction} ${t.path.parts.join(".")}`
    case "Changes":
      return `${t.path.parts.join(".")} changes from ${lit(t.from)} to ${lit(t.to)}`
    case "Becomes":
      return `${t.path.parts.join(".")} becomes ${t.known !== undefined ? (t.known ? "known" : "unknown") : `${t.op === undefined ? "" : `${t.op} `}${lit(t.value!)}`}`
  }
}

/** An action as the rule writes it (the formatter's text of a one-action rule). */
const actionText = (a: Action): string => {
  const lines = formatRule({ kind: "Rule", id: "x", idRange: a.range, title: undefined, triggers: [], where: undefined, reenroll: false, reenrollRange: undefined, unenroll: undefined, actions: [a], comments: [], range: a.range }).split("\n")
  const from = lines.indexOf("then") + 1
  return lines.slice(from, lines.lastIndexOf("end")).map((l) => l.trim()).join(" ")
}

const remainingOf = (program: RuleNode | null, pc: number): Array<string> => {
  if (program === null) return []
  return toProgram(program.actions).slice(pc).flatMap((i) =>
    i.op === "act" ? [actionText(i.action)] : i.op === "wait" ? [`wait ${i.duration.text} ${i.duration.unit}`] : i.op === "waitUntil" ? [`wait until ${i.duration.text} ${i.duration.unit} ${i.direction} ${i.path.parts.join(".")}`] : [])
}

/**
 * What would make each trigger fire next, read on the subject now. A date trigger's day that has passed (`today`)
 * fired for that date if the subscription was enrolled for it (`enrollments`, trigger `date YYYY-MM-DD`), and fires
 * again only when the date changes; else the engine's next run enrolls it (it catches up on days it did not run).
 */
const nextFirings = (rule: CompiledRule, current: EvalContext, enrollments: ReadonlyArray<EnrollmentRecord>, today: string | undefined, eventIds?: ReadonlyMap<string, number>): Array<string> =>
  rule.node.triggers.map((t) => {
    switch (t.kind) {
      case "Event": {
        // subscription.created (or .expired) comes once: the one this subscription had is the last.
        const had = eventIds?.get(t.name)
        return onceOnlyEvents.has(t.name) && had !== undefined
          ? `${triggerText(t)}: happens once per subscription, and it has happened (#${had}): it does not fire again for this subscription`
          : `${triggerText(t)}: fires on the next ${t.name} event`
      }
      case "DateTrigger": {
        const path = t.path.parts.join(".")
        const base = value(current, t.path, false)
        if (typeof base !== "string") return `${triggerText(t)}: ${path} is unknown, nothing to wait for`
        const on = addDuration(base, t.duration, t.direction === "before" ? -1 : 1)
        if (today === undefined || on > today) return `${triggerText(t)}: fires on ${on}`
        return enrollments.some((e) => e.trigger === `date ${base}`)
          ? `${triggerText(t)}: fired for ${path} ${base} (on ${on}); fires again when ${path} changes`
          : `${triggerText(t)}: its day ${on} has passed; the engine's next run enrolls it if ${path} is still ${base}`
      }
      case "Becomes":
      case "Changes": {
        const now = value(current, t.path, false)
        const holds = t.kind === "Becomes"
          ? t.known !== undefined
            ? compileCondition({ kind: "Known", path: t.path, known: t.known, range: t.range })(current)
            : compileCondition({ kind: "Compare", path: t.path, op: t.op ?? "is", value: t.value!, range: t.range })(current)
          : false
        return `${triggerText(t)}: now ${JSON.stringify(now)}; ${holds ? "already true, fires only on a new transition to it" : `fires on the change that makes it true (${stateChangeEvents.join(", ")})`}`
      }
    }
  })

/** `byType` and `current` alone (no enrollments known) are accepted too. */
export const explainRules = (set: CompiledRuleSet, given: ExplainInput | ReadonlyMap<string, EvalContext>, currentGiven?: EvalContext): Array<RuleExplanation> =>
  set.rules.map((rule) => {
    const input: ExplainInput = given instanceof Map ? { byType: given, current: currentGiven ?? {}, enrollments: [] } : given as ExplainInput
    const { byType, current } = input
    // The verdict is on the newest event the rule listens to: the engine judged the older ones when they happened.
    const idOf = (c: EvalContext) => input.eventIds?.get(String(c.event?.["type"])) ?? 0
    const candidates = rule.triggerKeys.map((k) => byType.get(k)).filter((c): c is EvalContext => c !== undefined).sort((a, b) => idOf(b) - idOf(a))
    const ctx = candidates[0] ?? current
    const triggered = candidates.length > 0 && rule.fires(ctx)
    const filter = rule.where(ctx)
    const mine = input.enrollments.filter((e) => e.ruleId === rule.id)
    const last = mine[0]
    const running = mine.some((e) => e.status === "active" || e.status === "waiting")
    // Enrolled already: a once-only rule never enrolls this subscription again, a re-enrolling one not while it runs.
    const blocked = running || (last !== undefined && !rule.reenroll)
    const eventType = ctx.event?.["type"] as string | undefined
    const eventId = eventType === undefined ? undefined : input.eventIds?.get(eventType)
    const loadedAfter = input.activations?.get(rule.id)
    // A rule the engine has not loaded yet starts, when it is loaded, after the journal's last event (activateRules):
    // none of the subscription's past events will enroll it, unless the engine is given --enroll-existing.
    const notLoaded = input.activations !== undefined && loadedAfter === undefined
    const beforeLoad = triggered && eventId !== undefined && (notLoaded || (loadedAfter !== undefined && eventId <= loadedAfter))
    // The engine judges each event once, when it reads it: an event it has read enrolls nobody any more.
    const byIt = eventId === undefined ? undefined : mine.find((e) => e.eventId === eventId)
    const judged = !beforeLoad && eventId !== undefined && input.readThrough !== undefined && eventId <= input.readThrough
    const wouldEnroll = triggered && filter && !blocked && !beforeLoad && !judged && byIt === undefined
    const conditions: Array<ConditionExplanation> = [
      ...rule.node.triggers.filter((t) => t.kind !== "Event" && t.kind !== "DateTrigger").map((t) => ({
        condition: triggerText(t),
        old: value(ctx, (t as { path: Path }).path, true),
        new: value(ctx, (t as { path: Path }).path, false),
        result: triggered
      })),
      ...(rule.node.where === undefined ? [] : leaves(rule.node.where).map((c) => ({
        condition: formatLeaf(c),
        old: "path" in c ? value(ctx, c.path, true) : null,
        new: "path" in c ? value(ctx, c.path, false) : null,
        result: compileCondition(c)(ctx)
      })))
    ]
    const reason = byIt !== undefined && !running
      ? `enrolled on ${byIt.enrolledOn} by this ${eventType} event (#${eventId}) (${byIt.status}); ${rule.reenroll ? "it enrolls again on the next one" : "the rule enrolls a subscription once (no reenroll)"}`
      : last !== undefined && blocked
      ? running
        ? `enrolled on ${last.enrolledOn} and still running (${last.status}); it does not enroll again while it runs`
        : `enrolled on ${last.enrolledOn} (${last.status}); the rule enrolls a subscription once (no reenroll)`
      : beforeLoad && notLoaded
      ? `the rule has not been loaded by the engine yet: a new rule starts after the journal's last event, so the ${eventType} event (#${eventId}) will not enroll it (engine --rules DIR --enroll-existing replays history)`
      : beforeLoad
      ? `the ${eventType} event (#${eventId}) happened before the rule was loaded: existing records are not enrolled (engine --enroll-existing replays them)`
      : wouldEnroll
      ? `would enroll on ${String(ctx.event?.["type"])}`
      : judged && triggered && filter
      ? `the engine read the ${eventType} event (#${eventId}) and did not enroll on it (an enrollment of the rule was running then, or the rule read otherwise); each event is judged once`
      : !triggered
      ? candidates.length > 0 ? "the trigger did not fire on the latest event"
        : rule.node.triggers.some((t) => t.kind === "DateTrigger") ? "it enrolls on a day reckoned from a date, not on an event (next, below)"
        : "no event this rule listens to has happened yet"
      : "the trigger fired but the filter is false"
    return {
      rule: rule.id,
      event: ctx.event?.["type"] as string | undefined,
      triggered,
      filter,
      wouldEnroll,
      enrollment: last === undefined ? undefined : {
        id: last.id, status: last.status, enrolledOn: last.enrolledOn, event: last.eventType, eventId: last.eventId, eventOn: last.eventOn, trigger: last.trigger,
        step: last.position, wakeOn: last.wakeOn,
        remaining: last.status === "active" || last.status === "waiting" ? remainingOf(last.program, last.position) : []
      },
      reason,
      next: wouldEnroll || (blocked && !(byIt !== undefined && rule.reenroll && !running)) ? [] : nextFirings(rule, current, mine, input.today, input.eventIds),
      filterTree: rule.node.where === undefined ? undefined : filterTree(rule.node.where, ctx),
      conditions
    }
  })
