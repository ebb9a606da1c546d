/**
 * A small benchmark harness: time a function over several rounds, keep the
 * best, and write results to bench/results/NAME.json. Ratios against a
 * baseline measured in the same run are what to compare, since these 2-core
 * machines are noisy.
 */
import { mkdirSync, writeFileSync } from "node:fs"
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
