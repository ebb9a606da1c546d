/**
 * Bad input found while writing (an unknown SKU, an unknown contact, a
 * status rule broken): thrown inside a transaction so it rolls back whole,
 * then reported to the user as a usage error naming what was wrong.
 */
import type { Words } from "../domain/index.ts"
import { inFlags } from "../domain/index.ts"

export class InputError extends Error {
  override readonly name = "InputError"
  /** The message's words with their fields (domain/fieldNames.ts), when it names one: the HTTP API names the JSON field. */
  readonly words: Words | undefined
  constructor(message: string, options?: { readonly cause?: unknown; readonly words?: Words }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.words = options?.words
  }
}

/** Bad input worded with its fields: the message in the CLI's flags, the words for the API. */
export const refuseWords = (words: Words): never => {
  throw new InputError(inFlags(words), { words })
}

/** A rule of the domain refused the change (only canceled can be deleted, …). */
export const refuse = (message: string): never => {
  throw new InputError(message)
}
