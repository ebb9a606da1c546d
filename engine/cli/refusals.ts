/**
 * The typed refusals of the invoicing and account rooms (engine/domain/errors.ts)
 * in the CLI's words: the flag or argument they are about, and what to do
 * (the rooms' words, engine/invoicing/refusals.ts and engine/account/refusals.ts, with fields as flags).
 * Bad input: a `UsageError` (exit 2).
 */
import { Effect } from "effect"
import type { AccountError, InvoiceError } from "../domain/index.ts"
import { accountErrorOf, inFlags, invoiceErrorOf } from "../domain/index.ts"
import { invoiceRefusalWords } from "../invoicing/index.ts"
import { accountRefusalWords } from "../account/index.ts"
import { UsageError } from "./CliFailure.ts"

/** `notFound` prefixes an unknown invoice (`INVOICE_ID: ` where the command names its argument so). */
export const invoiceRefusalMessage = (e: InvoiceError, options: { readonly notFound?: string } = {}): string => inFlags(invoiceRefusalWords(e, options))

export const accountRefusalMessage = (e: AccountError): string => inFlags(accountRefusalWords(e))

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
