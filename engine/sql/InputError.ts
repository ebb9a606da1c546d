/**
 * Bad input found while writing (an unknown SKU, an unknown contact, a
 * status rule broken): thrown inside a transaction so it rolls back whole,
 * then reported to the user as a usage error naming what was wrong.
 */
export class InputError extends Error {
  override readonly name = "InputError"
}

/** A rule of the domain refused the change (only canceled can be deleted, …). */
export const refuse = (message: string): never => {
  throw new InputError(message)
}
