/**
 * A server's context of now (`rememberedContext`): the settings are read once
 * and remembered for the time given, so a request does not read them again;
 * a setting changed meanwhile (`billcycle settings set`, another process)
 * applies once that time is over. Today is asked of the business clock every time.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BusinessClock, dayTime, rememberedContext, saveSetting } from "../../../engine/account/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { Database } from "../../../engine/sql/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"

describe("rememberedContext", () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await openTestDatabase()
  }, 120_000)
  afterAll(() => t.close())

  it("reads the settings once per time given, and today every time", async () => {
    const sql = t.db.sql
    const statements: Array<string> = []
    // Count the reads of the settings table through a Database whose sql notes each statement sent.
    const counted = new Proxy(sql, {
      apply: (target, self, args: [TemplateStringsArray, ...Array<unknown>]) => {
        statements.push(args[0].join("?"))
        return Reflect.apply(target, self, args)
      }
    })
    const clock = BusinessClock.fixed(dayTime("2026-03-01" as CalendarDate))
    const layer = Layer.mergeAll(Layer.succeed(Database, { ...t.db, sql: counted }), clock)
    const reads = () => statements.filter((s) => /from settings/.test(s)).length
    const ttlMs = 1000
    let elapsed = 0
    const context = rememberedContext(ttlMs, () => elapsed)
    const program = Effect.gen(function*() {
      const first = yield* context
      const second = yield* context
      const clockNow = yield* BusinessClock
      yield* clockNow.set(dayTime("2026-03-02" as CalendarDate))
      const third = yield* context
      return { first, second, third }
    })
    const { first, second, third } = await Effect.runPromise(program.pipe(Effect.provide(layer)))
    expect(reads()).toBe(1)
    expect(first.settings.currency).toBe("USD")
    expect(second.settings).toBe(first.settings)
    // Today is the clock's, every time.
    expect([first.today, third.today]).toEqual(["2026-03-01", "2026-03-02"])

    // A setting changed meanwhile applies once the time given is over.
    await saveSetting(sql, "currency", "EUR")
    expect((await Effect.runPromise(context.pipe(Effect.provide(layer)))).settings.currency).toBe("USD")
    elapsed = ttlMs - 1
    expect((await Effect.runPromise(context.pipe(Effect.provide(layer)))).settings.currency).toBe("USD")
    elapsed = ttlMs
    expect((await Effect.runPromise(context.pipe(Effect.provide(layer)))).settings.currency).toBe("EUR")
    expect(reads()).toBe(2)
  })
})
