/**
 * Subscriptions as ops manage them: create (validated whole, grouped into
 * subscriptions by frequency, terms and start date), update (items as a new
 * version, re-anchoring, payment method), cancel, pause, resume, delete.
 * Every change commits with its events; the status rules of the product are
 * enforced here, refusing with typed errors (engine/domain/errors.ts) that
 * say what is allowed; the CLI words them with its flag names.
 */
import { BillingSchedule, checkInvoiceAmount, coveredDays, lineAmounts, planPurchase, startDate, summarize, toDayNumber, versionInForce } from "../billing/index.ts"
import type { BillingTerms, CalendarDate, Frequency, ItemSpec, LineItem, MinorUnits, PaymentTerms, SubscriptionStatus } from "../domain/index.ts"
import type { ItemError, SubscriptionError } from "../domain/index.ts"
import {
  closestName, describeCatalogueError, ItemRefused, ProductArchived, UnknownSku,
  canCancel, canDelete, canPause, canResume, ContactNotFound, describeSubscriptionError, formatBillingTerms, formatFrequency, formatMajorAmount, ItemDoesNotFit, itemsData,
  NextBillingDateRefused, NoPaymentMethod, NothingToUpdate, parseMajorAmount, PurchaseRefused, RefundAtPeriodEnd, ResumeDateNotAfterToday, StartBeforeToday, SubscriptionDeleted,
  SubscriptionNotFound, subscriptionCreatedData, TransitionRefused, unitPriceProblem, flagField, words
} from "../domain/index.ts"
import type { PlannedSubscription, PurchaseRefusal } from "../billing/index.ts"
import type { CodeDiscount } from "../invoicing/index.ts"
import type { EngineContext } from "../account/index.ts"
import { codeDiscountEndMoving, languageOf, localeOf } from "../invoicing/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import type { PendingQuery, Row } from "postgres"
import { InputError, refuseWords } from "../sql/index.ts"
import type { InvoiceSummaryRow } from "../invoicing/index.ts"
import { invoiceSummarySelect } from "../invoicing/index.ts"
import type { JournalEvent } from "../sql/index.ts"
import { awaitByCommit, enqueueMessages, statusChanged, writeJournal } from "../sql/index.ts"
import type { RefundRequest } from "../payments/index.ts"
import { recordUnusedDaysRefund } from "../payments/index.ts"
import { resumedBilling, resumedStatuses } from "../lifecycle/index.ts"

/** A rule refused the change: the typed error travels as the `cause` of an InputError (rolled back, exit 2; the CLI words it). */
const refused = (error: SubscriptionError): never => {
  throw new InputError(describeSubscriptionError(error), { cause: error })
}

/** An item refused: the same, in the words of `describeCatalogueError` (which start with the item's label). */
const itemRefused = (error: ItemError): never => {
  throw new InputError(describeCatalogueError(error), { cause: error })
}

export type StartChoice =
  | { readonly _tag: "Today" }
  | { readonly _tag: "Date"; readonly date: CalendarDate }
  | { readonly _tag: "DelayDays"; readonly days: number }
  | { readonly _tag: "DelayMonths"; readonly months: number }

export interface CreateInput {
  readonly contactEmail: string
  readonly items: ReadonlyArray<ItemSpec>
  readonly start: StartChoice
  readonly terms: BillingTerms
  readonly collection: "charge" | "invoice"
  readonly paymentTerms: PaymentTerms | undefined
  readonly paymentMethod: string | undefined
  readonly language: string | undefined
  readonly locale: string | undefined
  readonly reminders: boolean
  /** Where each item came from, for messages: `--item 2`, `file.csv:4` (default `--item 2`). */
  readonly itemLabels?: ReadonlyArray<string>
}

export interface ResolvedItem {
  readonly line: Omit<LineItem, "productId" | "sku"> & { readonly productId: number | undefined; readonly sku: string | undefined }
  readonly currency: string
  readonly frequency: Frequency | undefined
}

export interface CreatedSubscription {
  readonly id: number
  readonly name: string
  readonly status: SubscriptionStatus
  readonly frequency: string
  readonly terms: string
  readonly startDate: string
  readonly endDate: string | null
  readonly nextBillingDate: string
  readonly currency: string
  readonly amountPerPayment: number
  readonly items: number
}

/** Resolves SKUs and amounts of item specs; every problem names its item. */
export interface CatalogueProduct {
  id: number
  sku: string
  name: string
  unit_price: number
  currency: string
  frequency_unit: Frequency["unit"] | null
  frequency_count: number | null
  /** The business day it was archived: it cannot go on a subscription that does not have it yet. */
  archived_on: string | null
}

/** A `CatalogueProduct`'s columns, as a statement's text. */
const catalogueProductColumns = "id, sku, name, unit_price, currency, frequency_unit, frequency_count, archived_on::text as archived_on"

/**
 * The catalogue's products a purchase or a change names, by SKU; and for each SKU asked for that is no
 * product, the nearest SKU of a product on sale (the one spelt alike but for case, else one or two letters
 * off), for the refusal's "did you mean". Looked up only when a SKU is missing: a purchase that names real
 * SKUs pays nothing for it.
 */
export interface ProductsBySku {
  readonly bySku: ReadonlyMap<string, CatalogueProduct>
  readonly nearest: ReadonlyMap<string, string>
}

const nearestSkus = async (sql: Sql | TransactionSql, bySku: ReadonlyMap<string, CatalogueProduct>, skus: ReadonlyArray<string>): Promise<ProductsBySku> => {
  const missing = [...new Set(skus)].filter((s) => !bySku.has(s))
  if (missing.length === 0) return { bySku, nearest: new Map() }
  const onSale = (await sql<Array<{ sku: string }>>`select sku from products where archived_on is null order by sku limit 10000`).map((r) => r.sku)
  const nearest = new Map<string, string>()
  for (const sku of missing) {
    const near = closestName(sku, onSale)
    if (near !== undefined) nearest.set(sku, near)
  }
  return { bySku, nearest }
}

export const loadProducts = async (sql: Sql | TransactionSql, skus: ReadonlyArray<string>): Promise<ProductsBySku> =>
  nearestSkus(sql, new Map((skus.length === 0 ? [] : await sql<Array<CatalogueProduct>>`
    select ${sql.unsafe(catalogueProductColumns)} from products where sku = any(${[...new Set(skus)]})`).map((p) => [p.sku, p])), skus)

export const resolveItems = async (sql: Sql | TransactionSql, specs: ReadonlyArray<ItemSpec>, labels: ReadonlyArray<string>, defaultCurrency: string): Promise<Array<ResolvedItem>> =>
  resolveItemsWith(await loadProducts(sql, specs.flatMap((s) => (s.sku === undefined ? [] : [s.sku]))), specs, labels, defaultCurrency)

/**
 * Resolves item specs against a loaded catalogue; every problem names its item.
 * `onSubscription[i]`, when given, is the line already on the subscription that
 * spec i changes: what the spec does not name (price, quantity, discount, tax,
 * name) stays as it is on that line, so `--item sku=X,qty=3` keeps X's discount.
 */
export const resolveItemsWith = (products: ProductsBySku, specs: ReadonlyArray<ItemSpec>, labels: ReadonlyArray<string>, defaultCurrency: string, onSubscription: ReadonlyArray<StoredLine | undefined> = []): Array<ResolvedItem> => {
  const resolved = specs.map((spec, i) => {
    const label = labels[i] ?? `item ${i + 1}`
    const kept = onSubscription[i]
    const product = spec.sku === undefined ? undefined : products.bySku.get(spec.sku)
    if (spec.sku !== undefined && product === undefined) {
      const near = products.nearest.get(spec.sku)
      itemRefused(new UnknownSku({ item: label, index: i, sku: spec.sku, ...(near === undefined ? {} : { nearest: near }) }))
    }
    // An archived product stays on the subscriptions that have it (changing its quantity there is fine), and goes on no other.
    if (product !== undefined && product.archived_on !== null && kept === undefined) {
      itemRefused(new ProductArchived({ item: label, index: i, sku: product.sku, archivedOn: product.archived_on }))
    }
    const currency = spec.currency ?? product?.currency ?? defaultCurrency
    if (product !== undefined && spec.currency !== undefined && spec.currency !== product.currency) {
      itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "PricedInOtherCurrency", sku: product.sku, productCurrency: product.currency, currency: spec.currency } }))
    }
    let unitPrice = kept?.unit_price ?? product?.unit_price
    if (spec.price !== undefined) {
      const p = parseMajorAmount(spec.price, currency)
      if (typeof p === "string") itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "Price", problem: p } }))
      unitPrice = p as number
    }
    if (unitPrice === undefined) return itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "NoPrice" } }))
    let discount: LineItem["discount"] = kept === undefined ? undefined : storedDiscount(kept)
    if (spec.discountPercentPpm !== undefined) discount = { _tag: "Percent", ppm: spec.discountPercentPpm }
    if (spec.discountAmount !== undefined) {
      const d = parseMajorAmount(spec.discountAmount, currency)
      if (typeof d === "string") return itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "Discount", problem: d } }))
      if (d > unitPrice) itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "DiscountAbovePrice", discount: spec.discountAmount } }))
      discount = { _tag: "Amount", amount: d as MinorUnits }
    }
    const productFrequency: Frequency | undefined = product?.frequency_unit == null ? undefined : { unit: product.frequency_unit, count: product.frequency_count! }
    const oneTime = spec.oneTime || (spec.frequency === undefined && (kept !== undefined ? kept.one_time : product !== undefined && product.frequency_unit === null))
    const frequency = oneTime ? undefined : spec.frequency ?? productFrequency ?? { unit: "month", count: 1 }
    const priceProblem = unitPriceProblem(unitPrice, oneTime)
    if (priceProblem !== undefined) itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "Amount", problem: priceProblem } }))
    const taxRate = spec.taxPpm ?? kept?.tax_rate_ppm ?? undefined
    const line = {
      name: spec.name ?? kept?.name ?? product!.name,
      unitPrice: unitPrice as MinorUnits,
      quantity: kept !== undefined && spec.quantityGiven !== true ? kept.quantity : spec.quantity,
      oneTime,
      productId: product?.id,
      sku: product?.sku ?? spec.sku,
      ...(discount === undefined ? {} : { discount }),
      ...(taxRate === undefined ? {} : { taxRate })
    }
    try {
      lineAmounts(line)
    } catch (e) {
      itemRefused(new ItemRefused({ item: label, index: i, reason: { _tag: "Amount", problem: (e as Error).message } }))
    }
    return { line, currency, frequency }
  })
  // The first invoice may hold every line: their sum must fit one invoice (pricing.ts), named at the item that passes it.
  resolved.reduce((sum, r, i) => {
    try {
      const next = sum + lineAmounts(r.line).total
      checkInvoiceAmount(next)
      return next
    } catch (e) {
      return itemRefused(new ItemRefused({ item: labels[i] ?? `item ${i + 1}`, index: i, reason: { _tag: "Amount", problem: (e as Error).message } }))
    }
  }, 0)
  return resolved
}

/** A purchase `planPurchase` refused, as the typed error the doors word. */
const purchaseRefusal = (r: PurchaseRefusal): SubscriptionError => {
  if (r._tag === "NoRecurringItem") return new PurchaseRefused({ reason: { _tag: "NoRecurringItem" } })
  if (r._tag === "MixedCurrencies") return new PurchaseRefused({ reason: { _tag: "MixedCurrencies", currencies: r.currencies } })
  if (r._tag === "StartsBeforeToday") return new StartBeforeToday({ date: r.startDate, today: r.today })
  // Only a migrated purchase (an import) is planned from a past start.
  throw new Error(`subscriptions create planned a migrated purchase: its term ended on ${r.endDate}`)
}

export const startDateOf = (start: StartChoice, today: CalendarDate): CalendarDate =>
  startDate(today, start._tag === "Today" ? undefined : start._tag === "Date" ? start : start._tag === "DelayDays" ? { _tag: "Days", days: start.days } : { _tag: "Months", months: start.months })

/**
 * A version of a subscription's items (its item_versions row and its line_items) stored in one statement,
 * for the subscription that `subscription` yields as `id`: the insert of a new subscription (so that a new
 * subscription and its items are one statement), or `select <id>` for a new version of one that exists. The
 * statement returns that id.
 */
const withItems = (tx: TransactionSql, subscription: PendingQuery<Array<Row>>, version: number, effectiveFrom: string, items: ReadonlyArray<ResolvedItem>) =>
  tx<Array<{ id: number }>>`
    with s as (${subscription}),
    v as (insert into item_versions (subscription_id, version, effective_from) select s.id, ${version}, ${effectiveFrom} from s),
    l as (
      insert into line_items (subscription_id, version, line_no, product_id, name, sku, unit_price, quantity, discount_ppm, discount_amount, tax_rate_ppm, one_time)
      select s.id, ${version}, n, p, nm, sk, up, q, dp, da, tr, ot::bool from s cross join unnest(${lineColumns(tx, items.map((r, i) => ({ lineNo: i + 1, r })))})
        as u(n, p, nm, sk, up, q, dp, da, tr, ot))
    select id from s`

const sqlBool = (b: boolean) => (b ? "t" : "f")

/**
 * Lines as the arrays an `unnest` turns into `line_items` rows: line_no, product_id, name, sku, unit_price, quantity,
 * discount_ppm, discount_amount, tax_rate_ppm, one_time (as 't'/'f').
 */
const lineColumns = (tx: TransactionSql, lines: ReadonlyArray<{ readonly lineNo: number; readonly r: ResolvedItem }>) => tx`
  ${lines.map((l) => l.lineNo)}::int[], ${lines.map((l) => l.r.line.productId ?? null)}::int8[], ${lines.map((l) => l.r.line.name)}::text[],
  ${lines.map((l) => l.r.line.sku ?? null)}::text[], ${lines.map((l) => l.r.line.unitPrice)}::int8[], ${lines.map((l) => l.r.line.quantity)}::int[],
  ${lines.map((l) => (l.r.line.discount?._tag === "Percent" ? l.r.line.discount.ppm : null))}::int[],
  ${lines.map((l) => (l.r.line.discount?._tag === "Amount" ? l.r.line.discount.amount : null))}::int8[],
  ${lines.map((l) => l.r.line.taxRate ?? null)}::int[], ${lines.map((l) => sqlBool(l.r.line.oneTime))}::text[]`

/** A new version of an existing subscription's items (one statement). */
const insertItems = (tx: TransactionSql, subscriptionId: number, version: number, effectiveFrom: string, items: ReadonlyArray<ResolvedItem>) =>
  withItems(tx, tx`select ${subscriptionId}::int8 as id`, version, effectiveFrom, items)

/** A buyer as a purchase reads it. */
interface Buyer { id: number; email: string; payment_method: string | null; language: string | null; locale: string | null }

/**
 * The buyers of some purchases (by email, any case: the oldest of emails that differ only in case, which
 * stores may hold), by the email as given, and the catalogue's products they name, in one statement.
 */
const buyersAndProducts = async (tx: Sql | TransactionSql, emails: ReadonlyArray<string>, skus: ReadonlyArray<string>) => {
  const [found] = await tx<Array<{ buyers: Array<Buyer & { wanted: string }>; products: Array<CatalogueProduct> }>>`
    select (select coalesce(json_agg(c), '[]') from (
              select u.wanted, c.* from unnest(${[...new Set(emails)]}::text[]) as u(wanted)
              cross join lateral (select id, email, payment_method, language, locale from contacts where lower(email) = lower(u.wanted) order by id limit 1) c) as c) as buyers,
           (select coalesce(json_agg(p), '[]') from (
              select ${tx.unsafe(catalogueProductColumns)} from products where sku = any(${[...new Set(skus)]})) as p) as products`
  return {
    buyers: new Map(found!.buyers.map(({ wanted, ...b }) => [wanted, b as Buyer])),
    products: await nearestSkus(tx, new Map(found!.products.map((p) => [p.sku, p])), skus)
  }
}

/** A purchase of `subscriptions create` (the CLI, or one HTTP request), with the business day it is made on. */
export interface Purchase {
  readonly ctx: EngineContext
  readonly input: CreateInput
}

/** What became of one purchase of `createPurchases`: its subscriptions, or the refusal its door words (an InputError). */
export type PurchaseOutcome = { readonly _tag: "Created"; readonly created: Array<CreatedSubscription> } | { readonly _tag: "Refused"; readonly error: InputError }

/**
 * Several requests' purchases in the caller's transaction (`createSubscriptions` makes one; the HTTP API
 * makes those of the requests that arrive together, purchaseBatch.ts): their buyers and products read in
 * one statement, each planned and checked on its own (a refusal refuses that purchase alone, before
 * anything of it is written), then the subscriptions of all in one statement and their events in another.
 */
export const createPurchases = async (tx: TransactionSql, purchases: ReadonlyArray<Purchase>): Promise<Array<PurchaseOutcome>> => {
  const skus = purchases.flatMap((p) => p.input.items.flatMap((s) => (s.sku === undefined ? [] : [s.sku])))
  const { buyers, products } = await buyersAndProducts(tx, purchases.map((p) => p.input.contactEmail), skus)
  const outcomes: Array<PurchaseOutcome | undefined> = []
  const planned: Array<{ readonly index: number; readonly ctx: EngineContext; readonly planned: ReadonlyArray<PlannedSubscription<ResolvedItem>>; readonly settings: PurchaseSettings }> = []
  purchases.forEach(({ ctx, input }, index) => {
    try {
      const labels = input.itemLabels ?? input.items.map((_, i) => `--item ${i + 1}`)
      if (input.items.length === 0) refused(new PurchaseRefused({ reason: { _tag: "NoItems" } }))
      // The contact is checked first, then the items.
      const contact = buyers.get(input.contactEmail)
      if (contact === undefined) return refused(new ContactNotFound({ email: input.contactEmail }))
      const resolved = resolveItemsWith(products, input.items, labels, ctx.settings.currency)
      // Named in the language the buyer reads: the subscription's, else the contact's, else the account's (as its emails).
      const language = languageOf({ invoice_language: input.language, contact_language: contact.language }, ctx.settings)
      const plan = planPurchase(resolved, { terms: input.terms, startDate: startDateOf(input.start, ctx.today), today: ctx.today, language })
      if (plan._tag === "Refused") return refused(purchaseRefusal(plan.refusal))
      const paymentMethod = input.paymentMethod ?? contact.payment_method ?? undefined
      if (input.collection === "charge" && paymentMethod === undefined) return refused(new NoPaymentMethod({ contact: contact.email }))
      planned.push({
        index, ctx, planned: plan.subscriptions, settings: {
          contactId: contact.id, terms: input.terms, collection: input.collection, paymentTerms: input.paymentTerms, paymentMethod: input.paymentMethod,
          reminders: input.reminders, language: input.language, locale: input.locale, source: "cli"
        }
      })
    } catch (e) {
      if (!(e instanceof InputError)) throw e
      outcomes[index] = { _tag: "Refused", error: e }
    }
  })
  const created = await insertPurchases(tx, planned)
  planned.forEach((p, i) => {
    outcomes[p.index] = { _tag: "Created", created: created[i]! }
  })
  return outcomes as Array<PurchaseOutcome>
}

/**
 * Stands in for the transaction of a request whose purchase runs with others (purchaseBatch.ts): what
 * `createSubscriptions` is given instead of a database, to hand its purchase over.
 */
const batchedPurchases = new WeakMap<object, (purchase: Purchase) => Promise<Array<CreatedSubscription>>>()

/** A stand-in `Sql` that hands a request's purchase to `submit`; any other use of it fails (a batched request makes one purchase, nothing else). */
export const purchaseStandIn = (submit: (purchase: Purchase) => Promise<Array<CreatedSubscription>>): Sql => {
  const standIn = new Proxy({}, {
    get: (_, property) => {
      throw new Error(`a batched request can only create subscriptions (it used ${String(property)})`)
    }
  })
  batchedPurchases.set(standIn, submit)
  return standIn as Sql
}

/**
 * Creates the subscriptions of one purchase: items with the same frequency
 * (terms and start date are shared by the purchase) go on one subscription;
 * one-time items ride with the first subscription's first payment.
 */
export const createSubscriptions = async (sql: Sql, ctx: EngineContext, input: CreateInput): Promise<Array<CreatedSubscription>> => {
  const batched = batchedPurchases.get(sql)
  if (batched !== undefined) return batched({ ctx, input })
  return sql.begin(async (tx) => {
    const [outcome] = await createPurchases(tx, [{ ctx, input }])
    if (outcome!._tag === "Refused") throw outcome!.error
    return outcome!.created
  }) as Promise<Array<CreatedSubscription>>
}

/** How a purchase's planned subscriptions are kept: the same for `subscriptions create` and a paid checkout. */
export interface PurchaseSettings {
  readonly contactId: number
  readonly terms: BillingTerms
  readonly collection: "charge" | "invoice"
  readonly paymentTerms: PaymentTerms | undefined
  readonly paymentMethod: string | undefined
  readonly reminders: boolean
  readonly language: string | undefined
  readonly locale: string | undefined
  /** Who made the purchase, for the journal. */
  readonly source: "cli" | "buyer"
  /** A discount code for N payments or every payment, carried by each subscription (migration 0022). */
  readonly codeDiscount?: CodeDiscount | undefined
}

/**
 * Inserts a purchase's planned subscriptions (`planPurchase`), their items as version 1 from the
 * start date, and their `subscription.created` and status events, inside the caller's transaction.
 */
export const insertPlannedSubscriptions = async (
  tx: TransactionSql, ctx: EngineContext, planned: ReadonlyArray<PlannedSubscription<ResolvedItem>>, input: PurchaseSettings
): Promise<Array<CreatedSubscription>> => (await insertPurchases(tx, [{ ctx, planned, settings: input }]))[0]!


/**
 * Inserts several purchases' planned subscriptions with their items (version 1 from the start date), in one
 * statement, then their events in one more (each subscription's `subscription.created` and status change, in
 * the purchases' order). Each subscription's id is drawn from its sequence beside its row, so that its
 * items and events name it whatever order the rows are written in.
 */
const insertPurchases = async (
  tx: TransactionSql,
  purchases: ReadonlyArray<{ readonly ctx: EngineContext; readonly planned: ReadonlyArray<PlannedSubscription<ResolvedItem>>; readonly settings: PurchaseSettings }>
): Promise<Array<Array<CreatedSubscription>>> => {
  const rows = purchases.flatMap(({ ctx, planned, settings }) => planned.map((p) => ({ ctx, p, settings })))
  if (rows.length === 0) return purchases.map(() => [])
  const lines = rows.flatMap(({ p }, n) => p.items.map((r, i) => ({ n: n + 1, lineNo: i + 1, r })))
  const col = <T>(f: (row: (typeof rows)[number]) => T) => rows.map(f)
  const ids = await tx<Array<{ id: number }>>`
    with u as (
      select nextval(pg_get_serial_sequence('subscriptions', 'id')) as id, u.*
      from unnest(
        ${col(({ settings }) => settings.contactId)}::int8[], ${col(({ p }) => p.name)}::text[], ${col(({ p }) => p.currency)}::text[],
        ${col(({ p }) => p.frequency.unit)}::text[], ${col(({ p }) => p.frequency.count)}::int[],
        ${col(({ settings }) => (settings.terms._tag === "Fixed" ? settings.terms.payments : null))}::int[],
        ${col(({ p }) => p.startDate)}::date[], ${col(({ p }) => p.endDate)}::date[], ${col(({ p }) => p.nextBillingDate)}::date[],
        ${col(({ p }) => p.periodsBilledBefore)}::int[], ${col(({ settings }) => settings.collection)}::text[],
        ${col(({ settings }) => (settings.collection === "invoice" ? settings.paymentTerms ?? "due-on-receipt" : null))}::text[],
        ${col(({ settings }) => settings.paymentMethod ?? null)}::text[], ${col(({ settings }) => sqlBool(settings.reminders))}::text[],
        ${col(({ settings }) => settings.language ?? null)}::text[], ${col(({ settings }) => settings.locale ?? null)}::text[],
        ${col(({ p }) => p.status)}::text[], ${col(({ ctx }) => ctx.today)}::date[],
        ${col(({ settings }) => (settings.codeDiscount === undefined ? null : JSON.stringify(settings.codeDiscount)))}::text[]
      ) with ordinality as u(contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, end_date, next_billing_date,
        periods_billed, collection_method, payment_terms, payment_method, reminders, invoice_language, invoice_locale, status, created_on, code_discount, n)
    ),
    s as (
      insert into subscriptions (id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, billing_anchor, end_date,
        next_billing_date, periods_billed, payments_made, collection_method, payment_terms, payment_method, reminders, invoice_language, invoice_locale, status,
        created_on, code_discount)
      overriding system value
      select id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, start_date, end_date,
        next_billing_date, periods_billed, periods_billed, collection_method, payment_terms, payment_method, reminders::bool, invoice_language, invoice_locale, status,
        created_on, code_discount::jsonb
      from u order by n),
    v as (insert into item_versions (subscription_id, version, effective_from) select id, 1, start_date from u order by n),
    l as (
      insert into line_items (subscription_id, version, line_no, product_id, name, sku, unit_price, quantity, discount_ppm, discount_amount, tax_rate_ppm, one_time)
      select u.id, 1, x.line_no, x.p, x.nm, x.sk, x.up, x.q, x.dp, x.da, x.tr, x.ot::bool
      from unnest(${lines.map((l) => l.n)}::int8[], ${lineColumns(tx, lines)}) as x(n, line_no, p, nm, sk, up, q, dp, da, tr, ot)
      join u on u.n = x.n
      order by x.n, x.line_no)
    select id from u order by n`
  const events: Array<JournalEvent> = []
  const created = rows.map(({ ctx, p, settings }, n) => {
    const id = Number(ids[n]!.id)
    events.push({
      type: "subscription.created", subscriptionId: id, contactId: settings.contactId, occurredOn: ctx.today,
      data: subscriptionCreatedData({ ...p, collection: settings.collection, amount: p.amountPerPayment, items: p.items.map((r) => r.line) })
    })
    events.push(statusChanged(id, null, p.status, ctx.today, { reason: "created" }))
    return {
      id, name: p.name, status: p.status, frequency: formatFrequency(p.frequency), terms: formatBillingTerms(settings.terms), startDate: p.startDate,
      endDate: p.endDate, nextBillingDate: p.nextBillingDate, currency: p.currency, amountPerPayment: p.amountPerPayment, items: p.items.length
    }
  })
  // One source per call of the journal (the door's: every purchase of a batch comes through one door, with one key).
  // In a pipelined transaction the journal's answer is not waited for here: it travels with what follows, and the commit waits for it.
  const sources = [...new Set(purchases.map((p) => p.settings.source))]
  await awaitByCommit(tx, sources.map((source) => writeJournal(tx, events.filter((_, i) => rows[Math.floor(i / 2)]!.settings.source === source), source)))
  let at = 0
  return purchases.map(({ planned }) => created.slice(at, (at += planned.length)))
}

export interface SubscriptionRow {
  id: number
  contact_id: number
  email: string
  contact_name: string | null
  name: string
  status: SubscriptionStatus
  currency: string
  frequency_unit: Frequency["unit"]
  frequency_count: number
  terms_payments: number | null
  start_date: string
  billing_anchor: string | null
  end_date: string | null
  next_billing_date: string | null
  payments_made: number
  collection_method: string
  payment_terms: string | null
  payment_method: string | null
  reminders: boolean
  cancel_at: string | null
  canceled_on: string | null
  paused_on: string | null
  resume_on: string | null
  owner: string | null
  properties: Record<string, unknown>
  invoice_language: string | null
  invoice_locale: string | null
  contact_language: string | null
  contact_locale: string | null
  last_error: string | null
  parked_at: string | null
  created_on: string
  deleted_on: string | null
  /** A discount code redeemed at checkout (migration 0022), and the first day at full price once it has ended (0035). */
  code_discount: CodeDiscount | null
  code_discount_ends_on: string | null
}

/** The columns of a `SubscriptionRow` (`s`, joined with its contact `c`), as a statement's text. */
const subscriptionSelect = `
  select s.id, s.contact_id, c.email, c.name as contact_name, s.name, s.status, s.currency, s.frequency_unit, s.frequency_count, s.terms_payments,
         s.start_date, s.billing_anchor, s.end_date, s.next_billing_date, s.payments_made, s.collection_method, s.payment_terms,
         coalesce(s.payment_method, c.payment_method) as payment_method, s.reminders, s.cancel_at, s.canceled_on, s.paused_on, s.resume_on,
         s.owner, s.properties, s.invoice_language, s.invoice_locale, c.language as contact_language, c.locale as contact_locale,
         s.last_error, s.parked_at::text as parked_at, s.created_on, s.deleted_on, s.code_discount, s.code_discount_ends_on
  from subscriptions s join contacts c on c.id = s.contact_id`

const selectSubscriptions = (sql: Sql | TransactionSql) => sql.unsafe(subscriptionSelect)

export const listSubscriptions = (sql: Sql, filter: { status?: string | undefined; nextBillingBefore?: string | undefined }) =>
  sql<Array<SubscriptionRow>>`
    ${selectSubscriptions(sql)}
    where s.deleted_on is null
      ${filter.status === undefined ? sql`` : sql`and s.status = ${filter.status}`}
      ${filter.nextBillingBefore === undefined ? sql`` : sql`and s.next_billing_date < ${filter.nextBillingBefore}`}
    order by s.id`

/** The subscription a read found: refused when there is none, or it was deleted. */
const liveSubscription = (row: SubscriptionRow | undefined, id: number): SubscriptionRow => {
  if (row === undefined) return refused(new SubscriptionNotFound({ id }))
  // A deleted subscription is gone from every view and cannot be changed; its invoices and journal remain.
  if (row.deleted_on !== null) return refused(new SubscriptionDeleted({ id, deletedOn: row.deleted_on }))
  return row
}

export const getSubscription = async (sql: Sql | TransactionSql, id: number, lock = false): Promise<SubscriptionRow> => {
  const [row] = await sql<Array<SubscriptionRow>>`${selectSubscriptions(sql)} where s.id = ${id} ${lock ? sql`for update of s` : sql``}`
  return liveSubscription(row, id)
}

/** A line of an item version as stored. */
export interface StoredLine {
  version: number
  effective_from: string
  line_no: number
  name: string
  sku: string | null
  unit_price: number
  quantity: number
  discount_ppm: number | null
  discount_amount: number | null
  tax_rate_ppm: number | null
  one_time: boolean
}

const storedDiscount = (l: StoredLine): LineItem["discount"] =>
  l.discount_ppm !== null ? { _tag: "Percent", ppm: l.discount_ppm } : l.discount_amount !== null ? { _tag: "Amount", amount: l.discount_amount as MinorUnits } : undefined

/** A stored line as the pricing code takes it. */
export const lineItemOf = (l: StoredLine): Pick<LineItem, "name" | "unitPrice" | "quantity" | "discount" | "taxRate" | "oneTime"> => {
  const discount = storedDiscount(l)
  return {
    name: l.name, unitPrice: l.unit_price as MinorUnits, quantity: l.quantity, oneTime: l.one_time,
    ...(discount === undefined ? {} : { discount }), ...(l.tax_rate_ppm === null ? {} : { taxRate: l.tax_rate_ppm })
  }
}

/** What each recurring payment of these lines costs (tax included), by the pricing code's purchase summary. */
export const amountPerPayment = (lines: ReadonlyArray<Pick<LineItem, "unitPrice" | "quantity" | "discount" | "taxRate" | "oneTime">>): number =>
  summarize({ items: lines as ReadonlyArray<LineItem>, firstPaymentDueNow: false }).perPayment.total

/** One item version of a subscription with its lines and what each payment of it costs. */
export interface ItemVersion {
  readonly version: number
  readonly effectiveFrom: CalendarDate
  readonly amountPerPayment: number
  readonly lines: ReadonlyArray<StoredLine>
}

/** The lines of every item version of a subscription, oldest version first. */
const itemLinesSelect = `
    select v.version, v.effective_from, l.line_no, l.name, l.sku, l.unit_price, l.quantity, l.discount_ppm, l.discount_amount, l.tax_rate_ppm, l.one_time
    from item_versions v join line_items l on l.subscription_id = v.subscription_id and l.version = v.version`

const itemLines = (sql: Sql | TransactionSql, id: number) =>
  sql<Array<StoredLine>>`${sql.unsafe(itemLinesSelect)} where v.subscription_id = ${id} order by v.version, l.line_no`

/** Every item version of a subscription, oldest first. */
export const itemVersionsOf = async (sql: Sql | TransactionSql, id: number): Promise<Array<ItemVersion>> => versionsOf(await itemLines(sql, id))

const versionsOf = (rows: ReadonlyArray<StoredLine>): Array<ItemVersion> => {
  const byVersion = new Map<number, Array<StoredLine>>()
  for (const r of rows) {
    const list = byVersion.get(r.version)
    if (list === undefined) byVersion.set(r.version, [r])
    else list.push(r)
  }
  return [...byVersion.values()].map((lines) => ({
    version: lines[0]!.version, effectiveFrom: lines[0]!.effective_from as CalendarDate, lines, amountPerPayment: amountPerPayment(lines.map(lineItemOf))
  }))
}

/**
 * A subscription with its item versions and its invoices, in one statement (one round trip on either
 * database): the queries of `getSubscription`, `itemVersionsOf` and `listInvoices`, each row as JSON
 * (its dates, numbers, text and jsonb read back as those queries give them). The hot read of
 * `GET /v1/subscriptions/:id`: its text is made once, not composed of fragments on every call (which
 * cost the API about a tenth of its time per request).
 */
const subscriptionWithRowsStatement = `
    select (select row_to_json(s) from (${subscriptionSelect} where s.id = $1) as s) as sub,
           (select coalesce(json_agg(l order by l.version, l.line_no), '[]') from (${itemLinesSelect} where v.subscription_id = $1) as l) as lines,
           (select coalesce(json_agg(i order by i.id), '[]') from (${invoiceSummarySelect} where subscription_id = $1) as i) as invoices`

export const subscriptionWithRows = async (sql: Sql | TransactionSql, id: number) => {
  const [found] = await sql.unsafe<Array<{ sub: SubscriptionRow | null; lines: Array<StoredLine>; invoices: Array<InvoiceSummaryRow> }>>(
    subscriptionWithRowsStatement, [id], { prepare: true })
  return { sub: liveSubscription(found!.sub ?? undefined, id), versions: versionsOf(found!.lines), invoices: found!.invoices }
}

/** The latest item version (which may start only at the next billing date: see `itemVersionsOf` for the one in force). */
export const currentItems = (sql: Sql | TransactionSql, id: number) =>
  sql<Array<StoredLine>>`
    select v.version, v.effective_from, l.line_no, l.name, l.sku, l.unit_price, l.quantity, l.discount_ppm, l.discount_amount, l.tax_rate_ppm, l.one_time
    from item_versions v join line_items l on l.subscription_id = v.subscription_id and l.version = v.version
    where v.subscription_id = ${id} and v.version = (select max(version) from item_versions where subscription_id = ${id})
    order by l.line_no`

export interface UpdateInput {
  readonly items?: ReadonlyArray<ItemSpec> | undefined
  /** Where each item came from, for messages (default `--item 2`). */
  readonly itemLabels?: ReadonlyArray<string> | undefined
  readonly nextBillingDate?: CalendarDate | undefined
  readonly paymentMethod?: string | undefined
}

/** A change of items: its version, from when, and what each payment costs before and after it (minor units). */
export interface ItemsChange {
  readonly version: number
  readonly effectiveFrom: CalendarDate
  readonly currency: string
  readonly amountPerPaymentBefore: number
  readonly amountPerPaymentAfter: number
}

export interface UpdateResult {
  /** One line per change, for people. */
  readonly changes: Array<string>
  readonly items: ItemsChange | undefined
}

/**
 * A new next billing date the subscription can take: today or later, something left to bill, and not inside a
 * period already invoiced (its invoice not voided): billing from there would charge the overlap a second time.
 * The end of that period, the billing date that follows it, is the earliest date allowed.
 */
const checkNextBillingDate = async (tx: TransactionSql, ctx: EngineContext, sub: SubscriptionRow, date: CalendarDate): Promise<void> => {
  const id = sub.id
  if (toDayNumber(date) < toDayNumber(ctx.today)) refused(new NextBillingDateRefused({ id, reason: { _tag: "InThePast", date, today: ctx.today } }))
  if (sub.next_billing_date === null) refused(new NextBillingDateRefused({ id, reason: { _tag: "NothingToBill" } }))
  // A scheduled subscription's first version starts on its start date: a period before it has nothing to bill.
  if (toDayNumber(date) < toDayNumber(sub.start_date as CalendarDate)) refused(new NextBillingDateRefused({ id, reason: { _tag: "BeforeStart", date, start: sub.start_date } }))
  // The caller holds the subscription's row lock, which the billing run's claim waits for (or skips): no period is
  // invoiced between this read and the change.
  const [invoiced] = await tx<Array<{ number: string; period_start: string; period_end: string }>>`
    select number, period_start, period_end from invoices
    where subscription_id = ${id} and status <> 'void' and period_end > ${date}
    order by period_end desc, id desc limit 1`
  if (invoiced !== undefined) {
    refused(new NextBillingDateRefused({
      id, reason: {
        _tag: "InvoicedPeriod", date, periodStart: invoiced.period_start, periodEnd: invoiced.period_end, invoice: invoiced.number,
        lastDay: coveredDays(invoiced.period_start as CalendarDate, invoiced.period_end as CalendarDate).last
      }
    }))
  }
}

/**
 * Updates a subscription. The items given become a new version effective
 * from the next billing date (the period already billed keeps its items);
 * an item already on the subscription (the same SKU, or for a custom item the
 * same name) keeps what its spec does not name: price, quantity, discount,
 * tax. Items not given are not in the new version. A new next billing date
 * re-anchors the schedule: later dates follow from it; items given with it are
 * in force from it. `checkNextBillingDate` says which dates it may be.
 */
export const updateSubscription = (sql: Sql, ctx: EngineContext, id: number, input: UpdateInput) =>
  sql.begin(async (tx) => {
    const sub = await getSubscription(tx, id, true)
    if (sub.status === "canceled" || sub.status === "expired") refused(new TransitionRefused({ id, status: sub.status, action: "change" }))
    const events: Array<JournalEvent> = []
    const changes: Array<string> = []
    let items: ItemsChange | undefined
    if (input.nextBillingDate !== undefined) await checkNextBillingDate(tx, ctx, sub, input.nextBillingDate)
    if (input.items !== undefined && input.items.length > 0) {
      // In force from the next billing date: the new one when the same change moves it, so it is a billing date.
      const effectiveFrom = input.nextBillingDate
        ?? (sub.next_billing_date !== null && sub.next_billing_date > ctx.today ? sub.next_billing_date : ctx.today) as CalendarDate
      // What the payment on the effective date would bill without this change (a change already waiting for that date
      // included): the items the specs name are looked up there, and what they leave unnamed is kept.
      const versions = await itemVersionsOf(tx, id)
      const before = versionInForce(versions, effectiveFrom) ?? versions[0]!
      const sameItem = (spec: ItemSpec) => (l: StoredLine) => spec.sku !== undefined ? l.sku === spec.sku : l.sku === null && l.name === spec.name
      const kept = input.items.map((spec) => before.lines.find(sameItem(spec)))
      const products = await loadProducts(tx, input.items.flatMap((s) => (s.sku === undefined ? [] : [s.sku])))
      const resolved = resolveItemsWith(products, input.items, input.itemLabels ?? input.items.map((_, i) => `--item ${i + 1}`), sub.currency, kept)
      for (const [index, r] of resolved.entries()) {
        if (r.currency !== sub.currency) refused(new ItemDoesNotFit({ id, index, reason: { _tag: "Currency", subscription: sub.currency, item: r.currency } }))
        if (r.frequency !== undefined && (r.frequency.unit !== sub.frequency_unit || r.frequency.count !== sub.frequency_count)) {
          refused(new ItemDoesNotFit({
            id, index, reason: { _tag: "Frequency", item: r.line.name, itemFrequency: formatFrequency(r.frequency), subscription: formatFrequency({ unit: sub.frequency_unit, count: sub.frequency_count }) }
          }))
        }
      }
      const [{ v }] = await tx<Array<{ v: number }>>`select max(version)::int as v from item_versions where subscription_id = ${id}` as unknown as [{ v: number }]
      // Two changes before the same effective date: the later one replaces the earlier.
      await tx`delete from item_versions where subscription_id = ${id} and version = ${v} and effective_from = ${effectiveFrom} and ${v} > 1
               and not exists (select 1 from invoices where subscription_id = ${id} and period_start >= ${effectiveFrom})`
      const [{ v2 }] = await tx<Array<{ v2: number }>>`select max(version)::int as v2 from item_versions where subscription_id = ${id}` as unknown as [{ v2: number }]
      await insertItems(tx, id, v2 + 1, effectiveFrom, resolved)
      const after = amountPerPayment(resolved.map((r) => r.line))
      items = { version: v2 + 1, effectiveFrom, currency: sub.currency, amountPerPaymentBefore: before.amountPerPayment, amountPerPaymentAfter: after }
      events.push({
        type: "subscription.items_changed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today,
        data: { version: v2 + 1, effective_from: effectiveFrom, items: itemsData(resolved.map((r) => r.line)), amount_before: before.amountPerPayment, amount: after, currency: sub.currency }
      })
      const money = (minor: number) => `${formatMajorAmount(minor, sub.currency)} ${sub.currency}`
      changes.push(`items (version ${v2 + 1}, effective ${effectiveFrom}): per payment ${money(before.amountPerPayment)} → ${money(after)}`)
    }
    if (input.nextBillingDate !== undefined) {
      // Re-anchored on the new date; fixed terms keep the payments still to bill, so their end follows it (as after a pause).
      const [{ periods_billed }] = await tx<Array<{ periods_billed: number }>>`select periods_billed from subscriptions where id = ${id}` as unknown as [{ periods_billed: number }]
      const { endDate } = resumedBilling({ ...sub, billing_anchor: input.nextBillingDate }, periods_billed, input.nextBillingDate)
      await tx`update subscriptions set next_billing_date = ${input.nextBillingDate}, billing_anchor = ${input.nextBillingDate}, end_date = ${endDate}, reminder_sent_for = null, updated_at = now(),
        ${codeDiscountEndMoving(tx, input.nextBillingDate)} where id = ${id}`
      events.push({ type: "subscription.property_changed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { property: "next_billing_date", from: sub.next_billing_date, to: input.nextBillingDate } })
      changes.push(`next billing date ${sub.next_billing_date} → ${input.nextBillingDate}`)
      if (endDate !== sub.end_date) {
        events.push({ type: "subscription.property_changed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { property: "end_date", from: sub.end_date, to: endDate } })
        changes.push(`ends ${sub.end_date} → ${endDate}`)
      }
    }
    if (input.paymentMethod !== undefined) {
      await tx`update subscriptions set payment_method = ${input.paymentMethod}, updated_at = now() where id = ${id}`
      events.push({ type: "subscription.property_changed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { property: "payment_method", from: sub.payment_method, to: input.paymentMethod } })
      changes.push(`payment method → ${input.paymentMethod}`)
      // A new card for an unpaid subscription: retry tomorrow rather than wait for the old schedule.
      if (sub.status === "unpaid") await tx`update subscriptions set next_retry_on = ${ctx.today} where id = ${id}`
    }
    if (changes.length === 0) refused(new NothingToUpdate({ id }))
    await writeJournal(tx, events, "cli")
    return { changes, items }
  }) as Promise<UpdateResult>

export interface CancelResult {
  readonly status: SubscriptionStatus
  readonly effectiveOn: string
  readonly refund: RefundRequest | undefined
}

/**
 * Cancels now (no further charges; optionally refunding the unused days of
 * the paid period) or at the end of the period (it stays active until its
 * next billing date, which is then not billed). The buyer is emailed.
 */
export const cancelSubscription = (sql: Sql, ctx: EngineContext, id: number, options: { atPeriodEnd: boolean; refundUnused: boolean }) =>
  sql.begin(async (tx) => {
    const sub = await getSubscription(tx, id, true)
    if (!canCancel(sub.status)) refused(new TransitionRefused({ id, status: sub.status, action: "cancel" }))
    if (options.atPeriodEnd && options.refundUnused) refused(new RefundAtPeriodEnd({ id }))
    if (options.atPeriodEnd && sub.next_billing_date !== null && sub.status !== "scheduled") {
      // The period in which today falls ends on the first billing date on or after today. That is the stored next
      // billing date, unless the engine has not yet billed a date already past: then the period it is catching up
      // on is today's, and it ends on the schedule's next date.
      const end = toDayNumber(sub.next_billing_date as CalendarDate) >= toDayNumber(ctx.today)
        ? sub.next_billing_date
        : new BillingSchedule((sub.billing_anchor ?? sub.start_date) as CalendarDate, { unit: sub.frequency_unit, count: sub.frequency_count }).nextOnOrAfter(ctx.today)
      // Asked again for the same day: nothing changes, and nothing is journaled (nor sent to webhooks) as a change.
      if (sub.cancel_at === end) return { status: sub.status, effectiveOn: end, refund: undefined }
      await tx`update subscriptions set cancel_at = ${end}, updated_at = now() where id = ${id}`
      await writeJournal(tx, [
        { type: "subscription.cancel_requested", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { at_period_end: true, effective_on: end } },
        { type: "subscription.property_changed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { property: "cancel_at", from: sub.cancel_at, to: end } }
      ], "cli")
      return { status: sub.status, effectiveOn: end, refund: undefined }
    }
    if (options.refundUnused) {
      // The unused days are refunded from what was paid; a charge not settled yet (a bank debit takes days, a lost
      // reply is asked about again) has paid nothing so far, and would be kept whole once it settles: refused, not
      // canceled without the refund that was asked for.
      const [inFlight] = await tx<Array<{ number: string; amount: number; currency: string; status: string }>>`
        select i.number, a.amount, a.currency, a.status from payment_attempts a join invoices i on i.id = a.invoice_id
        where i.subscription_id = ${id} and a.kind = 'charge' and a.status in ('pending', 'unknown') order by a.id limit 1`
      if (inFlight !== undefined) {
        const refundUnused = flagField("refund-unused")
        refuseWords(words`${refundUnused}: the charge of ${inFlight.number} (${formatMajorAmount(inFlight.amount, inFlight.currency)} ${inFlight.currency}) is not settled yet (${inFlight.status === "pending" ? "the bank has not answered" : "its reply was lost; the engine asks again"}), so nothing of it can be refunded now: cancel when it has settled, or cancel without ${refundUnused}`)
      }
    }
    await tx`update subscriptions set status = 'canceled', canceled_on = ${ctx.today}, cancel_at = null, next_billing_date = null, next_retry_on = null, updated_at = now() where id = ${id}`
    const refund = options.refundUnused ? await recordUnusedDaysRefund(tx, ctx, id) : undefined
    await writeJournal(tx, [
      { type: "subscription.canceled", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { at_period_end: false, effective_on: ctx.today, refund_unused: options.refundUnused, refund_amount: refund?.amount ?? 0 } },
      statusChanged(id, sub.status, "canceled", ctx.today, { reason: "canceled" })
    ], "cli")
    await enqueueMessages(tx, [{
      kind: "email", template: "cancellation", dedupeKey: `email:cancellation:${id}`, subscriptionId: id, recipient: sub.email,
      language: languageOf(sub, ctx.settings), locale: localeOf(sub, ctx.settings), payload: { effective_on: ctx.today, refund_amount: refund?.amount ?? 0 }, createdOn: ctx.today
    }])
    return { status: "canceled" as SubscriptionStatus, effectiveOn: ctx.today, refund }
  }) as Promise<CancelResult>

export const pauseSubscription = (sql: Sql, ctx: EngineContext, id: number, resumeOn: CalendarDate | undefined) =>
  sql.begin(async (tx) => {
    const sub = await getSubscription(tx, id, true)
    if (!canPause(sub.status)) refused(new TransitionRefused({ id, status: sub.status, action: "pause" }))
    if (resumeOn !== undefined && toDayNumber(resumeOn) <= toDayNumber(ctx.today)) refused(new ResumeDateNotAfterToday({ id, resumeOn, today: ctx.today }))
    await tx`update subscriptions set status = 'paused', paused_on = ${ctx.today}, resume_on = ${resumeOn ?? null}, next_retry_on = null, updated_at = now() where id = ${id}`
    await writeJournal(tx, [
      { type: "subscription.paused", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { resume_on: resumeOn ?? null } },
      statusChanged(id, sub.status, "paused", ctx.today, { reason: "paused" })
    ], "cli")
  })

/**
 * Resumes now (past due while an overdue invoice is open): billing continues on the first anchor date on or after today, never
 * back-billing the pause; fixed terms keep their number of payments, so their end date moves later by the periods skipped.
 */
export const resumeSubscription = (sql: Sql, ctx: EngineContext, id: number) =>
  sql.begin(async (tx) => {
    const sub = await getSubscription(tx, id, true)
    if (!canResume(sub.status)) refused(new TransitionRefused({ id, status: sub.status, action: "resume" }))
    const [{ periods_billed }] = await tx<Array<{ periods_billed: number }>>`select periods_billed from subscriptions where id = ${id}` as unknown as [{ periods_billed: number }]
    const { next, endDate } = resumedBilling(sub, periods_billed, ctx.today)
    const status = (await resumedStatuses(tx, [id])).get(id)!
    await tx`update subscriptions set status = ${status}, paused_on = null, resume_on = null, next_billing_date = ${next}, end_date = ${endDate}, updated_at = now(),
      ${codeDiscountEndMoving(tx, next)}, next_retry_on = ${status === "unpaid" ? ctx.today : null} where id = ${id}`
    await writeJournal(tx, [
      { type: "subscription.resumed", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today, data: { next_billing_date: next, end_date: endDate, end_date_before: sub.end_date } },
      statusChanged(id, "paused", status, ctx.today, { reason: "resumed" })
    ], "cli")
    return next
  }) as Promise<string>

export interface DeleteResult {
  /** The subscription's invoices, kept: how many, and how many of them are still open (owed). */
  readonly invoices: number
  readonly openInvoices: number
}

/**
 * Deletes a canceled or expired subscription: it leaves lists, views and the
 * export and can no longer be changed or shown. Its row stays as a tombstone
 * (`deleted_on`) with its item versions, status history, invoices, payment
 * attempts and journal: financial records outlive the subscription (as at
 * Stripe, where a deleted customer keeps its invoices), invoice numbers stay
 * gapless, and the reports, which read those rows, do not change. An open
 * invoice stays open: it is still paid, voided or written off.
 */
export const deleteSubscription = (sql: Sql, ctx: EngineContext, id: number) =>
  sql.begin(async (tx) => {
    const sub = await getSubscription(tx, id, true)
    if (!canDelete(sub.status)) refused(new TransitionRefused({ id, status: sub.status, action: "delete" }))
    await tx`update subscriptions set deleted_on = ${ctx.today}, updated_at = now() where id = ${id}`
    const [kept] = await tx<Array<DeleteResult>>`
      select count(*)::int as invoices, (count(*) filter (where status = 'open'))::int as "openInvoices" from invoices where subscription_id = ${id}`
    await writeJournal(tx, [{
      type: "subscription.deleted", subscriptionId: id, contactId: sub.contact_id, occurredOn: ctx.today,
      data: { status: sub.status, invoices: kept!.invoices, open_invoices: kept!.openInvoices }
    }], "cli")
    return kept!
  }) as Promise<DeleteResult>

export const listEvents = (sql: Sql, filter: { subscriptionId?: number | undefined; type?: string | undefined; since?: string | undefined }) =>
  sql<Array<{ id: number; type: string; subscription_id: number | null; invoice_id: number | null; occurred_on: string; source: string; data: Record<string, unknown> }>>`
    select id, type, subscription_id, invoice_id, occurred_on, source, data from events
    where true
      ${filter.subscriptionId === undefined ? sql`` : sql`and subscription_id = ${filter.subscriptionId}`}
      ${filter.type === undefined ? sql`` : sql`and type = ${filter.type}`}
      ${filter.since === undefined ? sql`` : sql`and occurred_on >= ${filter.since}`}
    order by id`

/**
 * A one-time order (`planOneTimeOrder`) once invoiced: closed the same day, nothing more to bill. It
 * expires without the expiry email or `subscription.expired` (nothing ended that the buyer had):
 * only its status change, reason `one_time_order`.
 */
export const closeOneTimeOrder = async (tx: TransactionSql, ctx: EngineContext, id: number): Promise<void> => {
  await tx`update subscriptions set status = 'expired', end_date = ${ctx.today}, next_billing_date = null, updated_at = now() where id = ${id} and status = 'active'`
  await writeJournal(tx, [statusChanged(id, "active", "expired", ctx.today, { reason: "one_time_order" })], "buyer")
}

