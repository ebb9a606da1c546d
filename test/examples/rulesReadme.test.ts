/**
 * dsl/README.md's rule test fixture, run as written beside the coffee-shop
 * rules it describes: read from the README (not copied here), so the example
 * cannot drift from what `rules test` accepts and the rules do.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli } from "../cliRunner.ts"

/** The first `json` block after a heading of the README. */
const jsonBlockAfter = (readme: string, heading: string): string => {
  const lines = readme.split("\n")
  const from = lines.indexOf(heading)
  const open = lines.indexOf("```json", from)
  const close = lines.indexOf("```", open + 1)
  if (from < 0 || open < 0 || close < 0) throw new Error(`dsl/README.md: no json block after "${heading}"`)
  return lines.slice(open + 1, close).join("\n")
}

describe("dsl/README.md's rule test example", () => {
  it("passes as written against the coffee-shop rules", () => {
    const fixture = jsonBlockAfter(readFileSync(join(repoRoot, "dsl/README.md"), "utf8"), "## Testing rules")
    const rules = join(repoRoot, "examples/coffee-shop/rules")
    const dir = mkdtempSync(join(tmpdir(), "billcycle-readme-rules-"))
    for (const f of ["coffee-shop.rules", "declarations.json"]) copyFileSync(join(rules, f), join(dir, f))
    writeFileSync(join(dir, "readme.rules-test.json"), fixture)
    const r = runCli(["rules", "test", dir])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain("1 case: 1 passed, 0 failed")
  }, 120_000)
})
