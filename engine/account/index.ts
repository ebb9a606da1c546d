/**
 * The account room's door. The account: settings, the business day (store clock), the business clock, the
 * `EngineContext` (settings, today, owner, failpoint) and its one builder, the buyer-link secret, API keys,
 * webhook endpoints, idempotency keys.
 * Named exports only: what other rooms use.
 */
export { createApiKey, findApiKey, listApiKeys, revokeApiKey } from "./apiKeys.ts"
export type { ApiKeyRow } from "./apiKeys.ts"
export { BusinessClock, dayTime, parseNow } from "./BusinessClock.ts"
export type { FixedTime } from "./BusinessClock.ts"
export { clearStoreClock, moveStoreClock, readStoreClock, readStoreClockAndSettings, storeDay } from "./businessDay.ts"
export type { StoreClockState } from "./businessDay.ts"
export { buyerSecret } from "./buyerSecret.ts"
export { commandContext, currentEngineContext, doorContext, engineOwner, makeEngineContext, rememberedContext, ServerContext, settingsTtlMs } from "./engineContext.ts"
export type { EngineContext, EngineContextOptions } from "./engineContext.ts"
export { answerManyOnce, answerOnce, transactionAsSql } from "./idempotencyKeys.ts"
export type { IdempotentOutcome, StoredAnswer } from "./idempotencyKeys.ts"
export { defaultSettings, listSettings, loadSettings, placeholderWarning, saveSetting, validateSetting } from "./settings.ts"
export type { AccountSettings } from "./settings.ts"
export { addWebhookEndpoint, listWebhookEndpoints, removeWebhookEndpoint } from "./webhookEndpoints.ts"
export type { WebhookEndpointRow } from "./webhookEndpoints.ts"
export { Account } from "./Account.ts"
export type { AccountFailure, SettingRow } from "./Account.ts"
export { accountRefusalWords } from "./refusals.ts"
