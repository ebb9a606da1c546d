/**
 * The rule language's parser: a Chevrotain parser with error recovery that
 * builds the AST directly (embedded actions), kept as a module singleton.
 * A broken rule is reported and skipped; the parser re-syncs at the next
 * `rule`, so every error of a file is reported in one run.
 */
import { EmbeddedActionsParser, EOF } from "chevrotain"
import type { IToken, TokenType } from "chevrotain"
import type { Action, Condition, Duration, Literal, Path, Range, RuleFile, RuleNode, Text, Trigger } from "./ast.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { codes, didYouMean } from "./diagnostics.ts"
import * as T from "./lexer.ts"
import { events, knownCurrencies } from "./schema.ts"

// Tokens inserted by error recovery have no position (NaN): they borrow the place of the
// last real token the parser read, so a diagnostic about them lands where the gap is.
const pos = (n: number | undefined, fallback: number) => (n !== undefined && Number.isFinite(n) && n > 0 ? n : fallback)
const positioned = (t: IToken | undefined): t is IToken => t !== undefined && Number.isFinite(t.startLine ?? NaN) && (t.startLine ?? 0) > 0
const rangeOf = (first: IToken | undefined, last: IToken | undefined = first): Range => {
  if (!positioned(first)) {
    if (!positioned(last)) return lastRead()
    first = last
  }
  if (!positioned(last)) last = first
  const line = pos(first.startLine, 1)
  const col = pos(first.startColumn, 1)
  return { line, col, endLine: pos(last.endLine, line), endCol: pos(last.endColumn, col) }
}
const nowhere: Range = { line: 1, col: 1, endLine: 1, endCol: 1 }
// Set once the singleton exists: during grammar recording there is nothing read yet.
let reading: RuleParser | undefined
const lastRead = (): Range => {
  const t = reading?.lastRead()
  return positioned(t) ? rangeOf(t) : nowhere
}
// During recovery a sub-node can be missing: its range falls back to the other end's.
const span = (a: Range | undefined, b: Range | undefined): Range => {
  const from = a ?? b ?? nowhere
  const to = b ?? a ?? nowhere
  return { line: from.line, col: from.col, endLine: to.endLine, endCol: to.endCol }
}
const unquote = (image: string) => image.slice(1, -1).replace(/\\(.)/g, "$1")

class RuleParser extends EmbeddedActionsParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3 })
    this.performSelfAnalysis()
  }

  file = this.RULE("file", (): RuleFile => {
    const rules: Array<RuleNode> = []
    this.MANY(() => {
      const r = this.SUBRULE(this.rule)
      this.ACTION(() => { if (r !== undefined && r.id !== "") rules.push(r) })
    })
    return { rules }
  })

  rule = this.RULE("rule", (): RuleNode => {
    const start = this.CONSUME(T.Rule)
    const id = this.CONSUME(T.Identifier)
    const title = this.OPTION(() => this.CONSUME(T.StringLiteral))
    this.CONSUME(T.When)
    const triggers: Array<Trigger | undefined> = []
    triggers.push(this.SUBRULE(this.trigger))
    this.MANY(() => {
      this.CONSUME(T.Or)
      triggers.push(this.SUBRULE2(this.trigger))
    })
    const where = this.OPTION2(() => {
      this.CONSUME(T.Where)
      return this.SUBRULE(this.condition)
    })
    const reenroll = this.OPTION3(() => this.CONSUME(T.Reenroll))
    const unenroll = this.OPTION4(() => {
      this.CONSUME(T.Unenroll)
      this.CONSUME2(T.When)
      return this.SUBRULE2(this.condition)
    })
    this.CONSUME(T.Then)
    const actions = this.SUBRULE(this.actions)
    const end = this.CONSUME(T.End)
    return this.ACTION(() => ({
      kind: "Rule" as const, id: id.image, idRange: rangeOf(id), title: title === undefined ? undefined : unquote(title.image),
      triggers: triggers.filter((t) => t !== undefined), where, reenroll: reenroll !== undefined, reenrollRange: reenroll === undefined ? undefined : rangeOf(reenroll),
      unenroll, actions: (actions ?? []).filter((a) => a !== undefined), comments: [], range: rangeOf(start, end)
    }))
  })

  path = this.RULE("path", (): Path => {
    // `event` is a keyword, and also the root of event fields (event.reason).
    const first = this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.Event) }])
    const parts = [first.image]
    let last = first
    this.MANY(() => {
      this.CONSUME(T.Dot)
      last = this.CONSUME(T.Name)
      this.ACTION(() => parts.push(last.image))
    })
    return { kind: "Path", parts, range: rangeOf(first, last) }
  })

  literal = this.RULE("literal", (): Literal =>
    this.OR([
      { ALT: () => { const t = this.CONSUME(T.StringLiteral); return { kind: "String" as const, value: unquote(t.image), range: rangeOf(t) } } },
      { ALT: () => { const t = this.CONSUME(T.NumberLiteral); return { kind: "Number" as const, value: Number(t.image), text: t.image, range: rangeOf(t) } } },
      { ALT: () => { const t = this.CONSUME(T.DateLiteral); return { kind: "Date" as const, value: t.image, range: rangeOf(t) } } },
      { ALT: () => { const t = this.CONSUME(T.True); return { kind: "Bool" as const, value: true, range: rangeOf(t) } } },
      { ALT: () => { const t = this.CONSUME(T.False); return { kind: "Bool" as const, value: false, range: rangeOf(t) } } }
    ]))

  /** The last token consumed: where a token inserted by recovery is missing. */
  lastRead(): IToken | undefined {
    return this.LA(0)
  }

  // The unit is optional in the grammar so that `due in 2` is one checker error at the
  // number ("needs a unit"), not a syntax error at whatever follows it.
  duration = this.RULE("duration", (): Duration => {
    const n = this.CONSUME(T.NumberLiteral)
    const unit = this.OPTION(() => this.CONSUME(T.Identifier))
    return unit === undefined
      ? { kind: "Duration", amount: Number(n.image), text: n.image, unit: "", range: rangeOf(n), unitRange: rangeOf(n) }
      : { kind: "Duration", amount: Number(n.image), text: n.image, unit: unit.image, range: rangeOf(n, unit), unitRange: rangeOf(unit) }
  })

  // A trigger that recovery left without its path, duration or literals is dropped: the syntax error is already
  // reported, and the checker reads only whole triggers.
  trigger = this.RULE("trigger", (): Trigger | undefined =>
    this.OR([
      {
        ALT: () => {
          const e = this.CONSUME(T.Event)
          const name = this.SUBRULE(this.path)
          return this.ACTION(() => ({ kind: "Event" as const, name: (name?.parts ?? []).join("."), range: span(rangeOf(e), name?.range) }))
        }
      },
      {
        ALT: () => {
          const d = this.SUBRULE(this.duration)
          const dir = this.OR2([{ ALT: () => this.CONSUME(T.Before) }, { ALT: () => this.CONSUME(T.After) }])
          const p = this.SUBRULE2(this.path)
          return this.ACTION(() => d === undefined || p === undefined ? undefined : ({ kind: "DateTrigger" as const, duration: d, direction: dir?.image === "after" ? "after" as const : "before" as const, path: p, range: span(d?.range, p?.range) }))
        }
      },
      {
        ALT: () => {
          const p = this.SUBRULE3(this.path)
          return this.OR3([
            {
              ALT: () => {
                const b = this.CONSUME(T.Becomes)
                return this.OR4([
                  { ALT: () => { const k = this.CONSUME(T.Known); return this.ACTION(() => p === undefined ? undefined : ({ kind: "Becomes" as const, path: p, op: undefined, value: undefined, known: true, range: span(p?.range, rangeOf(k)) })) } },
                  { ALT: () => { const k = this.CONSUME(T.Unknown); return this.ACTION(() => p === undefined ? undefined : ({ kind: "Becomes" as const, path: p, op: undefined, value: undefined, known: false, range: span(p?.range, rangeOf(k)) })) } },
                  {
                    ALT: () => {
                      const op = this.OPTION(() => this.CONSUME(T.Compare))
                      const v = this.SUBRULE(this.literal)
                      return this.ACTION(() => p === undefined ? undefined : ({ kind: "Becomes" as const, path: p, op: op?.image, value: v, known: undefined, range: span(p?.range, v?.range ?? rangeOf(b)) }))
                    }
                  }
                ])
              }
            },
            {
              ALT: () => {
                this.CONSUME(T.Changes)
                this.CONSUME(T.From)
                const from = this.SUBRULE2(this.literal)
                this.CONSUME(T.To)
                const to = this.SUBRULE3(this.literal)
                return this.ACTION(() => p === undefined || from === undefined || to === undefined ? undefined : ({ kind: "Changes" as const, path: p, from, to, range: span(p.range, to.range) }))
              }
            }
          ])
        }
      }
    ]))

  // Conditions, like triggers and actions, leave out what recovery could not read: an `and` or `or` missing a side
  // is the side that is there, a comparison missing its path or value is none.
  condition = this.RULE("condition", (): Condition | undefined => {
    let left = this.SUBRULE(this.andCondition)
    this.MANY(() => {
      this.CONSUME(T.Or)
      const right = this.SUBRULE2(this.andCondition)
      left = this.ACTION(() => (left === undefined ? right : right === undefined ? left : { kind: "Or" as const, left, right, range: span(left.range, right.range) }))
    })
    return left
  })

  andCondition = this.RULE("andCondition", (): Condition | undefined => {
    let left = this.SUBRULE(this.notCondition)
    this.MANY(() => {
      this.CONSUME(T.And)
      const right = this.SUBRULE2(this.notCondition)
      left = this.ACTION(() => (left === undefined ? right : right === undefined ? left : { kind: "And" as const, left, right, range: span(left.range, right.range) }))
    })
    return left
  })

  notCondition = this.RULE("notCondition", (): Condition | undefined =>
    this.OR([
      { ALT: () => { const n = this.CONSUME(T.Not); const c = this.SUBRULE(this.notCondition); return this.ACTION(() => (c === undefined ? undefined : { kind: "Not" as const, operand: c, range: span(rangeOf(n), c.range) })) } },
      { ALT: () => { this.CONSUME(T.LParen); const c = this.SUBRULE(this.condition); this.CONSUME(T.RParen); return this.ACTION(() => (c === undefined ? c : { ...c, parens: true as const })) } },
      { ALT: () => this.SUBRULE(this.comparison) }
    ]))

  valueList = this.RULE("valueList", (): Array<Literal> => {
    const values: Array<Literal> = []
    this.CONSUME(T.LBracket)
    this.MANY_SEP({ SEP: T.Comma, DEF: () => { const v = this.SUBRULE(this.literal); this.ACTION(() => { if (v !== undefined) values.push(v) }) } })
    this.CONSUME(T.RBracket)
    return values
  })

  comparison = this.RULE("comparison", (): Condition | undefined => {
    const p = this.SUBRULE(this.path)
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Is)
          const negated = this.OPTION(() => this.CONSUME(T.Not)) !== undefined
          return this.OR2([
            { ALT: () => { const k = this.CONSUME(T.Known); return this.ACTION(() => p === undefined ? undefined : ({ kind: "Known" as const, path: p, known: !negated, range: span(p?.range, rangeOf(k)) })) } },
            { ALT: () => { const k = this.CONSUME(T.Unknown); return this.ACTION(() => p === undefined ? undefined : ({ kind: "Known" as const, path: p, known: negated, range: span(p?.range, rangeOf(k)) })) } },
            { ALT: () => { const v = this.SUBRULE(this.literal); return this.ACTION(() => p === undefined || v === undefined ? undefined : ({ kind: "Compare" as const, path: p, op: negated ? "is not" : "is", value: v, range: span(p.range, v.range) })) } }
          ])
        }
      },
      {
        ALT: () => {
          const negated = this.OPTION2(() => this.CONSUME2(T.Not)) !== undefined
          this.CONSUME(T.In)
          const values = this.SUBRULE(this.valueList)
          return this.ACTION(() => p === undefined ? undefined : ({ kind: "In" as const, path: p, negated, values: values ?? [], range: p.range }))
        }
      },
      {
        ALT: () => {
          const op = this.CONSUME(T.Compare)
          const v = this.SUBRULE2(this.literal)
          return this.ACTION(() => p === undefined || v === undefined ? undefined : ({ kind: "Compare" as const, path: p, op: op.image, value: v, range: span(p.range, v.range) }))
        }
      }
    ])
  })

  text = this.RULE("text", (): Text => {
    const t = this.CONSUME(T.StringLiteral)
    return { kind: "Text", value: unquote(t.image), range: rangeOf(t) }
  })

  actions = this.RULE("actions", (): Array<Action> => {
    const out: Array<Action> = []
    this.MANY(() => {
      const a = this.SUBRULE(this.action)
      this.ACTION(() => { if (a !== undefined) out.push(a) })
    })
    return out
  })

  action = this.RULE("action", (): Action | undefined =>
    this.OR([
      {
        ALT: () => {
          const s = this.CONSUME(T.Send)
          this.CONSUME(T.Email)
          const template = this.CONSUME(T.Identifier)
          this.CONSUME(T.To)
          const who = this.CONSUME2(T.Identifier)
          const second = this.OPTION(() => this.CONSUME3(T.Identifier))
          return this.ACTION(() => ({ kind: "SendEmail" as const, template: template.image, templateRange: rangeOf(template), to: who.image === "billing" || second !== undefined ? "billing contact" as const : "contact" as const, range: rangeOf(s, second ?? who) }))
        }
      },
      {
        ALT: () => {
          const n = this.CONSUME(T.Notify)
          const target = this.CONSUME4(T.Identifier)
          const who = this.OPTION2(() => this.SUBRULE(this.text))
          const text = this.OPTION3(() => this.SUBRULE2(this.text))
          return this.ACTION(() => {
            // `notify owner` without a message parses: the checker says what it needs.
            const message = text ?? who
            return { kind: "Notify" as const, target: (target.image as "team" | "owner" | "user"), who: text === undefined ? undefined : who, text: message, range: span(rangeOf(n), message?.range ?? rangeOf(target)) }
          })
        }
      },
      {
        ALT: () => {
          const s = this.CONSUME(T.Set)
          const p = this.SUBRULE(this.path)
          this.CONSUME2(T.To)
          const v = this.SUBRULE(this.literal)
          return this.ACTION(() => p === undefined || v === undefined ? undefined : ({ kind: "Set" as const, path: p, value: v, range: span(rangeOf(s), v.range) }))
        }
      },
      {
        ALT: () => {
          const c = this.CONSUME(T.Create)
          this.CONSUME(T.Task)
          const text = this.SUBRULE3(this.text)
          this.CONSUME(T.For)
          const assignee = this.CONSUME5(T.Identifier)
          const team = this.OPTION4(() => this.SUBRULE4(this.text))
          this.CONSUME(T.Due)
          this.CONSUME(T.In)
          const due = this.SUBRULE(this.duration)
          return this.ACTION(() => text === undefined || due === undefined ? undefined : ({ kind: "CreateTask" as const, text, assignee: assignee.image === "team" ? "team" as const : "owner" as const, team, due, range: span(rangeOf(c), due.range) }))
        }
      },
      {
        ALT: () => {
          const op = this.OR2([{ ALT: () => this.CONSUME(T.Add) }, { ALT: () => this.CONSUME(T.Remove) }])
          this.CONSUME6(T.Identifier)
          this.OR3([{ ALT: () => this.CONSUME3(T.To) }, { ALT: () => this.CONSUME(T.From) }])
          this.CONSUME(T.List)
          const list = this.SUBRULE5(this.text)
          return this.ACTION(() => list === undefined ? undefined : ({ kind: "ListChange" as const, op: op?.image === "remove" ? "remove" as const : "add" as const, list, range: span(rangeOf(op), list.range) }))
        }
      },
      {
        ALT: () => {
          const w = this.CONSUME(T.Wait)
          return this.OR4([
            {
              ALT: () => {
                this.CONSUME(T.Until)
                const d = this.SUBRULE2(this.duration)
                const dir = this.OR5([{ ALT: () => this.CONSUME(T.Before) }, { ALT: () => this.CONSUME(T.After) }])
                const p = this.SUBRULE2(this.path)
                return this.ACTION(() => d === undefined || p === undefined ? undefined : ({ kind: "WaitUntil" as const, duration: d, direction: dir?.image === "after" ? "after" as const : "before" as const, path: p, range: span(rangeOf(w), p.range) }))
              }
            },
            { ALT: () => { const d = this.SUBRULE3(this.duration); return this.ACTION(() => d === undefined ? undefined : ({ kind: "Wait" as const, duration: d, range: span(rangeOf(w), d.range) })) } }
          ])
        }
      },
      {
        ALT: () => {
          const i = this.CONSUME(T.If)
          const condition = this.SUBRULE(this.condition)
          this.CONSUME(T.Then)
          const then = this.SUBRULE(this.actions)
          const otherwise = this.OPTION5(() => {
            this.CONSUME(T.Else)
            return this.SUBRULE2(this.actions)
          })
          const e = this.CONSUME(T.End)
          return this.ACTION(() => condition === undefined ? undefined : ({ kind: "If" as const, condition, then: then ?? [], otherwise, range: rangeOf(i, e) }))
        }
      },
      {
        ALT: () => {
          const w = this.CONSUME(T.Webhook)
          this.CONSUME(T.Post)
          const url = this.SUBRULE6(this.text)
          return this.ACTION(() => url === undefined ? undefined : ({ kind: "Webhook" as const, url, range: span(rangeOf(w), url.range) }))
        }
      }
    ]))
}

let built: RuleParser | undefined
/**
 * The parser, built once per process on first use (grammar analysis is the
 * expensive part, ~0.1 s of CPU, which a command that reads no rule never needs).
 */
const ruleParser = (): RuleParser => (built ??= reading = new RuleParser())

const tokenLabel = (t: TokenType) => (t.name === "StringLiteral" ? "a string" : t.name === "NumberLiteral" ? "a number" : t.name === "Identifier" ? "a name" : `"${t.name.toLowerCase()}"`)

export interface ParseResult {
  readonly file: RuleFile
  readonly diagnostics: Array<Diagnostic>
  readonly comments: Array<{ line: number; text: string }>
}

/** HubSpot writes `when status is "unpaid"`; here a trigger is a change: `becomes`. */
const becomesHint = (tokens: ReadonlyArray<IToken>, is: IToken): string => {
  const i = tokens.indexOf(is)
  let start = i
  while (start > 0 && (tokens[start - 1]!.tokenType === T.Identifier || tokens[start - 1]!.tokenType === T.Dot || tokens[start - 1]!.tokenType === T.Event)) start--
  const path = tokens.slice(start, i).map((t) => t.image).join("")
  const value = tokens[i + 1]
  const example = `when ${path || "subscription.status"} becomes ${value !== undefined && value.tokenType !== T.Then ? value.image : '"unpaid"'}`
  return `a trigger needs "becomes": ${example} ("is" belongs in "where")`
}

/** The path written just before `token` (`subscription.created`), with its first and last tokens. */
const pathBefore = (tokens: ReadonlyArray<IToken>, token: IToken): { text: string; first: IToken; last: IToken } | undefined => {
  const i = tokens.indexOf(token)
  let start = i
  while (start > 0 && (tokens[start - 1]!.tokenType === T.Identifier || tokens[start - 1]!.tokenType === T.Dot)) start--
  if (start === i) return undefined
  return { text: tokens.slice(start, i).map((t) => t.image).join(""), first: tokens[start]!, last: tokens[i - 1]! }
}

/** The words a rule's step starts with. */
const actionWords = ["send", "notify", "set", "create", "add", "remove", "wait", "if", "webhook"]

export const parseRules = (source: string): ParseResult => {
  const lexed = T.ruleLexer().tokenize(source)
  const diagnostics: Array<Diagnostic> = []
  const tokens: Array<IToken> = []
  for (const t of lexed.tokens) {
    if (t.tokenType === T.UnterminatedString) {
      diagnostics.push({ code: codes.unterminatedString, severity: "error", range: rangeOf(t), message: "this string is not closed: add a \" before the end of the line" })
    } else tokens.push(t)
  }
  for (const e of lexed.errors) {
    const character = source.substr(e.offset, e.length)
    // `$50.00`: an amount is in the subscription's currency, written as a number.
    const sign = /^[$€£¥]$/.test(character) && /^\d/.test(source.substr(e.offset + e.length, 1))
    diagnostics.push({
      code: codes.lexical, severity: "error", range: { line: e.line ?? 0, col: e.column ?? 0, endLine: e.line ?? 0, endCol: (e.column ?? 0) + e.length - 1 },
      message: sign ? `an amount is written without a currency sign: ${/^\d+(\.\d+)?/.exec(source.substr(e.offset + e.length))![0]} is in the subscription's currency` : `unexpected character "${character}"`
    })
  }
  const parser = ruleParser()
  parser.input = tokens
  const file = parser.file() ?? { rules: [] }
  for (const e of parser.errors) {
    const positioned = Number.isFinite(e.token.startLine ?? NaN)
    const t = e.token.tokenType === EOF || !positioned ? (positioned ? tokens[tokens.length - 1] : (e as { previousToken?: IToken }).previousToken) ?? tokens[tokens.length - 1] ?? e.token : e.token
    const found = e.token.tokenType === EOF ? "the end of the file" : `"${e.token.image}"`
    const expected = /Expecting (?:token of type --> )?(\w+) <--/.exec(e.message)?.[1]
    const inTrigger = e.token.tokenType === T.Is && e.context.ruleStack.includes("trigger")
    // `when subscription.created`: an event's name written as a property, without `event`.
    const eventName = e.context.ruleStack.includes("trigger") && e.token.tokenType !== T.Is ? pathBefore(tokens, e.token) : undefined
    if (eventName !== undefined && events[eventName.text] !== undefined) {
      diagnostics.push({
        code: codes.syntax, severity: "error", range: rangeOf(eventName.first, eventName.last),
        message: `"${eventName.text}" is an event: a trigger on it is "event ${eventName.text}"`, hint: `when event ${eventName.text}`
      })
      continue
    }
    // `50.00 USD`: an amount is in the subscription's currency; a currency is picked with a filter of its own.
    const amount = tokens[tokens.indexOf(e.token) - 1]
    if (e.token.tokenType === T.Identifier && amount?.tokenType === T.NumberLiteral && knownCurrencies.includes(e.token.image.toUpperCase())) {
      const op = tokens[tokens.indexOf(amount) - 1]
      const path = op === undefined ? undefined : pathBefore(tokens, op)
      diagnostics.push({
        code: codes.syntax, severity: "error", range: rangeOf(e.token),
        message: `an amount is written without a currency: ${amount.image} is in the subscription's currency`,
        hint: `${path === undefined ? "subscription.amount >=" : `${path.text} ${op!.image}`} ${amount.image} and subscription.currency is "${e.token.image.toUpperCase()}"`
      })
      continue
    }
    // `< today`: the language has no clock in a filter; days are reckoned from dates by triggers and waits.
    if (e.token.tokenType === T.Identifier && e.token.image === "today") {
      diagnostics.push({
        code: codes.syntax, severity: "error", range: rangeOf(e.token), message: `"today" is not a value: a date is written 2026-12-31`,
        hint: "a day reckoned from a date is a trigger (when 14 days before subscription.next_billing_date) or a wait (wait until 14 days before subscription.next_billing_date)"
      })
      continue
    }
    const message = inTrigger ? `unexpected "is" in a "when" line`
      : expected === "Then" ? `missing "then" before ${found}`
      // In a rule's steps, a word that no action starts with is a misspelt action more often than a missing "end".
      : expected === "End" && e.token.image === "else" ? `"else" without "if"`
      : expected === "End" && e.token.tokenType === T.Identifier
      ? `unknown action "${e.token.image}" (${didYouMean(e.token.image, actionWords) ?? `a step starts with ${actionWords.join(", ")}`})`
      : expected === "End" ? `missing "end": a rule (or an if) is not closed before ${found}`
      // Between rules the parser expects the end of the file; what a reader can write there is another rule.
      : expected === "EOF" ? `expected "rule" but found ${found}: each rule of a rule file starts with "rule"`
      : expected !== undefined ? `expected ${tokenLabel({ name: expected } as TokenType)} but found ${found}`
      : e.name === "NoViableAltException" ? `unexpected ${found}${e.token.image === "else" ? ": \"else\" without \"if\"" : ""}`
      : `unexpected ${found}`
    diagnostics.push({ code: codes.syntax, severity: "error", range: rangeOf(t), message, hint: inTrigger ? becomesHint(tokens, e.token) : undefined })
  }
  const comments = (lexed.groups["comments"] ?? []).map((c) => ({ line: c.startLine ?? 0, text: c.image }))
  return { file, diagnostics, comments }
}
