import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { billcyclePath, repoRoot, runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("billcycle engine and simulate", () => {
  it("simulate continues from the last simulated day; engine --once reports its tick; bad flags exit 2", () => {
    const { db, env } = freshCliDatabase()
    const first = runCli(["simulate", "--until", "2026-03-03", "--now", "2026-03-01", "--db", db, "--json"], { env })
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ from: "2026-03-01", until: "2026-03-03", days: 3 })
    const second = runCli(["simulate", "--until", "2026-03-05", "--db", db, "--json"], { env })
    expect(JSON.parse(second.stdout)).toMatchObject({ from: "2026-03-04", days: 2 })
    const back = runCli(["simulate", "--until", "2026-03-01", "--db", db], { env })
    expect(back.code).toBe(2)
    expect(back.stderr).toContain("--until")
    const once = runCli(["engine", "--once", "--now", "2026-03-06", "--db", db, "--log-format", "json"], { env })
    expect(once.code, once.stderr).toBe(0)
    expect(JSON.parse(once.stdout.trim())).toMatchObject({ msg: "tick", today: "2026-03-06", invoiced: 0 })
    expect(runCli(["engine", "--once", "--now", "2026-02-30", "--db", db], { env }).code).toBe(2)
    expect(runCli(["engine", "--once", "--batch", "0", "--db", db], { env }).stderr).toContain("--batch")
  })

  it("SIGTERM stops a running engine after the batch in hand, with exit code 0", async () => {
    const { db, env } = freshCliDatabase()
    const child = spawn(billcyclePath, ["engine", "--interval", "1", "--db", db], { cwd: repoRoot, env: { ...process.env, ...env } })
    let out = ""
    child.stdout.on("data", (d) => { out += String(d) })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    // Wait for the first tick line, then ask it to stop.
    for (let i = 0; i < 300 && !out.includes("nothing due"); i++) await new Promise((r) => setTimeout(r, 100))
    expect(out).toContain("nothing due")
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
  })
})

describe("engine --rules and rules check", () => {
  it("refuses to start on a rule file with an error, printing its diagnostics; runs with good rules", async () => {
    const { mkdtempSync, writeFileSync, copyFileSync } = await import("node:fs")
    const { join } = await import("node:path")
    const { tmpdir } = await import("node:os")
    const dir = mkdtempSync(join(tmpdir(), "billcycle-rules-"))
    writeFileSync(join(dir, "bad.rules"), 'rule r\n  when event subscription.created\nthen\n  send email welcom to contact\nend\n')
    const { db, env } = freshCliDatabase()
    const bad = runCli(["engine", "--once", "--rules", dir, "--db", db, "--now", "2026-03-01"], { env })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("bad.rules:4:14: error: unknown email template \"welcom\" [E104]")
    // rules check prints the diagnostics on stdout in CLI.md's form, file:line:col: error: message.
    const checked = runCli(["rules", "check", dir])
    expect(checked.code).toBe(1)
    expect(checked.stdout).toMatch(/bad\.rules:4:14: error: unknown email template "welcom"/)
    expect(checked.stdout).toContain("1 file checked: 1 error, 0 warnings")
    const asJson = JSON.parse(runCli(["--json", "rules", "check", dir]).stdout)
    expect(asJson.errors).toBe(1)
    const good = mkdtempSync(join(tmpdir(), "billcycle-rules-"))
    copyFileSync(new URL("../../../examples/coffee-shop/rules/coffee-shop.rules", import.meta.url), join(good, "shop.rules"))
    expect(runCli(["rules", "check", good]).code).toBe(0)
    expect(runCli(["rules", "fmt", "--check", good]).code).toBe(0)
    const ok = runCli(["engine", "--once", "--rules", good, "--db", db, "--now", "2026-03-01"], { env })
    expect(ok.code, ok.stderr).toBe(0)
  })
})
