/**
 * The domain room's one door: the schemas and types every other room speaks.
 * Pure data; no services.
 */
export * from "./calendarDate.ts"
export * from "./money.ts"
export * from "./frequency.ts"
export * from "./terms.ts"
export * from "./status.ts"
export * from "./entities.ts"
export * from "./decode.ts"
export * from "./itemSpec.ts"
export type { JournalLine, SubscriptionCreated } from "./events.ts"
export { itemsData, subscriptionCreatedData } from "./events.ts"
export type { SubscriptionError } from "./errors.ts"
export {
  ContactNotFound,
  describeSubscriptionError,
  ItemDoesNotFit,
  NextBillingDateRefused,
  NoPaymentMethod,
  NothingToUpdate,
  PurchaseRefused,
  RefundAtPeriodEnd,
  ResumeDateNotAfterToday,
  SubscriptionDeleted,
  SubscriptionNotFound,
  subscriptionErrorOf,
  TransitionRefused
} from "./errors.ts"
