/**
 * The canonical formatting of rule files: two-space indentation, one clause
 * per line, one blank line between rules, comments kept above the rule (or
 * the clause) they precede. Formatting is idempotent and never changes what
 * a file means (tested: parse(fmt(x)) equals parse(x)).
 */
import type { Action, Condition, Duration, Literal, Path, RuleNode, Text, Trigger } from "./ast.ts"
import { parseRules } from "./parser.ts"

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`
const path = (p: Path) => p.parts.join(".")
const literal = (v: Literal) => (v.kind === "String" ? quote(v.value) : v.kind === "Number" ? v.text : v.kind === "Date" ? v.value : String(v.value))
const duration = (d: Duration) => `${d.text} ${d.unit}`
const text = (t: Text) => quote(t.value)

const precedence = (c: Condition) => (c.kind === "Or" ? 1 : c.kind === "And" ? 2 : 3)

export const formatCondition = (c: Condition, parent = 0): string => {
  let s: string
  switch (c.kind) {
    case "Or":
    case "And":
      s = `${formatCondition(c.left, precedence(c))} ${c.kind.toLowerCase()} ${formatCondition(c.right, precedence(c) + (c.right.kind === c.kind ? 1 : 0))}`
      break
    case "Not":
      s = `not ${formatCondition(c.operand, 3)}`
      break
    case "Known":
      s = `${path(c.path)} is ${c.known ? "known" : "unknown"}`
      break
    case "Compare":
      s = `${path(c.path)} ${c.op} ${literal(c.value)}`
      break
    case "In":
      s = `${path(c.path)} ${c.negated ? "not in" : "in"} [${c.values.map(literal).join(", ")}]`
      break
  }
  return precedence(c) < parent ? `(${s})` : s
}

const trigger = (t: Trigger): string => {
  switch (t.kind) {
    case "Event":
      return `event ${t.name}`
    case "DateTrigger":
      return `${duration(t.duration)} ${t.direction} ${path(t.path)}`
    case "Becomes":
      return `${path(t.path)} becomes ${t.known === undefined ? `${t.op === undefined ? "" : `${t.op} `}${literal(t.value!)}` : t.known ? "known" : "unknown"}`
    case "Changes":
      return `${path(t.path)} changes from ${literal(t.from)} to ${literal(t.to)}`
  }
}

const actions = (list: ReadonlyArray<Action>, indent: string, comments: CommentQueue): Array<string> =>
  list.flatMap((a) => [...comments.before(a.range.line, indent), ...action(a, indent, comments)])

const action = (a: Action, indent: string, comments: CommentQueue): Array<string> => {
  switch (a.kind) {
    case "SendEmail":
      return [`${indent}send email ${a.template} to ${a.to}`]
    case "Notify":
      return [`${indent}notify ${a.target}${a.who === undefined ? "" : ` ${text(a.who)}`} ${text(a.text)}`]
    case "Set":
      return [`${indent}set ${path(a.path)} to ${literal(a.value)}`]
    case "CreateTask":
      return [`${indent}create task ${text(a.text)} for ${a.assignee}${a.team === undefined ? "" : ` ${text(a.team)}`} due in ${duration(a.due)}`]
    case "ListChange":
      return [`${indent}${a.op} contact ${a.op === "add" ? "to" : "from"} list ${text(a.list)}`]
    case "Wait":
      return [`${indent}wait ${duration(a.duration)}`]
    case "WaitUntil":
      return [`${indent}wait until ${duration(a.duration)} ${a.direction} ${path(a.path)}`]
    case "If":
      return [
        `${indent}if ${formatCondition(a.condition)} then`,
        ...actions(a.then, indent + "  ", comments),
        ...(a.otherwise === undefined ? [] : [`${indent}else`, ...actions(a.otherwise, indent + "  ", comments)]),
        `${indent}end`
      ]
    case "Webhook":
      return [`${indent}webhook post ${text(a.url)}`]
  }
}

class CommentQueue {
  private readonly items: Array<{ line: number; text: string }>
  constructor(items: ReadonlyArray<{ line: number; text: string }>) {
    this.items = [...items].sort((a, b) => a.line - b.line)
  }
  /** Comments on lines before `line` that are not printed yet. */
  before(line: number, indent: string): Array<string> {
    const out: Array<string> = []
    while (this.items.length > 0 && this.items[0]!.line < line) out.push(indent + this.items.shift()!.text.trimEnd())
    return out
  }
  rest(): Array<string> {
    return this.items.splice(0).map((c) => c.text.trimEnd())
  }
}

export const formatRule = (r: RuleNode, comments: CommentQueue = new CommentQueue([])): string => {
  const lines = [
    ...comments.before(r.range.line, ""),
    `rule ${r.id}${r.title === undefined ? "" : ` ${quote(r.title)}`}`,
    `  when ${r.triggers.map(trigger).join(" or ")}`,
    ...(r.where === undefined ? [] : [`  where ${formatCondition(r.where)}`]),
    ...(r.reenroll ? ["  reenroll"] : []),
    ...(r.unenroll === undefined ? [] : [`  unenroll when ${formatCondition(r.unenroll)}`]),
    "then",
    ...actions(r.actions, "  ", comments),
    ...comments.before(r.range.endLine, "  "),
    "end"
  ]
  return lines.join("\n")
}

/** Formats a whole file; undefined when it does not parse (the checker reports why). */
export const formatRules = (source: string): string | undefined => {
  const parsed = parseRules(source)
  if (parsed.diagnostics.length > 0) return undefined
  const comments = new CommentQueue(parsed.comments)
  const rules = parsed.file.rules.map((r) => formatRule(r, comments))
  const trailing = comments.rest()
  return [...rules, ...(trailing.length === 0 ? [] : [trailing.join("\n")])].join("\n\n") + "\n"
}
