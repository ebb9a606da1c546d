/**
 * The checkout room's door: payment links, checkout sessions and the buyer's
 * pages' use cases. Named exports only (one per line, sorted).
 */
export { BuyerLinkExpired } from "./buyerPages.ts"
export { BuyerLinkInvalid } from "./buyerPages.ts"
export { InvalidPaymentMethod } from "./buyerPages.ts"
export { pageSecret } from "./buyerPages.ts"
export { payInvoiceOnline } from "./buyerPages.ts"
export type { PaymentAnswer } from "./buyerPages.ts"
export { paymentMethodProblem } from "./buyerPages.ts"
export { showInvoicePayPage } from "./buyerPages.ts"
export { showPaymentUpdatePage } from "./buyerPages.ts"
export { updatePaymentMethod } from "./buyerPages.ts"
