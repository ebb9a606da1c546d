/**
 * `--out FILE`: the parent folders are made as needed (as `demo --out` does);
 * a file that still cannot be written is bad usage naming the flag (exit 2),
 * never an internal error. FILE is written whole or not at all: the bytes go
 * to a file of their own beside it (same folder, same extension, a dot in
 * front), which replaces FILE once complete and is removed if writing fails,
 * so that a failure never leaves a truncated FILE in place of the last one.
 */
import { Effect } from "effect"
import { lstatSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { makeDirs } from "../sql/index.ts"
import { basename, dirname, extname, join } from "node:path"
import { UsageError } from "./CliFailure.ts"

const cannot = (path: string, e: unknown) =>
  new UsageError({ message: `--out: cannot write ${path}: ${e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e)}` })

/** Makes the folder FILE goes in. */
export const prepareOutFile = (path: string): Effect.Effect<void, UsageError> =>
  Effect.try({ try: () => makeDirs(dirname(path)), catch: (e) => cannot(path, e) })

/** The file FILE is written to first: beside it, so that the rename is one step of one file system. */
const partFile = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.part${extname(path)}`)

/** What is at FILE now, if anything: only a regular file (or nothing) is replaced whole; `/dev/stdout`, a pipe or a link is written through. */
const kindAt = (path: string): "none" | "file" | "other" => {
  try {
    return lstatSync(path).isFile() ? "file" : "other"
  } catch {
    return "none"
  }
}

/** Runs `write` on a file beside FILE, then puts it in FILE's place; a failure removes it and leaves FILE as it was. */
const writeWhole = (path: string, write: (file: string) => Promise<unknown>): Effect.Effect<void, UsageError> =>
  prepareOutFile(path).pipe(Effect.andThen(Effect.tryPromise({
    try: async () => {
      if (kindAt(path) === "other") return void (await write(path))
      const part = partFile(path)
      try {
        await write(part)
        renameSync(part, path)
      } catch (e) {
        rmSync(part, { force: true })
        throw e
      }
    },
    catch: (e) => cannot(path, e)
  })))

/** Writes FILE, making its folder first. */
export const writeOutFile = (path: string, data: string | Uint8Array): Effect.Effect<void, UsageError> =>
  writeWhole(path, async (file) => writeFileSync(file, data))

/** Runs a writer of FILE (a library writing the file it is given itself), its failure bad usage naming `--out`. */
export const writeOutFileWith = (path: string, write: (file: string) => Promise<unknown>): Effect.Effect<void, UsageError> =>
  writeWhole(path, write)
