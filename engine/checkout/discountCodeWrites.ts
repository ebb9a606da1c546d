/**
 * The discount-code catalogue (reference, "Payment links": discount codes):
 * percent or amount off, for the payment at checkout only (`once`), the first
 * N payments, or every payment (`forever`), with an optional expiry date and
 * redemption limit. Links that allow codes take any code of the catalogue.
 * Text is read here for both doors (`--off 10%` / `off: "10%"`); the rules are
 * `discountCodeProblem` (linkRules.ts), refused as typed errors, nothing written.
 */
import { parseCalendarDate, parsePercentPpm } from "../billing/index.ts"
import type { CalendarDate, DiscountCode, DiscountDuration, DiscountOff, FieldName, Words } from "../domain/index.ts"
import { DiscountCodeInvalid, DiscountCodeNotFound, flagField, isCurrencyCode, notACurrency, parseMajorAmount, words } from "../domain/index.ts"
import type { Sql } from "../sql/index.ts"
import { InputError, refuseWords, refusingTaken, writeJournal } from "../sql/index.ts"
import { discountCodeProblem } from "./linkRules.ts"
import { discountCodeByRef, discountCodeByText, insertDiscountCode, markDiscountCodeDeleted, updateDiscountCode } from "./repository.ts"

export interface DiscountCodeRequest {
  readonly code: string
  /** `10%` or an amount such as `5.00` (then `currency`, default the account's). */
  readonly off: string
  readonly currency?: string | undefined
  /** `once` (default), `forever`, or a number of payments (`3`). */
  readonly duration?: string | undefined
  readonly expiresOn?: string | undefined
  readonly maxRedemptions?: string | undefined
}

/** Bad input naming its field (`--terms` on the command line, `terms` over HTTP). */
const bad = (w: Words): never => refuseWords(w)

const refuse = (e: DiscountCodeInvalid | DiscountCodeNotFound): never => {
  throw new InputError(e._tag === "DiscountCodeNotFound" ? `no discount code ${e.ref}` : e.problem, { cause: e })
}

const whole = (flag: FieldName, value: string, max: number): number => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n >= 1 && n <= max ? n : bad(words`${flag}: expected a whole number from 1 to ${max}, got "${value}"`)
}

const readOff = (text: string, currency: string): DiscountOff => {
  if (text.trim().endsWith("%")) {
    const ppm = parsePercentPpm(text)
    return ppm === undefined || ppm > 1_000_000 ? bad(words`${flagField("off")}: expected a percent such as 10% (at most 100%) or an amount such as 5.00, got "${text}"`) : { _tag: "Percent", ppm }
  }
  if (!isCurrencyCode(currency)) bad(words`${flagField("currency")}: ${notACurrency(currency)}`)
  const amount = parseMajorAmount(text, currency)
  return typeof amount === "string" ? bad(words`${flagField("off")}: ${amount}`) : { _tag: "Amount", amount, currency }
}

const readDuration = (text: string | undefined): DiscountDuration => {
  const t = (text ?? "once").trim().toLowerCase()
  if (t === "once") return { _tag: "Once" }
  if (t === "forever") return { _tag: "Forever" }
  const m = /^(?:payments:)?(\d+)$/.exec(t)
  return m === null ? bad(words`${flagField("duration")}: expected once, forever or a number of payments (3), got "${text}"`) : { _tag: "Payments", payments: whole(flagField("duration"), m[1]!, 1_000) }
}

const readDate = (flag: FieldName, text: string): CalendarDate =>
  (parseCalendarDate(text) as CalendarDate | undefined) ?? bad(words`${flag}: "${text}" is not a calendar date (expected YYYY-MM-DD, a day that exists)`)

const codeEvent = (type: string, code: DiscountCode, today: CalendarDate) => ({ type, subscriptionId: null, occurredOn: today, data: { code_id: code.id, code: code.code } })

/** Creates a code after checking its rules; a code spelt like another (in any case) is refused. */
export const createDiscountCode = async (sql: Sql, today: CalendarDate, r: DiscountCodeRequest, defaultCurrency: string): Promise<DiscountCode> => {
  const draft = {
    code: r.code.trim(),
    off: readOff(r.off, (r.currency ?? defaultCurrency).toUpperCase()),
    duration: readDuration(r.duration),
    expiresOn: r.expiresOn === undefined ? undefined : readDate(flagField("expires-on"), r.expiresOn),
    maxRedemptions: r.maxRedemptions === undefined ? undefined : whole(flagField("max-redemptions"), r.maxRedemptions, 1_000_000_000)
  }
  const problem = discountCodeProblem(draft, today)
  if (problem !== undefined) refuse(problem)
  const taken = () => refuse(new DiscountCodeInvalid({ rule: "CodeTaken", field: "code", problem: `the code ${draft.code} exists already` }))
  return sql.begin(async (tx) => {
    if (await discountCodeByText(tx, draft.code) !== undefined) taken()
    // Another writer may commit the same code (in any case) after this look-up: the unique key has the last word, in the same refusal.
    const code = await refusingTaken("discount_codes_code", () => insertDiscountCode(tx, draft, today), taken)
    await writeJournal(tx, [codeEvent("discount_code.created", code, today)], "cli")
    return code
  }) as Promise<DiscountCode>
}

/** A code by its text (any case) or id. */
export const showDiscountCode = async (sql: Sql, ref: string): Promise<DiscountCode> =>
  (await discountCodeByRef(sql, ref)) ?? refuse(new DiscountCodeNotFound({ ref }))

/** Changes what may change once buyers may hold a code: its expiry, its redemption limit, on or off. */
export const changeDiscountCode = async (
  sql: Sql,
  today: CalendarDate,
  ref: string,
  change: { readonly expiresOn?: string | undefined; readonly maxRedemptions?: string | undefined; readonly active?: boolean | undefined }
): Promise<DiscountCode> => {
  const expiresOn = change.expiresOn === undefined ? undefined : change.expiresOn === "none" ? null : readDate(flagField("expires-on"), change.expiresOn)
  const maxRedemptions = change.maxRedemptions === undefined ? undefined : change.maxRedemptions === "none" ? null : whole(flagField("max-redemptions"), change.maxRedemptions, 1_000_000_000)
  if (expiresOn === undefined && maxRedemptions === undefined && change.active === undefined) bad(words`nothing to update: give ${flagField("expires-on")} or ${flagField("max-redemptions")}`)
  return sql.begin(async (tx) => {
    const code = (await discountCodeByRef(tx, ref, true)) ?? refuse(new DiscountCodeNotFound({ ref }))
    const next = { ...code, expiresOn: expiresOn === undefined ? code.expiresOn : expiresOn ?? undefined, maxRedemptions: maxRedemptions === undefined ? code.maxRedemptions : maxRedemptions ?? undefined }
    // A code's expiry may stay in the past when it is left as it was.
    const problem = discountCodeProblem({ ...next, expiresOn: expiresOn === undefined ? undefined : next.expiresOn }, today)
    if (problem !== undefined) refuse(problem)
    if (next.maxRedemptions !== undefined && next.maxRedemptions < code.redemptions) {
      refuse(new DiscountCodeInvalid({ rule: "RedemptionLimit", field: "maxRedemptions", problem: `the code was redeemed ${code.redemptions} times already; the limit cannot be lower` }))
    }
    const updated = (await updateDiscountCode(tx, code.id, { expiresOn, maxRedemptions, active: change.active }))!
    await writeJournal(tx, [codeEvent("discount_code.updated", updated, today)], "cli")
    return updated
  }) as Promise<DiscountCode>
}

/** Deletes a code: buyers can no longer use it; what it discounted stays discounted. */
export const deleteDiscountCode = (sql: Sql, today: CalendarDate, ref: string): Promise<DiscountCode> =>
  sql.begin(async (tx) => {
    const code = (await discountCodeByRef(tx, ref, true)) ?? refuse(new DiscountCodeNotFound({ ref }))
    await markDiscountCodeDeleted(tx, code.id, today)
    await writeJournal(tx, [codeEvent("discount_code.deleted", code, today)], "cli")
    return code
  }) as Promise<DiscountCode>
