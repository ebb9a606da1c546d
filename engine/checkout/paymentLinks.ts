/**
 * Payment links as sellers manage them (reference, "Payment links"): create,
 * update, clone, switch off and on, delete, preview. Every rule is checked
 * by `paymentLinkProblem` before anything is written; a refusal is thrown as
 * the typed cause of an InputError inside the transaction (nothing written;
 * the CLI and the API word it with their own names). Each change commits with
 * its journal event (`payment_link.*`, written by `writeJournal`).
 */
import { randomBytes } from "node:crypto"
import type { BuyerChoices, CalendarDate, PaymentLink, PaymentLinkSettings } from "../domain/index.ts"
import { BuyerChoiceRefused, PaymentLinkInvalid, PaymentLinkNotFound } from "../domain/index.ts"
import type { Sql, TransactionSql } from "../store/index.ts"
import { InputError, writeJournal } from "../store/index.ts"
import { paymentLinkProblem } from "./linkRules.ts"
import type { LinkSummary } from "./linkSummary.ts"
import { linkSummary } from "./linkSummary.ts"
import { insertPaymentLink, markPaymentLinkDeleted, paymentLinkByRef, paymentLinkBySlug, replacePaymentLink, setPaymentLinkActive } from "./repository.ts"

type Refusal = PaymentLinkInvalid | PaymentLinkNotFound

/** Throws a typed refusal as an InputError's cause (rolls the transaction back; the doors word it). */
export const refuseLink = (error: Refusal): never => {
  throw new InputError(error._tag === "PaymentLinkNotFound" ? `no payment link ${error.ref}` : error.problem, { cause: error })
}

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
  return sql.begin(async (tx) => {
    if (await paymentLinkBySlug(tx, slug) !== undefined) {
      refuseLink(new PaymentLinkInvalid({ rule: "SlugTaken", field: "slug", problem: `the slug "${slug}" is taken (slugs are never reused)` }))
    }
    const link = await insertPaymentLink(tx, settings, { slug, today, fromContactId: options.fromContactId })
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
    return { link: { ...link, active: on }, changed }
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

/** What a buyer would pay today with these choices: the link's summary, nothing written. */
export const previewPaymentLink = async (sql: Sql, today: CalendarDate, ref: string, choices: BuyerChoices): Promise<{ link: PaymentLink; summary: LinkSummary }> => {
  const link = await found(sql, ref, false)
  try {
    return { link, summary: linkSummary(link, choices, today) }
  } catch (e) {
    if (e instanceof BuyerChoiceRefused) throw new InputError(e.problem, { cause: e })
    throw e
  }
}
