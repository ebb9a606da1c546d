/**
 * The contacts use cases as an Effect service: what the CLI and the HTTP API
 * call. Each runs the room's function (catalogue.ts) through `runSql`, inside
 * the door's transaction when it opened one (`CurrentTransaction`), and fails
 * with the rule's refusal as a value (a `CatalogueError`,
 * engine/domain/errors.ts; `catalogueErrorMessage` words it), else `BadInput`
 * (a constraint of the database) or `DatabaseError`.
 */
import { Context, Effect, Layer } from "effect"
import type { ListQuery } from "../sql/index.ts"
import { Database } from "../sql/index.ts"
import type { ContactChange, ContactInput, ContactRow, ContactUpdate, ContactView } from "./catalogue.ts"
import { addContact, listContacts, showContact, updateContact } from "./catalogue.ts"
import type { CatalogueResult } from "./runCatalogue.ts"
import { catalogueRunner } from "./runCatalogue.ts"

export interface ContactsService {
  /** A new contact (`contact.created`); `today` is the business day of its event. */
  readonly add: (input: ContactInput, today: string) => CatalogueResult<ContactRow>
  /** Contacts, oldest first. */
  readonly list: ListQuery<ContactRow>
  /** A contact by id or email, its live subscriptions and how many of its invoices are open. */
  readonly show: (ref: string) => CatalogueResult<ContactView>
  /** Changes a contact (`contact.updated` with each field's from and to). */
  readonly update: (ref: string, input: ContactUpdate, today: string) => CatalogueResult<ContactChange>
}

/** The service over a database. */
export const makeContacts = (db: Database["Service"]): ContactsService => {
  const run = catalogueRunner(db)
  return {
    add: (input, today) => run((sql) => addContact(sql, input, today)),
    list: (sql) => listContacts(sql),
    show: (ref) => run((sql) => showContact(sql, ref)),
    update: (ref, input, today) => run((sql) => updateContact(sql, ref, input, today))
  }
}

export class Contacts extends Context.Service<Contacts, ContactsService>()("billcycle/engine/catalogue/Contacts") {
  /** The use cases over the Database of the command or the server. */
  static readonly layer: Layer.Layer<Contacts, never, Database> = Layer.effect(Contacts, Effect.map(Effect.service(Database), makeContacts))
}
