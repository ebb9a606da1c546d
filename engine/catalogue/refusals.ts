/**
 * The catalogue's refusals (typed, engine/domain/errors.ts) in the words the
 * command line and the HTTP API give them: the field first (`--email: a
 * contact with email … exists already` on the command line, `email: …` over
 * HTTP: the words carry the field, each door names it,
 * engine/domain/fieldNames.ts), and where to look for what is missing. The
 * one wording of these refusals: the store's own InputError carries it too,
 * for callers of its Promise functions (imports, tests).
 */
import type { CatalogueError, ItemError, Words } from "../domain/index.ts"
import { describeCatalogueError, describeItemProblem, flagField, inFlags, itemField, words } from "../domain/index.ts"

/** An item's refusal: the item as its caller named it (`--item 2`, `row 4`), over HTTP the element sent (`items[1]`). */
export const itemRefusalWords = (e: ItemError): Words =>
  e.index === undefined ? [`${e.item}: ${describeItemProblem(e)}`] : words`${itemField(e.index, e.item)}: ${describeItemProblem(e)}`

export const catalogueRefusalWords = (e: CatalogueError): Words => {
  switch (e._tag) {
    case "UnknownSku":
    case "ProductArchived":
    case "ItemRefused":
      return itemRefusalWords(e)
    case "ProductExists":
      return words`${flagField("sku")}: ${describeCatalogueError(e)}`
    case "ProductNotFound":
      // The SKU the command's argument or the route's path names: `sku` at both doors.
      return words`${{ flag: "sku", json: "sku" }}: ${describeCatalogueError(e)} (${{ cli: "billcycle products list --include-archived", api: "GET /v1/products?include_archived=true" }})`
    case "ContactExists":
      return words`${flagField("email")}: ${describeCatalogueError(e)}`
    case "ContactNotFound":
    case "ContactIdNotFound":
      return words`contact: ${describeCatalogueError(e)} (${{ cli: "billcycle contacts list", api: "GET /v1/contacts" }})`
    case "ProductInvalid":
    case "ContactInvalid":
      return words`${flagField(e.field)}: ${e.problem}`
  }
}

export const catalogueErrorMessage = (e: CatalogueError): string => inFlags(catalogueRefusalWords(e))
