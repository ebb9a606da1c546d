/**
 * The payments room's door. The gateway (and the simulated one, whose ledger stays inside the room), settling a command's own
 * attempts at once (record → call → record), refunds of unused days.
 * Named exports only: what other rooms use.
 */
export { Gateway, GatewayUnavailable } from "./Gateway.ts"
export type { GatewayRequest, GatewayResult } from "./Gateway.ts"
export { recordUnusedDaysRefund, unusedDaysRefund } from "./refunds.ts"
export type { RefundRequest } from "./refunds.ts"
export { settleAttemptsNow } from "./settleNow.ts"
