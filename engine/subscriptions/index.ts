/**
 * The subscriptions room's door. Subscriptions: create, update, cancel, pause, resume, delete, and their views.
 * Named exports only: what other rooms use.
 */
export { cancelWithRefund } from "./cancelWithRefund.ts"
export type { CancelOptions } from "./cancelWithRefund.ts"
export {
  cancelSubscription, closeOneTimeOrder, createSubscriptions, currentItems, deleteSubscription, getSubscription,
  insertPlannedSubscriptions, itemVersionsOf, listEvents, listSubscriptions, loadProducts, pauseSubscription,
  resolveItems, resolveItemsWith, resumeSubscription, subscriptionWithRows, updateSubscription
} from "./subscriptionWrites.ts"
export type {
  CreateInput, ItemVersion, PurchaseSettings, ResolvedItem, StartChoice, StoredLine, SubscriptionRow
} from "./subscriptionWrites.ts"
