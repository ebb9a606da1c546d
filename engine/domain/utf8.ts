/**
 * A file's bytes as text, strictly UTF-8. Read leniently (`readFileSync(file,
 * "utf8")`), a file saved as Latin-1 or Windows-1252 (Excel's CSV export)
 * turns each accented letter into U+FFFD without a word, and whatever is
 * stored or written back has lost them for good. Here the first byte that is
 * not UTF-8 is found and placed at its line and column, so that each reader
 * (rule files, CSV imports) can refuse the file in its own words. Pure: bytes
 * in, values out; reading the file is the caller's.
 */

/** The first byte that is not UTF-8: where it is, counted as an editor counts. */
export interface NotUtf8 {
  /** The byte itself (0xE9 for a Latin-1 é). */
  readonly byte: number
  /** Its offset in the bytes. */
  readonly offset: number
  /** Its offset in `text` (UTF-16 units): the U+FFFD it was decoded as starts there. */
  readonly index: number
  /** 1-based line (lines end at LF). */
  readonly line: number
  /** 1-based column in UTF-16 units (letters, not bytes), as the rule lexer counts them. */
  readonly column: number
}

export interface Utf8Decoded {
  /** The text; where the bytes are not UTF-8, decoded with U+FFFD so that the rest can still be read. */
  readonly text: string
  /** The first byte that is not UTF-8, or undefined when all are. */
  readonly notUtf8: NotUtf8 | undefined
}

// ignoreBOM: a byte order mark stays in the text, as `readFileSync(file, "utf8")` keeps it (rules fmt writes it
// back; the CSV reader drops it).
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

export const decodeUtf8 = (bytes: Uint8Array): Utf8Decoded => {
  try {
    return { text: strict.decode(bytes), notUtf8: undefined }
  } catch {
    const at = firstBadByte(bytes)
    const lineStart = at === 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1
    const line = bytes.subarray(0, at).filter((b) => b === 0x0a).length + 1
    // The bytes before the bad one are whole sequences of valid UTF-8: they decode strictly.
    const column = strict.decode(bytes.subarray(lineStart, at)).length + 1
    const index = strict.decode(bytes.subarray(0, at)).length
    return { text: lenient.decode(bytes), notUtf8: { byte: bytes[at]!, offset: at, index, line, column } }
  }
}

/** A byte as the messages name it: 0xE9. */
export const formatByte = (byte: number): string => `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`
