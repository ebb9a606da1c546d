/**
 * Products and contacts: adding and changing (validated first, the database's
 * unique keys have the last word), archiving products, showing and listing.
 */
import type { CatalogueError, Frequency } from "../domain/index.ts"
import { emailAddressPattern, terminalStatuses } from "../domain/index.ts"
import { languageProblem, localeProblem } from "../billing/index.ts"
import {
  ContactExists, ContactIdNotFound, ContactInvalid, ContactNotFound, formatFrequency, countryCodeProblem, paymentMethodProblem, isCurrencyCode, notACurrency, parseFrequency, parseMajorAmount,
  ProductExists, ProductInvalid, ProductNotFound, unitPriceProblem
} from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError, refusingTaken } from "../sql/index.ts"
import { writeJournal } from "../sql/index.ts"
import { catalogueErrorMessage } from "./refusals.ts"

/** A rule refused the change: the typed error travels as the `cause` of an InputError (rolled back, exit 2), worded as the doors word it. */
const refused = (error: CatalogueError, where = ""): never => {
  const message = catalogueErrorMessage(error)
  throw new InputError(where === "" ? message : `${where}: ${message}`, { cause: error })
}

export interface ProductInput {
  readonly name: string
  readonly sku: string
  readonly price: string
  readonly currency: string
  readonly frequency: string | undefined
}

export interface ProductRow {
  id: number
  name: string
  sku: string
  unit_price: number
  currency: string
  frequency_unit: Frequency["unit"] | null
  frequency_count: number | null
  /** The business day the product was archived (it goes on no new subscription), or null. */
  archived_on: string | null
}

const productColumns = (sql: Sql | TransactionSql) => sql`id, name, sku, unit_price, currency, frequency_unit, frequency_count, archived_on::text as archived_on`

export const frequencyText = (p: { frequency_unit: Frequency["unit"] | null; frequency_count: number | null }) =>
  p.frequency_unit === null ? "one-time" : formatFrequency({ unit: p.frequency_unit, count: p.frequency_count! })

/** A product's field refused; `where` (a file's line, when given) comes first in the message. */
const productInvalid = (field: ProductInvalid["field"], problem: string, where: string): never => refused(new ProductInvalid({ field, problem }), where)

/** A product's name: not empty. */
const checkProductName = (name: string, where: string): void => {
  if (name.trim() === "") productInvalid("name", "a product needs a name", where)
}

/** A product's unit price in minor units, from major units in its currency: 0 for a free plan, else greater than 0 (unitPriceProblem). */
const productPrice = (price: string, currency: string, oneTime: boolean, where: string): number => {
  const parsed = parseMajorAmount(price, currency)
  if (typeof parsed === "string") return productInvalid("price", parsed, where)
  const problem = unitPriceProblem(parsed, oneTime)
  if (problem !== undefined) productInvalid("price", problem, where)
  return parsed
}

/** A product's frequency: undefined for one-time (and when not given: the caller's default). */
const productFrequency = (frequency: string | undefined, where: string): Frequency | undefined => {
  if (frequency === undefined || frequency === "one-time") return undefined
  const parsed = parseFrequency(frequency)
  if (parsed === undefined) productInvalid("frequency", `unknown frequency "${frequency}"`, where)
  return parsed
}

/** Validates a product; the message names the flag that is wrong. */
export const validateProduct = (input: ProductInput, where = ""): { unitPrice: number; frequency: Frequency | undefined } => {
  checkProductName(input.name, where)
  if (input.sku.trim() === "") productInvalid("sku", "a product needs a SKU", where)
  // The SKU and the email are unique keys: an index entry has a size limit, and no real one is this long.
  if (input.sku.length > 100) productInvalid("sku", `a SKU of ${input.sku.length} characters; at most 100`, where)
  if (!isCurrencyCode(input.currency)) productInvalid("currency", notACurrency(input.currency), where)
  const frequency = productFrequency(input.frequency, where)
  const unitPrice = productPrice(input.price, input.currency, frequency === undefined, where)
  return { unitPrice, frequency }
}

export const addProduct = async (sql: Sql, input: ProductInput): Promise<ProductRow> => {
  const { unitPrice, frequency } = validateProduct(input)
  const taken = () => refused(new ProductExists({ sku: input.sku }))
  // One transaction (a savepoint in a door's): a lost race below rolls back alone, the door's answer still commits.
  return sql.begin(async (tx) => {
    const [exists] = await tx`select 1 from products where sku = ${input.sku}`
    if (exists !== undefined) taken()
    // Another writer may commit the same SKU after this look-up: the unique key has the last word, in the same refusal.
    const [row] = await refusingTaken("products_sku_key", () => tx<Array<ProductRow>>`
      insert into products (name, sku, unit_price, currency, frequency_unit, frequency_count)
      values (${input.name}, ${input.sku}, ${unitPrice}, ${input.currency}, ${frequency?.unit ?? null}, ${frequency?.count ?? null})
      returning ${productColumns(tx)}`, taken)
    return row!
  }) as Promise<ProductRow>
}

/** The catalogue in the order products were added; archived products only when asked for. */
export const listProducts = (sql: Sql, includeArchived = false) =>
  sql<Array<ProductRow>>`select ${productColumns(sql)} from products ${includeArchived ? sql`` : sql`where archived_on is null`} order by id`

const productBySku = async (tx: TransactionSql, sku: string): Promise<ProductRow> => {
  const [row] = await tx<Array<ProductRow>>`select ${productColumns(tx)} from products where sku = ${sku} for update`
  if (row === undefined) return refused(new ProductNotFound({ sku }))
  return row
}

export interface ProductUpdate {
  readonly name?: string | undefined
  readonly price?: string | undefined
  readonly frequency?: string | undefined
}

export interface ProductChange {
  readonly product: ProductRow
  /** Per field changed: what it was and what it is now (price in minor units, frequency as text). */
  readonly changes: Record<string, { from: string | number; to: string | number }>
}

/**
 * Changes a product's name, price or frequency, with its `product.updated`
 * event. The catalogue is what new subscriptions copy: a subscription keeps
 * the price, name and frequency on its own items, so this changes no
 * subscription that exists.
 */
export const updateProduct = (sql: Sql, sku: string, input: ProductUpdate, today: string): Promise<ProductChange> =>
  sql.begin(async (tx) => {
    if (input.name !== undefined) checkProductName(input.name, "")
    const before = await productBySku(tx, sku)
    const frequency = input.frequency === undefined
      ? (before.frequency_unit === null ? undefined : { unit: before.frequency_unit, count: before.frequency_count! })
      : productFrequency(input.frequency, "")
    const unitPrice = input.price === undefined ? before.unit_price : productPrice(input.price, before.currency, frequency === undefined, "")
    const name = input.name ?? before.name
    const after = { ...before, name, unit_price: Number(unitPrice), frequency_unit: frequency?.unit ?? null, frequency_count: frequency?.count ?? null }
    const changes: Record<string, { from: string | number; to: string | number }> = {}
    if (after.name !== before.name) changes["name"] = { from: before.name, to: after.name }
    if (after.unit_price !== Number(before.unit_price)) changes["price"] = { from: Number(before.unit_price), to: after.unit_price }
    if (frequencyText(after) !== frequencyText(before)) changes["frequency"] = { from: frequencyText(before), to: frequencyText(after) }
    if (Object.keys(changes).length === 0) return { product: before, changes }
    const [row] = await tx<Array<ProductRow>>`
      update products set name = ${after.name}, unit_price = ${after.unit_price}, frequency_unit = ${after.frequency_unit}, frequency_count = ${after.frequency_count}
      where id = ${before.id} returning ${productColumns(tx)}`
    await writeJournal(tx, [{ type: "product.updated", subscriptionId: null, contactId: null, occurredOn: today, data: { product_id: before.id, sku: before.sku, currency: before.currency, changes } }], "cli")
    return { product: row!, changes }
  }) as Promise<ProductChange>

/**
 * Archives a product: it goes on no new subscription (create, import, an
 * update that adds it); subscriptions that have it keep billing it. Archiving
 * an archived product changes nothing (`archivedNow` false).
 */
export const archiveProduct = (sql: Sql, sku: string, today: string): Promise<{ product: ProductRow; archivedNow: boolean; subscriptions: number }> =>
  sql.begin(async (tx) => {
    const before = await productBySku(tx, sku)
    const [{ n }] = await tx<[{ n: number }]>`
      select count(distinct s.id)::int as n from subscriptions s join line_items l on l.subscription_id = s.id
      where l.product_id = ${before.id} and s.deleted_on is null and s.status not in ('canceled', 'expired')`
    if (before.archived_on !== null) return { product: before, archivedNow: false, subscriptions: n }
    const [row] = await tx<Array<ProductRow>>`update products set archived_on = ${today} where id = ${before.id} returning ${productColumns(tx)}`
    await writeJournal(tx, [{ type: "product.archived", subscriptionId: null, contactId: null, occurredOn: today, data: { product_id: before.id, sku: before.sku, subscriptions: n } }], "cli")
    return { product: row!, archivedNow: true, subscriptions: n }
  }) as Promise<{ product: ProductRow; archivedNow: boolean; subscriptions: number }>

export interface ContactInput {
  readonly email: string
  readonly name?: string | undefined
  readonly language?: string | undefined
  readonly locale?: string | undefined
  readonly paymentMethod?: string | undefined
  readonly country?: string | undefined
  /** The postal address's other parts (the country is `country`). */
  readonly address?: AddressParts | undefined
}

/**
 * A contact's postal address, printed on its invoices in its country's
 * format (templates/format.ts). Each part has its flag (and CSV column):
 * the key of `addressParts`, and the field of the stored JSON.
 */
export const addressParts = { "address": "line1", "address-line2": "line2", "postal-code": "postalCode", "city": "city", "region": "region" } as const
export type AddressPart = (typeof addressParts)[keyof typeof addressParts]
export type AddressParts = { readonly [K in AddressPart]?: string | undefined }

/** The field (and flag, without its `--`) of an address part. */
const addressFieldOf = (part: AddressPart) => Object.entries(addressParts).find(([, p]) => p === part)![0]

/** The stored address (jsonb) of a contact's parts and country: only the parts that are set. */
export const addressJson = (parts: AddressParts | undefined, country: string | undefined): string | null => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(parts ?? {})) if (v !== undefined && v.trim() !== "") out[k] = v.trim()
  if (country !== undefined && country !== "") out["country"] = country.toUpperCase()
  return Object.keys(out).length === 0 ? null : JSON.stringify(out)
}

export interface ContactRow {
  id: number
  email: string
  name: string | null
  language: string | null
  locale: string | null
  payment_method: string | null
}

export const validateContact = (input: ContactInput, where = ""): void => {
  const invalid = (field: string, problem: string) => refused(new ContactInvalid({ field, problem }), where)
  if (input.email.length > 254) invalid("email", `an email address of ${input.email.length} characters; at most 254 (RFC 5321)`)
  if (!emailAddressPattern.test(input.email)) invalid("email", `"${input.email}" is not an email address`)
  const badLanguage = input.language === undefined ? undefined : languageProblem(input.language)
  if (badLanguage !== undefined) invalid("language", badLanguage)
  const badLocale = input.locale === undefined ? undefined : localeProblem(input.locale)
  if (badLocale !== undefined) invalid("locale", badLocale)
  const badToken = input.paymentMethod === undefined ? undefined : paymentMethodProblem(input.paymentMethod)
  if (badToken !== undefined) invalid("payment-method", badToken)
  const badCountry = input.country === undefined ? undefined : countryCodeProblem(input.country)
  if (badCountry !== undefined) invalid("country", badCountry)
  for (const [part, value] of Object.entries(input.address ?? {}) as Array<[AddressPart, string | undefined]>) {
    if (value !== undefined && value.length > 200) invalid(addressFieldOf(part), `${value.length} characters; at most 200`)
    if (value !== undefined && /[\r\n]/.test(value)) invalid(addressFieldOf(part), "one line only (give the second line with --address-line2)")
  }
}

/** Emails a writer locks one by one (`lockContactEmails`); a writer of more (an import) takes the lock of all of them. */
const contactEmailsLockedEach = 16

/**
 * Makes the writers of contacts with these emails (any case) take turns, to the caller's commit. Taken before the
 * case-insensitive look-up of every path that looks up an email and then inserts a contact with it (or gives a
 * contact that email): the second of two writers of `Bo@x.test` and `bo@x.test` waits here, and its look-up, a
 * statement after this one, sees the first's contact. The unique key (`contacts.email`) compares case, and an index
 * on lower(email) cannot be unique (stores may hold emails that differ only in case, migration 0026): this is what
 * keeps a second one from being made.
 *
 * Transaction-scoped advisory locks, in one statement: the lock of all contact emails first, shared by writers of a
 * few emails and then one lock per lower-cased email, in the order of their keys (two writers of overlapping emails
 * never wait on each other in a circle); a writer of more than `contactEmailsLockedEach` (an import of thousands)
 * takes the lock of all of them alone instead, as the server's lock table holds a few thousand locks in all.
 *
 * One order for every transaction: all its emails in one call, before any row lock it takes (a contact's, a
 * checkout attempt's). A transaction of several writers calls it once for all of them first (a checkout's buyers
 * recorded together, checkout/checkoutPayments.ts `settleBatcherOf`): each taking its own as it went took them in
 * the order they came, and waited in a circle with an import, or with another process's batch.
 */
export const lockContactEmails = async (tx: TransactionSql, emails: ReadonlyArray<string>): Promise<void> => {
  if (emails.length === 0) return
  const each = emails.length <= contactEmailsLockedEach ? [...emails] : []
  // Sent at once (before an await), it may travel with the look-up that follows it (both in one write): the server runs
  // them in turn, and the look-up's snapshot is taken when it starts, after the locks are granted.
  await tx`
    select count(case when n = 0 and ${each.length > 0} then pg_advisory_xact_lock_shared(k) else pg_advisory_xact_lock(k) end) from (
      select 0 as n, hashtextextended(current_schema() || ':billcycle:contact-emails', 0) as k
      union all
      select distinct 1 as n, hashtextextended(current_schema() || ':billcycle:contact-email:' || lower(e), 0) as k from unnest(${each}::text[]) as u(e)
      order by n, k
    ) as keys`
}

export const addContact = async (sql: Sql, input: ContactInput, today: string): Promise<ContactRow> => {
  validateContact(input)
  return sql.begin(async (tx) => {
    const taken = () => refused(new ContactExists({ email: input.email }))
    // A writer of this email in any case (a checkout's buyer, another add) that got here first has committed its contact.
    await lockContactEmails(tx, [input.email])
    const [exists] = await tx`select 1 from contacts where lower(email) = lower(${input.email})`
    if (exists !== undefined) taken()
    // A writer that does not take the email's lock may still commit it meanwhile: the unique key has the last word, in the same refusal.
    const [row] = await refusingTaken("contacts_email_key", () => tx<Array<ContactRow>>`
      insert into contacts (email, name, language, locale, payment_method, address)
      values (${input.email}, ${input.name ?? null}, ${input.language ?? null}, ${input.locale ?? null}, ${input.paymentMethod ?? null},
              ${addressJson(input.address, input.country)}::text::jsonb)
      returning id, email, name, language, locale, payment_method`, taken)
    await writeJournal(tx, [{ type: "contact.created", subscriptionId: null, contactId: row!.id, occurredOn: today, data: { email: row!.email } }], "cli")
    return row!
  }) as Promise<ContactRow>
}

export const listContacts = (sql: Sql) =>
  sql<Array<ContactRow>>`select id, email, name, language, locale, payment_method from contacts order by id`

/** A contact with its postal address: what `contacts show` and `contacts update` print. */
export interface ContactDetail extends ContactRow {
  country: string | null
  address: string | null
  address_line2: string | null
  postal_code: string | null
  city: string | null
  region: string | null
}

const contactColumns = (sql: Sql | TransactionSql) => sql`id, email, name, language, locale, payment_method, address ->> 'country' as country,
  address ->> 'line1' as address, address ->> 'line2' as address_line2, address ->> 'postalCode' as postal_code, address ->> 'city' as city, address ->> 'region' as region`

/** A contact by id (all digits) or email (any case); unknown: refused (ContactNotFound, ContactIdNotFound). */
export const findContact = async (sql: Sql | TransactionSql, ref: string, lock = false): Promise<ContactDetail> => {
  const byId = /^[0-9]{1,15}$/.test(ref)
  const [row] = byId
    ? await sql<Array<ContactDetail>>`select ${contactColumns(sql)} from contacts where id = ${Number(ref)} ${lock ? sql`for update` : sql``}`
    : await sql<Array<ContactDetail>>`select ${contactColumns(sql)} from contacts where lower(email) = lower(${ref}) ${lock ? sql`for update` : sql``}`
  if (row === undefined) return refused(byId ? new ContactIdNotFound({ id: Number(ref) }) : new ContactNotFound({ email: ref }))
  return { ...row, id: Number(row.id) }
}

export interface ContactView {
  readonly contact: ContactDetail
  readonly subscriptions: ReadonlyArray<{ id: number; name: string; status: string; next_billing_date: string | null; payment_method: string | null }>
  readonly open_invoices: number
}

/** A contact, its subscriptions (deleted ones left out) with their status, and how many of its invoices are open. */
export const showContact = async (sql: Sql, ref: string): Promise<ContactView> => {
  const contact = await findContact(sql, ref)
  const subscriptions = await sql<Array<{ id: number; name: string; status: string; next_billing_date: string | null; payment_method: string | null }>>`
    select id::int as id, name, status, next_billing_date::text as next_billing_date, payment_method
    from subscriptions where contact_id = ${contact.id} and deleted_on is null order by id`
  const [{ n }] = await sql<[{ n: number }]>`
    select count(*)::int as n from invoices i join subscriptions s on s.id = i.subscription_id where s.contact_id = ${contact.id} and i.status = 'open'`
  return { contact, subscriptions: [...subscriptions], open_invoices: n }
}

/** What `contacts update` may change; "" clears an optional field. */
export interface ContactUpdate {
  readonly email?: string | undefined
  readonly name?: string | undefined
  readonly language?: string | undefined
  readonly locale?: string | undefined
  readonly paymentMethod?: string | undefined
  readonly country?: string | undefined
  readonly address?: AddressParts | undefined
}

export interface ContactChange {
  readonly contact: ContactDetail
  /** Per field changed (`email`, `name`, `language`, `locale`, `payment_method`, `country`): from and to (null: not set). */
  readonly changes: Record<string, { from: string | null; to: string | null }>
}

/**
 * Changes a contact, validated as `contacts add` validates it, with one
 * `contact.updated` event carrying each changed field's from and to. Nothing
 * changes when anything is wrong. A new payment method is what the next
 * charge of every subscription without its own payment method uses.
 */
export const updateContact = (sql: Sql, ref: string, input: ContactUpdate, today: string): Promise<ContactChange> =>
  sql.begin(async (tx) => {
    // The new email's lock before the contact's row lock (the order every writer of a contact takes them in): a writer
    // of the new email in any case that got here first has committed its contact, and the look-up below finds it.
    if (input.email !== undefined) await lockContactEmails(tx, [input.email])
    const before = await findContact(tx, ref, true)
    const cleared = (v: string | undefined) => (v === "" ? undefined : v)
    validateContact({
      email: input.email ?? before.email, language: cleared(input.language), locale: cleared(input.locale),
      paymentMethod: cleared(input.paymentMethod), country: cleared(input.country), address: input.address
    })
    if (input.email !== undefined && input.email.toLowerCase() !== before.email.toLowerCase()) {
      const [taken] = await tx`select 1 from contacts where lower(email) = lower(${input.email}) and id <> ${before.id}`
      if (taken !== undefined) refused(new ContactExists({ email: input.email }))
    }
    const a = input.address ?? {}
    const given = {
      email: input.email, name: input.name, language: input.language, locale: input.locale, payment_method: input.paymentMethod,
      address: a.line1, address_line2: a.line2, postal_code: a.postalCode, city: a.city, region: a.region,
      country: input.country === undefined || input.country === "" ? input.country : input.country.toUpperCase()
    }
    const after: ContactDetail = { ...before }
    const changes: Record<string, { from: string | null; to: string | null }> = {}
    for (const [field, value] of Object.entries(given) as Array<[keyof typeof given, string | undefined]>) {
      if (value === undefined) continue
      const to = value === "" ? null : value
      if (to !== before[field]) {
        changes[field] = { from: before[field], to }
        after[field] = to as never
      }
    }
    if (Object.keys(changes).length === 0) return { contact: before, changes }
    // A writer that does not take the email's lock may still commit it meanwhile: the unique key has the last word, in the same refusal.
    await refusingTaken("contacts_email_key", () => tx`
      update contacts set email = ${after.email}, name = ${after.name}, language = ${after.language}, locale = ${after.locale},
        payment_method = ${after.payment_method},
        address = ${addressJson({ line1: after.address ?? undefined, line2: after.address_line2 ?? undefined, postalCode: after.postal_code ?? undefined, city: after.city ?? undefined, region: after.region ?? undefined }, after.country ?? undefined)}::text::jsonb
      where id = ${before.id}`, () => refused(new ContactExists({ email: after.email })))
    // A subscription without its own payment method is charged the contact's (billingRun: coalesce(s.payment_method,
    // c.payment_method)): a new card of the contact is a change of that subscription's payment method, journaled on it
    // as `subscriptions update --payment-method` journals it, so rules and webhooks watching the subscription see it.
    // Only the live ones: an ended subscription is charged nothing more.
    const card = changes["payment_method"]
    const taking = card === undefined ? [] : await tx<Array<{ id: number }>>`
      select id from subscriptions where contact_id = ${before.id} and payment_method is null and deleted_on is null
        and not (status = any(${[...terminalStatuses]})) order by id`
    await writeJournal(tx, [
      { type: "contact.updated", subscriptionId: null, contactId: before.id, occurredOn: today, data: { changes } },
      ...taking.map((sub) => ({
        type: "subscription.property_changed" as const, subscriptionId: Number(sub.id), contactId: before.id, occurredOn: today,
        data: { property: "payment_method", from: card!.from, to: card!.to, via: "contact" }
      }))
    ], "cli")
    return { contact: after, changes }
  }) as Promise<ContactChange>
