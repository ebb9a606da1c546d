/**
 * The payments room's door. The simulated gateway's ledger and refunds of unused days.
 * Named exports only: what other rooms use.
 */
export { recordUnusedDaysRefund, unusedDaysRefund } from "./refunds.ts"
export type { RefundRequest } from "./refunds.ts"
export { chargedReferences, enterInLedger, ledgerEntries, refuseOnce, settleDueBankDebits } from "./simulatedGatewayLedger.ts"
