/** `rules check` over a directory: rule ids across files, and the declarations beside the rules. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { loadRuleDirectory } from "../../engine/runtime/index.ts"
import { runCli } from "../cliRunner.ts"

const rule = (id: string, body = "  wait 1 day", when = "event subscription.created") => `rule ${id}\n  when ${when}\nthen\n${body}\nend\n`
const dirWith = (files: Record<string, string>) => {
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
})
