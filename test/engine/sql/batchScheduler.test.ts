/**
 * sql/groupCommit.ts `batchScheduler`, the one scheduler of the group commits (a checkout's payments, the HTTP
 * API's purchases): units given in one turn of the event loop go together per key, never across keys, at most
 * `size` in a batch and `inFlight` batches at a time; the rest wait for a batch to end. A run that fails without
 * answering its units fails them, so no caller waits for ever.
 */
import { describe, expect, it } from "vitest"
import { batchScheduler } from "../../../engine/sql/index.ts"
import type { Waiting } from "../../../engine/sql/index.ts"

/** A run that records its batches and answers each unit with its item doubled, once `release` is called. */
const recorder = () => {
  const batches: Array<{ key: string; items: Array<number> }> = []
  let running = 0
  let most = 0
  const gates: Array<() => void> = []
  const run = async (key: string, batch: ReadonlyArray<Waiting<number, number>>) => {
    batches.push({ key, items: batch.map((w) => w.item) })
    most = Math.max(most, ++running)
    await new Promise<void>((resolve) => gates.push(resolve))
    running--
    batch.forEach((w) => w.resolve(w.item * 2))
  }
  const releaseAll = async () => {
    // Each released batch lets the next ones start (on a later turn): release until every unit is answered.
    for (let turns = 0; turns < 50; turns++) {
      gates.splice(0).forEach((g) => g())
      await new Promise((r) => setImmediate(r))
    }
  }
  return { run, batches, releaseAll, most: () => most }
}

describe("batchScheduler", () => {
  it("gathers one turn's units by key, up to size per batch, inFlight batches at a time", async () => {
    const r = recorder()
    const give = batchScheduler(r.run, { inFlight: 2, size: 3 })
    const answers = [
      ...[1, 2, 3, 4, 5].map((n) => give("a", n)),
      ...[10, 11].map((n) => give("b", n))
    ]
    await new Promise((resolve) => setImmediate(resolve))
    // The first turn: two batches at once (inFlight 2), both of key a, the first full.
    expect(r.batches).toEqual([{ key: "a", items: [1, 2, 3] }, { key: "a", items: [4, 5] }])
    await r.releaseAll()
    expect(await Promise.all(answers)).toEqual([2, 4, 6, 8, 10, 20, 22])
    expect(r.batches.slice(2)).toEqual([{ key: "b", items: [10, 11] }])
    expect(r.most()).toBe(2)
  })

  it("units given while a batch runs go in the next one, together", async () => {
    const r = recorder()
    const give = batchScheduler(r.run, { inFlight: 1, size: 16 })
    const first = give("k", 1)
    await new Promise((resolve) => setImmediate(resolve))
    const later = [2, 3, 4].map((n) => give("k", n))
    await new Promise((resolve) => setImmediate(resolve))
    expect(r.batches).toEqual([{ key: "k", items: [1] }])
    await r.releaseAll()
    expect(await Promise.all([first, ...later])).toEqual([2, 4, 6, 8])
    expect(r.batches).toEqual([{ key: "k", items: [1] }, { key: "k", items: [2, 3, 4] }])
    expect(r.most()).toBe(1)
  })

  it("a run that fails without answering fails its units, and the next batch still runs", async () => {
    let calls = 0
    const give = batchScheduler<string, number, number>(async (_, batch) => {
      if (calls++ === 0) throw new Error("the batch's connection was lost")
      batch.forEach((w) => w.resolve(w.item + 1))
    }, { inFlight: 1, size: 8 })
    const failed = [give("k", 1), give("k", 2)]
    const settled = await Promise.allSettled(failed)
    expect(settled.map((s) => s.status === "rejected" ? String(s.reason) : s.value)).toEqual([
      "Error: the batch's connection was lost", "Error: the batch's connection was lost"
    ])
    expect(await give("k", 5)).toBe(6)
  })
})
