/**
 * Diagnostics are values with stable codes, collected in layers (lexing,
 * parsing, checking) and printed in one place, compiler style:
 * `file:line:col: error: message [E101]` (CLI.md's form, the stable code
 * last), the source line and a caret.
 */
import type { Range } from "./ast.ts"
import { closestName } from "../engine/domain/index.ts"

export type Severity = "error" | "warning"

export interface Diagnostic {
  readonly code: string
  readonly severity: Severity
  readonly range: Range
  readonly message: string
  readonly hint?: string | undefined
}

export const codes = {
  lexical: "E001",
  unterminatedString: "E002",
  encoding: "E003",
  syntax: "E010",
  unknownProperty: "E101",
  typeMismatch: "E102",
  unknownStatus: "E103",
  unknownTemplate: "E104",
  unknownEvent: "E105",
  unknownList: "E106",
  unknownTeam: "E107",
  unknownUnit: "E108",
  badDuration: "E109",
  dateOnNonDate: "E110",
  engineOwned: "E111",
  eventFieldOutside: "E112",
  unknownVariable: "E113",
  duplicateRule: "E114",
  unknownValue: "E115",
  badDate: "E116",
  badDeclaration: "E117",
  neverFires: "W201",
  reenrollOnce: "W202",
  neverTrue: "W203",
  insecureWebhook: "W204",
  neverMatches: "W205",
  unenrollsAtOnce: "W206"
} as const

export const formatDiagnostic = (d: Diagnostic, file: string, source: string): string => {
  const lines = source.split("\n")
  // A CRLF file's line ends in \r, which a terminal would show as a jump back to the start of the line.
  const text = (lines[d.range.line - 1] ?? "").replace(/\r$/, "")
  const width = d.range.endLine === d.range.line ? Math.max(1, d.range.endCol - d.range.col + 1) : 1
  const gutter = String(d.range.line).length
  return [
    `${file}:${d.range.line}:${d.range.col}: ${d.severity}: ${d.message} [${d.code}]`,
    `${" ".repeat(gutter)} |`,
    `${d.range.line} | ${text}`,
    // The caret keeps the tabs of the text before the mistake, so that a terminal puts it under the mistake.
    `${" ".repeat(gutter)} | ${text.slice(0, Math.max(0, d.range.col - 1)).padEnd(Math.max(0, d.range.col - 1)).replace(/[^\t]/g, " ")}${"^".repeat(width)}${d.hint === undefined ? "" : ` ${d.hint}`}`
  ].join("\n")
}

export const didYouMean = (name: string, candidates: Iterable<string>): string | undefined => {
  const best = closestName(name, candidates)
  return best === undefined ? undefined : `did you mean "${best}"?`
}
