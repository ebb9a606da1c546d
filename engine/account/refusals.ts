/**
 * The account room's refusals (typed, engine/domain/errors.ts) in the words
 * both doors give them: the field first (`--url: …` on the command line,
 * `url: …` over HTTP; engine/domain/fieldNames.ts), and what to do.
 */
import type { AccountError, Words } from "../domain/index.ts"
import { describeAccountError, flagField, words } from "../domain/index.ts"

export const accountRefusalWords = (e: AccountError): Words => {
  switch (e._tag) {
    case "ApiKeyNameRefused":
      return words`${flagField("name")}: ${describeAccountError(e)}`
    case "ApiKeyNotFound":
      return [`KEY: ${describeAccountError(e)} (billcycle api-keys list)`]
    case "ApiKeyRevokedAlready":
      return [`KEY: ${describeAccountError(e)}`]
    case "WebhookEndpointRefused":
      return words`${flagField(e.field)}: ${describeAccountError(e)}`
    case "WebhookEndpointNotFound":
      // The command line names the endpoint by its argument ID; over HTTP the path names it (404), and the route lists them.
      return words`${{ cli: "ID: ", api: "" }}${describeAccountError(e)} (${{ cli: "billcycle webhooks list", api: "GET /v1/webhook_endpoints" }})`
    case "SettingRefused":
      return [describeAccountError(e)]
  }
}
