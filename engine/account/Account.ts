/**
 * The account's use cases as a service: its settings, the API keys of the
 * HTTP API, and the webhook endpoints. Refusals fail as typed errors
 * (`SettingRefused`, `ApiKeyNameRefused`, `ApiKeyNotFound`,
 * `ApiKeyRevokedAlready`, `WebhookEndpointRefused`, `WebhookEndpointNotFound`)
 * the doors word.
 */
import { Context, Effect, Layer } from "effect"
import type { AccountError } from "../domain/index.ts"
import { accountErrorOf } from "../domain/index.ts"
import type { BadInput, DatabaseError, ListQuery } from "../sql/index.ts"
import { Database, runSql, runUseCaseOn } from "../sql/index.ts"
import type { ApiKeyRow } from "./apiKeys.ts"
import { createApiKey, listApiKeys, revokeApiKey } from "./apiKeys.ts"
import { listSettings, saveSetting, settingRefusal } from "./settings.ts"
import type { WebhookEndpointRow } from "./webhookEndpoints.ts"
import { addWebhookEndpoint, listWebhookEndpoints, removeWebhookEndpoint } from "./webhookEndpoints.ts"

export type AccountFailure = AccountError | BadInput | DatabaseError

export interface SettingRow {
  readonly key: string
  readonly value: string
  readonly isDefault: boolean
  readonly help: string
}

export class Account extends Context.Service<Account, {
  /** Every setting, its value and whether it is the default. */
  readonly settings: Effect.Effect<ReadonlyArray<SettingRow>, BadInput | DatabaseError>
  /** Sets a setting once its key and value are valid; the value as kept (a time zone by its canonical name). */
  readonly setSetting: (key: string, value: string) => Effect.Effect<string, AccountFailure>
  /** Makes an API key: the key itself is in the answer, and only there (its hash is kept). */
  readonly createApiKey: (name: string, readOnly: boolean) => Effect.Effect<ApiKeyRow & { readonly key: string }, AccountFailure>
  /** The API keys (a list query each door pages). */
  readonly listApiKeys: ListQuery<ApiKeyRow>
  /** Revokes a key by name or id. */
  readonly revokeApiKey: (ref: string) => Effect.Effect<ApiKeyRow, AccountFailure>
  readonly addWebhookEndpoint: (url: string, events: string, today: string) => Effect.Effect<WebhookEndpointRow, AccountFailure>
  /** The webhook endpoints (a list query each door pages), and all of them at once. */
  readonly listWebhookEndpoints: ListQuery<WebhookEndpointRow>
  readonly webhookEndpoints: Effect.Effect<ReadonlyArray<WebhookEndpointRow>, BadInput | DatabaseError>
  readonly removeWebhookEndpoint: (id: number, today: string) => Effect.Effect<void, AccountFailure>
}>()("billcycle/engine/account/Account") {
  static readonly layer = Layer.effect(
    Account,
    Effect.gen(function*() {
      const db = yield* Database
      const use = <A>(work: Parameters<typeof runUseCaseOn<A, AccountError>>[1]) =>
        runUseCaseOn(db, work, accountErrorOf)
      return Account.of({
        settings: runSql(listSettings).pipe(Effect.provideService(Database, db)),
        setSetting: (key, value) => {
          const refused = settingRefusal(key, value)
          return refused !== undefined ? Effect.fail(refused) : use((sql) => saveSetting(sql, key, value))
        },
        createApiKey: (name, readOnly) => use((sql) => createApiKey(sql, name, readOnly)),
        listApiKeys,
        revokeApiKey: (ref) => use((sql) => revokeApiKey(sql, ref)),
        addWebhookEndpoint: (url, events, today) => use((sql) => addWebhookEndpoint(sql, url, events, today)),
        listWebhookEndpoints,
        webhookEndpoints: runSql(async (sql) => listWebhookEndpoints(sql)).pipe(Effect.provideService(Database, db)),
        removeWebhookEndpoint: (id, today) => use((sql) => removeWebhookEndpoint(sql, id, today))
      })
    })
  )
}
