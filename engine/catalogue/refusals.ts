/**
 * The catalogue's refusals (typed, engine/domain/errors.ts) in the words the
 * command line and the HTTP API have always given them: the field first, as
 * its flag (`--email: a contact with email … exists already`; the API derives
 * its problem's `field` from it), and where to look for what is missing. The
 * one wording of these refusals: the store's own InputError carries it too,
 * for callers of its Promise functions (imports, tests).
 */
import type { CatalogueError } from "../domain/index.ts"
import { describeCatalogueError } from "../domain/index.ts"

export const catalogueErrorMessage = (e: CatalogueError): string => {
  switch (e._tag) {
    case "UnknownSku":
    case "ProductArchived":
    case "ItemRefused":
      // The item's label (`--item 2`, `row 4`) comes first already.
      return describeCatalogueError(e)
    case "ProductExists":
      return `--sku: ${describeCatalogueError(e)}`
    case "ProductNotFound":
      return `sku: ${describeCatalogueError(e)} (billcycle products list --include-archived)`
    case "ContactExists":
      return `--email: ${describeCatalogueError(e)}`
    case "ContactNotFound":
    case "ContactIdNotFound":
      return `contact: ${describeCatalogueError(e)} (billcycle contacts list)`
    case "ProductInvalid":
    case "ContactInvalid":
      return `--${e.field}: ${e.problem}`
  }
}
