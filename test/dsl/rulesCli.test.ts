/** `rules check` over a directory: rule ids across files, and the declarations beside the rules. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { loadRuleDirectory } from "../../engine/runtime/index.ts"
import { runCli } from "../cliRunner.ts"

const rule = (id: string, body = "  wait 1 day", when = "event subscription.created") => `rule ${id}\n  when ${when}\nthen\n${body}\nend\n`
const dirWith = (files: Record<string, string | Buffer>) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-rulelang-"))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

describe("rules check on a directory", () => {
  it("the same rule id in two files fails the check, with an error at both places", () => {
    const dir = dirWith({ "a.rules": rule("welcome"), "b.rules": "# again\n" + rule("welcome") })
    const r = runCli(["rules", "check", dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`a.rules:1:6: error: rule "welcome" is also defined in ${join(dir, "b.rules")}:2`)
    expect(r.stdout).toContain(`b.rules:2:6: error: rule "welcome" is also defined in ${join(dir, "a.rules")}:1`)
    // the engine refuses the same directory: one of the two rules would never run
    expect(() => loadRuleDirectory(dir)).toThrow(/also defined in/)
  })

  it("reads declarations.json beside the rules: custom properties, teams and lists", () => {
    const declarations = JSON.stringify({ properties: { grind: { type: "string", label: "Grind size" } }, teams: ["baristas"], lists: ["renewals"] }, null, 2)
    const good = rule("r", '  set subscription.grind to "fine"\n  notify team "baristas" "x"\n  add contact to list "renewals"', 'subscription.grind becomes "coarse"')
    const dir = dirWith({ "declarations.json": declarations, "shop.rules": good })
    const ok = runCli(["rules", "check", dir])
    expect(ok.stdout).toContain("0 errors")
    expect(ok.code).toBe(0)
    expect(runCli(["rules", "check", join(dir, "shop.rules")]).code).toBe(0)
    expect(loadRuleDirectory(dir).ruleSet.rules.map((r) => r.id)).toEqual(["r"])

    const dir2 = dirWith({ "declarations.json": declarations, "shop.rules": rule("r", '  notify team "finance" "x"\n  add contact to list "vip"') })
    const bad = runCli(["rules", "check", dir2])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain('shop.rules:4:15: error: unknown team "finance" (baristas) [E107]')
    expect(bad.stdout).toContain('shop.rules:5:23: error: unknown list "vip" (renewals) [E106]')
  })

  it("a mistake in declarations.json is reported at its line and fails the check", () => {
    const dir = dirWith({ "declarations.json": '{\n  "properties": {\n    "tier": { "type": "text" }\n  }\n}\n', "shop.rules": rule("r") })
    const r = runCli(["rules", "check", dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${join(dir, "declarations.json")}:3:5: error: "tier" needs a type: one of string, number, money, date, boolean, not "text" [E117]`)
  })

  it("rules check declarations.json checks it as declarations, not as a rule file", () => {
    const dir = dirWith({ "declarations.json": '{\n  "properties": {\n    "tier": { "type": "text" }\n  }\n}\n', "shop.rules": rule("r") })
    const r = runCli(["rules", "check", join(dir, "declarations.json")])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${join(dir, "declarations.json")}:3:5: error: "tier" needs a type: one of string, number, money, date, boolean, not "text" [E117]`)
    expect(r.stdout).not.toContain("[E001]")
    expect(r.stdout).not.toContain("[E010]")
    expect(r.stdout).toContain("1 file checked: 1 error, 0 warnings")
    const good = dirWith({ "declarations.json": '{ "teams": ["baristas"] }\n' })
    const ok = runCli(["rules", "check", join(good, "declarations.json")])
    expect(ok.code, ok.stdout).toBe(0)
  })
})

describe("rule files that are not valid UTF-8", () => {
  // "café" and "crème" saved as Latin-1: é is the single byte 0xE9.
  const latin1 = Buffer.from('rule latin "caf\xe9"\n      when event subscription.created\nthen\n  notify team "finance" "cr\xe8me"\nend\n', "latin1")

  it("check reports the first bad byte at its line and column and fails; fmt leaves the file as it was", () => {
    const dir = dirWith({ "l.rules": latin1 })
    const file = join(dir, "l.rules")
    const checked = runCli(["rules", "check", dir])
    expect(checked.code).toBe(1)
    expect(checked.stdout).toContain(`${file}:1:16: error: not valid UTF-8: byte 0xE9; save the file as UTF-8 [E003]`)
    const formatted = runCli(["rules", "fmt", dir])
    expect(formatted.code).toBe(1)
    expect(formatted.stderr).toContain(`${file}: cannot format`)
    expect(readFileSync(file).equals(latin1)).toBe(true)
    // the engine and rules test load rules the same way: they refuse it too
    expect(() => loadRuleDirectory(dir)).toThrow(/l\.rules:1:16: error: not valid UTF-8/)
  })

  it("a declarations.json that is not valid UTF-8 fails the check at its line", () => {
    const dir = dirWith({ "declarations.json": Buffer.from('{\n  "teams": ["caf\xe9"]\n}\n', "latin1"), "shop.rules": rule("r") })
    const r = runCli(["rules", "check", dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${join(dir, "declarations.json")}:2:17: error: not valid UTF-8: byte 0xE9; save the file as UTF-8 [E003]`)
  })
})

describe("rules fmt on a directory is all or nothing", () => {
  const loose = (id: string) => `rule ${id}\n      when event subscription.created\nthen\n  notify owner "x"\nend\n`
  const broken = (id: string) => `rule ${id}\n  whne event subscription.created\nthen\n  notify owner "x"\nend\n`

  it("a file that cannot be formatted leaves every file as it was and every such file is named", () => {
    const dir = dirWith({ "a.rules": loose("a"), "b.rules": broken("b"), "c.rules": loose("c"), "d.rules": broken("d") })
    const r = runCli(["rules", "fmt", dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${join(dir, "b.rules")}: cannot format a file with syntax errors`)
    expect(r.stderr).toContain(`${join(dir, "d.rules")}: cannot format a file with syntax errors`)
    expect(r.stderr).toContain("nothing was written")
    for (const f of ["a", "c"]) expect(readFileSync(join(dir, `${f}.rules`), "utf8")).toBe(loose(f))
  })

  it("when every file can be formatted, it writes the changed ones and names them", () => {
    const dir = dirWith({ "a.rules": loose("a"), "b.rules": rule("b"), "c.rules": loose("c") })
    const r = runCli(["rules", "fmt", dir])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`${join(dir, "a.rules")}: reformatted\n${join(dir, "c.rules")}: reformatted\n2 of 3 files reformatted\n`)
    expect(readFileSync(join(dir, "c.rules"), "utf8")).toBe(rule("c", '  notify owner "x"'))
  })
})

describe("rules check says what a rule file holds", () => {
  it("a file that is not rules is told a rule file starts with \"rule\", not a token's name", () => {
    const dir = dirWith({ "notes.txt": "hello world\n" })
    const r = runCli(["rules", "check", join(dir, "notes.txt")])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('notes.txt:1:1: error: expected "rule" but found "hello"')
    expect(r.stdout).not.toContain('"eof"')
  })

  it("an empty teams list in declarations.json is said so, not shown as ()", () => {
    const dir = dirWith({ "declarations.json": '{ "teams": [] }', "shop.rules": rule("r", '  notify team "finance" "x"') })
    const r = runCli(["rules", "check", dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('shop.rules:4:15: error: unknown team "finance" (declarations.json declares no teams) [E107]')
  })
})
