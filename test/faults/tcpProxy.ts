/**
 * A TCP proxy in front of PostgreSQL that a test can cut and restore, as a
 * database restart or a network outage would: `cut()` resets every open
 * connection and refuses new ones until `restore()`. `cutOn(text)` cuts the
 * moment a client sends a message containing `text` (a statement of the
 * engine's), before that message reaches the server: a deterministic
 * outage in the middle of a tick.
 */
import { createServer, connect, type Server, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  readonly url: (base: string) => string
  readonly cut: () => void
  readonly restore: () => void
  /** Cuts once, when a client's message contains `text`; resolves when it did. */
  readonly cutOn: (text: string) => Promise<void>
  readonly close: () => Promise<void>
}

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  const pairs = new Set<{ client: Socket; server: Socket }>()
  let refusing = false
  let trigger: { text: Buffer; fire: () => void } | undefined
  const cutAll = () => {
    for (const p of pairs) {
      p.client.resetAndDestroy()
      p.server.resetAndDestroy()
    }
    pairs.clear()
  }
  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(target.port, target.host)
    const pair = { client, server: upstream }
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on("error", drop)
    upstream.on("error", drop)
    client.on("close", drop)
    upstream.on("close", drop)
    client.on("data", (chunk: Buffer) => {
      if (trigger !== undefined && chunk.includes(trigger.text)) {
        const fire = trigger.fire
        trigger = undefined
        refusing = true
        cutAll()
        fire()
        return
      }
      upstream.write(chunk)
    })
    upstream.on("data", (chunk: Buffer) => client.write(chunk))
  })
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)))
  return {
    port,
    url: (base) => {
      const u = new URL(base)
      u.hostname = "127.0.0.1"
      u.port = String(port)
      return u.toString()
    },
    cut: () => {
      refusing = true
      cutAll()
    },
    restore: () => {
      refusing = false
    },
    cutOn: (text) => new Promise<void>((resolve) => (trigger = { text: Buffer.from(text), fire: resolve })),
    close: async () => {
      cutAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
