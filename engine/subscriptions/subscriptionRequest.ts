/**
 * Reading a request to create subscriptions, as both doors give it: the
 * command line's flags and the HTTP API's JSON fields carry the same strings
 * (item SPECs, `fixed:6`, `invoice:net-30`, …), so one function reads them and
 * each failure names the field (`--terms: …` on the command line, `terms: …`
 * over HTTP: the words carry the field, engine/domain/fieldNames.ts).
 */
import { Effect } from "effect"
import { inputDateProblem, languageProblem, localeProblem, parseCalendarDate } from "../billing/index.ts"
import type { FieldName, ItemSpec, PaymentTerms } from "../domain/index.ts"
import { flagField, itemField, parseBillingTerms, parseItemSpec, paymentMethodProblem, words } from "../domain/index.ts"
import type { CreateInput, StartChoice } from "./subscriptionWrites.ts"
import type { BadInput } from "../sql/index.ts"
import { badInputWords } from "../sql/index.ts"

export interface CreateRequest {
  readonly contact: string
  readonly items: ReadonlyArray<string>
  readonly start?: string | undefined
  readonly delayDays?: string | undefined
  readonly delayMonths?: string | undefined
  readonly terms?: string | undefined
  readonly collection?: string | undefined
  readonly paymentMethod?: string | undefined
  readonly language?: string | undefined
  readonly locale?: string | undefined
  readonly reminders?: boolean | undefined
}

const bad = badInputWords

const wholeNumber = (field: FieldName, value: string, max: number) => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n <= max ? Effect.succeed(n) : Effect.fail(bad(words`${field}: expected a whole number from 0 to ${max}, got "${value}"`))
}

/** A calendar date given for `field` (`flagField("start")`: `--start` on the command line, `start` over HTTP). */
export const readDate = (field: FieldName, value: string) => {
  const d = parseCalendarDate(value)
  if (d === undefined) return Effect.fail(bad(words`${field}: "${value}" is not a calendar date (expected YYYY-MM-DD, a day that exists)`))
  const problem = inputDateProblem(d)
  return problem === undefined ? Effect.succeed(d) : Effect.fail(bad(words`${field}: ${problem}`))
}

/** A payment-method token given for `field` (a blank one is refused: it would only ever be declined). */
export const readPaymentMethod = (field: FieldName, value: string | undefined) => {
  const problem = value === undefined ? undefined : paymentMethodProblem(value)
  return problem === undefined ? Effect.succeed(value) : Effect.fail(bad(words`${field}: ${problem}`))
}

/** Item SPECs, each refused naming its place: `--item 2 ("…")` on the command line, `items[1] ("…")` over HTTP. */
export const parseItems = (values: ReadonlyArray<string>) =>
  Effect.forEach(values, (text, i) => {
    const spec = parseItemSpec(text)
    return typeof spec === "string" ? Effect.fail(bad(words`${itemField(i)} ("${text}"): ${spec}`)) : Effect.succeed(spec as ItemSpec)
  })

const parseCollection = (value: string): Effect.Effect<{ method: "charge" | "invoice"; terms: PaymentTerms | undefined }, BadInput> => {
  if (value === "charge" || value === "charge-automatically") return Effect.succeed({ method: "charge", terms: undefined })
  const m = /^(?:invoice|send-invoice)(?::(due-on-receipt|net-15|net-30|net-60))?$/.exec(value)
  if (m === null) return Effect.fail(bad(words`${flagField("collection")}: expected charge or invoice[:due-on-receipt|:net-15|:net-30|:net-60], got "${value}"`))
  return Effect.succeed({ method: "invoice", terms: (m[1] ?? "due-on-receipt") as PaymentTerms })
}

/** The create request as the store's use case takes it, or the first thing wrong with it. */
export const readCreateRequest = Effect.fnUntraced(function*(r: CreateRequest): Effect.fn.Return<CreateInput, BadInput> {
  const items = yield* parseItems(r.items)
  const starts = [r.start, r.delayDays, r.delayMonths].filter((v) => v !== undefined).length
  if (starts > 1) return yield* bad(words`${flagField("start")}, ${flagField("delay-days")} and ${flagField("delay-months")}: give at most one`)
  const start: StartChoice = r.start !== undefined
    ? { _tag: "Date", date: yield* readDate(flagField("start"), r.start) }
    : r.delayDays !== undefined
    ? { _tag: "DelayDays", days: yield* wholeNumber(flagField("delay-days"), r.delayDays, 36_525) }
    : r.delayMonths !== undefined
    ? { _tag: "DelayMonths", months: yield* wholeNumber(flagField("delay-months"), r.delayMonths, 1_200) }
    : { _tag: "Today" }
  const termsText = r.terms ?? "auto-renew"
  const terms = parseBillingTerms(termsText)
  if (terms === undefined) return yield* bad(words`${flagField("terms")}: expected auto-renew or fixed:N (N from 1 to 1000), got "${termsText}"`)
  const collection = yield* parseCollection(r.collection ?? "charge")
  const paymentMethod = yield* readPaymentMethod(flagField("payment-method"), r.paymentMethod)
  const badLanguage = r.language === undefined ? undefined : languageProblem(r.language)
  if (badLanguage !== undefined) return yield* bad(words`${flagField("language")}: ${badLanguage}`)
  const badLocale = r.locale === undefined ? undefined : localeProblem(r.locale)
  if (badLocale !== undefined) return yield* bad(words`${flagField("locale")}: ${badLocale}`)
  return {
    contactEmail: r.contact, items, start, terms, collection: collection.method, paymentTerms: collection.terms,
    paymentMethod, language: r.language, locale: r.locale, reminders: r.reminders ?? false
  }
})
