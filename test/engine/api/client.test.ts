import { Effect, flow } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApiClient } from "effect/http-api"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Api } from "../../../engine/api/index.ts"
import type { ApiUnderTest } from "./apiHarness.ts"
import { startApi } from "./apiHarness.ts"

let api: ApiUnderTest
beforeEach(async () => {
  api = await startApi()
}, 60_000)
afterEach(async () => {
  await api.close()
})

describe("HttpApiClient", () => {
  it("drives a subscription's life through Effect's typed client: create, show, pause, resume, cancel, delete", async () => {
    const program = Effect.gen(function*() {
      const client = yield* HttpApiClient.make(Api, {
        transformClient: HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(api.url), HttpClientRequest.bearerToken(api.key)))
      })
      yield* client.products.create({ payload: { name: "Coffee", sku: "COFFEE", price: "12.50", currency: "USD" } })
      yield* client.contacts.create({ payload: { email: "ana@example.com", payment_method: "pm_ok" } })
      const created = yield* client.subscriptions.create({ payload: { contact: "ana@example.com", items: ["sku=COFFEE"] } })
      const id = String(created.data[0]!["id"])
      const shown = yield* client.subscriptions.show({ params: { id } })
      const paused = yield* client.subscriptions.pause({ params: { id }, payload: {} })
      const resumed = yield* client.subscriptions.resume({ params: { id } })
      const canceled = yield* client.subscriptions.cancel({ params: { id }, payload: {} })
      const deleted = yield* client.subscriptions.delete({ params: { id } })
      const listed = yield* client.subscriptions.list({ query: {} })
      return { statuses: [shown["status"], paused["status"], resumed["status"], canceled["status"]], deleted: deleted["deleted"], left: listed.data.length }
    }).pipe(Effect.provide(FetchHttpClient.layer))
    expect(await Effect.runPromise(program)).toEqual({ statuses: ["active", "paused", "active", "canceled"], deleted: true, left: 0 })
  })
})
