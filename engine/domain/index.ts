/**
 * The domain room's one door: the schemas and types every other room speaks.
 * Pure data; no services. Named exports only: what other rooms use (one per
 * line, sorted).
 */
export { autoRenew } from "./terms.ts"
export { BillingTerms } from "./terms.ts"
export { CalendarDate } from "./calendarDate.ts"
export { canCancel } from "./status.ts"
export { canDelete } from "./status.ts"
export { canPause } from "./status.ts"
export { canResume } from "./status.ts"
export { closestName } from "./nearName.ts"
export { fixedPayments } from "./terms.ts"
export { formatBillingTerms } from "./terms.ts"
export { formatFrequency } from "./frequency.ts"
export { formatByte } from "./utf8.ts"
export { formatMajorAmount } from "./money.ts"
export { Frequency } from "./frequency.ts"
export { frequencyNames } from "./frequency.ts"
export { FrequencyUnit } from "./frequency.ts"
export { currencyCodes } from "./money.ts"
export { decodeUtf8 } from "./utf8.ts"
export { isCurrencyCode, notACurrency } from "./money.ts"
export { isTerminal } from "./status.ts"
export type { ItemSpec } from "./itemSpec.ts"
export { ContactId, emailAddressPattern, InvoiceId, LineItem, SubscriptionId } from "./entities.ts"
export { maxInvoiceAmount } from "./money.ts"
export { maxLineAmount } from "./money.ts"
export { maxQuantity } from "./money.ts"
export { minorUnitExponent } from "./money.ts"
export type { NotUtf8, Utf8Decoded } from "./utf8.ts"
export { MinorUnits } from "./money.ts"
export { moneyJson } from "./money.ts"
export { namedFrequencies } from "./frequency.ts"
export { parseBillingTerms } from "./terms.ts"
export { parseFrequency } from "./frequency.ts"
export { parseItemSpec } from "./itemSpec.ts"
export { parseMajorAmount, readMajorAmount } from "./money.ts"
export type { MajorAmountProblem } from "./money.ts"
export { PaymentTerms } from "./status.ts"
export { paymentTermsDays } from "./status.ts"
export { SubscriptionStatus } from "./status.ts"
export { subscriptionStatuses } from "./status.ts"
export { terminalStatuses } from "./status.ts"
export { UnitDiscount } from "./entities.ts"
export type { JournalLine, SubscriptionCreated } from "./events.ts"
export { itemsData, subscriptionCreatedData } from "./events.ts"
export type { AccountError, CatalogueError, InvoiceError, ItemError, SubscriptionError } from "./errors.ts"
export {
  catalogueErrorOf,
  typedErrorOf,
  ContactExists,
  ContactIdNotFound,
  ContactInvalid,
  ContactNotFound,
  describeCatalogueError,
  describeItemProblem,
  itemErrorOf,
  ItemRefused,
  ProductArchived,
  ProductExists,
  ProductInvalid,
  ProductNotFound,
  UnknownSku,
  describeSubscriptionError,
  ItemDoesNotFit,
  NextBillingDateRefused,
  NoPaymentMethod,
  NothingToUpdate,
  PurchaseRefused,
  RefundAtPeriodEnd,
  ResumeDateNotAfterToday,
  StartBeforeToday,
  SubscriptionDeleted,
  SubscriptionNotFound,
  subscriptionErrorOf,
  TransitionRefused
} from "./errors.ts"
export {
  accountErrorOf,
  ApiKeyNameRefused,
  ApiKeyNotFound,
  ApiKeyRevokedAlready,
  describeAccountError,
  describeInvoiceError,
  InvoiceAlreadyClosed,
  invoiceErrorOf,
  InvoiceNotFound,
  InvoicePaid,
  InvoicePartlyPaid,
  InvoiceStatusRefused,
  MoneyInFlight,
  OutboxMessageNotFound,
  OutboxRetryRefused,
  PaymentAmountRefused,
  SettingRefused,
  WebhookEndpointNotFound,
  WebhookEndpointRefused
} from "./errors.ts"
export { unitPriceProblem } from "./money.ts"
export { eventPatternProblem, eventTypeProblem, journalEventTypes } from "./events.ts"
export { countryCodeProblem, isCountryCode } from "./country.ts"
export { money } from "./money.ts"
export type { Money } from "./money.ts"
export type {
  BillingStart,
  BuyerChoices,
  ContactField,
  DiscountCode,
  DiscountDuration,
  DiscountOff,
  EditableQuantity,
  ItemChoice,
  LinkItem,
  OrderDiscount,
  OwnPrice,
  PaymentLink,
  PaymentLinkSettings,
  PaymentType
} from "./paymentLinks.ts"
export {
  BuyerChoiceRefused,
  DiscountCodeInvalid,
  DiscountCodeNotFound,
  DiscountCodeUnusable,
  discountCodeFieldNames,
  LinkField,
  linkFieldNames,
  LinkRule,
  PaymentLinkInvalid,
  PaymentLinkNotFound,
  paymentTypes
} from "./paymentLinks.ts"
export { maxFixedPayments } from "./terms.ts"
export type { DeclineCode } from "./paymentMethod.ts"
export { declineReasonLabel, declineReasons, paymentMethodProblem } from "./paymentMethod.ts"
export { DoorText, FieldName, fieldAtFault, flagField, inFlags, inJsonFields, itemField, itemsField, Words, words } from "./fieldNames.ts"
