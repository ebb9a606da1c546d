/**
 * The catalogue room's door. Contacts and products: added, changed, shown, archived.
 * Named exports only: what other rooms use.
 */
export {
  addContact, addProduct, addressJson, addressParts, archiveProduct, frequencyText, listContacts, listProducts,
  showContact, updateContact, updateProduct, validateContact, validateProduct
} from "./catalogue.ts"
export type { AddressPart, ContactChange, ContactDetail, ContactRow, ProductRow } from "./catalogue.ts"
