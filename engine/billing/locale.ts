/**
 * Languages and locales: the one list of languages we have labels for, and
 * the one fallback for which language and locale a document speaks. Pure:
 * takes values, returns values (the store passes rows, the CLI flags).
 */

/** The languages our templates carry labels for (templates/catalogs/LANG.json). */
export const languages = ["en", "nb", "nl", "fr", "sv"] as const
export type Language = (typeof languages)[number]

export const isLanguage = (value: string): value is Language => (languages as ReadonlyArray<string>).includes(value)

const inWords = (conjunction: "or" | "and") => `${languages.slice(0, -1).join(", ")} ${conjunction} ${languages[languages.length - 1]}`
/** "en, nb, nl, fr or sv", for messages: one of them. */
export const languagesInWords = inWords("or")
/** "en, nb, nl, fr and sv", for messages: every one. */
export const everyLanguageInWords = inWords("and")

/** Why a value is not a language, for an error that names the flag, field or column; undefined when it is one. */
export const languageProblem = (value: string): string | undefined =>
  isLanguage(value) ? undefined : `expected ${languagesInWords}, got "${value}"`

/** A language without a catalog renders in English, the catalogs' reference. */
export const resolveLanguage = (language: string): Language => (isLanguage(language) ? language : "en")

/** A locale tag Intl knows; a malformed tag (which Intl throws on) is not one. */
export const isLocale = (locale: string): boolean => {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length === 1
  } catch {
    return false
  }
}

/** Why a value is not a locale, for an error that names the flag, field or column; undefined when it is one. */
export const localeProblem = (value: string): string | undefined =>
  isLocale(value) ? undefined : `"${value}" is not a locale such as nb-NO`

/** Who chose a language or locale, most specific first: the subscription, then its contact. */
export interface LanguageChoice {
  readonly invoice_language?: string | null | undefined
  readonly contact_language?: string | null | undefined
}
export interface LocaleChoice {
  readonly invoice_locale?: string | null | undefined
  readonly contact_locale?: string | null | undefined
}

/** The language of a document: the subscription's, else its contact's, else the account's. */
export const languageOf = (chosen: LanguageChoice, account: { readonly language: string }): string =>
  chosen.invoice_language ?? chosen.contact_language ?? account.language

/** The locale of a document: the subscription's, else its contact's, else the account's. */
export const localeOf = (chosen: LocaleChoice, account: { readonly locale: string }): string =>
  chosen.invoice_locale ?? chosen.contact_locale ?? account.locale
