/** Rule files and declarations.json are read as UTF-8 or refused at their first bad byte. */
import { describe, expect, it } from "vitest"
import { decodeSourceText } from "../../dsl/index.ts"

const at = (bytes: Buffer) => decodeSourceText(bytes).diagnostics.map((d) => `${d.range.line}:${d.range.col} ${d.message} [${d.code}]`)

describe("decodeSourceText", () => {
  it("valid UTF-8 is its text, byte order mark and four-byte letters included", () => {
    const text = "\uFEFFrule kaffe \"kaffe ☕ på 🇳🇴\"\n"
    expect(decodeSourceText(Buffer.from(text, "utf8"))).toEqual({ source: text, diagnostics: [] })
  })

  it("the first bad byte is named at its line and its column in letters, not bytes", () => {
    expect(at(Buffer.concat([Buffer.from("rule a\n  notify owner \"ø ", "utf8"), Buffer.from([0xe9, 0x22, 0x0a, 0xe8])]))).toEqual(["2:19 not valid UTF-8: byte 0xE9; save the file as UTF-8 [E003]"])
    expect(at(Buffer.from([0xff, 0x0a]))).toEqual(["1:1 not valid UTF-8: byte 0xFF; save the file as UTF-8 [E003]"])
    // an overlong "/" (C0 AF), a surrogate (ED A0 80) and a sequence cut short by the end of the file
    expect(at(Buffer.from([0x61, 0xc0, 0xaf]))).toEqual(["1:2 not valid UTF-8: byte 0xC0; save the file as UTF-8 [E003]"])
    expect(at(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toEqual(["1:3 not valid UTF-8: byte 0xED; save the file as UTF-8 [E003]"])
    expect(at(Buffer.from([0x0a, 0x0a, 0xe2, 0x82]))).toEqual(["3:1 not valid UTF-8: byte 0xE2; save the file as UTF-8 [E003]"])
  })
})

describe("a rule file saved as Latin-1, checked with its rule set", () => {
  it("is one E003 at its first bad byte, not also an E001 'unexpected character' for each replacement character", async () => {
    const { checkRuleSources, decodeSourceText } = await import("../../dsl/index.ts")
    const bytes = Buffer.concat([Buffer.from("rule caf"), Buffer.from([0xe9]), Buffer.from("\n  when event payment.failed\nthen\n  notify team \"finance\" \"d"), Buffer.from([0xe9]), Buffer.from("clin\"\nend\n")])
    const [checked] = checkRuleSources([{ file: "latin1.rules", ...decodeSourceText(bytes) }])
    expect(checked!.diagnostics.map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["1:9 E003"])
  })
})
