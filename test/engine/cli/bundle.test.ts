/**
 * bin/billcycle runs the bundle of the command line (scripts/build-cli.mjs)
 * only while it is fresh: an edited source, package.json or an install newer
 * than the bundle makes it run the TypeScript sources again, and
 * BILLCYCLE_SOURCES=1 and `demo` always do. The bundle answers as the sources do.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { billcyclePath, repoRoot } from "../../cliRunner.ts"

// A copy of the launcher in a folder of its own, with a "node" that prints the script it was given.
const root = mkdtempSync(join(tmpdir(), "billcycle-launcher-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
mkdirSync(join(root, "bin"))
copyFileSync(billcyclePath, join(root, "bin", "billcycle"))
mkdirSync(join(root, "node_modules", ".bin"), { recursive: true })
writeFileSync(join(root, "node_modules", ".bin", "node"), "#!/bin/sh\nfor a; do case \"$a\" in --*) ;; *) echo \"$a\"; exit 0 ;; esac; done\n")
chmodSync(join(root, "node_modules", ".bin", "node"), 0o755)
const bundle = join(root, "node_modules", ".cache", "billcycle", "cli", "main.js")
mkdirSync(join(root, "node_modules", ".cache", "billcycle", "cli"), { recursive: true })
for (const d of ["engine/cli", "dsl", "reports", "templates"]) mkdirSync(join(root, d), { recursive: true })
const source = join(root, "dsl", "parser.ts")
for (const f of [join(root, "package.json"), join(root, "node_modules", ".package-lock.json"), join(root, "engine", "cli", "main.ts"), source, bundle]) writeFileSync(f, "")

const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds)
const t = 1_800_000_000
const ran = (env: Record<string, string> = {}, args: ReadonlyArray<string> = ["--help"]) => {
  const r = spawnSync(join(root, "bin", "billcycle"), args, { encoding: "utf8", env: { ...process.env, BILLCYCLE_SOURCES: "", ...env } })
  return r.stdout.trim()
}
const sources = join(root, "engine", "cli", "main.ts")

describe("bin/billcycle picks the bundle only while it is fresh", () => {
  it("runs the bundle when it is newer than every source, package.json and the install", () => {
    for (const f of [join(root, "package.json"), join(root, "node_modules", ".package-lock.json"), sources, source]) at(f, t)
    at(bundle, t + 10)
    expect(ran()).toBe(bundle)
  })

  it("runs the sources when one source is newer than the bundle", () => {
    at(source, t + 20)
    expect(ran()).toBe(sources)
    at(source, t)
  })

  it("runs the sources after an install or a package.json newer than the bundle", () => {
    at(join(root, "node_modules", ".package-lock.json"), t + 20)
    expect(ran()).toBe(sources)
    at(join(root, "node_modules", ".package-lock.json"), t)
    at(join(root, "package.json"), t + 20)
    expect(ran()).toBe(sources)
    at(join(root, "package.json"), t)
    expect(ran()).toBe(bundle)
  })

  it("runs the sources for demo, whose runner (examples/) imports the engine's sources", () => {
    expect(ran({}, ["demo", "--months", "1"])).toBe(sources)
    expect(ran({}, ["--db", "x", "--json", "demo"])).toBe(sources)
    expect(ran({}, ["--db", "demo", "contacts", "list"])).toBe(bundle)
  })

  it("runs the sources with BILLCYCLE_SOURCES=1, or when there is no bundle", () => {
    expect(ran({ BILLCYCLE_SOURCES: "1" })).toBe(sources)
    rmSync(bundle)
    expect(ran()).toBe(sources)
  })
})

describe("the bundle answers as the sources do", () => {
  const built = spawnSync(process.execPath, [join(repoRoot, "scripts", "build-cli.mjs")], { cwd: repoRoot, encoding: "utf8" })
  const node = (script: string, args: ReadonlyArray<string>) =>
    spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script, ...args], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, BILLCYCLE_DB_SCHEMA: "" } })
  const realBundle = join(repoRoot, "node_modules", ".cache", "billcycle", "cli", "main.js")
  const realSources = join(repoRoot, "engine", "cli", "main.ts")

  it("builds", () => {
    expect(built.status, built.stderr).toBe(0)
  })

  for (const args of [["--help"], ["contacts", "list", "--help"], ["report", "mrr"], ["pause", "--until", "x"]]) {
    it(`billcycle ${args.join(" ")}: same output and exit code`, () => {
      const a = node(realBundle, args)
      const b = node(realSources, args)
      expect({ code: a.status, stdout: a.stdout, stderr: a.stderr }).toEqual({ code: b.status, stdout: b.stdout, stderr: b.stderr })
    })
  }

  it("finds the files beside its modules (migrations, templates) as the sources do", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-bundle-db-"))
    try {
      const migrated = node(realBundle, ["--db", join(dir, "db"), "db", "migrate"])
      expect(migrated.status, migrated.stderr).toBe(0)
      const a = node(realBundle, ["--db", join(dir, "db"), "templates", "check"])
      const b = node(realSources, ["--db", join(dir, "db"), "templates", "check"])
      expect({ code: a.status, stdout: a.stdout }).toEqual({ code: b.status, stdout: b.stdout })
      expect(a.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
