/**
 * The tick hooks the CLI's engine uses: rules (when --rules is given) and
 * outbox delivery. Filled in by the rules and delivery rooms.
 */
import type { Layer } from "effect"
import { TickHooks } from "./TickHooks.ts"

export const engineHooksLayer = (_rulesDir: string | undefined): Layer.Layer<TickHooks> => TickHooks.none
