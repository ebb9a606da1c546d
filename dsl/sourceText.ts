/**
 * The text of a rule file or of `declarations.json`, read from its bytes:
 * they must be UTF-8. Read leniently, a file saved as Latin-1 would check
 * clean with U+FFFD in place of each accented letter, and `rules fmt` would
 * write the replacement characters back over the author's text.
 */
import { readFileSync } from "node:fs"
import { decodeUtf8, formatByte } from "../engine/domain/index.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { codes } from "./diagnostics.ts"

export interface SourceText {
  /** The text; where the bytes are not UTF-8, decoded with U+FFFD so that the rest can still be checked. */
  readonly source: string
  /** An E003 at the first byte that is not UTF-8, or none. */
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

export const decodeSourceText = (bytes: Uint8Array): SourceText => {
  const { text, notUtf8 } = decodeUtf8(bytes)
  if (notUtf8 === undefined) return { source: text, diagnostics: [] }
  // Columns count UTF-16 units, as the lexer's do.
  const { line, column: col } = notUtf8
  return {
    source: text,
    diagnostics: [{ code: codes.encoding, severity: "error", range: { line, col, endLine: line, endCol: col }, message: `not valid UTF-8: byte ${formatByte(notUtf8.byte)}; save the file as UTF-8` }]
  }
}

export const readSourceText = (file: string): SourceText => decodeSourceText(readFileSync(file))
