/**
 * Compiling checked rules to plain JavaScript closures (never eval or
 * new Function of user text), and the step program each rule runs.
 *
 * Runtime values: `{ subscription, contact, invoice?, payment?, event,
 * previous: { subscription, contact } }`, keyed by the language's names;
 * money as integer minor units (the rule's 50.00 is scaled by the
 * subscription currency's exponent), dates as `YYYY-MM-DD`. A comparison
 * with an unknown value is false; only `is unknown` matches it.
 */
import { createHash } from "node:crypto"
import type { Action, Condition, Duration, Literal, Path, RuleNode, Trigger } from "./ast.ts"
import { formatRule } from "./formatter.ts"
import { objects } from "./schema.ts"
import { formatMajorAmount, isCurrencyCode, minorUnitExponent } from "../engine/domain/index.ts"

export type Values = Record<string, Record<string, unknown> | undefined>
export interface EvalContext {
  readonly subscription?: Record<string, unknown> | undefined
  readonly contact?: Record<string, unknown> | undefined
  readonly invoice?: Record<string, unknown> | undefined
  readonly payment?: Record<string, unknown> | undefined
  readonly event?: Record<string, unknown> | undefined
  readonly previous?: { readonly subscription?: Record<string, unknown>; readonly contact?: Record<string, unknown> } | undefined
}

type Getter = (ctx: EvalContext) => unknown
type Predicate = (ctx: EvalContext) => boolean

/** 10 to the currency's minor-unit exponent (100 for USD, 1 for JPY); a code that is no currency counts as 100. */
export const scaleOf = (currency: unknown): number => {
  try {
    return 10 ** minorUnitExponent(typeof currency === "string" ? currency : "USD")
  } catch {
    return 100
  }
}

/** Whether a property holds money (integer minor units at run time; rules write it in major units). */
export const isMoney = (path: Pick<Path, "parts">) => objects[path.parts[0] ?? ""]?.[path.parts[1] ?? ""]?.type === "money" || (path.parts[0] === "event" && ["amount", "total"].includes(path.parts[1] ?? ""))

const getter = (path: Path, previous = false): Getter => {
  const [o, p] = path.parts as [string, string]
  if (previous) return (ctx) => (ctx.previous as Record<string, Record<string, unknown> | undefined> | undefined)?.[o]?.[p]
  return (ctx) => (ctx as Record<string, Record<string, unknown> | undefined>)[o]?.[p]
}

const known = (v: unknown) => v !== null && v !== undefined

/** A money literal in minor units of a currency: 0.29 is 29 (not 28.999…), 10.005 USD stays 1000.5 (not rounded to 1001, which would make `> 10.005` false for 10.01). */
const toMinor = (major: number, scale: number): number => {
  const scaled = major * scale
  const whole = Math.round(scaled)
  return Math.abs(scaled - whole) < 1e-6 ? whole : scaled
}

/** A literal as the runtime compares it: money is scaled to minor units of the subscription's currency. */
const literalValue = (path: Path, lit: Literal): ((ctx: EvalContext) => unknown) => {
  if (lit.kind === "Number" && isMoney(path)) return (ctx) => toMinor(lit.value, scaleOf(ctx.subscription?.["currency"]))
  const v = lit.value
  return () => v
}

const compareWith = (op: string, get: Getter, value: (ctx: EvalContext) => unknown): Predicate => {
  switch (op) {
    case "is":
    case "=":
      return (ctx) => { const a = get(ctx); return known(a) && a === value(ctx) }
    case "is not":
    case "!=":
      return (ctx) => { const a = get(ctx); return known(a) && a !== value(ctx) }
    case "<":
      return (ctx) => { const a = get(ctx); return known(a) && (a as number) < (value(ctx) as number) }
    case "<=":
      return (ctx) => { const a = get(ctx); return known(a) && (a as number) <= (value(ctx) as number) }
    case ">":
      return (ctx) => { const a = get(ctx); return known(a) && (a as number) > (value(ctx) as number) }
    default:
      return (ctx) => { const a = get(ctx); return known(a) && (a as number) >= (value(ctx) as number) }
  }
}

export const compileCondition = (c: Condition, previous = false): Predicate => {
  switch (c.kind) {
    case "And": {
      const l = compileCondition(c.left, previous), r = compileCondition(c.right, previous)
      return (ctx) => l(ctx) && r(ctx)
    }
    case "Or": {
      const l = compileCondition(c.left, previous), r = compileCondition(c.right, previous)
      return (ctx) => l(ctx) || r(ctx)
    }
    case "Not": {
      const o = compileCondition(c.operand, previous)
      return (ctx) => !o(ctx)
    }
    case "Known": {
      const g = getter(c.path, previous)
      return c.known ? (ctx) => known(g(ctx)) : (ctx) => !known(g(ctx))
    }
    case "Compare":
      return compareWith(c.op, getter(c.path, previous), literalValue(c.path, c.value))
    case "In": {
      const g = getter(c.path, previous)
      const values = c.values.map((v) => literalValue(c.path, v))
      return c.negated
        ? (ctx) => { const a = g(ctx); return known(a) && !values.some((v) => v(ctx) === a) }
        : (ctx) => { const a = g(ctx); return known(a) && values.some((v) => v(ctx) === a) }
    }
  }
}

/** A trigger as a transition: true before → false, false before → true fires. */
const compileTrigger = (t: Trigger): { readonly keys: ReadonlyArray<string>; readonly fires: Predicate } | undefined => {
  switch (t.kind) {
    case "Event": {
      const name = t.name
      return { keys: [name], fires: (ctx) => ctx.event?.["type"] === name }
    }
    case "Becomes": {
      const now = t.known !== undefined
        ? compileCondition({ kind: "Known", path: t.path, known: t.known, range: t.range })
        : compileCondition({ kind: "Compare", path: t.path, op: t.op ?? "is", value: t.value!, range: t.range })
      const before = t.known !== undefined
        ? compileCondition({ kind: "Known", path: t.path, known: t.known, range: t.range }, true)
        : compileCondition({ kind: "Compare", path: t.path, op: t.op ?? "is", value: t.value!, range: t.range }, true)
      return { keys: stateChangeEvents, fires: (ctx) => now(ctx) && !before(ctx) }
    }
    case "Changes": {
      const from = compileCondition({ kind: "Compare", path: t.path, op: "is", value: t.from, range: t.range }, true)
      const to = compileCondition({ kind: "Compare", path: t.path, op: "is", value: t.to, range: t.range })
      return { keys: stateChangeEvents, fires: (ctx) => from(ctx) && to(ctx) }
    }
    case "DateTrigger":
      return undefined
  }
}

/**
 * The journal events after which property triggers are evaluated. A payment is counted in `payments_made` by
 * `subscription.renewed` from the second on; the first journals no renewal, so its `payment.succeeded` is the change.
 * Billing a period (`invoice.created`) moves `next_billing_date` to the period's end.
 */
export const stateChangeEvents = [
  "subscription.created", "subscription.status_changed", "subscription.property_changed", "subscription.items_changed", "subscription.renewed",
  "payment.succeeded", "invoice.created"
]

export type Instruction =
  | { readonly op: "act"; readonly action: Action }
  | { readonly op: "wait"; readonly duration: Duration }
  | { readonly op: "waitUntil"; readonly duration: Duration; readonly direction: "before" | "after"; readonly path: Path }
  | { readonly op: "jumpIfNot"; readonly condition: Condition; readonly target: number }
  | { readonly op: "jump"; readonly target: number }

/** Flattens actions into instructions with jumps: a position is one integer, stored as JSON. */
export const toProgram = (actions: ReadonlyArray<Action>): Array<Instruction> => {
  const out: Array<Instruction> = []
  const emit = (list: ReadonlyArray<Action>) => {
    for (const a of list) {
      if (a.kind === "If") {
        const at = out.length
        out.push({ op: "jumpIfNot", condition: a.condition, target: -1 })
        emit(a.then)
        if (a.otherwise !== undefined) {
          const jump = out.length
          out.push({ op: "jump", target: -1 })
          out[at] = { op: "jumpIfNot", condition: a.condition, target: out.length }
          emit(a.otherwise)
          out[jump] = { op: "jump", target: out.length }
        } else out[at] = { op: "jumpIfNot", condition: a.condition, target: out.length }
      } else if (a.kind === "Wait") out.push({ op: "wait", duration: a.duration })
      else if (a.kind === "WaitUntil") out.push({ op: "waitUntil", duration: a.duration, direction: a.direction, path: a.path })
      else out.push({ op: "act", action: a })
    }
  }
  emit(actions)
  return out
}

export interface CompiledRule {
  readonly id: string
  readonly title: string | undefined
  /** sha256 of the rule's canonical text: an enrollment runs the version it started on. */
  readonly version: string
  readonly node: RuleNode
  readonly triggerKeys: ReadonlyArray<string>
  readonly fires: Predicate
  readonly where: Predicate
  readonly unenroll: Predicate | undefined
  readonly reenroll: boolean
  readonly dateTriggers: ReadonlyArray<{ readonly path: Path; readonly duration: Duration; readonly direction: "before" | "after" }>
  readonly program: ReadonlyArray<Instruction>
}

export const compileRule = (rule: RuleNode): CompiledRule => {
  const triggers = rule.triggers.map(compileTrigger).filter((t) => t !== undefined)
  const fires: Predicate = triggers.length === 1 ? triggers[0]!.fires : (ctx) => triggers.some((t) => t.fires(ctx))
  return {
    id: rule.id,
    title: rule.title,
    version: createHash("sha256").update(formatRule(rule)).digest("hex").slice(0, 16),
    node: rule,
    triggerKeys: [...new Set(triggers.flatMap((t) => t.keys))],
    fires,
    where: rule.where === undefined ? () => true : compileCondition(rule.where),
    unenroll: rule.unenroll === undefined ? undefined : compileCondition(rule.unenroll),
    reenroll: rule.reenroll,
    dateTriggers: rule.triggers.flatMap((t) => (t.kind === "DateTrigger" ? [{ path: t.path, duration: t.duration, direction: t.direction }] : [])),
    program: toProgram(rule.actions)
  }
}

export interface CompiledRuleSet {
  readonly rules: ReadonlyArray<CompiledRule>
  /** Rules that an event of this type may trigger (the index that keeps evaluation cheap). */
  readonly rulesFor: (eventType: string) => ReadonlyArray<CompiledRule>
  /** Rules that enroll on this event: the trigger fires and the filter holds. */
  readonly match: (ctx: EvalContext) => Array<CompiledRule>
}

export const compileRules = (rules: ReadonlyArray<RuleNode>): CompiledRuleSet => {
  const compiled = rules.map(compileRule)
  const index = new Map<string, Array<CompiledRule>>()
  for (const r of compiled) for (const k of r.triggerKeys) (index.get(k) ?? index.set(k, []).get(k)!).push(r)
  const rulesFor = (type: string) => index.get(type) ?? []
  return {
    rules: compiled,
    rulesFor,
    match: (ctx) => {
      const out: Array<CompiledRule> = []
      for (const r of rulesFor(String(ctx.event?.["type"] ?? ""))) if (r.fires(ctx) && r.where(ctx)) out.push(r)
      return out
    }
  }
}

/**
 * `{{object.property}}` in a text, from the values. Money as rules write it: in major units of its currency
 * (`{{subscription.mrr}}` of 2500 cents is "25.00"), the event's currency for the event's amounts, else the subscription's.
 */
export const interpolate = (text: string, ctx: EvalContext): string =>
  text.replace(/\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}/g, (_, o: string, p: string) => {
    const v = (ctx as Record<string, Record<string, unknown> | undefined>)[o]?.[p]
    if (v === null || v === undefined) return ""
    if (typeof v !== "number" || !isMoney({ parts: [o, p] })) return String(v)
    const currency = (o === "event" ? ctx.event?.["currency"] : undefined) ?? ctx.subscription?.["currency"]
    return formatMajorAmount(Math.round(v), typeof currency === "string" && isCurrencyCode(currency) ? currency : "USD")
  })
