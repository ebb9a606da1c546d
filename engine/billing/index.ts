/**
 * The billing room's door: pure calendar, zone and pricing math. No SQL, no
 * clock, no services.
 */
export * from "./calendar.ts"
export * from "./zone.ts"
export * from "./pricing.ts"
export * from "./grouping.ts"
export * from "./itemVersions.ts"
export { isLanguage, isLocale, type Language, type LanguageChoice, languageOf, languages, languagesInWords, localeOf, type LocaleChoice, resolveLanguage } from "./locale.ts"
