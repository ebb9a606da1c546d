/**
 * Running a rule's program one step at a time. Pure: the engine stores the
 * position (one integer) and calls `advance` again after each action or when
 * a wait is over. Durations are calendar durations in the account's days;
 * months clamp to the month's end, as billing does.
 */
import { addDays, addMonthsClamped, toDayNumber } from "../engine/billing/index.ts"
import type { CalendarDate } from "../engine/domain/index.ts"
import type { Action, Duration } from "./ast.ts"
import type { EvalContext, Instruction } from "./compiler.ts"
import { compileCondition, interpolate } from "./compiler.ts"

export type ResolvedAction =
  | { readonly kind: "SendEmail"; readonly template: string; readonly to: "contact" | "billing contact" }
  | { readonly kind: "Notify"; readonly target: string; readonly who: string | undefined; readonly text: string }
  | { readonly kind: "Set"; readonly object: string; readonly property: string; readonly value: unknown }
  | { readonly kind: "CreateTask"; readonly title: string; readonly assignee: "owner" | "team"; readonly team: string | undefined; readonly dueOn: string }
  | { readonly kind: "ListChange"; readonly op: "add" | "remove"; readonly list: string }
  | { readonly kind: "Webhook"; readonly url: string }

export type Step =
  | { readonly kind: "action"; readonly action: ResolvedAction; readonly stepKey: string; readonly next: number }
  | { readonly kind: "wait"; readonly until: string; readonly next: number }
  | { readonly kind: "done" }

export const addDuration = (date: string, d: Duration, sign = 1): string => {
  const unit = d.unit.replace(/s$/, "")
  const n = sign * d.amount
  if (unit === "day") return addDays(date as CalendarDate, n)
  if (unit === "week") return addDays(date as CalendarDate, 7 * n)
  if (unit === "month") return addMonthsClamped(date as CalendarDate, n)
  return addMonthsClamped(date as CalendarDate, 12 * n)
}

const resolve = (a: Action, ctx: EvalContext, today: string): ResolvedAction => {
  switch (a.kind) {
    case "SendEmail":
      return { kind: "SendEmail", template: a.template, to: a.to }
    case "Notify":
      return { kind: "Notify", target: a.target, who: a.who?.value, text: interpolate(a.text?.value ?? "", ctx) }
    case "Set":
      return { kind: "Set", object: a.path.parts[0]!, property: a.path.parts[1]!, value: a.value.kind === "String" ? interpolate(a.value.value, ctx) : a.value.value }
    case "CreateTask":
      return { kind: "CreateTask", title: interpolate(a.text.value, ctx), assignee: a.assignee, team: a.team?.value, dueOn: addDuration(today, a.due) }
    case "ListChange":
      return { kind: "ListChange", op: a.op, list: a.list.value }
    case "Webhook":
      return { kind: "Webhook", url: a.url.value }
    default:
      throw new Error(`not an action: ${a.kind}`)
  }
}

/** From position `pc`, the next thing to do: an action to perform, a wait, or the end. */
export const advance = (program: ReadonlyArray<Instruction>, pc: number, ctx: EvalContext, today: string): Step => {
  for (let guard = 0; guard < 10_000; guard++) {
    const i = program[pc]
    if (i === undefined) return { kind: "done" }
    switch (i.op) {
      case "jump":
        pc = i.target
        break
      case "jumpIfNot":
        pc = compileCondition(i.condition)(ctx) ? pc + 1 : i.target
        break
      case "wait":
        return { kind: "wait", until: addDuration(today, i.duration), next: pc + 1 }
      case "waitUntil": {
        const base = (ctx as Record<string, Record<string, unknown> | undefined>)[i.path.parts[0]!]?.[i.path.parts[1]!]
        // A date not known (yet): the wait goes on, looked at again each day (`unenroll when` may end it). Going on at
        // once sent what came after it, a renewal offer for a subscription with no end date, at once.
        if (typeof base !== "string") return { kind: "wait", until: addDays(today as CalendarDate, 1), next: pc }
        const until = addDuration(base, i.duration, i.direction === "before" ? -1 : 1)
        if (toDayNumber(until as CalendarDate) <= toDayNumber(today as CalendarDate)) {
          pc++ // a time already past continues at once
          break
        }
        return { kind: "wait", until, next: pc + 1 }
      }
      case "act":
        return { kind: "action", action: resolve(i.action, ctx, today), stepKey: `step-${pc}`, next: pc + 1 }
    }
  }
  return { kind: "done" }
}
