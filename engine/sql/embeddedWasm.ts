/**
 * The embedded PostgreSQL's WebAssembly (9 MB), compiled once per process and
 * handed to PGlite (`pgliteWasmModule`). V8 decodes and validates it on
 * background threads, so a command that starts this first thing (main.ts)
 * overlaps it with loading its own modules instead of waiting for it when the
 * database opens. Touches nothing else; never fails: on any error PGlite
 * compiles the module itself, as before.
 */
import type { PGliteOptions } from "@electric-sql/pglite"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { defaultEmbeddedDir, lockFileName } from "./embeddedOwner.ts"

type WasmModule = NonNullable<PGliteOptions["pgliteWasmModule"]>
// The WebAssembly global (this project's TypeScript libraries leave out its declarations).
const wasm = (globalThis as unknown as { readonly WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly

let compiled: Promise<WasmModule | undefined> | undefined

export const compileEmbeddedWasm = (): Promise<WasmModule | undefined> =>
  (compiled ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"))
    return wasm.compile(await readFile(join(dist, "pglite.wasm")))
  })().catch(() => undefined))

/**
 * Whether a command line will likely open the embedded database: it names a
 * command that works on the store (not help or the version; not schedule,
 * rules, templates or render, which mostly do not) and no PostgreSQL URL by
 * `--db`, `--read-db` or DATABASE_URL, and no other process has the directory
 * open (this one would be its guest). It only decides whether to start
 * compiling early, and errs towards no: a process that compiled for nothing
 * would wait for the compile to end before it exits.
 */
const storeless = new Set(["schedule", "rules", "templates", "render"])

export const mayOpenEmbedded = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): boolean => {
  let db: string | undefined
  let command: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--help" || a === "-h" || a === "--version") return false
    if (a === "--read-db" || a.startsWith("--read-db=")) return false
    if (a === "--db") db = args[++i]
    else if (a.startsWith("--db=")) db = a.slice(5)
    else if (a === "--now") i++
    else if (!a.startsWith("-")) command ??= a
  }
  const target = db ?? env["DATABASE_URL"] ?? ""
  if (command === undefined || storeless.has(command) || /^postgres(ql)?:\/\//.test(target)) return false
  // Another process has the directory open: this one will most likely be its guest (embeddedOwner.ts).
  return target === "memory:" || !existsSync(join(target === "" ? defaultEmbeddedDir : target, lockFileName))
}
