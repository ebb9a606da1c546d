/**
 * The rule language's door: parse, check, format. Pure: takes text and a
 * schema, returns values; the engine decides how to store and run rules.
 */
export * from "./ast.ts"
export * from "./checker.ts"
export * from "./diagnostics.ts"
export * from "./formatter.ts"
export * from "./parser.ts"
export * from "./schema.ts"

import type { Diagnostic } from "./diagnostics.ts"
import { checkRules } from "./checker.ts"
import { parseRules } from "./parser.ts"
import type { CheckContext } from "./schema.ts"
import { defaultCheckContext } from "./schema.ts"

/** Lexes, parses and checks one file: every diagnostic, sorted by position. */
export const checkSource = (source: string, context: CheckContext = defaultCheckContext): Array<Diagnostic> => {
  const parsed = parseRules(source)
  const all = [...parsed.diagnostics, ...checkRules(parsed.file, context)]
  return all.sort((a, b) => a.range.line - b.range.line || a.range.col - b.range.col)
}
export * from "./compiler.ts"
export * from "./program.ts"
export * from "./explain.ts"
