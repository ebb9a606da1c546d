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

/**
 * `write`, its loss of a race for the unique key `constraint` refused by `taken`: the writer looked the key up
 * and found nothing, then another transaction committed the same key before its insert (SQLSTATE 23505 on
 * that key). It is answered as if its look-up had found the row, in that refusal's words, not the database's.
 */
export const refusingTaken = async <A>(constraint: string, write: () => Promise<A>, taken: () => never): Promise<A> => {
  try {
    return await write()
  } catch (e) {
    const violation = e as { readonly code?: unknown; readonly constraint_name?: unknown } | null
    if (violation?.code === "23505" && violation.constraint_name === constraint) return taken()
    throw e
  }
}

/** A rule of the domain refused the change (only canceled can be deleted, …). */
export const refuse = (message: string): never => {
  throw new InputError(message)
}
