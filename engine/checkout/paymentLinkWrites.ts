/**
 * Payment links as sellers manage them (reference, "Payment links"): create,
 * update, clone, switch off and on, delete, preview. Every rule is checked
 * by `paymentLinkProblem` before anything is written; a refusal is thrown as
 * the typed cause of an InputError inside the transaction (nothing written;
 * the CLI and the API word it with their own names). Each change commits with
 * its journal event (`payment_link.*`, written by `writeJournal`).
 */
import { randomBytes } from "node:crypto"
import type { BuyerChoices, CalendarDate, DiscountCode, FieldName, PaymentLink, PaymentLinkSettings, Words } from "../domain/index.ts"
import { BuyerChoiceRefused, DiscountCodeNotFound, flagField, itemsField, parseMajorAmount, PaymentLinkInvalid, PaymentLinkNotFound, words } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"
import { InputError, refuseWords, refusingTaken, writeJournal } from "../sql/index.ts"
import type { LinkRequest } from "./linkRequest.ts"
import { newLinkDefaults, readCurrency, readLinkSettings } from "./linkRequest.ts"
import { discountCodeUsable, paymentLinkProblem } from "./linkRules.ts"
import type { LinkSummary } from "./linkSummary.ts"
import { linkSummary } from "./linkSummary.ts"
import { contactIdByEmail, discountCodeByRef, insertPaymentLink, markPaymentLinkDeleted, paymentLinkByRef, paymentLinkBySlug, replacePaymentLink, setPaymentLinkActive } from "./repository.ts"

type Refusal = PaymentLinkInvalid | PaymentLinkNotFound

/** Throws a typed refusal as an InputError's cause (rolls the transaction back; the doors word it). */
export const refuseLink = (error: Refusal): never => {
  throw new InputError(error._tag === "PaymentLinkNotFound" ? `no payment link ${error.ref}` : error.problem, { cause: error })
}

/** Bad input naming its field (`--terms` on the command line, `terms` over HTTP). */
const bad = (w: Words): never => refuseWords(w)

const slugPattern = /^[A-Za-z0-9_-]{4,64}$/

/** A new slug: 64 random bits, URL-safe (11 characters); unguessable, so an unshared link stays unshared. */
export const newSlug = (): string => randomBytes(8).toString("base64url")

const check = (settings: PaymentLinkSettings, today: CalendarDate) => {
  const problem = paymentLinkProblem(settings, today)
  if (problem !== undefined) refuseLink(problem)
}

const linkEvent = (type: string, link: PaymentLink, today: CalendarDate, extra: Record<string, unknown> = {}) => ({
  type, subscriptionId: null, contactId: link.fromContactId ?? null, occurredOn: today,
  data: { link_id: link.id, slug: link.slug, name: link.name, ...extra }
})

const found = async (sql: Sql | TransactionSql, ref: string, lock: boolean): Promise<PaymentLink> => {
  const link = await paymentLinkByRef(sql, ref, lock)
  if (link === undefined || link.deletedOn !== undefined) return refuseLink(new PaymentLinkNotFound({ ref }))
  return link
}

export interface CreateLinkOptions {
  /** A chosen slug; a random one when undefined. */
  readonly slug?: string | undefined
  /** The contact a simple link is made from. */
  readonly fromContactId?: number | undefined
}

/** Creates a link after checking every rule; journals `payment_link.created`. */
export const createPaymentLink = async (sql: Sql, today: CalendarDate, settings: PaymentLinkSettings, options: CreateLinkOptions = {}): Promise<PaymentLink> => {
  check(settings, today)
  const slug = options.slug ?? newSlug()
  if (!slugPattern.test(slug)) refuseLink(new PaymentLinkInvalid({ rule: "SlugInvalid", field: "slug", problem: `a slug is 4 to 64 letters, digits, - or _, got "${slug}"` }))
  const taken = () => refuseLink(new PaymentLinkInvalid({ rule: "SlugTaken", field: "slug", problem: `the slug "${slug}" is taken (slugs are never reused)` }))
  return sql.begin(async (tx) => {
    if (await paymentLinkBySlug(tx, slug) !== undefined) taken()
    // Another writer may commit the same slug after this look-up: the unique key has the last word, in the same refusal.
    const link = await refusingTaken("payment_links_slug_key", () => insertPaymentLink(tx, settings, { slug, today, fromContactId: options.fromContactId }), taken)
    await writeJournal(tx, [linkEvent("payment_link.created", link, today)], "cli")
    return link
  }) as Promise<PaymentLink>
}

/** Replaces a link's settings (what is not given stays as it was: the caller merges); checks every rule again. */
export const updatePaymentLink = (sql: Sql, today: CalendarDate, ref: string, change: (link: PaymentLink) => PaymentLinkSettings): Promise<PaymentLink> =>
  sql.begin(async (tx) => {
    const link = await found(tx, ref, true)
    const settings = change(link)
    check(settings, today)
    const updated = await replacePaymentLink(tx, link.id, settings, today)
    await writeJournal(tx, [linkEvent("payment_link.updated", updated, today)], "cli")
    return updated
  }) as Promise<PaymentLink>

/** A copy of a link under a new slug (and name), switched on, with no payments counted. */
export const clonePaymentLink = (sql: Sql, today: CalendarDate, ref: string, options: { readonly name?: string | undefined; readonly slug?: string | undefined } = {}): Promise<PaymentLink> =>
  paymentLinkByRef(sql, ref).then((link) => {
    if (link === undefined || link.deletedOn !== undefined) return refuseLink(new PaymentLinkNotFound({ ref }))
    return createPaymentLink(sql, today, { ...link, name: options.name ?? `${link.name} (copy)` }, { slug: options.slug })
  })

/** Switches a link off (no payments) or on again; idempotent. Returns the link and whether it changed. */
export const switchPaymentLink = (sql: Sql, today: CalendarDate, ref: string, on: boolean): Promise<{ link: PaymentLink; changed: boolean }> =>
  sql.begin(async (tx) => {
    const link = await found(tx, ref, true)
    const changed = await setPaymentLinkActive(tx, link.id, on, today)
    if (changed) await writeJournal(tx, [linkEvent(on ? "payment_link.switched_on" : "payment_link.switched_off", link, today)], "cli")
    // As stored: a switch that changed the link changed its day too (the answer said the day before).
    return { link: changed ? { ...link, active: on, updatedOn: today } : link, changed }
  }) as Promise<{ link: PaymentLink; changed: boolean }>

/** Deletes a link: it leaves the lists and takes no more payments; its slug stays reserved. */
export const deletePaymentLink = (sql: Sql, today: CalendarDate, ref: string): Promise<PaymentLink> =>
  sql.begin(async (tx) => {
    const link = await found(tx, ref, true)
    await markPaymentLinkDeleted(tx, link.id, today)
    await writeJournal(tx, [linkEvent("payment_link.deleted", link, today)], "cli")
    return { ...link, active: false, deletedOn: today }
  }) as Promise<PaymentLink>

/** A link by id or slug (not deleted), or the typed refusal. */
export const showPaymentLink = (sql: Sql, ref: string): Promise<PaymentLink> => found(sql, ref, false)

/** The choices of a preview as text: item numbers (1-based) to include, `N=Q` quantities, `N=AMOUNT` prices, a code. */
export interface PreviewRequest {
  readonly include?: ReadonlyArray<string> | undefined
  readonly quantities?: ReadonlyArray<string> | undefined
  readonly prices?: ReadonlyArray<string> | undefined
  readonly code?: string | undefined
}

const itemNumber = (flag: FieldName, text: string, count: number): number => {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN
  return Number.isSafeInteger(n) && n >= 1 && n <= count ? n - 1 : bad(words`${flag}: expected an item number from 1 to ${count}, got "${text}"`)
}

const pairs = (flag: FieldName, texts: ReadonlyArray<string>, count: number) =>
  texts.map((t) => {
    const eq = t.indexOf("=")
    if (eq < 0) bad(words`${flag}: expected ITEM=VALUE such as 2=3, got "${t}"`)
    return [itemNumber(flag, t.slice(0, eq), count), t.slice(eq + 1).trim()] as const
  })

/** A buyer's choices read from text for `link`: `--include`, `--qty`, `--price`, `--code`. */
export const readChoices = async (sql: Sql | TransactionSql, link: PaymentLink, r: PreviewRequest, today: CalendarDate): Promise<BuyerChoices> => {
  const items = new Map<number, { include?: boolean; quantity?: number; unitPrice?: number }>()
  const at = (i: number) => items.get(i) ?? (items.set(i, {}), items.get(i)!)
  for (const t of r.include ?? []) at(itemNumber(flagField("include"), t, link.items.length)).include = true
  for (const [i, v] of pairs(flagField("qty"), r.quantities ?? [], link.items.length)) {
    const q = /^\d+$/.test(v) ? Number(v) : NaN
    at(i).quantity = Number.isSafeInteger(q) ? q : bad(words`${flagField("qty")}: expected a whole number for item ${i + 1}, got "${v}"`)
  }
  for (const [i, v] of pairs(flagField("price"), r.prices ?? [], link.items.length)) {
    const p = parseMajorAmount(v, link.currency)
    at(i).unitPrice = typeof p === "string" ? bad(words`${flagField("price")}: item ${i + 1}: ${p}`) : p
  }
  let discountCode: DiscountCode | undefined
  if (r.code !== undefined) {
    discountCode = await discountCodeByRef(sql, r.code)
    if (discountCode === undefined) throw new InputError(`--code: no discount code ${r.code}`, { cause: new DiscountCodeNotFound({ ref: r.code }) })
    const unusable = discountCodeUsable(discountCode, link, today)
    if (unusable !== undefined) throw new InputError(`--code: ${unusable.problem}`, { cause: unusable })
  }
  return { items, discountCode }
}

/** What a buyer would pay today with these choices: the link's summary, nothing written. */
export const previewPaymentLink = async (sql: Sql, today: CalendarDate, ref: string, choices: BuyerChoices | PreviewRequest): Promise<{ link: PaymentLink; summary: LinkSummary }> => {
  const link = await found(sql, ref, false)
  const read = "include" in choices || "quantities" in choices || "prices" in choices || "code" in choices
    ? await readChoices(sql, link, choices as PreviewRequest, today)
    : choices as BuyerChoices
  try {
    return { link, summary: linkSummary(link, read, today) }
  } catch (e) {
    if (e instanceof BuyerChoiceRefused) throw new InputError(e.problem, { cause: e })
    throw e
  }
}

/** A link created from text (the CLI's flags, the API's fields): read, then checked and saved as `createPaymentLink`. */
export const createPaymentLinkFromRequest = async (sql: Sql, today: CalendarDate, request: LinkRequest, options: { readonly slug?: string | undefined; readonly defaultCurrency: string }): Promise<PaymentLink> => {
  if (request.name === undefined) bad(words`${flagField("name")}: a link needs an internal name`)
  if (request.items === undefined || request.items.length === 0) bad(words`${itemsField}: a link needs at least one item`)
  const settings = await readLinkSettings(sql, request, newLinkDefaults(request.currency?.toUpperCase() ?? options.defaultCurrency))
  return createPaymentLink(sql, today, settings, { slug: options.slug })
}

/**
 * A simple link made from a contact (reference): a name, one item and a one-time price; it switches off
 * after one payment (a completed-payments limit of 1).
 */
export const createSimpleLink = async (
  sql: Sql,
  today: CalendarDate,
  input: { readonly contactEmail: string; readonly name: string; readonly itemName: string; readonly price: string; readonly currency: string; readonly slug?: string | undefined }
): Promise<PaymentLink> => {
  const contactId = await contactIdByEmail(sql, input.contactEmail)
  if (contactId === undefined) bad(words`${flagField("from-contact")}: no contact with email ${input.contactEmail} (add it with: ${{ cli: `billcycle contacts add --email ${input.contactEmail}`, api: `POST /v1/contacts {"email": "${input.contactEmail}"}` }})`)
  // Checked before the price is read in it: an amount has no meaning in a currency that is none.
  const currency = readCurrency(input.currency)
  const price = parseMajorAmount(input.price, currency)
  if (typeof price === "string") bad(words`${flagField("price")}: ${price}`)
  const settings: PaymentLinkSettings = {
    ...newLinkDefaults(currency),
    name: input.name,
    items: [{ name: input.itemName, unitPrice: price as number, quantity: 1, frequency: undefined, optional: false }],
    completedPaymentsLimit: 1
  }
  return createPaymentLink(sql, today, settings, { slug: input.slug, fromContactId: contactId })
}

/** An update from text: what the request names replaces what the link has; every rule checked again. */
export const updatePaymentLinkFromRequest = async (sql: Sql, today: CalendarDate, ref: string, request: LinkRequest): Promise<PaymentLink> => {
  if (Object.values(request).every((v) => v === undefined)) bad(words`nothing to update: give a setting to change, such as ${flagField("name")} or ${itemsField}`)
  const link = await found(sql, ref, false)
  const settings = await readLinkSettings(sql, request, link)
  return updatePaymentLink(sql, today, ref, () => settings)
}
