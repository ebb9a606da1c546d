/**
 * The SQL of payment links, their items and the discount-code catalogue
 * (tables of migration 0018). The only home of these tables' SQL: the use
 * cases (paymentLinkWrites.ts, discountCodeWrites.ts) and the buyer's checkout read and
 * write them through these functions. Rows become domain values here.
 */
import type { CalendarDate, ContactField, DiscountCode, Frequency, LinkItem, PaymentLink, PaymentLinkSettings, PaymentType } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import type { PendingQuery, Row } from "postgres"

/** A query runner: the connection or a transaction. */
type Runner = Sql | TransactionSql

interface LinkRow {
  id: number
  slug: string
  name: string
  currency: string
  terms_payments: number | null
  start_kind: "checkout" | "date" | "days" | "months"
  start_date: string | null
  start_delay: number | null
  order_discount_ppm: number | null
  order_discount_amount: number | null
  checkout_text: string | null
  confirmation_text: string | null
  redirect_url: string | null
  language: string
  locale: string | null
  payment_types: Array<string>
  collect_billing_address: boolean
  collect_shipping_address: boolean
  allow_discount_codes: boolean
  contact_fields: Array<{ label: string; help_text?: string | null; required: boolean; order: number }>
  active: boolean
  completed_payments: number
  completed_payments_limit: number | null
  from_contact_id: number | null
  created_on: string
  updated_on: string
  deleted_on: string | null
}

interface ItemRow {
  link_id: number
  position: number
  product_id: number | null
  sku: string | null
  name: string
  description: string | null
  unit_price: number
  quantity: number
  frequency_unit: Frequency["unit"] | null
  frequency_count: number | null
  discount_ppm: number | null
  discount_amount: number | null
  tax_rate_ppm: number | null
  optional: boolean
  quantity_min: number | null
  quantity_max: number | null
  own_price_minimum: number | null
}

const linkColumns = (sql: Runner) => sql`
  id::int as id, slug, name, currency, terms_payments, start_kind, start_date::text as start_date, start_delay,
  order_discount_ppm, order_discount_amount::float8 as order_discount_amount, checkout_text, confirmation_text, redirect_url,
  language, locale, payment_types, collect_billing_address, collect_shipping_address, allow_discount_codes, contact_fields,
  active, completed_payments, completed_payments_limit, from_contact_id::int as from_contact_id,
  created_on::text as created_on, updated_on::text as updated_on, deleted_on::text as deleted_on`

const itemOf = (r: ItemRow): LinkItem => ({
  productId: r.product_id ?? undefined,
  sku: r.sku ?? undefined,
  name: r.name,
  description: r.description ?? undefined,
  unitPrice: Number(r.unit_price),
  quantity: r.quantity,
  frequency: r.frequency_unit === null ? undefined : { unit: r.frequency_unit, count: r.frequency_count! },
  discount: r.discount_ppm !== null
    ? { _tag: "Percent", ppm: r.discount_ppm }
    : r.discount_amount !== null
    ? { _tag: "Amount", amount: Number(r.discount_amount) as never }
    : undefined,
  taxRate: r.tax_rate_ppm ?? undefined,
  optional: r.optional,
  editableQuantity: r.quantity_min === null ? undefined : { min: r.quantity_min, max: r.quantity_max! },
  ownPrice: r.own_price_minimum === null ? undefined : { minimum: Number(r.own_price_minimum) }
})

const linkOf = (r: LinkRow, items: ReadonlyArray<ItemRow>): PaymentLink => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  currency: r.currency,
  items: items.filter((i) => Number(i.link_id) === r.id).sort((a, b) => a.position - b.position).map(itemOf),
  terms: r.terms_payments === null ? { _tag: "AutoRenew" } : { _tag: "Fixed", payments: r.terms_payments },
  start: r.start_kind === "checkout"
    ? { _tag: "AtCheckout" }
    : r.start_kind === "date"
    ? { _tag: "Date", date: r.start_date as CalendarDate }
    : r.start_kind === "days"
    ? { _tag: "DelayDays", days: r.start_delay! }
    : { _tag: "DelayMonths", months: r.start_delay! },
  orderDiscount: r.order_discount_ppm !== null
    ? { _tag: "Percent", ppm: r.order_discount_ppm }
    : r.order_discount_amount !== null
    ? { _tag: "Amount", amount: Number(r.order_discount_amount) }
    : undefined,
  checkoutText: r.checkout_text ?? undefined,
  confirmationText: r.confirmation_text ?? undefined,
  redirectUrl: r.redirect_url ?? undefined,
  language: r.language,
  locale: r.locale ?? undefined,
  paymentTypes: r.payment_types as Array<PaymentType>,
  collectBillingAddress: r.collect_billing_address,
  collectShippingAddress: r.collect_shipping_address,
  allowDiscountCodes: r.allow_discount_codes,
  contactFields: r.contact_fields.map((f): ContactField => ({
    label: f.label, helpText: f.help_text ?? undefined, required: f.required, order: f.order
  })),
  active: r.active,
  completedPayments: r.completed_payments,
  completedPaymentsLimit: r.completed_payments_limit ?? undefined,
  fromContactId: r.from_contact_id ?? undefined,
  createdOn: r.created_on as CalendarDate,
  updatedOn: r.updated_on as CalendarDate,
  deletedOn: (r.deleted_on ?? undefined) as CalendarDate | undefined
})

const itemColumns = (sql: Runner) => sql`
  link_id::int as link_id, position, product_id::int as product_id, sku, name, description, unit_price::float8 as unit_price, quantity,
  frequency_unit, frequency_count, discount_ppm, discount_amount::float8 as discount_amount, tax_rate_ppm, optional,
  quantity_min, quantity_max, own_price_minimum::float8 as own_price_minimum`

/** The link's items, as JSON rows of the items' columns in their order: read in the statement that reads the link. */
const itemsJson = (sql: Runner) => sql`
  coalesce((select json_agg(i order by i.position) from (select ${itemColumns(sql)} from payment_link_items where link_id = payment_links.id) i), '[]') as items`

type LinkWithItems = LinkRow & { items: Array<ItemRow> }

/**
 * One link, found by `where`, with its items in the same statement (the page that opens a checkout reads one
 * link per buyer); `lock` takes the link's row lock (inside a transaction).
 */
const oneLink = async (sql: Runner, where: ReturnType<Runner>, lock: boolean): Promise<PaymentLink | undefined> => {
  const [row] = await sql<Array<LinkWithItems>>`
    select ${linkColumns(sql)}, ${itemsJson(sql)} from payment_links where ${where} ${lock ? sql`for update` : sql``}`
  return row === undefined ? undefined : linkOf(row, row.items)
}

/** A link by its id, deleted or not; undefined when there is none. `lock` takes a row lock (inside a transaction). */
export const paymentLinkById = async (sql: Runner, id: number, lock = false): Promise<PaymentLink | undefined> =>
  !Number.isSafeInteger(id) || id <= 0 ? undefined : oneLink(sql, sql`id = ${id}`, lock)

/** A link by its slug (the /l/SLUG address), deleted or not; undefined when there is none. */
export const paymentLinkBySlug = (sql: Runner, slug: string, lock = false): Promise<PaymentLink | undefined> =>
  oneLink(sql, sql`slug = ${slug}`, lock)

/** A link by id (all digits) or slug. */
export const paymentLinkByRef = (sql: Runner, ref: string, lock = false): Promise<PaymentLink | undefined> =>
  /^\d+$/.test(ref) ? paymentLinkById(sql, Number(ref), lock) : paymentLinkBySlug(sql, ref, lock)

/** A page of links not deleted, by id, after the cursor `after` (an id); `limit` rows. */
export const listPaymentLinks = async (sql: Runner, page: { readonly after?: number | undefined; readonly limit: number; readonly active?: boolean | undefined }): Promise<Array<PaymentLink>> => {
  const rows = await sql<Array<LinkWithItems>>`
    select ${linkColumns(sql)}, ${itemsJson(sql)} from payment_links
    where deleted_on is null and id > ${page.after ?? 0}
      ${page.active === undefined ? sql`` : sql`and active = ${page.active}`}
    order by id limit ${page.limit}`
  return rows.map((r) => linkOf(r, r.items))
}

const linkValues = (s: PaymentLinkSettings) => ({
  name: s.name,
  currency: s.currency,
  terms_payments: s.terms._tag === "Fixed" ? s.terms.payments : null,
  start_kind: s.start._tag === "AtCheckout" ? "checkout" : s.start._tag === "Date" ? "date" : s.start._tag === "DelayDays" ? "days" : "months",
  start_date: s.start._tag === "Date" ? s.start.date : null,
  start_delay: s.start._tag === "DelayDays" ? s.start.days : s.start._tag === "DelayMonths" ? s.start.months : null,
  order_discount_ppm: s.orderDiscount?._tag === "Percent" ? s.orderDiscount.ppm : null,
  order_discount_amount: s.orderDiscount?._tag === "Amount" ? s.orderDiscount.amount : null,
  checkout_text: s.checkoutText ?? null,
  confirmation_text: s.confirmationText ?? null,
  redirect_url: s.redirectUrl ?? null,
  language: s.language,
  locale: s.locale ?? null,
  collect_billing_address: s.collectBillingAddress,
  collect_shipping_address: s.collectShippingAddress,
  allow_discount_codes: s.allowDiscountCodes,
  completed_payments_limit: s.completedPaymentsLimit ?? null
})

const contactFieldsJson = (fields: ReadonlyArray<ContactField>) =>
  JSON.stringify(fields.map((f) => ({ label: f.label, help_text: f.helpText ?? null, required: f.required, order: f.order })))

const insertItems = async (sql: Runner, linkId: number, items: ReadonlyArray<LinkItem>) => {
  if (items.length === 0) return
  await sql`
    insert into payment_link_items (link_id, position, product_id, sku, name, description, unit_price, quantity, frequency_unit, frequency_count,
      discount_ppm, discount_amount, tax_rate_ppm, optional, quantity_min, quantity_max, own_price_minimum)
    select ${linkId}, n, p, sk, nm, ds, up, q, fu, fc, dp, da, tr, op::bool, qn, qx, om from unnest(
      ${items.map((_, i) => i + 1)}::int[], ${items.map((i) => i.productId ?? null)}::int8[], ${items.map((i) => i.sku ?? null)}::text[],
      ${items.map((i) => i.name)}::text[], ${items.map((i) => i.description ?? null)}::text[], ${items.map((i) => i.unitPrice)}::int8[],
      ${items.map((i) => i.quantity)}::int[], ${items.map((i) => i.frequency?.unit ?? null)}::text[], ${items.map((i) => i.frequency?.count ?? null)}::int[],
      ${items.map((i) => (i.discount?._tag === "Percent" ? i.discount.ppm : null))}::int[],
      ${items.map((i) => (i.discount?._tag === "Amount" ? i.discount.amount : null))}::int8[],
      ${items.map((i) => i.taxRate ?? null)}::int[], ${items.map((i) => (i.optional ? "t" : "f"))}::text[],
      ${items.map((i) => i.editableQuantity?.min ?? null)}::int[], ${items.map((i) => i.editableQuantity?.max ?? null)}::int[],
      ${items.map((i) => i.ownPrice?.minimum ?? null)}::int8[]
    ) as u(n, p, sk, nm, ds, up, q, fu, fc, dp, da, tr, op, qn, qx, om)`
}

/** Inserts a link and its items (call inside a transaction); returns it as stored. */
export const insertPaymentLink = async (
  sql: Runner,
  settings: PaymentLinkSettings,
  meta: { readonly slug: string; readonly today: CalendarDate; readonly fromContactId?: number | undefined }
): Promise<PaymentLink> => {
  const v = linkValues(settings)
  const [row] = await sql<Array<{ id: number }>>`
    insert into payment_links (slug, name, currency, terms_payments, start_kind, start_date, start_delay, order_discount_ppm, order_discount_amount,
      checkout_text, confirmation_text, redirect_url, language, locale, payment_types, collect_billing_address, collect_shipping_address,
      allow_discount_codes, contact_fields, completed_payments_limit, from_contact_id, created_on, updated_on)
    values (${meta.slug}, ${v.name}, ${v.currency}, ${v.terms_payments}, ${v.start_kind}, ${v.start_date}, ${v.start_delay}, ${v.order_discount_ppm},
      ${v.order_discount_amount}, ${v.checkout_text}, ${v.confirmation_text}, ${v.redirect_url}, ${v.language}, ${v.locale},
      ${settings.paymentTypes as Array<string>}::text[], ${v.collect_billing_address}, ${v.collect_shipping_address}, ${v.allow_discount_codes},
      ${contactFieldsJson(settings.contactFields)}::text::jsonb, ${v.completed_payments_limit}, ${meta.fromContactId ?? null}, ${meta.today}, ${meta.today})
    returning id::int as id`
  await insertItems(sql, row!.id, settings.items)
  return (await paymentLinkById(sql, row!.id))!
}

/** Replaces a link's settings and items (call inside a transaction, after locking it). */
export const replacePaymentLink = async (sql: Runner, id: number, settings: PaymentLinkSettings, today: CalendarDate): Promise<PaymentLink> => {
  const v = linkValues(settings)
  await sql`
    update payment_links set name = ${v.name}, currency = ${v.currency}, terms_payments = ${v.terms_payments}, start_kind = ${v.start_kind},
      start_date = ${v.start_date}, start_delay = ${v.start_delay}, order_discount_ppm = ${v.order_discount_ppm},
      order_discount_amount = ${v.order_discount_amount}, checkout_text = ${v.checkout_text}, confirmation_text = ${v.confirmation_text},
      redirect_url = ${v.redirect_url}, language = ${v.language}, locale = ${v.locale}, payment_types = ${settings.paymentTypes as Array<string>}::text[],
      collect_billing_address = ${v.collect_billing_address}, collect_shipping_address = ${v.collect_shipping_address},
      allow_discount_codes = ${v.allow_discount_codes}, contact_fields = ${contactFieldsJson(settings.contactFields)}::text::jsonb,
      completed_payments_limit = ${v.completed_payments_limit}, updated_on = ${today}
    where id = ${id}`
  await sql`delete from payment_link_items where link_id = ${id}`
  await insertItems(sql, id, settings.items)
  return (await paymentLinkById(sql, id))!
}

/** Switches a link on or off; returns whether it changed. */
export const setPaymentLinkActive = async (sql: Runner, id: number, active: boolean, today: CalendarDate): Promise<boolean> =>
  (await sql`update payment_links set active = ${active}, updated_on = ${today} where id = ${id} and active <> ${active} and deleted_on is null returning id`).length === 1

/** Marks a link deleted (it leaves the lists and takes no payments; its slug stays reserved). */
export const markPaymentLinkDeleted = async (sql: Runner, id: number, today: CalendarDate): Promise<boolean> =>
  (await sql`update payment_links set deleted_on = ${today}, active = false, updated_on = ${today} where id = ${id} and deleted_on is null returning id`).length === 1

/**
 * Counts one completed payment of a link (the buyer's paying step calls it in its transaction) and switches the
 * link off when it reaches its limit. Returns the link's count and whether it is still active.
 */
export const countCompletedPayment = async (sql: Runner, id: number): Promise<{ completedPayments: number; active: boolean }> => {
  const [row] = await sql<Array<{ completed_payments: number; active: boolean }>>`
    update payment_links set completed_payments = completed_payments + 1,
      active = active and (completed_payments_limit is null or completed_payments + 1 < completed_payments_limit)
    where id = ${id} returning completed_payments, active`
  return { completedPayments: row!.completed_payments, active: row!.active }
}

interface CodeRow {
  id: number
  code: string
  percent_ppm: number | null
  amount: number | null
  currency: string | null
  duration: "once" | "payments" | "forever"
  duration_payments: number | null
  expires_on: string | null
  max_redemptions: number | null
  redemptions: number
  active: boolean
  created_on: string
}

const codeColumns = (sql: Runner) => sql`
  id::int as id, code, percent_ppm, amount::float8 as amount, currency, duration, duration_payments, expires_on::text as expires_on,
  max_redemptions, redemptions, active, created_on::text as created_on`

const codeOf = (r: CodeRow): DiscountCode => ({
  id: r.id,
  code: r.code,
  off: r.percent_ppm !== null ? { _tag: "Percent", ppm: r.percent_ppm } : { _tag: "Amount", amount: Number(r.amount), currency: r.currency! },
  duration: r.duration === "once" ? { _tag: "Once" } : r.duration === "forever" ? { _tag: "Forever" } : { _tag: "Payments", payments: r.duration_payments! },
  expiresOn: (r.expires_on ?? undefined) as CalendarDate | undefined,
  maxRedemptions: r.max_redemptions ?? undefined,
  redemptions: r.redemptions,
  active: r.active,
  createdOn: r.created_on as CalendarDate
})

/**
 * A code (not deleted) named by an operator: its text in any case, or its id (all digits). Digits are the text
 * first: a campaign's code `2026` is shown, updated or put on a link by what it says, not read as the id 2026
 * ("no discount code 2026" when no code had that id). A code whose text is another code's id is still reached by its
 * own text.
 */
export const discountCodeByRef = async (sql: Runner, ref: string, lock = false): Promise<DiscountCode | undefined> => {
  // An id only when it can be one: a number past bigint sent to the database came back as its error (22003), not as
  // "no discount code"; such digits are looked up as a code (3 to 40 characters), which finds none or that code.
  const byText = await discountCodeByText(sql, ref, lock)
  if (byText !== undefined || !/^\d+$/.test(ref) || !Number.isSafeInteger(Number(ref))) return byText
  return discountCodeById(sql, Number(ref), lock)
}

/**
 * A code (not deleted) as a buyer types it: by its text alone, in any case, never by its id. Read as an id, a buyer
 * who typed 1, 2, 3… at checkout was given every code in turn (a staff code, another campaign's), and a code of
 * digits could not be typed at all.
 */
export const discountCodeByText = (sql: Runner, text: string, lock = false): Promise<DiscountCode | undefined> =>
  codeWhere(sql, sql`lower(code) = lower(${text})`, lock)

/** A code (not deleted) by its id: the engine's own reference, never what a person typed. */
export const discountCodeById = (sql: Runner, id: number, lock = false): Promise<DiscountCode | undefined> =>
  codeWhere(sql, sql`id = ${id}`, lock)

const codeWhere = async (sql: Runner, where: PendingQuery<Array<Row>>, lock: boolean): Promise<DiscountCode | undefined> => {
  const rows = lock
    ? await sql<Array<CodeRow>>`select ${codeColumns(sql)} from discount_codes where ${where} and deleted_on is null for update`
    : await sql<Array<CodeRow>>`select ${codeColumns(sql)} from discount_codes where ${where} and deleted_on is null`
  return rows[0] === undefined ? undefined : codeOf(rows[0])
}

export const listDiscountCodes = async (sql: Runner, page: { readonly after?: number | undefined; readonly limit: number }): Promise<Array<DiscountCode>> =>
  (await sql<Array<CodeRow>>`
    select ${codeColumns(sql)} from discount_codes where deleted_on is null and id > ${page.after ?? 0} order by id limit ${page.limit}`).map(codeOf)

export const insertDiscountCode = async (sql: Runner, code: Omit<DiscountCode, "id" | "redemptions" | "active" | "createdOn">, today: CalendarDate): Promise<DiscountCode> => {
  const [row] = await sql<Array<CodeRow>>`
    insert into discount_codes (code, percent_ppm, amount, currency, duration, duration_payments, expires_on, max_redemptions, created_on)
    values (${code.code}, ${code.off._tag === "Percent" ? code.off.ppm : null}, ${code.off._tag === "Amount" ? code.off.amount : null},
      ${code.off._tag === "Amount" ? code.off.currency : null}, ${code.duration._tag === "Once" ? "once" : code.duration._tag === "Forever" ? "forever" : "payments"},
      ${code.duration._tag === "Payments" ? code.duration.payments : null}, ${code.expiresOn ?? null}, ${code.maxRedemptions ?? null}, ${today})
    returning ${codeColumns(sql)}`
  return codeOf(row!)
}

/** Changes a code's expiry, redemption limit or active flag (what may change once buyers may hold it). */
export const updateDiscountCode = async (
  sql: Runner,
  id: number,
  change: { readonly expiresOn?: CalendarDate | null | undefined; readonly maxRedemptions?: number | null | undefined; readonly active?: boolean | undefined }
): Promise<DiscountCode | undefined> => {
  const [row] = await sql<Array<CodeRow>>`
    update discount_codes set
      expires_on = ${change.expiresOn === undefined ? sql`expires_on` : change.expiresOn},
      max_redemptions = ${change.maxRedemptions === undefined ? sql`max_redemptions` : change.maxRedemptions},
      active = ${change.active === undefined ? sql`active` : change.active}
    where id = ${id} and deleted_on is null returning ${codeColumns(sql)}`
  return row === undefined ? undefined : codeOf(row)
}

export const markDiscountCodeDeleted = async (sql: Runner, id: number, today: CalendarDate): Promise<boolean> =>
  (await sql`update discount_codes set deleted_on = ${today}, active = false where id = ${id} and deleted_on is null returning id`).length === 1

/**
 * Takes one redemption of a code; false when none is left (used up, switched off or deleted). The paying
 * step takes it in the transaction that records the payment, before the gateway is called. One statement:
 * a second buyer's update waits for the first's row lock and checks the limit again on the row the first
 * committed, so two buyers never both take the last one (the schema's check has the last word).
 */
export const redeemDiscountCode = async (sql: Runner, id: number): Promise<boolean> =>
  (await sql`
    update discount_codes set redemptions = redemptions + 1
    where id = ${id} and active and deleted_on is null and (max_redemptions is null or redemptions < max_redemptions) returning id`).length === 1

/** Gives back a redemption taken for a payment that was declined: the next buyer may use it. */
export const releaseDiscountCodeRedemption = async (sql: Runner, id: number): Promise<void> => {
  await sql`update discount_codes set redemptions = redemptions - 1 where id = ${id} and redemptions > 0`
}

/** The id of the contact with this email (any case), for a simple link made from a contact. */
export const contactIdByEmail = async (sql: Runner, email: string): Promise<number | undefined> =>
  (await sql<Array<{ id: number }>>`select id::int as id from contacts where lower(email) = lower(${email})`)[0]?.id

/** One row per link not deleted, for the lists of both doors (the CLI pages it, the API by cursor). */
export interface PaymentLinkListRow {
  id: number
  slug: string
  name: string
  currency: string
  active: boolean
  items: number
  completed_payments: number
  completed_payments_limit: number | null
  created_on: string
}

export const paymentLinkRows = (sql: Runner, filter: { readonly active?: boolean | undefined } = {}) =>
  sql<Array<PaymentLinkListRow>>`
    select l.id::int as id, l.slug, l.name, l.currency, l.active,
      (select count(*)::int from payment_link_items i where i.link_id = l.id) as items,
      l.completed_payments, l.completed_payments_limit, l.created_on::text as created_on
    from payment_links l
    where l.deleted_on is null ${filter.active === undefined ? sql`` : sql`and l.active = ${filter.active}`}
    order by l.id`

export interface DiscountCodeListRow {
  id: number
  code: string
  percent_ppm: number | null
  amount: number | null
  currency: string | null
  duration: string
  duration_payments: number | null
  expires_on: string | null
  max_redemptions: number | null
  redemptions: number
  active: boolean
}

export const discountCodeRows = (sql: Runner) =>
  sql<Array<DiscountCodeListRow>>`
    select id::int as id, code, percent_ppm, amount::float8 as amount, currency, duration, duration_payments, expires_on::text as expires_on,
      max_redemptions, redemptions, active
    from discount_codes where deleted_on is null order by id`
