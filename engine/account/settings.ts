/**
 * Account settings: a small key/value table with typed, validated keys and
 * defaults. Unknown keys and bad values are rejected with a message naming
 * the key, before anything is written.
 */
import { countryCodeProblem, describeAccountError, isCurrencyCode, SettingRefused } from "../domain/index.ts"
import { canonicalTimeZone, isLanguage, isLocale, languageLocales, languagesInWords } from "../billing/index.ts"
import { isValidIban, paymentReferenceSchemes, type PaymentReferenceScheme } from "../billing/index.ts"
import type { Sql, TransactionSql } from "../sql/index.ts"

export interface AccountSettings {
  readonly timezone: string
  readonly language: string
  readonly locale: string
  readonly currency: string
  readonly reminderDays: number
  readonly retryDays: ReadonlyArray<number>
  readonly afterRetries: "keep-unpaid" | "cancel" | "pause"
  /** On: a subscription back from unpaid is billed for every period it missed; off (default): billing resumes on the next anchor date. */
  readonly unpaidCatchUp: boolean
  readonly autoEmailInvoices: boolean
  readonly sellerName: string
  readonly sellerAddress: string
  readonly sellerTaxId: string
  readonly sellerEmail: string
  /** Two-letter country of the seller ("" unknown): picks the payment reference scheme under `auto`. */
  readonly sellerCountry: string
  readonly sellerIban: string
  readonly sellerBic: string
  /** A domestic account number, printed when there is no IBAN (or beside it). */
  readonly sellerAccount: string
  readonly paymentReference: PaymentReferenceScheme | "auto"
  /** Invoice emails carry the invoice as a PDF. */
  readonly attachPdf: boolean
  readonly adminEmail: string
  readonly invoicePrefix: string
  /**
   * Where `billcycle serve` is reached by buyers (`https://pay.example.com`):
   * emails and invoices link to `${baseUrl}/p/TOKEN` and `${baseUrl}/i/TOKEN`.
   * "" (the default): no such link is printed, since there is nowhere to send the buyer.
   */
  readonly baseUrl: string
  readonly templatesDir: string
  readonly webhookSecret: string
  /** How long a failing webhook is retried, in seconds from its first try (Stripe: up to 3 days). */
  readonly webhookRetrySeconds: number
  /** How long a failing email or admin notification is retried, in seconds from its first try (Postfix: 5 days). */
  readonly emailRetrySeconds: number
}

interface KeySpec {
  readonly field: keyof AccountSettings
  readonly default: string
  readonly help: string
  /** Returns an error message, or undefined when the value is good. */
  readonly validate: (value: string) => string | undefined
  /** The value as it is kept, when a good value has one spelling (a time zone's canonical name). */
  readonly normalize?: (value: string) => string
  /** A default that follows other keys' stored values (the locale follows the language until it is set). */
  readonly defaultFrom?: (stored: ReadonlyMap<string, string>) => string
}

/** A key's stored value, else its default. */
const valueOf = (key: string, spec: KeySpec, stored: ReadonlyMap<string, string>): string =>
  stored.get(key) ?? spec.defaultFrom?.(stored) ?? spec.default

const anything = () => undefined
/** Day counts of the calendar (reminders, retries) stay within a year and a day: more is a typo, not a schedule. */
const maxScheduleDays = 366
const scheduleDays = (v: string) => (/^\d+$/.test(v) && Number(v) <= maxScheduleDays ? undefined : `expected a whole number of days from 0 to ${maxScheduleDays}`)

/**
 * A retry window of the outbox (engine/sql/outbox.ts): how long a message of one kind is retried, on
 * business time from its first try. Emails and webhooks have a key each: their receivers fail apart (a
 * mail relay, a customer's endpoint) and their defaults differ (Postfix keeps a mail 5 days, Stripe
 * retries a webhook 3 days); the rule and the spelling of a window are the same.
 */
const retryWindowKey = (field: "webhookRetrySeconds" | "emailRetrySeconds", fallback: string, what: string): KeySpec => ({
  field,
  default: fallback,
  help: `how long ${what} is retried, from its first try (backoff 1, 2, 4 … minutes, at most 6 hours apart), e.g. ${fallback}, 12h, 30m`,
  validate: (v) => {
    const s = durationSeconds(v)
    return s !== undefined && s >= 60 && s <= 30 * 86_400 ? undefined : `expected a duration from 1m to 30d such as ${fallback}, 12h or 30m`
  }
})

export const settingKeys: Readonly<Record<string, KeySpec>> = {
  timezone: { field: "timezone", default: "UTC", help: "IANA time zone of the account's calendar", validate: (v) => (canonicalTimeZone(v) !== undefined ? undefined : "expected an IANA time zone such as Europe/Oslo"), normalize: (v) => canonicalTimeZone(v) ?? v },
  // What the key expects, without the value: describeAccountError adds `got "VALUE"` once.
  language: { field: "language", default: "en", help: "default language of emails and invoices", validate: (v) => (isLanguage(v) ? undefined : `expected ${languagesInWords}`) },
  // Until set, the locale is the language's own: an account set to Norwegian wrote "Vi prøver igjen March 2, 2026".
  locale: {
    field: "locale", default: "en-US", help: "default locale for dates, numbers and money (unset: the language's own, nb-NO for nb)",
    validate: (v) => (isLocale(v) ? undefined : "expected a locale such as nb-NO"),
    defaultFrom: (stored) => {
      const language = stored.get("language")
      return language !== undefined && isLanguage(language) ? languageLocales[language] : "en-US"
    }
  },
  currency: { field: "currency", default: "USD", help: "default currency of new products", validate: (v) => (isCurrencyCode(v) ? undefined : "expected an ISO 4217 code such as USD") },
  "reminder-days": { field: "reminderDays", default: "14", help: "days before the next payment to remind the buyer", validate: scheduleDays },
  "retry-days": {
    field: "retryDays",
    default: "1,3,5,7",
    help: "days after a failed charge to retry it",
    validate: (v) =>
      /^\d+(,\d+){0,19}$/.test(v) && v.split(",").map(Number).every((n, i, a) => n > 0 && n <= maxScheduleDays && (i === 0 || n > a[i - 1]!))
        ? undefined
        : `expected up to 20 increasing day counts from 1 to ${maxScheduleDays} such as 1,3,5,7`
  },
  "after-retries": { field: "afterRetries", default: "keep-unpaid", help: "what happens when retries run out", validate: (v) => (["keep-unpaid", "cancel", "pause"].includes(v) ? undefined : "expected keep-unpaid, cancel or pause") },
  "unpaid-catch-up": { field: "unpaidCatchUp", default: "off", help: "on: bill every period missed while unpaid when the subscription recovers; off: bill next on the first anchor date on or after the recovery day", validate: (v) => (v === "on" || v === "off" ? undefined : "expected on or off") },
  "auto-email-invoices": { field: "autoEmailInvoices", default: "true", help: "email invoices on each billing date", validate: (v) => (v === "true" || v === "false" ? undefined : "expected true or false") },
  "seller-name": { field: "sellerName", default: "billcycle seller", help: "the seller on invoices", validate: anything },
  "seller-address": { field: "sellerAddress", default: "", help: "the seller's address on invoices (lines separated by ;)", validate: anything },
  "seller-tax-id": { field: "sellerTaxId", default: "", help: "the seller's tax ID on invoices", validate: anything },
  "seller-country": { field: "sellerCountry", default: "", help: "the seller's two-letter country code (picks the payment reference scheme)", validate: (v) => (v === "" ? undefined : countryCodeProblem(v, { naming: false })) },
  "seller-iban": { field: "sellerIban", default: "", help: "the seller's IBAN, printed on invoices for bank transfers", validate: (v) => (v === "" || isValidIban(v) ? undefined : "expected a valid IBAN such as NO93 8601 1117 947 (its check digits do not match)") },
  "seller-bic": { field: "sellerBic", default: "", help: "the seller's bank BIC (SWIFT code), printed beside the IBAN", validate: (v) => (v === "" || /^[A-Za-z]{4}[A-Za-z]{2}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$/.test(v) ? undefined : "expected a BIC of 8 or 11 letters and digits such as DNBANOKK") },
  "seller-account": { field: "sellerAccount", default: "", help: "the seller's domestic bank account number, printed on invoices", validate: (v) => (v === "" || /^[0-9][0-9 .-]{2,32}[0-9]$/.test(v) ? undefined : "expected an account number of digits (spaces, dots and dashes allowed)") },
  "payment-reference": { field: "paymentReference", default: "auto", help: "payment reference scheme on invoices: auto (by seller-country: NO kid-mod10, SE ocr, BE be, NL nl, else rf), kid-mod10, kid-mod11, ocr, be, nl, rf or none", validate: (v) => (v === "auto" || (paymentReferenceSchemes as ReadonlyArray<string>).includes(v) ? undefined : `expected auto, ${paymentReferenceSchemes.join(", ")}`) },
  "attach-pdf": { field: "attachPdf", default: "false", help: "attach the invoice as a PDF to invoice emails", validate: (v) => (v === "true" || v === "false" ? undefined : "expected true or false") },
  "seller-email": { field: "sellerEmail", default: "billing@example.com", help: "sender of emails", validate: anything },
  "admin-email": { field: "adminEmail", default: "admin@example.com", help: "where admin notifications go", validate: anything },
  "invoice-prefix": { field: "invoicePrefix", default: "INV-", help: "prefix of invoice numbers", validate: anything },
  "base-url": { field: "baseUrl", default: "", help: "where buyers reach billcycle serve (https://pay.example.com): emails and invoices link to its /p (update payment method) and /i (pay invoice) pages; unset: no such links", validate: (v) => baseUrlProblem(v) },
  "templates-dir": { field: "templatesDir", default: "", help: "a directory of templates overriding ours by name", validate: anything },
  "webhook-secret": { field: "webhookSecret", default: "", help: "secret for signing webhooks", validate: anything },
  "webhook-retry-window": retryWindowKey("webhookRetrySeconds", "3d", "a failing webhook"),
  "email-retry-window": retryWindowKey("emailRetrySeconds", "5d", "a failing email or admin notification (the mail server down)")
}

/** An http(s) origin, optionally with a path, no query, fragment or trailing slash. */
const baseUrlProblem = (v: string): string | undefined => {
  if (v === "") return undefined
  let url: URL
  try {
    url = new URL(v)
  } catch {
    return "expected an address such as https://pay.example.com"
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "expected an https:// (or http://) address"
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "" || v.endsWith("/")) return "expected an address without query, fragment, credentials or trailing slash, such as https://pay.example.com"
  return undefined
}

/** `30m`, `12h`, `3d` as seconds. */
const durationSeconds = (v: string): number | undefined => {
  const m = /^(\d{1,6})(m|h|d)$/.exec(v.trim())
  return m === null ? undefined : Number(m[1]) * { m: 60, h: 3600, d: 86_400 }[m[2] as "m" | "h" | "d"]
}

const parseValue = (field: keyof AccountSettings, raw: string): unknown => {
  switch (field) {
    case "reminderDays":
      return Number(raw)
    case "retryDays":
      return raw.split(",").map(Number)
    case "autoEmailInvoices":
    case "attachPdf":
      return raw === "true"
    case "unpaidCatchUp":
      return raw === "on"
    case "webhookRetrySeconds":
    case "emailRetrySeconds":
      return durationSeconds(raw) ?? durationSeconds(Object.values(settingKeys).find((k) => k.field === field)!.default)
    default:
      return raw
  }
}

export const defaultSettings = (): AccountSettings => settingsFrom(new Map())

/** Settings buyers see whose defaults are placeholders (a made-up seller; no link to the buyer's pages). */
const placeholderKeys = ["seller-name", "seller-email", "base-url"] as const

/**
 * The placeholder settings still at their defaults, as one warning line (or
 * undefined): the engine says it when it starts, since every invoice and
 * email it sends would show them.
 */
export const placeholderWarning = (settings: AccountSettings): string | undefined => {
  const still = placeholderKeys.filter((key) => settings[settingKeys[key]!.field] === settingKeys[key]!.default)
  if (still.length === 0) return undefined
  return `warning: ${still.map((k) => (k === "base-url" ? "base-url is unset (no pay or update-payment links)" : `${k} is still "${settingKeys[k]!.default}"`)).join(", ")}; buyers see ${still.length === 1 ? "it" : "them"} on invoices and emails (billcycle settings set ${still[0]} VALUE)`
}

/** The settings from the stored values (absent keys take their defaults). */
export const settingsFrom = (stored: ReadonlyMap<string, string>): AccountSettings => {
  const out: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(settingKeys)) out[spec.field] = parseValue(spec.field, valueOf(key, spec, stored))
  return out as unknown as AccountSettings
}

export const loadSettings = async (sql: Sql | TransactionSql): Promise<AccountSettings> => {
  const rows = await sql<Array<{ key: string; value: string }>>`select key, value from settings`
  return settingsFrom(new Map(rows.map((r) => [r.key, r.value])))
}

/** The stored and default value of every key, for `settings show`. */
export const listSettings = async (sql: Sql): Promise<Array<{ key: string; value: string; isDefault: boolean; help: string }>> => {
  const rows = await sql<Array<{ key: string; value: string }>>`select key, value from settings`
  const stored = new Map(rows.map((r) => [r.key, r.value]))
  return Object.entries(settingKeys).map(([key, spec]) => ({
    key,
    value: valueOf(key, spec, stored),
    isDefault: !stored.has(key),
    help: spec.help
  }))
}

/** What is wrong with a key and value, as a typed refusal, or undefined. */
export const settingRefusal = (key: string, value: string): SettingRefused | undefined => {
  const spec = settingKeys[key]
  if (spec === undefined) return new SettingRefused({ key, value, reason: { _tag: "UnknownSetting", known: Object.keys(settingKeys) } })
  const problem = spec.validate(value)
  return problem === undefined ? undefined : new SettingRefused({ key, value, reason: { _tag: "Invalid", problem } })
}

/** Validates a key and value; returns an error message naming the key, or undefined. */
export const validateSetting = (key: string, value: string): string | undefined => {
  const refused = settingRefusal(key, value)
  return refused === undefined ? undefined : describeAccountError(refused)
}

/** Keeps a (validated) setting in its one spelling; returns the value kept. */
export const saveSetting = async (sql: Sql, key: string, given: string): Promise<string> => {
  const value = settingKeys[key]?.normalize?.(given) ?? given
  await sql`insert into settings (key, value) values (${key}, ${value})
    on conflict (key) do update set value = excluded.value`
  if (key === "invoice-prefix") await sql`update invoice_sequence set prefix = ${value}`
  return value
}
