/**
 * What an example gives `billcycle demo`: a runner, loaded by its path when
 * the command runs, so the product never imports its examples (examples/
 * import the engine, not the reverse). examples/coffee-shop/runDemo.ts
 * implements `DemoRun`; the type checker holds it to this contract.
 */
import type { Effect } from "effect"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { ReportSet } from "../../reports/index.ts"
import type { CalendarDate } from "../domain/index.ts"
import type { EngineState, TickHooks } from "../runtime/index.ts"
import type { BusinessClock } from "../account/index.ts"
import type { Gateway, GatewayUnavailable } from "../payments/index.ts"
import type { Database, DatabaseError } from "../sql/index.ts"

export interface DemoOptions {
  readonly customers: number
  readonly months: number
  readonly start: CalendarDate
  readonly outDir: string
  readonly progress: boolean
}

export interface DemoResult {
  readonly lines: Array<string>
  readonly totals: Record<string, number>
  readonly mrr: Array<{ month: string; mrr: number; subscribers: number; newMrr: number; churnedMrr: number }>
  readonly invoiceFiles: Array<string>
  /** The full revenue report of the months simulated. */
  readonly reports: ReportSet
}

export type DemoRun = (options: DemoOptions) => Effect.Effect<DemoResult, DatabaseError | GatewayUnavailable, Database | BusinessClock | EngineState | Gateway | TickHooks>

/** The coffee-shop example: its runner and its rules. */
export const demoExampleDir = fileURLToPath(new URL("../../examples/coffee-shop/", import.meta.url))

export const loadDemoRunner = async (): Promise<DemoRun> =>
  ((await import(pathToFileURL(join(demoExampleDir, "runDemo.ts")).href)) as { readonly runDemo: DemoRun }).runDemo
