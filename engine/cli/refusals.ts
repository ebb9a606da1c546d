/**
 * The typed refusals of the invoicing and account rooms (engine/domain/errors.ts)
 * in the CLI's words: the flag or argument they are about, and what to do.
 * Bad input: a `UsageError` (exit 2).
 */
import { Effect } from "effect"
import type { AccountError, InvoiceError } from "../domain/index.ts"
import { accountErrorOf, describeAccountError, describeInvoiceError, invoiceErrorOf } from "../domain/index.ts"
import { UsageError } from "./CliFailure.ts"

/** `notFound` prefixes an unknown invoice (`INVOICE_ID: ` where the command names its argument so). */
export const invoiceRefusalMessage = (e: InvoiceError, options: { readonly notFound?: string } = {}): string => {
  switch (e._tag) {
    case "InvoiceNotFound":
      return `${options.notFound ?? ""}${describeInvoiceError(e)}`
    case "PaymentAmountRefused":
      return `--amount: ${describeInvoiceError(e)}`
    case "InvoicePartlyPaid":
      return `${describeInvoiceError(e)} (billcycle invoices write-off ${e.id})`
    default:
      return describeInvoiceError(e)
  }
}

export const accountRefusalMessage = (e: AccountError): string => {
  switch (e._tag) {
    case "ApiKeyNameRefused":
      return `--name: ${describeAccountError(e)}`
    case "ApiKeyNotFound":
      return `KEY: ${describeAccountError(e)} (billcycle api-keys list)`
    case "ApiKeyRevokedAlready":
      return `KEY: ${describeAccountError(e)}`
    case "WebhookEndpointRefused":
      return `--${e.field}: ${describeAccountError(e)}`
    case "WebhookEndpointNotFound":
      return `ID: ${describeAccountError(e)} (billcycle webhooks list)`
    case "SettingRefused":
      return describeAccountError(e)
  }
}

/** A use case's invoice refusals as `UsageError`s; anything else passes through. */
export const wordInvoiceRefusals = (options: { readonly notFound?: string } = {}) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, InvoiceError> | UsageError, R> =>
    Effect.mapError(effect, (e) => {
      const refusal = e instanceof UsageError ? undefined : invoiceErrorOf(e)
      return refusal === undefined ? e : new UsageError({ message: invoiceRefusalMessage(refusal, options) })
    }) as Effect.Effect<A, Exclude<E, InvoiceError> | UsageError, R>

/** A use case's account refusals as `UsageError`s; anything else passes through. */
export const wordAccountRefusals = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, AccountError> | UsageError, R> =>
  Effect.mapError(effect, (e) => {
    const refusal = e instanceof UsageError ? undefined : accountErrorOf(e)
    return refusal === undefined ? e : new UsageError({ message: accountRefusalMessage(refusal) })
  }) as Effect.Effect<A, Exclude<E, AccountError> | UsageError, R>
