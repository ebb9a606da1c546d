/**
 * The catalogue room's door. Contacts and products: added, changed, shown, archived.
 * Named exports only: what other rooms use.
 */
export {
  addContact, addProduct, addressJson, addressParts, archiveProduct, frequencyText, listContacts, listProducts,
  lockContactEmails, showContact, updateContact, updateProduct, validateContact, validateProduct
} from "./catalogue.ts"
export type {
  AddressPart, ContactChange, ContactDetail, ContactInput, ContactRow, ContactUpdate, ContactView, ProductChange, ProductInput, ProductRow,
  ProductUpdate
} from "./catalogue.ts"
export { Contacts, makeContacts } from "./Contacts.ts"
export type { ContactsService } from "./Contacts.ts"
export { makeProducts, Products } from "./Products.ts"
export type { ProductsService } from "./Products.ts"
export type { CatalogueFailure, CatalogueResult } from "./runCatalogue.ts"
export { catalogueErrorMessage, catalogueRefusalWords, itemRefusalWords } from "./refusals.ts"
