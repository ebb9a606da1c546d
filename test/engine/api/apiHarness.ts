/**
 * Serves the HTTP API on a random loopback port over a fresh test schema
 * (embedded or DATABASE_URL server), with the business clock on a fixed day,
 * and gives a `call` helper speaking real HTTP.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import { HttpServer } from "effect/http"
import { apiServer } from "../../../engine/api/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { createApiKey, BusinessClock, dayTime } from "../../../engine/account/index.ts"
import type { TestDatabase } from "../../storeHarness.ts"
import { openTestDatabase } from "../../storeHarness.ts"

export interface ApiUnderTest {
  readonly url: string
  readonly db: TestDatabase
  /** A read-write key and a read-only key. */
  readonly key: string
  readonly readOnlyKey: string
  readonly call: (method: string, path: string, options?: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> }) => Promise<{ status: number; headers: Headers; json: any }>
  readonly close: () => Promise<void>
}

export const startApi = async (today = "2026-03-01"): Promise<ApiUnderTest> => {
  const db = await openTestDatabase()
  const scope = Scope.makeUnsafe()
  const layer = apiServer({ port: 0, host: "127.0.0.1" }).pipe(
    Layer.provide(Layer.mergeAll(db.layer, BusinessClock.fixed(dayTime(today as CalendarDate))))
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const url = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address).replace(/\/$/, "")
  const key = (await createApiKey(db.db.sql, "shop", false)).key
  const readOnlyKey = (await createApiKey(db.db.sql, "reports", true)).key
  const call: ApiUnderTest["call"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers }
    const k = options.key === undefined ? key : options.key
    if (k !== null) headers["authorization"] = `Bearer ${k}`
    let body: string | undefined = options.rawBody
    if (options.body !== undefined) body = JSON.stringify(options.body)
    if (body !== undefined) headers["content-type"] ??= "application/json"
    const r = await fetch(url + path, { method, headers, body })
    const text = await r.text()
    let json: any
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    return { status: r.status, headers: r.headers, json }
  }
  return {
    url, db, key, readOnlyKey, call,
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await db.close()
    }
  }
}

/** The API served for the file's tests (started before them, closed after): a getter, valid inside a test. */
export const useApi = (today: string): (() => ApiUnderTest) => {
  let api: ApiUnderTest | undefined
  beforeAll(async () => {
    api = await startApi(today)
  })
  afterAll(async () => {
    await api?.close()
  })
  return () => api!
}
