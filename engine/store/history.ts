/**
 * `import history DIR`: loading a past the engine did not live through.
 * Being written in its own change; until then it refuses clearly.
 */
import type { Sql } from "./Database.ts"
import { InputError } from "./InputError.ts"

export interface HistoryImportSummary {
  readonly customers: number
  readonly subscriptions: number
  readonly lineItems: number
  readonly events: number
}

export const importHistory = async (_sql: Sql, dir: string, _options: { readonly today?: string } = {}): Promise<HistoryImportSummary> => {
  throw new InputError(`import history ${dir}: history import is not available in this build yet`)
}
