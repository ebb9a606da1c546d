/**
 * The text of a rule file or of `declarations.json`, read from its bytes:
 * they must be UTF-8. Read leniently, a file saved as Latin-1 would check
 * clean with U+FFFD in place of each accented letter, and `rules fmt` would
 * write the replacement characters back over the author's text.
 */
import { readFileSync } from "node:fs"
import type { Diagnostic } from "./diagnostics.ts"
import { codes } from "./diagnostics.ts"

export interface SourceText {
  /** The text; where the bytes are not UTF-8, decoded with U+FFFD so that the rest can still be checked. */
  readonly source: string
  /** An E003 at the first byte that is not UTF-8, or none. */
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

// ignoreBOM: a byte order mark stays in the text, as `readFileSync(file, "utf8")` keeps it (fmt writes it back).
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const lenient = new TextDecoder("utf-8", { ignoreBOM: true })

/** The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF). */
const firstBadByte = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const more = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1
    if (more < 0) return i
    // The second byte's range is narrower after E0, ED, F0 and F4 (Table 3-7 of the Unicode standard).
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k <= more; k++) {
      const c = bytes[i + k]
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i
    }
    i += more + 1
  }
  return i
}

export const decodeSourceText = (bytes: Uint8Array): SourceText => {
  try {
    return { source: strict.decode(bytes), diagnostics: [] }
  } catch {
    const at = firstBadByte(bytes)
    const lineStart = at === 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1
    const line = bytes.subarray(0, at).filter((b) => b === 0x0a).length + 1
    // Columns count UTF-16 units, as the lexer's do; the bytes before the bad one on its line are valid.
    const col = strict.decode(bytes.subarray(lineStart, at)).length + 1
    const byte = `0x${bytes[at]!.toString(16).toUpperCase().padStart(2, "0")}`
    return {
      source: lenient.decode(bytes),
      diagnostics: [{ code: codes.encoding, severity: "error", range: { line, col, endLine: line, endCol: col }, message: `not valid UTF-8: byte ${byte}; save the file as UTF-8` }]
    }
  }
}

export const readSourceText = (file: string): SourceText => decodeSourceText(readFileSync(file))
