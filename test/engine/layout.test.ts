/**
 * The engine's layout as engine/README.md draws it: rooms on floors, a floor
 * importing only rooms on floors below it, and only through their door
 * (`index.ts`, named exports, no `export *`); nothing in engine/ imports
 * examples/ or bench/, and no test imports bench/.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const engine = join(root, "engine")

/** engine/README.md's floors. */
const floors: Record<string, number> = {
  domain: 2, billing: 3, sql: 4, account: 5, catalogue: 5, invoicing: 6, payments: 7, lifecycle: 7, enrollments: 7,
  subscriptions: 8, imports: 9, checkout: 10.5, runtime: 11, api: 12, cli: 12
}

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === "node_modules") return []
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : []
  })

const importsOf = (file: string): Array<string> =>
  [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^"'`]*?\bfrom\s+["']([^"']+)["']/gm)].map((m) => m[1]!)

const roomOf = (path: string): string | undefined => {
  const rel = relative(engine, path)
  return rel.startsWith("..") ? undefined : rel.split(sep)[0]
}

describe("the engine's layout", () => {
  const files = filesUnder(engine)

  it("every room is on a floor", () => {
    const rooms = readdirSync(engine).filter((n) => statSync(join(engine, n)).isDirectory())
    expect(rooms.filter((r) => floors[r] === undefined)).toEqual([])
  })

  it("a room imports another only through its door, and only from a floor below", () => {
    const problems: Array<string> = []
    for (const file of files) {
      const from = roomOf(file)!
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue
        const target = resolve(file, "..", spec)
        const to = roomOf(target)
        if (to === undefined || to === from) continue
        const where = `${relative(root, file)} imports ${spec}`
        if (relative(join(engine, to), target) !== "index.ts") problems.push(`${where}: past ${to}'s door`)
        if (!(floors[to]! < floors[from]!)) problems.push(`${where}: ${to} (floor ${floors[to]}) is not below ${from} (floor ${floors[from]})`)
      }
    }
    expect(problems).toEqual([])
  })

  it("doors export names, never `export *`; nothing in engine/ imports examples/ or bench/", () => {
    const problems: Array<string> = []
    for (const file of files) {
      const text = readFileSync(file, "utf8")
      if (/^\s*export \*/m.test(text)) problems.push(`${relative(root, file)}: export *`)
      for (const spec of importsOf(file)) {
        if (/(^|\/)(examples|bench)\//.test(resolve(file, "..", spec).slice(root.length))) problems.push(`${relative(root, file)} imports ${spec}`)
      }
    }
    expect(problems).toEqual([])
  })

  it("no test imports bench/", () => {
    const tests = filesUnder(join(root, "test"))
    const problems = tests.flatMap((file) =>
      importsOf(file).filter((spec) => resolve(file, "..", spec).slice(root.length).startsWith("bench/")).map((spec) => `${relative(root, file)} imports ${spec}`))
    expect(problems).toEqual([])
  })
})
