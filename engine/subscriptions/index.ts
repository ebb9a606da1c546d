/**
 * The subscriptions room's door. Subscriptions: create, update, cancel, pause, resume, delete, and their views;
 * the `Subscriptions` service the doors call.
 * Named exports only: what other rooms use.
 */
export { cancelWithRefund } from "./cancelWithRefund.ts"
export type { CancelOptions } from "./cancelWithRefund.ts"
export {
  cancelSubscription, closeOneTimeOrder, createPurchases, createSubscriptions, currentItems, deleteSubscription, getSubscription,
  insertPlannedSubscriptions, itemVersionsOf, listEvents, listSubscriptions, loadProducts, pauseSubscription, purchaseStandIn,
  resolveItems, resolveItemsWith, resumeSubscription, subscriptionWithRows, updateSubscription
} from "./subscriptionWrites.ts"
export { makeSubscriptions, Subscriptions } from "./Subscriptions.ts"
export { parseItems, readCreateRequest, readDate, readPaymentMethod } from "./subscriptionRequest.ts"
export { createdSubscriptionJson, discountCodeJson, subscriptionJson, subscriptionRowJson, subscriptionViewOn } from "./subscriptionView.ts"
export type { EventRow, SubscriptionRows, SubscriptionsFailure, SubscriptionsService } from "./Subscriptions.ts"
export type {
  CancelResult, CreatedSubscription, DeleteResult, UpdateInput, UpdateResult,
  CreateInput, ItemVersion, Purchase, PurchaseOutcome, PurchaseSettings, ResolvedItem, StartChoice, StoredLine, SubscriptionRow
} from "./subscriptionWrites.ts"
export { subscriptionErrorMessage, subscriptionRefusalWords } from "./refusals.ts"
