/**
 * The checker: every name, type, duration and interpolation of a rule file
 * against the schema, each problem a diagnostic with its exact range, and
 * "did you mean" for near misses. Checks are written per AST node type.
 */
import type { Action, Condition, Duration, Literal, Path, Range, RuleFile, RuleNode, Text, Trigger } from "./ast.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { codes, didYouMean } from "./diagnostics.ts"
import type { CheckContext, PropertySpec, PropertyType } from "./schema.ts"
import { countryProperties, currencyProperties, durationUnits, events, knownCurrencies, objects, onceOnlyEvents } from "./schema.ts"

interface Scope {
  readonly rule: RuleNode
  /** Events that can trigger the rule: event.X is known only when they all define X. */
  readonly triggerEvents: ReadonlyArray<string> | undefined
}

export const checkRules = (file: RuleFile, context: CheckContext): Array<Diagnostic> => {
  const out: Array<Diagnostic> = []
  const error = (code: string, range: Range, message: string, hint?: string) => out.push({ code, severity: "error", range, message, hint })
  const warn = (code: string, range: Range, message: string, hint?: string) => out.push({ code, severity: "warning", range, message, hint })
  const seen = new Map<string, Range>()
  const currencies = new Set(context.currencies ?? knownCurrencies)

  // The lexer takes any dddd-dd-dd; only a real day of the calendar can ever be compared.
  const checkLiteral = (value: Literal | undefined) => {
    if (value?.kind === "Date" && !isCalendarDate(value.value)) {
      error(codes.badDate, value.range, `${value.value} is not a date of the calendar (year-month-day, such as 2026-12-31)`)
    }
  }

  const resolve = (path: Path | undefined, scope: Scope): PropertySpec | undefined => {
    if (path === undefined || path.parts.some((x) => x === undefined || x === "")) return undefined
    const [object, prop, ...rest] = path.parts
    if (object === "event") {
      const fields = scope.triggerEvents?.map((e) => events[e] ?? {})
      const type = fields?.every((f) => prop !== undefined && f[prop] !== undefined) ? fields[0]![prop!] : undefined
      if (type === undefined) {
        // The fields every trigger event has: the names `event.X` may read here, for a near miss.
        const known = fields === undefined ? [] : Object.keys(fields[0] ?? {}).filter((k) => fields.every((f) => f[k] !== undefined)).map((k) => `event.${k}`)
        error(codes.eventFieldOutside, path.range, scope.triggerEvents === undefined
          ? `"${path.parts.join(".")}": event fields are only known in a rule triggered by an event`
          : `"${path.parts.join(".")}" is not a field of ${scope.triggerEvents.join(" / ")}`, didYouMean(path.parts.join("."), known))
        return undefined
      }
      return { type, engineOwned: true }
    }
    // An invoice and a payment are those an invoice or payment event is about: in any other rule they never have a value.
    if ((object === "invoice" || object === "payment") && prop !== undefined) {
      const about = object === "invoice" ? ["invoice.", "payment."] : ["payment."]
      if (scope.triggerEvents === undefined || !scope.triggerEvents.every((e) => about.some((p) => e.startsWith(p)))) {
        error(codes.eventFieldOutside, path.range, `"${path.parts.join(".")}": ${object} values are only known in a rule triggered by ${object === "invoice" ? "invoice or payment events" : "payment events"}${scope.triggerEvents === undefined ? "" : ` (this one: ${scope.triggerEvents.join(" / ")})`}`)
        return undefined
      }
    }
    const props = object === undefined ? undefined : objects[object]
    if (props === undefined || prop === undefined || rest.length > 0) {
      error(codes.unknownProperty, path.range, `unknown property "${path.parts.join(".")}"`, didYouMean(path.parts.join("."), allPaths(context)))
      return undefined
    }
    const spec = props[prop] ?? (object === "subscription" && context.customProperties?.[prop] !== undefined ? { type: context.customProperties[prop]!, engineOwned: false } : undefined)
    if (spec === undefined) error(codes.unknownProperty, path.range, `unknown property "${path.parts.join(".")}"`, didYouMean(path.parts.join("."), allPaths(context)))
    return spec
  }

  const checkValue = (spec: PropertySpec, path: Path, value: Literal | undefined) => {
    if (value === undefined) return
    const name = path.parts.join(".")
    if (value.kind === "String" && currencyProperties.has(name) && !currencies.has(value.value)) {
      const upper = value.value.toUpperCase()
      if (currencies.has(upper)) warn(codes.neverMatches, value.range, `"${value.value}" never matches: currency codes are written in capitals`, `write "${upper}"`)
      else warn(codes.neverMatches, value.range, `"${value.value}" never matches: it is not an ISO 4217 currency code${context.currencies === undefined ? "" : ` of this account (${context.currencies.join(", ")})`}`, didYouMean(upper, currencies))
    }
    if (value.kind === "String" && countryProperties.has(name) && value.value !== value.value.toUpperCase()) {
      warn(codes.neverMatches, value.range, `"${value.value}" never matches: country codes are stored in capitals`, `write "${value.value.toUpperCase()}"`)
    }
    switch (spec.type) {
      case "money":
      case "number":
        if (value.kind !== "Number") error(codes.typeMismatch, value.range, `${name} is ${spec.type === "money" ? "an amount of money" : "a number"}; compare it with a number such as 50.00, not ${describe(value)}`)
        break
      case "date":
        if (value.kind !== "Date") error(codes.typeMismatch, value.range, `${name} is a date; compare it with a date such as 2026-12-31, not ${describe(value)}`)
        break
      case "boolean":
        if (value.kind !== "Bool") error(codes.typeMismatch, value.range, `${name} is true or false, not ${describe(value)}`)
        break
      case "status":
      case "string":
        if (value.kind !== "String") error(codes.typeMismatch, value.range, `${name} is text; write the value in quotes, not ${describe(value)}`)
        else if (spec.values !== undefined && !spec.values.includes(value.value)) {
          error(spec.type === "status" ? codes.unknownStatus : codes.unknownValue, value.range, `"${value.value}" is not a ${spec.type === "status" ? "status" : `value of ${name}`} (${spec.values.join(", ")})`, didYouMean(value.value, spec.values))
        }
        break
      default:
        break
    }
  }

  const checkDuration = (d: Duration | undefined) => {
    if (d === undefined) return
    if (d.unit === "") error(codes.unknownUnit, d.range, `${d.text} needs a unit: ${d.text} days, weeks, months or years`)
    else if (!durationUnits.includes(d.unit)) error(codes.unknownUnit, d.unitRange, `unknown duration unit "${d.unit}" (days, weeks, months, years)`, didYouMean(d.unit, durationUnits))
    if (!Number.isInteger(d.amount) || d.amount <= 0) error(codes.badDuration, d.range, `a duration must be a whole number greater than 0, got ${d.text}`)
  }

  const checkDatePath = (path: Path | undefined, scope: Scope) => {
    const spec = resolve(path, scope)
    if (path !== undefined && spec !== undefined && spec.type !== "date") error(codes.dateOnNonDate, path.range, `${path.parts.join(".")} is not a date: "before"/"after" need a date property such as subscription.end_date`)
  }

  const checkText = (t: Text | undefined, scope: Scope) => {
    if (t === undefined) return
    for (const m of t.value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      const parts = m[1]!.split(".")
      const col = t.range.col + 1 + m.index! + m[0].indexOf(m[1]!)
      const range: Range = { line: t.range.line, col, endLine: t.range.line, endCol: col + m[1]!.length - 1 }
      const before = out.length
      resolve({ kind: "Path", parts, range }, scope)
      for (let i = before; i < out.length; i++) {
        const d = out[i]!
        out[i] = { ...d, code: codes.unknownVariable, message: `unknown variable {{${m[1]}}} in text: ${d.message}` }
      }
    }
  }

  const checkCondition = (c: Condition | undefined, scope: Scope, inAnd = false): void => {
    // A node the parser recovered from is undefined: its error is reported already.
    if (c === undefined) return
    switch (c.kind) {
      case "And":
      case "Or":
        // A chain `a and b and c` is looked at once, from its top: any two of its conditions may contradict.
        checkCondition(c.left, scope, c.kind === "And")
        checkCondition(c.right, scope, c.kind === "And")
        if (c.kind === "And" && !inAnd) contradiction(c)
        break
      case "Not":
        checkCondition(c.operand, scope)
        break
      case "Known":
        resolve(c.path, scope)
        break
      case "Compare": {
        checkLiteral(c.value)
        const spec = resolve(c.path, scope)
        if (spec !== undefined) checkValue(spec, c.path, c.value)
        break
      }
      case "In": {
        for (const v of c.values) checkLiteral(v)
        const spec = resolve(c.path, scope)
        if (spec !== undefined) for (const v of c.values) checkValue(spec, c.path, v)
        break
      }
    }
  }

  // `x > 5 and x < 3`, or `s is "a" and s is "b"`: a condition that is never true. Any two conditions of a chain of
  // `and` on one property, numbers, amounts and dates alike; `x >= 5 and x <= 5` leaves 5, so bounds that meet
  // contradict only when one of them is strict. The warning spans the two conditions.
  const contradiction = (c: Condition) => {
    const conjuncts: Array<Condition & { kind: "Compare" }> = []
    const collect = (x: Condition | undefined): void => {
      if (x?.kind === "And") (collect(x.left), collect(x.right))
      else if (x?.kind === "Compare") conjuncts.push(x)
    }
    collect(c)
    const span = (l: Condition, r: Condition): Range => ({ line: l.range.line, col: l.range.col, endLine: r.range.endLine, endCol: r.range.endCol })
    for (let i = 0; i < conjuncts.length; i++) {
      for (let j = i + 1; j < conjuncts.length; j++) {
        const [l, r] = [conjuncts[i]!, conjuncts[j]!]
        if (l.path.parts.join(".") !== r.path.parts.join(".") || l.value.kind !== r.value.kind) continue
        if (l.op === "is" && r.op === "is" && l.value.kind === "String" && l.value.value !== r.value.value) {
          warn(codes.neverTrue, span(l, r), "this condition is never true: one property cannot have two values at once")
          return
        }
        if (l.value.kind !== "Number" && l.value.kind !== "Date") continue
        const lo = [l, r].find((x) => x.op === ">" || x.op === ">=")
        const hi = [l, r].find((x) => x.op === "<" || x.op === "<=")
        if (lo === undefined || hi === undefined) continue
        const [a, b] = [lo.value.value as number | string, hi.value.value as number | string]
        if (a > b || (a === b && (lo.op === ">" || hi.op === "<"))) {
          warn(codes.neverTrue, span(l, r), "this condition is never true: no value is both above and below these bounds")
          return
        }
      }
    }
  }

  /**
   * A filter is checked on the new state when a trigger fires, and `P becomes V` (or `changes … to V`) leaves P at V:
   * `when subscription.status becomes "active" where subscription.status is "canceled"` never enrolls anything. The
   * warning sits at the part of the filter (a conjunct) that is false whichever trigger fires.
   */
  const contradictsTriggers = (rule: RuleNode) => {
    const fixed = rule.triggers.map(fixedBy)
    if (rule.where === undefined || fixed.length === 0 || fixed.some((f) => f === undefined)) return
    const falseForAll = (c: Condition) => fixed.every((f) => holds(c, f!) === false)
    const culprit = (c: Condition): Condition | undefined =>
      c.kind === "And" ? culprit(c.left) ?? culprit(c.right) ?? (falseForAll(c) ? c : undefined) : falseForAll(c) ? c : undefined
    const found = culprit(rule.where)
    if (found === undefined) return
    warn(codes.neverTrue, found.range, `this filter is never true when the rule fires: it is checked on the state after the trigger, and after ${fixed.map((f) => f!.source).join(" or ")} it is false`)
  }

  /** `unenroll when` is checked before every step: one the trigger makes true ends each enrollment before its first action. */
  const unenrollsAtOnce = (rule: RuleNode) => {
    const fixed = rule.triggers.map(fixedBy)
    if (rule.unenroll === undefined || fixed.length === 0 || fixed.some((f) => f === undefined)) return
    if (!fixed.every((f) => holds(rule.unenroll, f!) === true)) return
    warn(codes.unenrollsAtOnce, rule.unenroll.range, `this unenroll condition is true when the rule fires (after ${fixed.map((f) => f!.source).join(" or ")}): it is checked before every step, so the enrollment ends before its first action`)
  }

  /**
   * Rules enroll subscriptions on their own changes; a contact's change (`contacts update`) is no event of its
   * subscriptions, and the contact reads the same before and after each of them: a trigger on it never fires.
   */
  const contactTrigger = (t: Extract<Trigger, { kind: "Becomes" | "Changes" }>) => {
    if (t.path?.parts[0] !== "contact") return
    const name = t.path.parts.join(".")
    const condition = t.kind === "Changes" ? `${name} is ${literalText(t.to)}` : t.known !== undefined ? `${name} is ${t.known ? "known" : "unknown"}` : `${name} ${t.op === undefined || t.op === "=" ? "is" : t.op} ${literalText(t.value!)}`
    warn(codes.neverFires, t.range, `this trigger can never fire: rules watch a subscription's changes, and a contact's properties are only read (a change to the contact enrolls nothing)`,
      `when event subscription.created (or another trigger on the subscription) with the filter where ${condition}`)
  }

  const checkTrigger = (t: Trigger | undefined, scope: Scope) => {
    if (t === undefined) return
    switch (t.kind) {
      case "Event":
        if (events[t.name] === undefined) error(codes.unknownEvent, t.range, `unknown event "${t.name}"`, didYouMean(t.name, Object.keys(events)))
        break
      case "DateTrigger":
        checkDuration(t.duration)
        checkDatePath(t.path, scope)
        // A date trigger fires while the subscription is live; canceled_on is known only once it is canceled.
        if (t.path?.parts.join(".") === "subscription.canceled_on") {
          warn(codes.neverFires, t.range, "this trigger can never fire: a date trigger fires while the subscription is live, and canceled_on is only known once it is canceled",
            `when subscription.status becomes "canceled", then "wait ${t.duration.text} ${t.duration.unit}" as the first action`)
        }
        break
      case "Becomes": {
        checkLiteral(t.value)
        const spec = resolve(t.path, scope)
        if (spec !== undefined && t.value !== undefined) checkValue(spec, t.path, t.value)
        if (spec !== undefined) contactTrigger(t)
        break
      }
      case "Changes": {
        checkLiteral(t.from)
        checkLiteral(t.to)
        const spec = resolve(t.path, scope)
        if (spec !== undefined) contactTrigger(t)
        if (spec !== undefined) {
          checkValue(spec, t.path, t.from)
          checkValue(spec, t.path, t.to)
          if (t.from.kind === t.to.kind && JSON.stringify((t.from as { value: unknown }).value) === JSON.stringify((t.to as { value: unknown }).value)) {
            warn(codes.neverFires, t.range, "this trigger can never fire: a change from a value to the same value is no change")
          }
        }
        break
      }
    }
  }

  const checkActions = (actions: ReadonlyArray<Action | undefined> | undefined, scope: Scope) => {
    for (const a of actions ?? []) {
      if (a === undefined) continue
      switch (a.kind) {
        case "SendEmail":
          // An empty name was inserted by the parser's recovery: its syntax error is reported already.
          if (a.template !== "" && !context.templates.includes(a.template)) error(codes.unknownTemplate, a.templateRange, `unknown email template "${a.template}"`, didYouMean(a.template, context.templates))
          break
        case "Notify":
          if (!["team", "owner", "user"].includes(a.target)) error(codes.syntax, a.range, `notify team "NAME", notify owner or notify user "EMAIL", not "${a.target}"`)
          if (a.text === undefined) error(codes.syntax, a.range, `notify needs a message in quotes: ${notifyExample(a.target)}`)
          else if (a.target !== "owner" && a.who === undefined) error(codes.syntax, a.text.range, `notify ${a.target} needs ${a.target === "team" ? "a team" : "an email address"} and a message: ${notifyExample(a.target)}`)
          if (a.target === "team" && a.who !== undefined && !context.teams.includes(a.who.value)) error(codes.unknownTeam, a.who.range, `unknown team "${a.who.value}" (${declared(context.teams, "teams")})`, didYouMean(a.who.value, context.teams))
          checkText(a.text, scope)
          break
        case "Set": {
          checkLiteral(a.value)
          // A text set is filled in as a notification's is (`set subscription.owner to "{{contact.email}}"`).
          if (a.value.kind === "String") checkText({ kind: "Text", value: a.value.value, range: a.value.range }, scope)
          const spec = resolve(a.path, scope)
          if (spec !== undefined) {
            if (spec.engineOwned) error(codes.engineOwned, a.path.range, `${a.path.parts.join(".")} is set by the billing engine; a rule cannot change it`)
            else checkValue(spec, a.path, a.value)
          }
          break
        }
        case "CreateTask":
          checkText(a.text, scope)
          checkDuration(a.due)
          if (a.team !== undefined && !context.teams.includes(a.team.value)) error(codes.unknownTeam, a.team.range, `unknown team "${a.team.value}" (${declared(context.teams, "teams")})`, didYouMean(a.team.value, context.teams))
          break
        case "ListChange":
          if (context.lists !== undefined && !context.lists.includes(a.list.value)) error(codes.unknownList, a.list.range, `unknown list "${a.list.value}" (${declared(context.lists, "lists")})`, didYouMean(a.list.value, context.lists))
          break
        case "Wait":
          checkDuration(a.duration)
          break
        case "WaitUntil":
          checkDuration(a.duration)
          checkDatePath(a.path, scope)
          break
        case "If":
          checkCondition(a.condition, scope)
          checkActions(a.then, scope)
          if (a.otherwise !== undefined) checkActions(a.otherwise, scope)
          break
        case "Webhook":
          if (!/^https?:\/\//.test(a.url.value)) error(codes.typeMismatch, a.url.range, `"${a.url.value}" is not a URL`)
          else if (!a.url.value.startsWith("https://")) warn(codes.insecureWebhook, a.url.range, "this webhook is not https: its signed payload travels in clear text")
          break
      }
    }
  }

  for (const rule of file.rules) {
    const first = seen.get(rule.id)
    if (first !== undefined) error(codes.duplicateRule, rule.idRange, `rule "${rule.id}" is defined twice (first on line ${first.line})`)
    else seen.set(rule.id, rule.idRange)
    const eventTriggers = rule.triggers.filter((t): t is Trigger & { kind: "Event" } => t.kind === "Event").map((t) => t.name)
    const scope: Scope = { rule, triggerEvents: eventTriggers.length === rule.triggers.length && eventTriggers.length > 0 ? eventTriggers : undefined }
    for (const t of rule.triggers) checkTrigger(t, scope)
    if (rule.where !== undefined) {
      checkCondition(rule.where, scope)
      contradictsTriggers(rule)
    }
    if (rule.unenroll !== undefined) {
      checkCondition(rule.unenroll, scope)
      unenrollsAtOnce(rule)
    }
    if (rule.reenroll && eventTriggers.length > 0 && eventTriggers.every((e) => onceOnlyEvents.has(e))) {
      warn(codes.reenrollOnce, rule.reenrollRange ?? rule.idRange, `"reenroll" has no effect: ${eventTriggers.join(", ")} happens once per subscription`)
    }
    checkActions(rule.actions, scope)
  }
  return out
}

/**
 * What a trigger says of the new state when it fires: the property it names holds that value (`becomes V`,
 * `changes … to V`), or lies within a bound (`becomes >= V`, `<`, `<=`, `>`).
 */
interface Fixed { readonly path: string; readonly value: Literal; readonly op: "=" | "<" | "<=" | ">" | ">="; readonly source: string }

const fixedBy = (t: Trigger | undefined): Fixed | undefined => {
  if (t === undefined) return undefined
  const path = t.kind === "Becomes" || t.kind === "Changes" ? t.path.parts.join(".") : ""
  if (t.kind === "Becomes" && (t.op === undefined || t.op === "=") && t.value !== undefined) return { path, value: t.value, op: "=", source: `${path} becomes ${literalText(t.value)}` }
  if (t.kind === "Becomes" && (t.op === "<" || t.op === "<=" || t.op === ">" || t.op === ">=") && (t.value?.kind === "Number" || t.value?.kind === "Date")) {
    return { path, value: t.value, op: t.op, source: `${path} becomes ${t.op} ${literalText(t.value)}` }
  }
  if (t.kind === "Changes") return { path, value: t.to, op: "=", source: `${path} changes from ${literalText(t.from)} to ${literalText(t.to)}` }
  return undefined
}

const literalText = (v: Literal) => (v.kind === "String" ? `"${v.value}"` : v.kind === "Number" ? v.text : String(v.value))

const sameLiteral = (a: Literal, b: Literal) => a.kind === b.kind && a.value === b.value

/** The values `x OP v` allows, as an interval; an end that is undefined is open (no bound). */
interface Interval { readonly lo?: number | string; readonly loStrict?: boolean; readonly hi?: number | string; readonly hiStrict?: boolean }
const intervalOf = (op: string, v: number | string): Interval | undefined =>
  op === ">" ? { lo: v, loStrict: true } : op === ">=" ? { lo: v } : op === "<" ? { hi: v, hiStrict: true } : op === "<=" ? { hi: v }
  : op === "is" || op === "=" ? { lo: v, hi: v } : undefined
/** No value lies in both. */
const disjoint = (a: Interval, b: Interval): boolean => {
  const below = (x: Interval, y: Interval) => x.hi !== undefined && y.lo !== undefined && (x.hi < y.lo || (x.hi === y.lo && (x.hiStrict === true || y.loStrict === true)))
  return below(a, b) || below(b, a)
}
/** Every value of `a` lies in `b`. */
const within = (a: Interval, b: Interval): boolean => {
  const loOk = b.lo === undefined || (a.lo !== undefined && (a.lo > b.lo || (a.lo === b.lo && (b.loStrict !== true || a.loStrict === true))))
  const hiOk = b.hi === undefined || (a.hi !== undefined && (a.hi < b.hi || (a.hi === b.hi && (b.hiStrict !== true || a.hiStrict === true))))
  return loOk && hiOk
}

/** The condition's truth when `f.path` is `f.value` (or within `f.op f.value`): `undefined` where it depends on anything else. */
const holds = (c: Condition | undefined, f: Fixed): boolean | undefined => {
  if (c === undefined) return undefined
  switch (c.kind) {
    case "And": {
      const [l, r] = [holds(c.left, f), holds(c.right, f)]
      return l === false || r === false ? false : l === true && r === true ? true : undefined
    }
    case "Or": {
      const [l, r] = [holds(c.left, f), holds(c.right, f)]
      return l === true || r === true ? true : l === false && r === false ? false : undefined
    }
    case "Not": {
      const v = holds(c.operand, f)
      return v === undefined ? undefined : !v
    }
    case "Known":
      return c.path.parts.join(".") === f.path ? c.known : undefined
    case "In":
      if (f.op !== "=" || c.path.parts.join(".") !== f.path || c.values.some((v) => v.kind !== f.value.kind)) return undefined
      return c.values.some((v) => sameLiteral(v, f.value)) !== c.negated
    case "Compare": {
      if (c.path.parts.join(".") !== f.path || c.value.kind !== f.value.kind) return undefined
      if (f.op !== "=") {
        // A bound: the condition is true when the bound lies within it, false when they share no value.
        const [x, y] = [f.value.value, c.value.value]
        if (typeof x !== typeof y || (typeof x !== "number" && typeof x !== "string")) return undefined
        const fixed = intervalOf(f.op, x)!
        if (c.op === "is not") return disjoint(fixed, { lo: y as number | string, hi: y as number | string }) ? true : undefined
        const wanted = intervalOf(c.op, y as number | string)
        if (wanted === undefined) return undefined
        return within(fixed, wanted) ? true : disjoint(fixed, wanted) ? false : undefined
      }
      if (c.op === "is") return sameLiteral(c.value, f.value)
      if (c.op === "is not") return !sameLiteral(c.value, f.value)
      const [x, y] = [f.value.value, c.value.value]
      if (!((typeof x === "number" && typeof y === "number") || (typeof x === "string" && typeof y === "string" && f.value.kind === "Date"))) return undefined
      return c.op === "<" ? x < y : c.op === "<=" ? x <= y : c.op === ">" ? x > y : c.op === ">=" ? x >= y : undefined
    }
  }
}

/** A real day: 2026-02-29 and 2026-13-45 are not. */
export const isCalendarDate = (text: string): boolean => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (m === null) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(y, mo - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

const describe = (v: Literal) => (v.kind === "String" ? `the text "${v.value}"` : v.kind === "Number" ? `the number ${v.text}` : v.kind === "Date" ? `the date ${v.value}` : String(v.value))

const allPaths = (context: CheckContext) => [
  ...Object.entries(objects).flatMap(([o, props]) => Object.keys(props).map((k) => `${o}.${k}`)),
  ...Object.keys(context.customProperties ?? {}).map((k) => `subscription.${k}`)
]

export type { PropertyType }

/** The names a rule may use, for a message; `"teams": []` is a declaration too, and is said so rather than shown as `()`. */
const declared = (names: ReadonlyArray<string>, what: "teams" | "lists") => (names.length === 0 ? `declarations.json declares no ${what}` : names.join(", "))

const notifyExample = (target: string) => (target === "team" ? 'notify team "finance" "TEXT"' : target === "user" ? 'notify user "EMAIL" "TEXT"' : 'notify owner "TEXT"')
