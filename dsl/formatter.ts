/**
 * The canonical formatting of rule files: two-space indentation, one clause
 * per line, one blank line between rules; a comment stays above the clause it
 * was written above, or beside the clause it was written beside, and the
 * parentheses the author wrote stay. Formatting is idempotent and never
 * changes what a file means (tested: parse(fmt(x)) equals parse(x)).
 */
import type { IToken, TokenType } from "chevrotain"
import type { Action, Condition, Duration, Literal, Path, RuleNode, Text, Trigger } from "./ast.ts"
import * as T from "./lexer.ts"
import { parseRules } from "./parser.ts"

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`
const path = (p: Path) => p.parts.join(".")
const literal = (v: Literal) => (v.kind === "String" ? quote(v.value) : v.kind === "Number" ? v.text : v.kind === "Date" ? v.value : String(v.value))
// `due in 2` parses (the checker's E108 asks for the unit): it prints as written, without a trailing space.
const duration = (d: Duration) => (d.unit === "" ? d.text : `${d.text} ${d.unit}`)
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
  // Parentheses the author wrote stay, even where precedence does not need them: they read better.
  return precedence(c) < parent || c.parens === true ? `(${s})` : s
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

const actions = (list: ReadonlyArray<Action>, indent: string): Array<string> => list.flatMap((a) => action(a, indent))

const action = (a: Action, indent: string): Array<string> => {
  switch (a.kind) {
    case "SendEmail":
      return [`${indent}send email ${a.template} to ${a.to}`]
    case "Notify":
      return [`${indent}notify ${a.target}${a.who === undefined ? "" : ` ${text(a.who)}`}${a.text === undefined ? "" : ` ${text(a.text)}`}`]
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
        ...actions(a.then, indent + "  "),
        ...(a.otherwise === undefined ? [] : [`${indent}else`, ...actions(a.otherwise, indent + "  ")]),
        `${indent}end`
      ]
    case "Webhook":
      return [`${indent}webhook post ${text(a.url)}`]
  }
}

/** A rule's lines, one clause per line, without comments (also the text its version hash is taken of). */
const ruleLines = (r: RuleNode): Array<string> => [
  `rule ${r.id}${r.title === undefined ? "" : ` ${quote(r.title)}`}`,
  `  when ${r.triggers.map(trigger).join(" or ")}`,
  ...(r.where === undefined ? [] : [`  where ${formatCondition(r.where)}`]),
  ...(r.reenroll ? ["  reenroll"] : []),
  ...(r.unenroll === undefined ? [] : [`  unenroll when ${formatCondition(r.unenroll)}`]),
  "then",
  ...actions(r.actions, "  "),
  "end"
]

export const formatRule = (r: RuleNode): string => ruleLines(r).join("\n")

/**
 * The token that opens each line `ruleLines` prints, in source order: the
 * formatted lines and these tokens correspond one to one, which is how a
 * comment finds the line it was written above or beside.
 */
const lineLeaders = (tokens: ReadonlyArray<IToken>): Array<IToken> => {
  const out: Array<IToken> = []
  let inIf = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.tokenType === T.When && tokens[i - 1]?.tokenType === T.Unenroll) continue
    if (t.tokenType === T.Then && inIf) {
      inIf = false
      continue
    }
    if (t.tokenType === T.If) inIf = true
    if (leaderTypes.has(t.tokenType)) out.push(t)
  }
  return out
}
const leaderTypes = new Set<TokenType>([T.Rule, T.When, T.Where, T.Reenroll, T.Unenroll, T.Then, T.Else, T.End, T.Send, T.Notify, T.Set, T.Create, T.Add, T.Remove, T.Wait, T.If, T.Webhook])

/** The index of the last element whose offset is <= `offset` (the array is sorted by offset). */
const lastAtOrBefore = (items: ReadonlyArray<IToken>, offset: number): number => {
  let lo = 0
  let hi = items.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (items[mid]!.startOffset <= offset) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** Formats a whole file; undefined when it does not parse (the checker reports why). */
export const formatRules = (source: string): string | undefined => {
  const parsed = parseRules(source)
  if (parsed.diagnostics.length > 0) return undefined
  const lexed = T.ruleLexer().tokenize(source)
  const tokens = lexed.tokens
  const leaders = lineLeaders(tokens)
  const perRule = parsed.file.rules.map(ruleLines)
  if (perRule.reduce((n, lines) => n + lines.length, 0) !== leaders.length) throw new Error("formatter: printed lines and source clauses differ")
  // A comment belongs to the line its previous token is on when it shares that token's line
  // (beside it), else to the line of the token that follows it (above it).
  const above = new Map<number, Array<string>>()
  const beside = new Map<number, Array<string>>()
  const atEnd: Array<string> = []
  let endGap = false
  for (const c of lexed.groups["comments"] ?? []) {
    const next = lastAtOrBefore(tokens, c.startOffset) + 1
    const prev = tokens[next - 1]
    const comment = c.image.trimEnd()
    if (prev !== undefined && prev.endLine === c.startLine) {
      const k = lastAtOrBefore(leaders, prev.startOffset)
      beside.set(k, [...(beside.get(k) ?? []), comment])
    } else if (next < tokens.length) {
      const k = lastAtOrBefore(leaders, tokens[next]!.startOffset)
      above.set(k, [...(above.get(k) ?? []), comment])
    } else {
      if (atEnd.length === 0) endGap = prev === undefined || (c.startLine ?? 0) > (prev.endLine ?? 0) + 1
      atEnd.push(comment)
    }
  }
  let k = 0
  const rules = perRule.map((lines) =>
    lines.flatMap((line) => {
      // A comment takes the indentation of the line below it; above a rule's `end` it ends the body.
      const indent = line === "end" ? "  " : /^ */.exec(line)![0]
      const out = [...(above.get(k) ?? []).map((c) => indent + c), beside.has(k) ? `${line} ${beside.get(k)!.join(" ")}` : line]
      k++
      return out
    }).join("\n"))
  const body = rules.join("\n\n")
  if (atEnd.length === 0) return body + "\n"
  return body === "" ? atEnd.join("\n") + "\n" : `${body}${endGap ? "\n\n" : "\n"}${atEnd.join("\n")}\n`
}
