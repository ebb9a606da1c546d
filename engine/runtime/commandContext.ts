/**
 * What a use case that changes subscriptions needs from its door (a CLI
 * command or an HTTP request): today in the account's zone (business clock),
 * the settings, this process's owner name and the failpoint hook.
 */
import { Effect } from "effect"
import type { EngineContext } from "../store/index.ts"
import { loadSettings, runSql } from "../store/index.ts"
import { BusinessClock } from "./BusinessClock.ts"
import { engineOwner } from "./Engine.ts"
import { failpoint } from "./failpoint.ts"

export const commandContext = Effect.gen(function*() {
  const clock = yield* BusinessClock
  const settings = yield* runSql(loadSettings)
  const today = yield* clock.today(settings.timezone)
  return { today, settings, owner: engineOwner, failpoint } as EngineContext
})
