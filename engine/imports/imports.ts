/**
 * `import FILE.csv`: contacts, products or subscriptions, told apart by the
 * header. All or nothing: every row is validated first and every problem is
 * reported as `FILE:ROW:COLUMN: message`; only a clean file is written, in
 * one transaction of multi-row inserts (never a row at a time).
 *
 * Columns (header names, any order, case-insensitive):
 * - contacts:      email, name, language, locale, payment_method, country, address, address_line2, postal_code, city, region
 * - products:      name, sku, price, currency, frequency
 * - subscriptions: subscription (a key grouping the rows of one purchase),
 *                  contact (email), item (a SPEC such as sku=COFFEE-1KG,qty=2),
 *                  and per purchase (first row wins): start, terms,
 *                  collection, payment_method, language, locale, reminders
 *
 * A start before the import's day is a migration from another system, never
 * back-billing: the start stays the billing anchor and billing goes on from
 * the first anchor date on or after the import's day (billing/grouping.ts).
 */
import type { PlannedSubscription } from "../billing/index.ts"
import { inputDateProblem, languageOf, languageProblem, localeProblem, parseCalendarDate, planPurchase } from "../billing/index.ts"
import type { ItemSpec } from "../domain/index.ts"
import { formatBillingTerms, parseBillingTerms, parseItemSpec, subscriptionCreatedData } from "../domain/index.ts"
import { createHash } from "node:crypto"
import type { EngineContext } from "../account/index.ts"
import { addressJson, addressParts, lockContactEmails, validateContact, validateProduct } from "../catalogue/index.ts"
import type { AddressPart } from "../catalogue/index.ts"
import { cellProblems, csvRecords, CsvSyntaxError, parseCsv } from "./csv.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError } from "../sql/index.ts"
import type { JournalEvent } from "../sql/index.ts"
import { statusChanged, writeJournal } from "../sql/index.ts"
import type { ResolvedItem } from "../subscriptions/index.ts"
import { loadProducts, resolveItemsWith } from "../subscriptions/index.ts"

export type ImportKind = "contacts" | "products" | "subscriptions"

export interface ImportSummary {
  readonly kind: ImportKind
  readonly rows: number
  readonly created: number
  /** Records the file names that exist already with the same data: imported before, left as they are. */
  readonly unchanged: number
}

/** Collects problems; throws them all at once, one per line. */
class Problems {
  readonly list: Array<string> = []
  readonly file: string
  constructor(file: string) {
    this.file = file
  }
  add(line: number, column: string, message: string) {
    this.list.push(`${this.file}:${line}:${column}: ${message}`)
  }
  at(line: number, column: string, f: () => void) {
    try {
      f()
    } catch (e) {
      this.add(line, column, (e as Error).message.replace(/^--[a-z-]+: /, ""))
    }
  }
  throwIfAny() {
    if (this.list.length > 0) {
      const shown = this.list.slice(0, 50)
      throw new InputError(shown.join("\n") + (this.list.length > 50 ? `\n… and ${this.list.length - 50} more` : ""))
    }
  }
}

/** The columns each kind of file may have (CLI.md, README). */
export const importColumns: Record<ImportKind, ReadonlyArray<string>> = {
  contacts: ["email", "name", "language", "locale", "payment_method", "country", "address", "address_line2", "postal_code", "city", "region"],
  products: ["name", "sku", "price", "currency", "frequency"],
  subscriptions: ["subscription", "contact", "item", "start", "terms", "collection", "payment_method", "language", "locale", "reminders"]
}

export const detectKind = (header: ReadonlyArray<string>): ImportKind | undefined =>
  header.includes("subscription") && header.includes("item")
    ? "subscriptions"
    : header.includes("sku") && header.includes("price")
    ? "products"
    : header.includes("email")
    ? "contacts"
    : undefined

export const importCsv = async (sql: Sql, ctx: EngineContext, file: string, text: string): Promise<ImportSummary> => {
  let rows
  try {
    rows = parseCsv(text)
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new InputError(`${file}:${e.line}: ${e.message}`)
    throw e
  }
  const cells = cellProblems(rows)
  if (cells.length > 0) throw new InputError(cells.slice(0, 50).map((c) => `${file}:${c.line}:${c.column}: ${c.message}`).join("\n"))
  const { header, records } = csvRecords(rows, { snakeCase: true })
  const kind = detectKind(header)
  if (kind === undefined) {
    throw new InputError(`${file}:1: cannot tell what this file holds from its header (contacts need an email column; products sku and price; subscriptions subscription, contact and item)`)
  }
  if (records.length === 0) throw new InputError(`${file}: no rows after the header`)
  // A column we do not know would be dropped without a word: refuse the file instead.
  const unknown = header.map((h, i) => ({ h, i })).filter(({ h }) => h !== "" && !importColumns[kind].includes(h))
  if (unknown.length > 0) {
    throw new InputError(unknown.map(({ h, i }) => `${file}:1:${i + 1}: unknown column "${h}" in a ${kind} file (columns: ${importColumns[kind].join(", ")})`).join("\n"))
  }
  const problems = new Problems(file)
  switch (kind) {
    case "contacts":
      return importContacts(sql, ctx, records, problems, header)
    case "products":
      return importProducts(sql, ctx, records, problems)
    case "subscriptions":
      return importSubscriptions(sql, ctx, records, problems)
  }
}

type Rec = { line: number; get: (column: string) => string }

/** The contacts file's address columns: each flag of `contacts add` with _ for -, and its part of the stored address. */
const addressColumns = (Object.entries(addressParts) as Array<[string, AddressPart]>).map(([flag, part]) => [flag.replaceAll("-", "_"), part] as const)
const opt = (v: string) => (v === "" ? undefined : v)

const importContacts = async (sql: Sql, ctx: EngineContext, records: ReadonlyArray<Rec>, problems: Problems, header: ReadonlyArray<string>): Promise<ImportSummary> => {
  const seen = new Map<string, number>()
  for (const r of records) {
    const email = r.get("email")
    const lang = opt(r.get("language"))
    const loc = opt(r.get("locale"))
    problems.at(r.line, "email", () => validateContact({ email }))
    if (lang !== undefined) problems.at(r.line, "language", () => validateContact({ email: "x@y.zz", language: lang }))
    if (loc !== undefined) problems.at(r.line, "locale", () => validateContact({ email: "x@y.zz", locale: loc }))
    const country = opt(r.get("country"))
    if (country !== undefined) problems.at(r.line, "country", () => validateContact({ email: "x@y.zz", country }))
    for (const [column, part] of addressColumns) {
      const value = opt(r.get(column))
      if (value !== undefined) problems.at(r.line, column, () => validateContact({ email: "x@y.zz", address: { [part]: value } }))
    }
    const key = email.toLowerCase()
    if (seen.has(key)) problems.add(r.line, "email", `${email} appears again (first on row ${seen.get(key)})`)
    else seen.set(key, r.line)
  }
  // Under the emails' locks, looked up and inserted in one transaction: a writer of one of them in any case that got here
  // first (`contacts add`, a checkout's buyer, another import) has committed its contact, and it is found.
  return sql.begin(async (tx) => {
    await lockContactEmails(tx, [...seen.keys()])
    // The email is a contact's key: a contact imported before with the same data is left as it is (a re-run
    // after a crash must not fail or duplicate); one with other data is refused, naming the row.
    const existing = await tx<Array<{ email: string; name: string | null; language: string | null; locale: string | null; payment_method: string | null; country: string | null } & Record<string, string | null>>>`
      select email, name, language, locale, payment_method, address ->> 'country' as country, address ->> 'line1' as address, address ->> 'line2' as address_line2,
             address ->> 'postalCode' as postal_code, address ->> 'city' as city, address ->> 'region' as region
      from contacts where lower(email) = any(${[...seen.keys()]})`
    const known = new Set<string>()
    const byLine = new Map(records.map((r) => [r.line, r]))
    for (const e of existing) {
      const line = seen.get(e.email.toLowerCase())!
      const r = byLine.get(line)!
      const differs = ([["name", e.name], ["language", e.language], ["locale", e.locale], ["payment_method", e.payment_method], ["country", e.country],
        ...addressColumns.map(([column]) => [column, e[column] ?? null] as const)] as const)
        .filter(([column, stored]) => {
          // A column the file does not have says nothing about the contact (a file of emails and names, run again after
          // `contacts update` set a payment method): only the file's own columns are compared.
          if (!header.includes(column)) return false
          // Stored as addressJson stores them: the country in capitals, address parts trimmed.
          const raw = opt(r.get(column))
          const given = column === "country" ? raw?.toUpperCase() : addressColumns.some(([c]) => c === column) ? raw?.trim() : raw
          return (given ?? null) !== (column === "country" ? stored?.toUpperCase() ?? null : stored)
        })
      if (differs.length > 0) {
        const [column, stored] = differs[0]!
        problems.add(line, column, `a contact with email ${e.email} exists already with other data (${column} is ${stored === null ? "empty" : `"${stored}"`}, the file says ${r.get(column) === "" ? "empty" : `"${r.get(column)}"`})`)
      }
      known.add(e.email.toLowerCase())
    }
    problems.throwIfAny()
    const fresh = records.filter((r) => !known.has(r.get("email").toLowerCase()))
    if (fresh.length > 0) {
      const ids = await tx<Array<{ id: number; email: string }>>`
        insert into contacts (email, name, language, locale, payment_method, address)
        select e, n, l, lc, pm, a::jsonb from unnest(
          ${fresh.map((r) => r.get("email"))}::text[], ${fresh.map((r) => opt(r.get("name")) ?? null)}::text[],
          ${fresh.map((r) => opt(r.get("language")) ?? null)}::text[], ${fresh.map((r) => opt(r.get("locale")) ?? null)}::text[],
          ${fresh.map((r) => opt(r.get("payment_method")) ?? null)}::text[],
          ${fresh.map((r) => addressJson(Object.fromEntries(addressColumns.map(([column, part]) => [part, opt(r.get(column))])), opt(r.get("country"))))}::text[]
        ) as u(e, n, l, lc, pm, a)
        returning id, email`
      await writeJournal(tx, ids.map((r) => ({ type: "contact.created", subscriptionId: null, contactId: r.id, occurredOn: ctx.today, data: { email: r.email } })), "import")
    }
    return { kind: "contacts", rows: records.length, created: fresh.length, unchanged: records.length - fresh.length }
  }) as Promise<ImportSummary>
}

const importProducts = async (sql: Sql, ctx: EngineContext, records: ReadonlyArray<Rec>, problems: Problems): Promise<ImportSummary> => {
  const valid: Array<{ name: string; sku: string; unitPrice: number; currency: string; unit: string | null; count: number | null }> = []
  const seen = new Map<string, number>()
  for (const r of records) {
    const input = { name: r.get("name"), sku: r.get("sku"), price: r.get("price"), currency: (opt(r.get("currency")) ?? ctx.settings.currency).toUpperCase(), frequency: opt(r.get("frequency")) }
    const column = (message: string) => /--([a-z]+)/.exec(message)?.[1] ?? "price"
    try {
      const v = validateProduct(input)
      valid.push({ name: input.name, sku: input.sku, unitPrice: v.unitPrice, currency: input.currency, unit: v.frequency?.unit ?? null, count: v.frequency?.count ?? null })
    } catch (e) {
      const m = (e as Error).message
      problems.add(r.line, column(m), m.replace(/^--[a-z-]+: /, ""))
    }
    if (seen.has(input.sku)) problems.add(r.line, "sku", `SKU ${input.sku} appears again (first on row ${seen.get(input.sku)})`)
    else seen.set(input.sku, r.line)
  }
  // The SKU is a product's key: imported before with the same data, it is left as it is; with other data, refused.
  const existing = await sql<Array<{ sku: string; name: string; unit_price: number; currency: string; frequency_unit: string | null; frequency_count: number | null; archived_on: string | null }>>`
    select sku, name, unit_price, currency, frequency_unit, frequency_count, archived_on::text as archived_on from products where sku = any(${[...seen.keys()]})`
  const known = new Set<string>()
  const validBySku = new Map(valid.map((v) => [v.sku, v]))
  for (const e of existing) {
    known.add(e.sku)
    const v = validBySku.get(e.sku)
    if (v === undefined) continue
    // An archived product is retired: importing it again does not bring it back as if it were on sale.
    if (e.archived_on !== null) {
      problems.add(seen.get(e.sku)!, "sku", `product ${e.sku} was archived on ${e.archived_on}; it is no longer in the catalogue`)
      continue
    }
    const differs = ([["name", e.name, v.name], ["price", Number(e.unit_price), v.unitPrice], ["currency", e.currency, v.currency], ["frequency", `${e.frequency_unit}/${e.frequency_count}`, `${v.unit}/${v.count}`]] as const)
      .find(([, a, b]) => a !== b)
    if (differs !== undefined) problems.add(seen.get(e.sku)!, differs[0], `a product with SKU ${e.sku} exists already with another ${differs[0]}`)
  }
  problems.throwIfAny()
  const fresh = valid.filter((v) => !known.has(v.sku))
  if (fresh.length > 0) {
    await sql`
      insert into products (name, sku, unit_price, currency, frequency_unit, frequency_count)
      select * from unnest(${fresh.map((v) => v.name)}::text[], ${fresh.map((v) => v.sku)}::text[], ${fresh.map((v) => v.unitPrice)}::int8[],
        ${fresh.map((v) => v.currency)}::text[], ${fresh.map((v) => v.unit)}::text[], ${fresh.map((v) => v.count)}::int[])`
  }
  return { kind: "products", rows: records.length, created: fresh.length, unchanged: valid.length - fresh.length }
}

/** A subscription of an imported purchase: as `planPurchase` plans it, with what the purchase's first row says. */
interface ImportedSubscription extends PlannedSubscription<ResolvedItem> {
  readonly contactId: number
  readonly collection: "charge" | "invoice"
  readonly paymentTerms: string | null
  readonly paymentMethod: string | null
  readonly reminders: boolean
  readonly language: string | null
  readonly locale: string | null
  readonly importKey: string
  readonly importDigest: string
}

/**
 * What a purchase's rows say, as one digest: a re-import compares it with the one stored to tell "the same
 * purchase again" (left alone) from "the same key with other data" (refused). The contact is compared
 * case-insensitively, like the lookup.
 */
const purchaseDigest = (rows: ReadonlyArray<Rec>): string =>
  createHash("sha256").update(JSON.stringify(rows.map((r) =>
    importColumns.subscriptions.map((c) => (c === "contact" ? r.get(c).toLowerCase() : r.get(c)))))).digest("hex")

/** The longest subscription key: it is indexed, and an index entry has a size limit. */
const maxKeyLength = 200

const importSubscriptions = async (sql: Sql, ctx: EngineContext, records: ReadonlyArray<Rec>, problems: Problems): Promise<ImportSummary> => {
  const purchases = purchasesOf(records, problems)
  const unchanged = await setAsideImported(sql, purchases, problems)
  const lookups = await purchaseLookups(sql, purchases, problems)
  const planned: Array<ImportedSubscription> = []
  for (const [key, rows] of purchases) planned.push(...planImportedPurchase(ctx, key, rows, lookups, problems))
  problems.throwIfAny()
  if (planned.length > 0) {
    await sql.begin((tx) => insertPlanned(tx, ctx, planned)).catch((e: unknown) => {
      // Another import of the same keys committed between our look-up and our insert: the index had the last word.
      if ((e as { constraint_name?: string }).constraint_name === "subscriptions_import_key") {
        throw new InputError(`subscriptions with these keys were imported meanwhile by another process; run the import again to see what is left`)
      }
      throw e
    })
  }
  return { kind: "subscriptions", rows: records.length, created: planned.length, unchanged }
}

/** The rows grouped by purchase (their `subscription` key), in file order; a row without a usable key is a problem. */
const purchasesOf = (records: ReadonlyArray<Rec>, problems: Problems): Map<string, Array<Rec>> => {
  const purchases = new Map<string, Array<Rec>>()
  for (const r of records) {
    const key = r.get("subscription")
    if (key === "") {
      problems.add(r.line, "subscription", "empty: rows of one purchase share a subscription key")
      continue
    }
    if (key.length > maxKeyLength) {
      problems.add(r.line, "subscription", `a key of ${key.length} characters; at most ${maxKeyLength}`)
      continue
    }
    const list = purchases.get(key)
    if (list === undefined) purchases.set(key, [r])
    else list.push(r)
  }
  return purchases
}

/**
 * Takes the purchases imported before out of `purchases` and returns how many rows they held. The purchase key
 * is the subscriptions' import key: a key imported before with the same rows is left alone (re-running an
 * import whose outcome a crash hid must not bill anyone twice); with other rows, refused.
 */
const setAsideImported = async (sql: Sql, purchases: Map<string, Array<Rec>>, problems: Problems): Promise<number> => {
  const stored = await sql<Array<{ import_key: string; import_digest: string }>>`
    select distinct import_key, import_digest from subscriptions where import_key = any(${[...purchases.keys()]})`
  let unchanged = 0
  for (const { import_key: key, import_digest: digest } of stored) {
    const rows = purchases.get(key)!
    if (digest === purchaseDigest(rows)) unchanged += rows.length
    else problems.add(rows[0]!.line, "subscription", `subscription ${key} was imported before with other rows; import it under a new key or change the subscription with subscriptions update`)
    purchases.delete(key)
  }
  return unchanged
}

/** What the purchases refer to: their contacts (by lower-case email), each row's parsed item, the catalogue products named. */
interface PurchaseLookups {
  readonly contacts: Map<string, { id: number; email: string; payment_method: string | null; language: string | null }>
  readonly specs: Map<Rec, ItemSpec>
  readonly products: Awaited<ReturnType<typeof loadProducts>>
}

const purchaseLookups = async (sql: Sql, purchases: Map<string, Array<Rec>>, problems: Problems): Promise<PurchaseLookups> => {
  const emails = [...new Set([...purchases.values()].flat().map((r) => r.get("contact").toLowerCase()))]
  const contacts = new Map((await sql<Array<{ id: number; email: string; payment_method: string | null; language: string | null }>>`
    select id, email, payment_method, language from contacts where lower(email) = any(${emails})`).map((c) => [c.email.toLowerCase(), c]))
  const specs = new Map<Rec, ItemSpec>()
  for (const r of [...purchases.values()].flat()) {
    const spec = parseItemSpec(r.get("item"))
    if (typeof spec === "string") problems.add(r.line, "item", spec)
    else specs.set(r, spec)
  }
  const products = await loadProducts(sql, [...specs.values()].flatMap((s) => (s.sku === undefined ? [] : [s.sku])))
  return { contacts, specs, products }
}

/** One purchase's subscriptions, checked and planned as `subscriptions create` plans them; none when it has a problem. */
/** The columns of a subscriptions file that belong to the purchase, not to one of its items. */
const purchaseColumns = ["contact", "start", "terms", "collection", "payment_method", "language", "locale", "reminders"] as const

const planImportedPurchase = (
  ctx: EngineContext, key: string, rows: ReadonlyArray<Rec>, { contacts, specs, products }: PurchaseLookups, problems: Problems
): Array<ImportedSubscription> => {
  const first = rows[0]!
  const importDigest = purchaseDigest(rows)
  // A purchase's own columns are given once, on its first row, or repeated alike: a later row that says otherwise is
  // a key used twice by mistake (two customers' items merged into one subscription, billed to the first one's card).
  for (const r of rows.slice(1)) {
    for (const column of purchaseColumns) {
      const norm = (v: string) => (column === "contact" ? v.toLowerCase() : v)
      const given = r.get(column)
      if (given !== "" && norm(given) !== norm(first.get(column))) {
        problems.add(r.line, column, `purchase ${key} says ${first.get(column) === "" ? "nothing" : `"${first.get(column)}"`} on row ${first.line}, this row "${given}": the rows of a purchase share its ${column} (a key given twice by mistake?)`)
      }
    }
  }
  const contact = contacts.get(first.get("contact").toLowerCase())
  if (contact === undefined) {
    problems.add(first.line, "contact", `no contact with email ${first.get("contact") || "(empty)"}`)
    return []
  }
  const startText = first.get("start")
  const startDate = startText === "" ? ctx.today : parseCalendarDate(startText)
  if (startDate === undefined) problems.add(first.line, "start", `"${startText}" is not a calendar date YYYY-MM-DD`)
  else if (inputDateProblem(startDate) !== undefined) problems.add(first.line, "start", inputDateProblem(startDate)!)
  const terms = parseBillingTerms(opt(first.get("terms")) ?? "auto-renew")
  if (terms === undefined) problems.add(first.line, "terms", `expected auto-renew or fixed:N, got "${first.get("terms")}"`)
  const collectionText = opt(first.get("collection")) ?? "charge"
  const cm = /^(charge|invoice)(?::(due-on-receipt|net-15|net-30|net-60))?$/.exec(collectionText)
  if (cm === null) problems.add(first.line, "collection", `expected charge or invoice[:net-N], got "${collectionText}"`)
  const paymentMethod = opt(first.get("payment_method")) ?? contact.payment_method
  if (cm?.[1] === "charge" && paymentMethod === null) problems.add(first.line, "payment_method", "charging needs a payment method (here or on the contact)")
  const language = opt(first.get("language"))
  const badLanguage = language === undefined ? undefined : languageProblem(language)
  if (badLanguage !== undefined) problems.add(first.line, "language", badLanguage)
  const locale = opt(first.get("locale"))
  const badLocale = locale === undefined ? undefined : localeProblem(locale)
  if (badLocale !== undefined) problems.add(first.line, "locale", badLocale)
  const remindersText = opt(first.get("reminders")) ?? "false"
  if (!["true", "false", "yes", "no"].includes(remindersText)) problems.add(first.line, "reminders", `expected true or false, got "${remindersText}"`)
  const rowSpecs = rows.filter((r) => specs.has(r))
  // A row whose item did not parse is reported already; the purchase cannot be judged further.
  if (rowSpecs.length < rows.length) return []
  let resolved: Array<ResolvedItem> = []
  try {
    resolved = resolveItemsWith(products, rowSpecs.map((r) => specs.get(r)!), rowSpecs.map((r) => `row ${r.line}`), ctx.settings.currency)
  } catch (e) {
    const m = /^row (\d+): (.*)$/s.exec((e as Error).message)
    problems.add(m === null ? first.line : Number(m[1]), "item", m === null ? (e as Error).message : m[2]!)
    return []
  }
  if (startDate === undefined || inputDateProblem(startDate) !== undefined || terms === undefined || cm === null) return []
  // Planned as `subscriptions create` plans a purchase, as a migration: a start before today is when the other
  // system began billing it (the anchor), and billing goes on from the first anchor date on or after today.
  // A refusal names the row of the item it is about.
  // Named in the language the buyer reads, as `subscriptions create` names it.
  const plan = planPurchase(resolved, { terms, startDate, today: ctx.today, migrated: true, language: languageOf({ invoice_language: language, contact_language: contact.language }, ctx.settings) })
  if (plan._tag === "Refused") {
    const r = plan.refusal
    switch (r._tag) {
      case "NoRecurringItem":
        problems.add(first.line, "item", "a subscription needs at least one recurring item")
        break
      case "MixedCurrencies":
        problems.add(rowSpecs[r.item]!.line, "item", `items billed together must share a currency, got ${r.currencies.join(" and ")}`)
        break
      case "TermEndedBeforeToday":
        problems.add(first.line, "start", `${formatBillingTerms(terms)} from ${startDate} ended on ${r.endDate}, before today (${r.today}): nothing is left to bill`)
        break
      case "StartsBeforeToday":
        throw new Error(`import ${key}: a migrated purchase was refused its start ${startDate}`)
    }
    return []
  }
  return plan.subscriptions.map((p) => ({
    ...p, contactId: contact.id, collection: cm[1] as "charge" | "invoice",
    paymentTerms: cm[1] === "invoice" ? cm[2] ?? "due-on-receipt" : null, paymentMethod: opt(first.get("payment_method")) ?? null,
    reminders: remindersText === "true" || remindersText === "yes", language: language ?? null, locale: locale ?? null,
    importKey: key, importDigest
  }))
}

/** Writes planned subscriptions with their items, events and status history: a handful of statements for any number of rows. */
export const insertPlanned = async (tx: TransactionSql, ctx: EngineContext, planned: ReadonlyArray<ImportedSubscription>): Promise<Array<number>> => {
  if (planned.length === 0) return []
  // Ids first, so every later row can point at its subscription without relying on insert order.
  const ids = (await tx<Array<{ id: number }>>`
    select nextval(pg_get_serial_sequence('subscriptions', 'id'))::int8 as id from generate_series(1, ${planned.length})`).map((r) => r.id)
  const col = <A>(f: (p: ImportedSubscription) => A) => planned.map(f)
  await tx`
    insert into subscriptions (id, contact_id, name, currency, frequency_unit, frequency_count, terms_payments, start_date, billing_anchor, end_date,
      next_billing_date, periods_billed, payments_made, collection_method, payment_terms, payment_method, reminders, invoice_language, invoice_locale, status,
      created_on, import_key, import_digest)
    overriding system value
    select id, c, n, cur, fu, fc, tp, sd, sd, ed, nbd, pb, pb, cm, pt, pm, rem::bool, lang, loc, st, ${ctx.today}::date, ik, idg from unnest(
      ${ids}::int8[], ${col((p) => p.contactId)}::int8[], ${col((p) => p.name)}::text[], ${col((p) => p.currency)}::text[],
      ${col((p) => p.frequency.unit)}::text[], ${col((p) => p.frequency.count)}::int[], ${col((p) => (p.terms._tag === "Fixed" ? p.terms.payments : null))}::int[],
      ${col((p) => p.startDate)}::date[], ${col((p) => p.endDate)}::date[], ${col((p) => p.nextBillingDate)}::date[], ${col((p) => p.periodsBilledBefore)}::int[],
      ${col((p) => p.collection)}::text[], ${col((p) => p.paymentTerms)}::text[],
      ${col((p) => p.paymentMethod)}::text[], ${col((p) => (p.reminders ? "t" : "f"))}::text[], ${col((p) => p.language)}::text[],
      ${col((p) => p.locale)}::text[], ${col((p) => p.status)}::text[], ${col((p) => p.importKey)}::text[], ${col((p) => p.importDigest)}::text[]
    ) as u(id, c, n, cur, fu, fc, tp, sd, ed, nbd, pb, cm, pt, pm, rem, lang, loc, st, ik, idg)`
  await tx`
    insert into item_versions (subscription_id, version, effective_from)
    select id, 1, sd from unnest(${ids}::int8[], ${col((p) => p.startDate)}::date[]) as u(id, sd)`
  const li = { sub: [] as Array<number>, no: [] as Array<number>, pid: [] as Array<number | null>, name: [] as Array<string>, sku: [] as Array<string | null>, price: [] as Array<number>, qty: [] as Array<number>, dp: [] as Array<number | null>, da: [] as Array<number | null>, tax: [] as Array<number | null>, one: [] as Array<string> }
  planned.forEach((p, i) => p.items.forEach((r, n) => {
    li.sub.push(ids[i]!)
    li.no.push(n + 1)
    li.pid.push(r.line.productId ?? null)
    li.name.push(r.line.name)
    li.sku.push(r.line.sku ?? null)
    li.price.push(r.line.unitPrice)
    li.qty.push(r.line.quantity)
    li.dp.push(r.line.discount?._tag === "Percent" ? r.line.discount.ppm : null)
    li.da.push(r.line.discount?._tag === "Amount" ? r.line.discount.amount : null)
    li.tax.push(r.line.taxRate ?? null)
    li.one.push(r.line.oneTime ? "t" : "f")
  }))
  await tx`
    insert into line_items (subscription_id, version, line_no, product_id, name, sku, unit_price, quantity, discount_ppm, discount_amount, tax_rate_ppm, one_time)
    select s, 1, n, p, nm, sk, up, q, dp, da, tr, ot::bool from unnest(
      ${li.sub}::int8[], ${li.no}::int[], ${li.pid}::int8[], ${li.name}::text[], ${li.sku}::text[], ${li.price}::int8[], ${li.qty}::int[],
      ${li.dp}::int[], ${li.da}::int8[], ${li.tax}::int[], ${li.one}::text[]) as u(s, n, p, nm, sk, up, q, dp, da, tr, ot)`
  await writeJournal(tx, planned.flatMap((p, i): Array<JournalEvent> => [
    {
      type: "subscription.created", subscriptionId: ids[i]!, contactId: p.contactId, occurredOn: ctx.today,
      data: subscriptionCreatedData({ ...p, amount: p.amountPerPayment, items: p.items.map((r) => r.line) })
    },
    { ...statusChanged(ids[i]!, null, p.status, ctx.today, { reason: "created" }), contactId: p.contactId }
  ]), "import")
  return ids
}
