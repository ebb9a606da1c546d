/**
 * The embedded PostgreSQL on a thread of its own. PGlite is PostgreSQL
 * compiled to WebAssembly: it runs on the thread that created it, and on the
 * command's own thread a running statement froze the whole process (its
 * timers, its SIGTERM, its HTTP server). Here the database runs beside the
 * command, served on its loopback port
 * exactly as before (embeddedOwner.ts `openAndServe`); the owning process
 * connects to that port like any guest. The main thread keeps the directory's
 * claim (its lock file) and starts and stops this thread. It buys no speed
 * for the engine, whose statements follow one another (bench/simulate.ts:
 * within 3% either way); it lets `serve --engine` parse and answer HTTP
 * while a statement runs.
 *
 * Messages: this thread posts `ready` (the port) or `failed` (the error);
 * the main thread posts `close`, answered by `waiting` (guests still connected:
 * their names) and then `closed` once the last has gone and PGlite is closed.
 */
import { parentPort, workerData } from "node:worker_threads"
import type { PGliteOptions } from "@electric-sql/pglite"
import { embeddedBufferPool, openAndServe } from "./embeddedOwner.ts"

export interface EmbeddedThreadStart {
  readonly dataDir: string | undefined
  readonly wasm: PGliteOptions["pgliteWasmModule"] | undefined
}

export type EmbeddedThreadReply =
  | { readonly type: "ready"; readonly port: number }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "waiting"; readonly clients: ReadonlyArray<string> }
  | { readonly type: "closed" }

const parent = parentPort
if (parent !== null) {
  const post = (reply: EmbeddedThreadReply) => parent.postMessage(reply)
  const { dataDir, wasm } = workerData as EmbeddedThreadStart
  try {
    const served = await openAndServe(dataDir, Promise.resolve(wasm), embeddedBufferPool.longRun)
    parent.on("message", (message: { readonly type: "close" }) => {
      if (message.type !== "close") return
      void served.close((clients) => post({ type: "waiting", clients })).then(() => {
        post({ type: "closed" })
        parent.close()
      })
    })
    post({ type: "ready", port: served.port })
  } catch (e) {
    post({ type: "failed", message: e instanceof Error ? e.message : String(e) })
    parent.close()
  }
}
