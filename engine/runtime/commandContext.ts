/**
 * What a use case that changes subscriptions needs from its door (a CLI
 * command or an HTTP request): today in the account's zone (business clock),
 * the settings, this process's owner name and the failpoint hook. Built by
 * the one EngineContext builder (engineContext.ts).
 */
import { currentEngineContext } from "./engineContext.ts"

export const commandContext = currentEngineContext()
