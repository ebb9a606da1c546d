/**
 * Locale formats for documents: money, numbers, percents and dates with
 * `Intl`, addresses by the conventions of the buyer's country. The locale is
 * separate from the language: an English invoice can carry Norwegian dates.
 */
import { minorUnitExponent } from "../engine/domain/index.ts"

const numberFormats = new Map<string, Intl.NumberFormat>()
const cached = (key: string, make: () => Intl.NumberFormat) => {
  let f = numberFormats.get(key)
  if (f === undefined) numberFormats.set(key, (f = make()))
  return f
}
const dateFormats = new Map<string, Intl.DateTimeFormat>()

/** Digits of the currency's minor unit, from the domain's ISO 4217 table. */
export const exponentOf = minorUnitExponent

// Documents repeat the same prices, rates and dates over and over; Intl formatting is the
// costliest part of rendering, so formatted strings are memoised (bounded: cleared when full).
const memo = new Map<string, string>()
const memoised = (key: string, make: () => string): string => {
  let v = memo.get(key)
  if (v === undefined) {
    if (memo.size >= 50_000) memo.clear()
    v = make()
    memo.set(key, v)
  }
  return v
}

/**
 * Formats minor units of `currency` in `locale` (12 500 øre → "125,00 kr" in nb-NO, as Intl and our tests have it).
 * A negative amount (a discount, a payment taken off) is written as the locale writes one, sign and all: "€ -50,00"
 * in nl-NL, "-€50.00" in en-US, "−50,00 kr" in nb-NO; a minus typed before the formatted amount read "−€ 50,00".
 * Zero is never signed: minus zero (an amount off of nothing) is zero.
 */
export const formatMoney = (minor: number, currency: string, locale: string): string => {
  const amount = minor === 0 ? 0 : minor
  return memoised(`m|${locale}|${currency}|${amount}`, () => {
    const exp = exponentOf(currency)
    return cached(`m:${locale}:${currency}`, () => new Intl.NumberFormat(locale, { style: "currency", currency, minimumFractionDigits: exp, maximumFractionDigits: exp })).format(amount / 10 ** exp)
  })
}

/** The decimal separator `locale` writes ("." in en-US, "," in nb-NO, fr-FR, sv-SE, nl-NL). */
export const decimalSeparator = (locale: string): string =>
  memoised(`d|${locale}`, () => cached(`n:${locale}`, () => new Intl.NumberFormat(locale)).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".")

export const formatNumber = (n: number, locale: string): string => memoised(`n|${locale}|${n}`, () => cached(`n:${locale}`, () => new Intl.NumberFormat(locale)).format(n))

/** A rate in parts per million as a percent (250000 → "25 %" in fr-FR). */
export const formatPercent = (ppm: number, locale: string): string =>
  memoised(`p|${locale}|${ppm}`, () => cached(`p:${locale}`, () => new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 4 })).format(ppm / 1_000_000))

/**
 * A calendar date `YYYY-MM-DD` in the locale's long form; never shifted by a zone. French writes the first of a
 * month as an ordinal ("le 1er avril 2026", as the Imprimerie nationale's rules have it), which `Intl` does not.
 */
export const formatDate = (date: string, locale: string): string =>
  !/^\d{4}-\d{2}-\d{2}$/.test(date) ? date : memoised(`d|${locale}|${date}`, () => {
    let f = dateFormats.get(locale)
    if (f === undefined) dateFormats.set(locale, (f = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" })))
    const [y, m, d] = date.split("-").map(Number)
    const parts = f.formatToParts(Date.UTC(y!, m! - 1, d!))
    const firstInFrench = d === 1 && f.resolvedOptions().locale.split("-")[0] === "fr"
    return parts.map((p) => (firstInFrench && p.type === "day" ? `${p.value}er` : p.value)).join("")
  })

/** Days from `first` to `last`, both included ("1 March 2026 – 31 March 2026"); a range of one day is that day alone. */
export const formatDateRange = (first: string, last: string, locale: string): string =>
  first === last || last === "" ? formatDate(first, locale) : `${formatDate(first, locale)} – ${formatDate(last, locale)}`

export interface PostalAddress {
  readonly line1?: string | undefined
  readonly line2?: string | undefined
  readonly postalCode?: string | undefined
  readonly city?: string | undefined
  readonly region?: string | undefined
  readonly country?: string | undefined
}

const countryNames = new Map<string, Intl.DisplayNames>()

/**
 * Address lines by the country's convention: postal code before the city in
 * Norway, Sweden, the Netherlands and France (SE groups the code "123 45");
 * city, state and ZIP on one line in the US; city and postcode on separate
 * lines in the UK. The country name is in the document's locale.
 */
export const formatAddress = (a: PostalAddress, locale: string): Array<string> => {
  const country = (a.country ?? "").toUpperCase()
  const street = [a.line1, a.line2].filter((x): x is string => x !== undefined && x !== "")
  let cityLines: Array<string>
  switch (country) {
    case "US":
      cityLines = [[a.city, [a.region, a.postalCode].filter(Boolean).join(" ")].filter(Boolean).join(", ")]
      break
    case "GB":
      cityLines = [a.city ?? "", a.postalCode ?? ""]
      break
    case "SE": {
      const code = (a.postalCode ?? "").replace(/^(\d{3})(\d{2})$/, "$1 $2")
      cityLines = [[code, (a.city ?? "").toUpperCase()].filter(Boolean).join(" ")]
      break
    }
    case "FR":
      cityLines = [[a.postalCode, (a.city ?? "").toUpperCase()].filter(Boolean).join(" ")]
      break
    default:
      cityLines = [[a.postalCode, a.city].filter(Boolean).join(" ")]
  }
  let names = countryNames.get(locale)
  if (names === undefined) countryNames.set(locale, (names = new Intl.DisplayNames([locale], { type: "region" })))
  const countryName = country === "" ? undefined : names.of(country)
  return [...street, ...cityLines, ...(countryName === undefined ? [] : [countryName])].filter((l) => l.trim() !== "")
}
