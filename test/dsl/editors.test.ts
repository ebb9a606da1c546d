/** The editor files: the TextMate grammar knows every keyword of the lexer; the VS Code extension starts `billcycle rules lsp`. */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { keywords } from "../../dsl/lexer.ts"

const read = (path: string) => readFileSync(new URL(`../../editors/${path}`, import.meta.url), "utf8")

describe("editor support files", () => {
  it("the TextMate grammar highlights every keyword of the lexer", () => {
    const grammar = JSON.parse(read("billcycle.tmLanguage.json"))
    const patterns = [grammar.repository["rule-header"].match, ...grammar.repository.keyword.patterns.map((p: { match: string }) => p.match)].map((m: string) => new RegExp(m))
    for (const k of keywords.map((t) => t.name.toLowerCase())) expect(patterns.some((p) => p.test(k === "rule" ? "rule r" : k)), k).toBe(true)
    expect(grammar.fileTypes).toEqual(["rules"])
  })

  it("the VS Code extension runs billcycle rules lsp for .rules files", () => {
    const manifest = JSON.parse(read("vscode/package.json"))
    expect(manifest.contributes.languages[0].extensions).toEqual([".rules"])
    expect(manifest.contributes.grammars[0].path).toBe("../billcycle.tmLanguage.json")
    expect(read("vscode/extension.js")).toContain('args: ["rules", "lsp"]')
  })
})
