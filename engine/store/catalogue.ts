/**
 * Products and contacts: adding (validated first, the database's unique keys
 * have the last word) and listing.
 */
import type { Frequency } from "../domain/index.ts"
import { formatFrequency, isCurrencyCode, parseFrequency, parseMajorAmount } from "../domain/index.ts"
import type { Sql } from "./Database.ts"
import { InputError } from "./InputError.ts"
import { writeJournal } from "./journalBatch.ts"

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
}

export const frequencyText = (p: { frequency_unit: Frequency["unit"] | null; frequency_count: number | null }) =>
  p.frequency_unit === null ? "one-time" : formatFrequency({ unit: p.frequency_unit, count: p.frequency_count! })

/** Validates a product; the message names the flag that is wrong. */
export const validateProduct = (input: ProductInput, where = ""): { unitPrice: number; frequency: Frequency | undefined } => {
  const at = (flag: string) => (where === "" ? flag : `${where}: ${flag}`)
  if (input.name.trim() === "") throw new InputError(`${at("--name")}: a product needs a name`)
  if (input.sku.trim() === "") throw new InputError(`${at("--sku")}: a product needs a SKU`)
  // The SKU and the email are unique keys: an index entry has a size limit, and no real one is this long.
  if (input.sku.length > 100) throw new InputError(`${at("--sku")}: a SKU of ${input.sku.length} characters; at most 100`)
  if (!isCurrencyCode(input.currency)) throw new InputError(`${at("--currency")}: "${input.currency}" is not an ISO 4217 currency code`)
  const price = parseMajorAmount(input.price, input.currency)
  if (typeof price === "string") throw new InputError(`${at("--price")}: ${price}`)
  if (price <= 0) throw new InputError(`${at("--price")}: a product's unit price must be greater than 0`)
  let frequency: Frequency | undefined
  if (input.frequency !== undefined && input.frequency !== "one-time") {
    frequency = parseFrequency(input.frequency)
    if (frequency === undefined) throw new InputError(`${at("--frequency")}: unknown frequency "${input.frequency}"`)
  }
  return { unitPrice: price, frequency }
}

export const addProduct = async (sql: Sql, input: ProductInput): Promise<ProductRow> => {
  const { unitPrice, frequency } = validateProduct(input)
  const [exists] = await sql`select 1 from products where sku = ${input.sku}`
  if (exists !== undefined) throw new InputError(`--sku: a product with SKU "${input.sku}" exists already`)
  const [row] = await sql<Array<ProductRow>>`
    insert into products (name, sku, unit_price, currency, frequency_unit, frequency_count)
    values (${input.name}, ${input.sku}, ${unitPrice}, ${input.currency}, ${frequency?.unit ?? null}, ${frequency?.count ?? null})
    returning id, name, sku, unit_price, currency, frequency_unit, frequency_count`
  return row!
}

export const listProducts = (sql: Sql) =>
  sql<Array<ProductRow>>`select id, name, sku, unit_price, currency, frequency_unit, frequency_count from products order by id`

export interface ContactInput {
  readonly email: string
  readonly name?: string | undefined
  readonly language?: string | undefined
  readonly locale?: string | undefined
  readonly paymentMethod?: string | undefined
  readonly country?: string | undefined
}

export interface ContactRow {
  id: number
  email: string
  name: string | null
  language: string | null
  locale: string | null
  payment_method: string | null
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
export const languages = ["en", "nb", "nl", "fr", "sv"] as const

export const validateContact = (input: ContactInput, where = ""): void => {
  const at = (flag: string) => (where === "" ? flag : `${where}: ${flag}`)
  if (input.email.length > 254) throw new InputError(`${at("--email")}: an email address of ${input.email.length} characters; at most 254 (RFC 5321)`)
  if (!emailPattern.test(input.email)) throw new InputError(`${at("--email")}: "${input.email}" is not an email address`)
  if (input.language !== undefined && !(languages as ReadonlyArray<string>).includes(input.language)) {
    throw new InputError(`${at("--language")}: expected one of ${languages.join(", ")}, got "${input.language}"`)
  }
  if (input.locale !== undefined && Intl.DateTimeFormat.supportedLocalesOf([input.locale]).length !== 1) {
    throw new InputError(`${at("--locale")}: "${input.locale}" is not a locale such as nb-NO`)
  }
}

export const addContact = async (sql: Sql, input: ContactInput, today: string): Promise<ContactRow> => {
  validateContact(input)
  return sql.begin(async (tx) => {
    const [exists] = await tx`select 1 from contacts where lower(email) = lower(${input.email})`
    if (exists !== undefined) throw new InputError(`--email: a contact with email ${input.email} exists already`)
    const [row] = await tx<Array<ContactRow>>`
      insert into contacts (email, name, language, locale, payment_method, address)
      values (${input.email}, ${input.name ?? null}, ${input.language ?? null}, ${input.locale ?? null}, ${input.paymentMethod ?? null},
              ${input.country === undefined ? null : JSON.stringify({ country: input.country })}::text::jsonb)
      returning id, email, name, language, locale, payment_method`
    await writeJournal(tx, [{ type: "contact.created", subscriptionId: null, contactId: row!.id, occurredOn: today, data: { email: row!.email } }], "cli")
    return row!
  }) as Promise<ContactRow>
}

export const listContacts = (sql: Sql) =>
  sql<Array<ContactRow>>`select id, email, name, language, locale, payment_method from contacts order by id`
