/**
 * The rule language's tokens. Keywords come before identifiers and carry
 * `longer_alt: Identifier`, so `whenever` is a name, not `when` + `ever`.
 * Comments are kept in their own group for the formatter; an unterminated
 * string is a token of its own, so it gives one clean error.
 */
import { createToken, Lexer } from "chevrotain"
import type { TokenType } from "chevrotain"

/**
 * A name after a dot: an identifier or any keyword, since properties and event fields may be words of the language
 * (`contact.email`, `event.from`, `event.to`).
 */
export const Name = createToken({ name: "Name", pattern: Lexer.NA })

export const Identifier = createToken({ name: "Identifier", pattern: /[a-zA-Z_][a-zA-Z0-9_]*/, categories: [Name] })

const keyword = (word: string): TokenType =>
  createToken({ name: word.charAt(0).toUpperCase() + word.slice(1), pattern: new RegExp(`${word}\\b`), longer_alt: Identifier, categories: [Name] })

export const Rule = keyword("rule")
export const When = keyword("when")
export const Where = keyword("where")
export const Reenroll = keyword("reenroll")
export const Unenroll = keyword("unenroll")
export const Then = keyword("then")
export const End = keyword("end")
export const Else = keyword("else")
export const If = keyword("if")
export const Becomes = keyword("becomes")
export const Changes = keyword("changes")
export const From = keyword("from")
export const To = keyword("to")
export const Event = keyword("event")
export const Before = keyword("before")
export const After = keyword("after")
export const And = keyword("and")
export const Or = keyword("or")
export const Not = keyword("not")
export const Is = keyword("is")
export const In = keyword("in")
export const Known = keyword("known")
export const Unknown = keyword("unknown")
export const Send = keyword("send")
export const Email = keyword("email")
export const Notify = keyword("notify")
export const Set = keyword("set")
export const Create = keyword("create")
export const Task = keyword("task")
export const For = keyword("for")
export const Due = keyword("due")
export const Add = keyword("add")
export const Remove = keyword("remove")
export const List = keyword("list")
export const Wait = keyword("wait")
export const Until = keyword("until")
export const Webhook = keyword("webhook")
export const Post = keyword("post")
export const True = keyword("true")
export const False = keyword("false")

export const DateLiteral = createToken({ name: "DateLiteral", pattern: /\d{4}-\d{2}-\d{2}/ })
export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?\d+(\.\d+)?/ })
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n]|\\.)*"/ })
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n]|\\.)*/ })
export const Dot = createToken({ name: "Dot", pattern: /\./ })
export const Comma = createToken({ name: "Comma", pattern: /,/ })
export const LParen = createToken({ name: "LParen", pattern: /\(/ })
export const RParen = createToken({ name: "RParen", pattern: /\)/ })
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ })
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ })
export const Compare = createToken({ name: "Compare", pattern: /<=|>=|<|>|=|!=/ })
export const Comment = createToken({ name: "Comment", pattern: /#[^\n]*/, group: "comments" })
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /\s+/, group: Lexer.SKIPPED })

export const keywords = [
  Rule, When, Where, Reenroll, Unenroll, Then, End, Else, If, Becomes, Changes, From, To, Event, Before, After, And, Or, Not, Is, In,
  Known, Unknown, Send, Email, Notify, Set, Create, Task, For, Due, Add, Remove, List, Wait, Until, Webhook, Post, True, False
]

export const allTokens = [
  WhiteSpace, Comment, DateLiteral, NumberLiteral, StringLiteral, UnterminatedString, ...keywords, Identifier,
  Dot, Comma, LParen, RParen, LBracket, RBracket, Compare, Name
]

let lexer: Lexer | undefined
/**
 * The lexer, built once per process on first use: building it analyses every
 * token's pattern (~0.2 s of CPU), which a command that reads no rule never needs.
 */
export const ruleLexer = (): Lexer => (lexer ??= new Lexer(allTokens, { ensureOptimizations: false, positionTracking: "full" }))
