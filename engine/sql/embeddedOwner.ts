/**
 * One embedded database, many billcycle processes. PGlite is one PostgreSQL
 * session in one process: two processes opening the same directory each think
 * they own its files, and one's commits overwrite the other's. So the first
 * process to open a directory owns it and serves it on a loopback port; it
 * writes `billcycle.lock` (its pid, port, command) into the directory, made by
 * an exclusive create so two starters cannot both win. Every other process
 * reads the lock and connects to the owner as a guest.
 *
 * All guests share the owner's single session, so the owner's server runs one
 * client's work at a time: a client keeps the session from its first message
 * until its unit of work is over (a `Sync` or a simple query) and no
 * transaction is open; the others queue behind it. A client that disconnects
 * in the middle is synced and rolled back before anyone else runs.
 *
 * Lifetime: an owner does not close while guests are connected (it says so in
 * one line on stderr and waits); a long-running command (engine, simulate,
 * demo) does not become the guest of a short command but waits for it to
 * finish and then owns the directory; a lock whose pid is dead is taken over.
 */
import type { PGlite, PGliteOptions } from "@electric-sql/pglite"
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer, type Socket } from "node:net"
import { join } from "node:path"

export const lockFileName = "billcycle.lock"

/** The embedded database's directory when neither --db nor DATABASE_URL names one. */
export const defaultEmbeddedDir = ".billcycle/db"

/** What `billcycle.lock` says about the process that owns the directory. */
export interface LockInfo {
  readonly pid: number
  /** null while the owner is still opening the database. */
  readonly port: number | null
  readonly host: string
  /** engine, simulate, demo: the owner stays for long, so guests may outlive short owners' waits. */
  readonly long: boolean
  readonly schema: string | null
  readonly command: string
}

/** What a `--db` directory holds. */
export type EmbeddedDirState =
  | { readonly _tag: "Database" }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Other" }
  | { readonly _tag: "Unusable"; readonly reason: string }

/** A billcycle database folder has PGlite's PG_VERSION, or the lock of a process creating it. */
export const inspectEmbeddedDir = (dir: string): EmbeddedDirState => {
  let entries: Array<string>
  try {
    if (!statSync(dir).isDirectory()) return { _tag: "Unusable", reason: `${dir} is a file, not a folder` }
    entries = readdirSync(dir)
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === "ENOENT") return { _tag: "Missing" }
    return { _tag: "Unusable", reason: (e instanceof Error ? e.message : String(e)).replace(/^[A-Z]+: /, "") }
  }
  if (entries.length === 0) return { _tag: "Empty" }
  if (entries.includes("PG_VERSION") || entries.includes(lockFileName)) return { _tag: "Database" }
  return { _tag: "Other" }
}

const lockPath = (dir: string) => join(dir, lockFileName)

type ReadLock = LockInfo | "missing" | "unreadable"

export const readLock = (dir: string): ReadLock => {
  let text: string
  try {
    text = readFileSync(lockPath(dir), "utf8")
  } catch {
    return "missing"
  }
  try {
    const v = JSON.parse(text) as LockInfo
    return typeof v.pid === "number" ? v : "unreadable"
  } catch {
    return "unreadable"
  }
}

const ageMs = (path: string): number => {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return 0
  }
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"
  }
}

/** A live process holding the directory, if any (the demo must not wipe a database in use). */
export const liveOwner = (dir: string): LockInfo | undefined => {
  const lock = readLock(dir)
  return typeof lock === "object" && isAlive(lock.pid) ? lock : undefined
}

export const describeOwner = (lock: LockInfo) => `${lock.command} (pid ${lock.pid})`

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Removes a lock whose process is gone. Takers queue on a second exclusive
 * file, so two processes that both saw the dead pid cannot remove each
 * other's fresh lock; each re-reads the lock before removing it.
 */
const takeOver = async (dir: string, seen: ReadLock) => {
  const guard = join(dir, `${lockFileName}.takeover`)
  try {
    writeFileSync(guard, String(process.pid), { flag: "wx" })
  } catch {
    // A taker that died in this tiny window leaves the guard behind: old guards are removed.
    if (ageMs(guard) > 10_000) rmSync(guard, { force: true })
    await sleep(50)
    return
  }
  try {
    const now = readLock(dir)
    const stale = now === "unreadable"
      ? seen === "unreadable" && ageMs(lockPath(dir)) > 10_000
      : typeof now === "object" && typeof seen === "object" && now.pid === seen.pid && !isAlive(now.pid)
    if (stale) rmSync(lockPath(dir), { force: true })
  } finally {
    rmSync(guard, { force: true })
  }
}

export type Claim =
  | { readonly _tag: "Owner"; readonly publish: (port: number) => void; readonly release: () => void }
  | { readonly _tag: "Guest"; readonly lock: LockInfo }

export interface ClaimOptions {
  readonly longRunning: boolean
  readonly schema: string | undefined
  readonly command: string
  /** One line on stderr when this process has to wait (printed once per reason). */
  readonly say: (line: string) => void
}

/** Owner of `dir` (the lock is ours) or guest of the live owner named in the lock. */
export const claimEmbeddedDir = async (dir: string, options: ClaimOptions): Promise<Claim> => {
  const said = new Set<string>()
  const sayOnce = (key: string, line: string) => {
    if (said.has(key)) return
    said.add(key)
    options.say(line)
  }
  const mine: LockInfo = { pid: process.pid, port: null, host: "127.0.0.1", long: options.longRunning, schema: options.schema ?? null, command: options.command }
  for (;;) {
    try {
      writeFileSync(lockPath(dir), JSON.stringify(mine), { flag: "wx" })
      return {
        _tag: "Owner",
        publish: (port) => {
          // Replaced by a rename, so a reader never sees half a file.
          const tmp = join(dir, `${lockFileName}.${process.pid}.tmp`)
          writeFileSync(tmp, JSON.stringify({ ...mine, port }))
          renameSync(tmp, lockPath(dir))
        },
        release: () => {
          const lock = readLock(dir)
          if (typeof lock === "object" && lock.pid === process.pid) rmSync(lockPath(dir), { force: true })
        }
      }
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e
    }
    const lock = readLock(dir)
    if (lock === "missing") continue
    if (lock === "unreadable") {
      // Written by a process between its create and its first write, or left by one that died there.
      if (ageMs(lockPath(dir)) > 10_000) await takeOver(dir, lock)
      else await sleep(100)
      continue
    }
    if (!isAlive(lock.pid)) {
      await takeOver(dir, lock)
      continue
    }
    if (lock.schema !== mine.schema) {
      throw new Error(`${dir} is open in ${describeOwner(lock)} with BILLCYCLE_DB_SCHEMA=${lock.schema ?? "(unset)"}; this process asks for ${mine.schema ?? "(unset)"}`)
    }
    if (lock.port === null) {
      sayOnce(`open:${lock.pid}`, `waiting for ${describeOwner(lock)} to open the database in ${dir}`)
      await sleep(100)
      continue
    }
    if (options.longRunning && !lock.long) {
      sayOnce(`finish:${lock.pid}`, `waiting for ${describeOwner(lock)} to finish with the database in ${dir}`)
      await sleep(100)
      continue
    }
    return { _tag: "Guest", lock }
  }
}

// ---------------------------------------------------------------------------
// The owner's server: the one PGlite session shared by its clients, one unit of work at a time.

interface Item {
  readonly handlerId: number
  readonly message: Uint8Array | "cleanup"
  readonly onData: (data: Uint8Array) => void
  readonly resolve: (bytes: number) => void
  readonly reject: (e: unknown) => void
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4])
const PROTOCOL_3 = 196608

const isStartup = (m: Uint8Array) => m.length >= 8 && new DataView(m.buffer, m.byteOffset, m.byteLength).getInt32(4) === PROTOCOL_3

/** `application_name` from a startup message: how the owner names its guests. */
const applicationName = (m: Uint8Array): string | undefined => {
  const parts = new TextDecoder().decode(m.subarray(8)).split("\0")
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === "application_name") return parts[i + 1]
  return undefined
}

/**
 * Replaces pglite-socket's query queue, which switches clients between any two
 * protocol messages (a Parse of one client could land between the Parse and
 * the Bind of another, on the session's one unnamed statement) and outside
 * explicit transactions. Here a client keeps the session until its Sync (or
 * simple query) when no transaction is open.
 */
class SessionQueue {
  private readonly queue: Array<Item> = []
  private holder: number | null = null
  /** The holder sent extended-protocol messages since its last Sync. */
  private midUnit = false
  private running = false
  readonly names = new Map<number, string>()
  private readonly pg: PGlite

  constructor(pg: PGlite) {
    this.pg = pg
  }

  get idle(): boolean {
    return !this.running && this.queue.length === 0
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject })
      void this.pump()
    })
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i]!
      if (item.handlerId === handlerId && item.message !== "cleanup") {
        this.queue.splice(i, 1)
        item.reject(new Error("client disconnected"))
      }
    }
  }

  /** The client went away: if it held the session, end its unit and roll back its transaction before anyone else runs. */
  clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.names.delete(handlerId)
    if (this.holder !== handlerId) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message: "cleanup", onData: () => {}, resolve: () => resolve(), reject })
      void this.pump()
    })
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (;;) {
        const index = this.holder === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.holder)
        if (index < 0 || this.queue.length === 0) break
        const item = this.queue.splice(index, 1)[0]!
        this.holder = item.handlerId
        try {
          item.resolve(await this.run(item))
        } catch (e) {
          item.reject(e)
        }
      }
    } finally {
      this.running = false
    }
  }

  private async run(item: Item): Promise<number> {
    const pg = this.pg
    if (item.message === "cleanup") {
      if (this.midUnit) await pg.runExclusive(() => pg.execProtocolRawStream(SYNC, { onRawData: () => {} }))
      // exec takes PGlite's own lock (inside runExclusive it would wait for itself).
      if (pg.isInTransaction()) await pg.exec("rollback")
      this.midUnit = false
      this.holder = null
      return 0
    }
    const message = item.message
    const startup = isStartup(message)
    const type = startup ? 0 : message[0]
    if (startup) this.names.set(item.handlerId, applicationName(message) ?? "a client")
    // Terminate is the client's own business: the shared session stays.
    if (type === 0x58) {
      if (!this.midUnit && !pg.isInTransaction()) this.holder = null
      return 0
    }
    let bytes = 0
    await pg.runExclusive(() =>
      pg.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length
          item.onData(data)
        }
      })
    )
    const endsUnit = startup || type === 0x53 /* Sync */ || type === 0x51 /* Query */
    this.midUnit = !endsUnit
    if (endsUnit && !pg.isInTransaction()) this.holder = null
    return bytes
  }
}

export interface EmbeddedServer {
  readonly port: number
  /** Names (application_name) of the clients connected now. */
  readonly clients: () => ReadonlyArray<string>
  readonly connections: () => number
  /** Stops accepting, closes the server; call only with no connections left. */
  readonly stop: () => Promise<void>
}

/** Serves `pg` on a loopback port to any number of clients, one unit of work at a time. */
export const serveEmbedded = async (pg: PGlite): Promise<EmbeddedServer> => {
  // Loaded here, by the owner only: a guest or a server URL never needs it.
  const { PGLiteSocketHandler } = await import("@electric-sql/pglite-socket")
  const queue = new SessionQueue(pg)
  const sockets = new Set<Socket>()
  let accepting = true
  const server = createServer((socket) => {
    if (!accepting) {
      socket.destroy()
      return
    }
    // No "close" listener here: pglite-socket's handler removes every listener of its socket when
    // it detaches after an error (a guest that died resets its connection), so a listener of ours
    // would never hear the close and the owner would wait for that guest forever. A socket counts
    // as long as it is not destroyed.
    sockets.add(socket)
    const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true })
    handler.attach(socket).catch(() => socket.destroy())
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      if (address === null || typeof address !== "object") return reject(new Error("the embedded database server has no address"))
      resolve(address.port)
    })
  })
  const open = () => {
    for (const s of sockets) if (s.destroyed) sockets.delete(s)
    return sockets.size
  }
  return {
    port,
    clients: () => [...queue.names.values()],
    connections: open,
    stop: async () => {
      accepting = false
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      while (!queue.idle) await sleep(10)
    }
  }
}

/** The embedded database served on a loopback port by its owner; `close` waits for connected guests (named through `onWaiting`). */
export interface ServedEmbedded {
  readonly port: number
  readonly close: (onWaiting: (clients: ReadonlyArray<string>) => void) => Promise<void>
}

/**
 * PGlite's buffer pool (`shared_buffers`). A short command's is 16 MB: PGlite touches all of its pool at start,
 * and PostgreSQL's default 128 MB made a one-line command peak at ~650 MB; the OS page cache still holds the
 * files. A long run's (engine, simulate, serve, demo: on the database's own thread) is PostgreSQL's default
 * 128 MB: its working set outgrows 16 MB as the store grows, and every page missed is a read through PGlite's
 * file system (bench/simulate.ts, a year of 10,000 subscriptions on the embedded database: 82.6 s with 16 MB,
 * 65.8 s with 128 MB, same machine, one after the other).
 */
export const embeddedBufferPool = { command: "16MB", longRun: "128MB" } as const

/**
 * Opens PGlite in `dataDir` (or in memory) and serves it (`serveEmbedded`), on the calling thread: the
 * command's own (Database.ts) or the database's thread of a long run (embeddedThread.ts). `wasm` is
 * PGlite's WebAssembly module, compiled ahead (embeddedWasm.ts); undefined: PGlite compiles it.
 */
export const openAndServe = async (
  dataDir: string | undefined,
  wasm: Promise<PGliteOptions["pgliteWasmModule"] | undefined>,
  bufferPool: (typeof embeddedBufferPool)[keyof typeof embeddedBufferPool]
): Promise<ServedEmbedded> => {
  // Loaded on first use: a server URL or a command without a database never needs PGlite.
  const [{ PGlite }, pgliteWasmModule] = await Promise.all([import("@electric-sql/pglite"), wasm])
  const options = { startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${bufferPool}`], ...(pgliteWasmModule === undefined ? {} : { pgliteWasmModule }) }
  const pg: PGlite = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options)
  try {
    const server = await serveEmbedded(pg)
    return {
      port: server.port,
      close: async (onWaiting) => {
        // Guests keep the database open: the owner serves them until the last one has gone.
        if (server.connections() > 0) {
          onWaiting(server.clients())
          while (server.connections() > 0) await sleep(50)
        }
        await server.stop()
        await pg.close()
      }
    }
  } catch (e) {
    await pg.close()
    throw e
  }
}

/** `billcycle contacts add`, from the command line of this process (for messages about it). */
export const commandLabel = (argv: ReadonlyArray<string> = process.argv.slice(2)): string => {
  const words: Array<string> = []
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!
    if (a === "--db" || a === "--now") i++
    else if (a.startsWith("-")) {
      if (words.length > 0) break
    } else words.push(a)
  }
  return ["billcycle", ...words].join(" ")
}
