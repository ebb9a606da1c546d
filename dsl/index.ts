/**
 * The rule language's door: parse, check, format. Pure: takes text and a
 * schema, returns values; the engine decides how to store and run rules.
 */
export * from "./ast.ts"
export * from "./checker.ts"
export * from "./declarations.ts"
export * from "./diagnostics.ts"
export * from "./formatter.ts"
export * from "./parser.ts"
export * from "./schema.ts"
export * from "./sourceText.ts"

import type { Range } from "./ast.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { codes } from "./diagnostics.ts"
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
export interface RuleSource {
  readonly file: string
  readonly source: string
  /** Found in reading the file (`readSourceText`: bytes that are not UTF-8), reported with the rest. */
  readonly diagnostics?: ReadonlyArray<Diagnostic> | undefined
}

/**
 * Checks the files of a rule set together: each file alone, and rule ids
 * across files (the engine runs one rule per id, so a second file's rule of
 * the same id would silently never run): an error at both places.
 */
export const checkRuleSources = (sources: ReadonlyArray<RuleSource>, context: CheckContext = defaultCheckContext): Array<RuleSource & { diagnostics: Array<Diagnostic> }> => {
  const results = sources.map((s) => ({ ...s, parsed: parseRules(s.source) }))
  const byId = new Map<string, Array<{ file: string; range: Range }>>()
  for (const r of results) {
    const inFile = new Set<string>()
    for (const rule of r.parsed.file.rules) {
      if (inFile.has(rule.id)) continue
      inFile.add(rule.id)
      const places = byId.get(rule.id) ?? []
      places.push({ file: r.file, range: rule.idRange })
      byId.set(rule.id, places)
    }
  }
  return results.map(({ parsed, ...s }) => {
    // Bytes that are not UTF-8 are one E003 at the first; the replacement characters they decode to are not also E001s.
    const notUtf8 = (s.diagnostics ?? []).some((d) => d.code === codes.encoding)
    const lexed = notUtf8 ? parsed.diagnostics.filter((d) => !(d.code === codes.lexical && d.message === `unexpected character "\uFFFD"`)) : parsed.diagnostics
    const diagnostics = [...(s.diagnostics ?? []), ...lexed, ...checkRules(parsed.file, context)]
    for (const rule of parsed.file.rules) {
      const places = byId.get(rule.id)!
      if (places.length < 2 || !places.some((p) => p.range === rule.idRange)) continue
      const others = places.filter((p) => p.file !== s.file).map((p) => `${p.file}:${p.range.line}`)
      diagnostics.push({ code: codes.duplicateRule, severity: "error", range: rule.idRange, message: `rule "${rule.id}" is also defined in ${others.join(", ")}: rule ids are unique across the files of a rule set` })
    }
    return { ...s, diagnostics: diagnostics.sort((a, b) => a.range.line - b.range.line || a.range.col - b.range.col) }
  })
}
/**
 * Starts the language server on a pair of streams (`billcycle rules lsp`).
 * Loaded on demand: the engine and the other commands never load the LSP library.
 */
export const startLanguageServer = async (...args: Parameters<typeof import("./languageServer.ts").startLanguageServer>) =>
  (await import("./languageServer.ts")).startLanguageServer(...args)
export type { LanguageServerOptions } from "./languageServer.ts"
export * from "./compiler.ts"
export * from "./program.ts"
export * from "./explain.ts"
