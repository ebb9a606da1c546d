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

const localesKnown = new Map<string, boolean>()
/** A locale tag Intl knows; a malformed tag (which Intl throws on) is not one. Asked for every page a buyer opens: answers are kept (bounded). */
export const isLocale = (locale: string): boolean => {
  let known = localesKnown.get(locale)
  if (known === undefined) {
    try {
      known = Intl.DateTimeFormat.supportedLocalesOf([locale]).length === 1
    } catch {
      known = false
    }
    if (localesKnown.size >= 1_000) localesKnown.clear()
    localesKnown.set(locale, known)
  }
  return known
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

/** Each language's own locale, for a document in a language whose locale nobody chose. */
export const languageLocales: Readonly<Record<Language, string>> = { en: "en-US", nb: "nb-NO", nl: "nl-NL", fr: "fr-FR", sv: "sv-SE" }

const languagePart = (locale: string) => {
  try {
    return new Intl.Locale(locale).language
  } catch {
    return locale
  }
}

/** A document's locale when it is shown in `language` instead (`render --language fr`): kept if of that language, else the language's own. */
export const localeForLanguage = (language: string, locale: string): string =>
  languagePart(locale) === language || !isLanguage(language) ? locale : languageLocales[language]

/**
 * The locale of a document shown with a language or locale chosen for this showing (`render --language fr`):
 * a chosen locale, else the document's own locale moved to the chosen language's, else the document's own.
 */
export const shownLocale = (chosen: { readonly language?: string | undefined; readonly locale?: string | undefined }, documentLocale: string): string =>
  chosen.locale ?? (chosen.language === undefined ? documentLocale : localeForLanguage(chosen.language, documentLocale))

/**
 * The locale of a document: the subscription's, else its contact's, else the account's when the document speaks
 * the account's language (or the account's locale is one of its language); a document in a language chosen for
 * the buyer with no locale chosen (a contact added with `--language nb` only) takes that language's own locale:
 * a Norwegian receipt said "Neste betaling er February 28, 2027" with an en-US account.
 */
export const localeOf = (chosen: LocaleChoice & LanguageChoice, account: { readonly language: string; readonly locale: string }): string => {
  const explicit = chosen.invoice_locale ?? chosen.contact_locale
  if (explicit !== null && explicit !== undefined) return explicit
  const language = languageOf(chosen, account)
  return language === account.language ? account.locale : localeForLanguage(language, account.locale)
}
