/**
 * `--out FILE`: the parent folders are made as needed (as `demo --out` does);
 * a file that still cannot be written is bad usage naming the flag (exit 2),
 * never an internal error.
 */
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { makeDirs } from "../sql/index.ts"
import { dirname } from "node:path"
import { UsageError } from "./CliFailure.ts"

const cannot = (path: string, e: unknown) =>
  new UsageError({ message: `--out: cannot write ${path}: ${e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e)}` })

/** Makes the folder FILE goes in. */
export const prepareOutFile = (path: string): Effect.Effect<void, UsageError> =>
  Effect.try({ try: () => makeDirs(dirname(path)), catch: (e) => cannot(path, e) })

/** Writes FILE, making its folder first. */
export const writeOutFile = (path: string, data: string | Uint8Array): Effect.Effect<void, UsageError> =>
  prepareOutFile(path).pipe(Effect.andThen(Effect.try({ try: () => writeFileSync(path, data), catch: (e) => cannot(path, e) })))

/** Runs a writer of FILE (a library writing it itself), its failure bad usage naming `--out`. */
export const writeOutFileWith = (path: string, write: () => Promise<unknown>): Effect.Effect<void, UsageError> =>
  prepareOutFile(path).pipe(Effect.andThen(Effect.tryPromise({ try: write, catch: (e) => cannot(path, e) })))
