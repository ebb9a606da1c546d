/**
 * What an engine remembers between its ticks: the time spent per step (for
 * benchmarks), the changes since the embedded database was last vacuumed (a
 * server's engines count theirs together, in the store), and whether a server
 * vacuums by itself. A service, not module globals: each engine (a CLI run, the
 * demo, a test, a benchmark) has its own, made where its layer is built.
 */
import { Context, Layer } from "effect"

export interface StepTiming {
  readonly calls: number
  readonly ms: number
}

export interface EngineStateService {
  /** Adds one call of `ms` milliseconds to step `step`. */
  readonly recordStep: (step: string, ms: number) => void
  /** Time spent per step since the state was made (or last reset). */
  readonly stepTimings: () => ReadonlyMap<string, StepTiming>
  readonly resetStepTimings: () => void
  /** Counts `changes` toward the next vacuum; returns the count since the last one. */
  readonly addChanges: (changes: number) => number
  /** The database was vacuumed: the count starts again. */
  readonly vacuumed: () => void
  /** Whether the server vacuums by itself (autovacuum on), once asked; `undefined` before. */
  readonly serverAutovacuums: () => boolean | undefined
  readonly setServerAutovacuums: (on: boolean) => void
}

export const makeEngineState = (): EngineStateService => {
  const timings = new Map<string, StepTiming>()
  let changesSinceVacuum = 0
  let autovacuums: boolean | undefined
  return {
    recordStep: (step, ms) => {
      const entry = timings.get(step) ?? { calls: 0, ms: 0 }
      timings.set(step, { calls: entry.calls + 1, ms: entry.ms + ms })
    },
    stepTimings: () => timings,
    resetStepTimings: () => timings.clear(),
    addChanges: (changes) => (changesSinceVacuum += changes),
    vacuumed: () => {
      changesSinceVacuum = 0
    },
    serverAutovacuums: () => autovacuums,
    setServerAutovacuums: (on) => {
      autovacuums = on
    }
  }
}

export class EngineState extends Context.Service<EngineState, EngineStateService>()("billcycle/engine/runtime/EngineState") {
  static readonly layer = Layer.sync(EngineState, makeEngineState)
}
