/**
 * A small benchmark harness: time a function over several rounds, keep the
 * best, and write results to bench/results/NAME.json. Ratios against a
 * baseline measured in the same run are what to compare, since these 2-core
 * machines are noisy.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { cpus } from "node:os"

export const bestOf = (rounds: number, fn: () => void): number => {
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    fn()
    const ms = performance.now() - t0
    if (ms < best) best = ms
  }
  return best
}

export const writeResults = (name: string, results: Record<string, unknown>): void => {
  const dir = new URL("./results/", import.meta.url)
  mkdirSync(dir, { recursive: true })
  const doc = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    ...results
  }
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(doc, null, 2) + "\n")
}

export const fmt = (n: number): string => Math.round(n).toLocaleString("en-US")

/**
 * pgbench's TPS on the local PostgreSQL server (TPC-B-like, 2 clients, `seconds` long), in a
 * database of its own that it drops afterwards: the baseline that engine figures are divided by.
 */
export const pgbenchTps = async (seconds = 10): Promise<number> => {
  const { spawnSync } = await import("node:child_process")
  const pgArgs = ["-h", "127.0.0.1", "-U", "postgres"]
  const db = `billcycle_pgbench_${process.pid}`
  spawnSync("psql", [...pgArgs, "-d", "postgres", "-c", `create database ${db}`], { encoding: "utf8" })
  try {
    const init = spawnSync("pgbench", [...pgArgs, "-i", "-q", "-s", "5", db], { encoding: "utf8" })
    if (init.status !== 0) {
      console.log(`pgbench could not initialise: ${init.stderr.trim()}`)
      return NaN
    }
    const run = spawnSync("pgbench", [...pgArgs, "-c", "2", "-j", "2", "-T", String(seconds), db], { encoding: "utf8" })
    const m = /tps = ([\d.]+)/.exec(run.stdout)
    return m === null ? NaN : Number(m[1])
  } finally {
    spawnSync("psql", [...pgArgs, "-d", "postgres", "-c", `drop database if exists ${db}`], { encoding: "utf8" })
  }
}

/** What an HTTP request answered, as the checkout benches read it. */
export interface Answer { readonly status: number; readonly location: string | undefined; readonly cookie: string | undefined; readonly body: string }

/** Plain node:http to 127.0.0.1:`port` with a keep-alive agent of `sockets` sockets (one per buyer); `close` ends them. */
export const httpClient = (port: number, sockets: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets })
  const http = (method: "GET" | "POST", path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method, path, agent, headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const setCookie = res.headers["set-cookie"]?.[0]
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, cookie: setCookie?.split(";")[0], body: Buffer.concat(chunks).toString("utf8") })
        })
        res.on("error", reject)
      })
      req.on("error", reject)
      req.end(body)
    })
  return { http, close: () => agent.destroy() }
}
