/**
 * Explaining rules against one subject: for each rule, would the given event
 * enroll it now, and every condition with its old and new values.
 */
import type { Condition, Path, Trigger } from "./ast.ts"
import type { CompiledRuleSet, EvalContext } from "./compiler.ts"
import { compileCondition, isMoney, scaleOf } from "./compiler.ts"
import { formatCondition } from "./formatter.ts"

export interface ConditionExplanation {
  readonly condition: string
  readonly old: unknown
  readonly new: unknown
  readonly result: boolean
}

export interface RuleExplanation {
  readonly rule: string
  readonly event: string | undefined
  readonly triggered: boolean
  readonly filter: boolean
  readonly wouldEnroll: boolean
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

/** `contexts` maps each event type to the context of the subject's latest event of that type. */
export const explainRules = (set: CompiledRuleSet, contexts: ReadonlyMap<string, EvalContext>, current: EvalContext): Array<RuleExplanation> =>
  set.rules.map((rule) => {
    const candidates = rule.triggerKeys.map((k) => contexts.get(k)).filter((c): c is EvalContext => c !== undefined)
    const ctx = candidates.find((c) => rule.fires(c)) ?? candidates[0] ?? current
    const triggered = candidates.some((c) => rule.fires(c))
    const filter = rule.where(ctx)
    const conditions: Array<ConditionExplanation> = [
      ...rule.node.triggers.filter((t) => t.kind !== "Event" && t.kind !== "DateTrigger").map((t) => ({
        condition: triggerText(t),
        old: value(ctx, (t as { path: Path }).path, true),
        new: value(ctx, (t as { path: Path }).path, false),
        result: triggered
      })),
      ...(rule.node.where === undefined ? [] : leaves(rule.node.where).map((c) => ({
        condition: formatCondition(c),
        old: "path" in c ? value(ctx, c.path, true) : null,
        new: "path" in c ? value(ctx, c.path, false) : null,
        result: compileCondition(c)(ctx)
      })))
    ]
    return { rule: rule.id, event: ctx.event?.["type"] as string | undefined, triggered, filter, wouldEnroll: triggered && filter, conditions }
  })
