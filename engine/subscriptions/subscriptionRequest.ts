/**
 * Reading a request to create subscriptions, as both doors give it: the
 * command line's flags and the HTTP API's JSON fields carry the same strings
 * (item SPECs, `fixed:6`, `invoice:net-30`, …), so one function reads them and
 * each failure names the flag (`--terms: …`); the API turns the flag into
 * its field (`terms`).
 */
import { Effect } from "effect"
import { inputDateProblem, languageProblem, localeProblem, parseCalendarDate } from "../billing/index.ts"
import type { ItemSpec, PaymentTerms } from "../domain/index.ts"
import { parseBillingTerms, parseItemSpec, paymentMethodProblem } from "../domain/index.ts"
import type { CreateInput, StartChoice } from "./subscriptionWrites.ts"
import { BadInput } from "../sql/index.ts"

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

const bad = (message: string) => new BadInput({ message })

const wholeNumber = (flag: string, value: string, max: number) => {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  return Number.isSafeInteger(n) && n <= max ? Effect.succeed(n) : Effect.fail(bad(`${flag}: expected a whole number from 0 to ${max}, got "${value}"`))
}

/** A calendar date given for `flag`, with the CLI's words when it is not one. */
export const readDate = (flag: string, value: string) => {
  const d = parseCalendarDate(value)
  if (d === undefined) return Effect.fail(bad(`${flag}: "${value}" is not a calendar date (expected YYYY-MM-DD, a day that exists)`))
  const problem = inputDateProblem(d)
  return problem === undefined ? Effect.succeed(d) : Effect.fail(bad(`${flag}: ${problem}`))
}

/** A payment-method token given for `flag` (a blank one is refused: it would only ever be declined). */
export const readPaymentMethod = (flag: string, value: string | undefined) => {
  const problem = value === undefined ? undefined : paymentMethodProblem(value)
  return problem === undefined ? Effect.succeed(value) : Effect.fail(bad(`${flag}: ${problem}`))
}

export const parseItems = (values: ReadonlyArray<string>) =>
  Effect.forEach(values, (text, i) => {
    const spec = parseItemSpec(text)
    return typeof spec === "string" ? Effect.fail(bad(`--item ${i + 1} ("${text}"): ${spec}`)) : Effect.succeed(spec as ItemSpec)
  })

const parseCollection = (value: string): Effect.Effect<{ method: "charge" | "invoice"; terms: PaymentTerms | undefined }, BadInput> => {
  if (value === "charge" || value === "charge-automatically") return Effect.succeed({ method: "charge", terms: undefined })
  const m = /^(?:invoice|send-invoice)(?::(due-on-receipt|net-15|net-30|net-60))?$/.exec(value)
  if (m === null) return Effect.fail(bad(`--collection: expected charge or invoice[:due-on-receipt|:net-15|:net-30|:net-60], got "${value}"`))
  return Effect.succeed({ method: "invoice", terms: (m[1] ?? "due-on-receipt") as PaymentTerms })
}

/** The create request as the store's use case takes it, or the first thing wrong with it. */
export const readCreateRequest = Effect.fnUntraced(function*(r: CreateRequest): Effect.fn.Return<CreateInput, BadInput> {
  const items = yield* parseItems(r.items)
  const starts = [r.start, r.delayDays, r.delayMonths].filter((v) => v !== undefined).length
  if (starts > 1) return yield* bad("--start, --delay-days and --delay-months: give at most one")
  const start: StartChoice = r.start !== undefined
    ? { _tag: "Date", date: yield* readDate("--start", r.start) }
    : r.delayDays !== undefined
    ? { _tag: "DelayDays", days: yield* wholeNumber("--delay-days", r.delayDays, 36_525) }
    : r.delayMonths !== undefined
    ? { _tag: "DelayMonths", months: yield* wholeNumber("--delay-months", r.delayMonths, 1_200) }
    : { _tag: "Today" }
  const termsText = r.terms ?? "auto-renew"
  const terms = parseBillingTerms(termsText)
  if (terms === undefined) return yield* bad(`--terms: expected auto-renew or fixed:N (N from 1 to 1000), got "${termsText}"`)
  const collection = yield* parseCollection(r.collection ?? "charge")
  const paymentMethod = yield* readPaymentMethod("--payment-method", r.paymentMethod)
  const badLanguage = r.language === undefined ? undefined : languageProblem(r.language)
  if (badLanguage !== undefined) return yield* bad(`--language: ${badLanguage}`)
  const badLocale = r.locale === undefined ? undefined : localeProblem(r.locale)
  if (badLocale !== undefined) return yield* bad(`--locale: ${badLocale}`)
  return {
    contactEmail: r.contact, items, start, terms, collection: collection.method, paymentTerms: collection.terms,
    paymentMethod, language: r.language, locale: r.locale, reminders: r.reminders ?? false
  }
})
