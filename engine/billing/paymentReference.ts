/**
 * Payment references: the number a buyer types (or their bank reads) when
 * paying an invoice by transfer, so the seller's bank can match the payment
 * to the invoice. Each country has its scheme, each with check digits:
 *
 * - `kid-mod10`, `kid-mod11`: Norwegian KID, the invoice digits plus a
 *   Luhn (MOD10) or MOD11 check digit (weights 2..7 from the right).
 * - `ocr`: Swedish OCR reference (Bankgirot), the digits, a length digit
 *   (the length including both check digits, mod 10) and a Luhn check digit.
 * - `be`: Belgian structured communication, ten digits plus their remainder
 *   mod 97 (97 for 0), written `+++123/4567/89002+++`.
 * - `nl`: Dutch betalingskenmerk, a check digit (weights 2, 4, 8, 5, 10, 9,
 *   7, 3, 6, 1 from the right, mod 11) before fifteen digits.
 * - `rf`: the international RF creditor reference (ISO 11649), `RF`, two
 *   check digits (ISO 7064 MOD 97-10) and up to 21 letters or digits.
 *
 * Pure: the reference of an invoice follows from its number every time.
 */

export const paymentReferenceSchemes = ["kid-mod10", "kid-mod11", "ocr", "be", "nl", "rf", "none"] as const
export type PaymentReferenceScheme = (typeof paymentReferenceSchemes)[number]

/** The scheme a seller in `country` uses when the setting says `auto`. */
export const schemeForCountry = (country: string): PaymentReferenceScheme => {
  switch (country.toUpperCase()) {
    case "NO":
      return "kid-mod10"
    case "SE":
      return "ocr"
    case "BE":
      return "be"
    case "NL":
      return "nl"
    default:
      return "rf"
  }
}

const digitsOf = (s: string) => s.replace(/\D/g, "")

/** Luhn (MOD10) check digit of a string of digits. */
export const luhnCheckDigit = (digits: string): number => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 0) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return (10 - (sum % 10)) % 10
}

/** MOD11 check digit with weights 2..7 from the right; undefined where the rule gives 10 (no valid digit). */
export const mod11CheckDigit = (digits: string): number | undefined => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (2 + (i % 6))
  const check = (11 - (sum % 11)) % 11
  return check === 10 ? undefined : check
}

/** Remainder mod 97 of a long string of digits, without big numbers. */
const mod97 = (digits: string): number => {
  let r = 0
  for (const ch of digits) r = (r * 10 + Number(ch)) % 97
  return r
}

/** Letters as ISO 7064 numbers (A = 10 … Z = 35). */
const lettersAsDigits = (s: string) => [...s.toUpperCase()].map((c) => (/[A-Z]/.test(c) ? String(c.charCodeAt(0) - 55) : c)).join("")

const nlWeights = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]

const nlCheckDigit = (fifteen: string): number => {
  let sum = 0
  for (let i = 0; i < fifteen.length; i++) sum += Number(fifteen[fifteen.length - 1 - i]) * nlWeights[i % nlWeights.length]!
  const check = 11 - (sum % 11)
  return check === 11 ? 0 : check === 10 ? 1 : check
}

/** The RF creditor reference of `base` (letters and digits, 1..21), printed in groups of four. */
export const rfReference = (base: string): string => {
  const clean = base.replace(/[^0-9A-Za-z]/g, "").toUpperCase()
  const check = 98 - mod97(lettersAsDigits(`${clean}RF00`))
  const whole = `RF${String(check).padStart(2, "0")}${clean}`
  return whole.replace(/(.{4})(?=.)/g, "$1 ")
}

/**
 * The reference of an invoice under `scheme`, made from the digits of its
 * number (the invoice id when the number has none), or "" for `none`.
 * Numbers too long for a scheme keep their last digits.
 */
export const paymentReference = (scheme: PaymentReferenceScheme, invoiceNumber: string, invoiceId: number): string => {
  const own = digitsOf(invoiceNumber).replace(/^0+(?=\d)/, "")
  const base = own === "" || /^0+$/.test(own) ? String(invoiceId) : own
  switch (scheme) {
    case "none":
      return ""
    case "kid-mod10": {
      const digits = base.slice(-24)
      return `${digits}${luhnCheckDigit(digits)}`
    }
    case "kid-mod11": {
      // A base whose MOD11 digit would be 10 gets a leading 1: KID has no valid digit for it.
      let digits = base.slice(-23)
      let check = mod11CheckDigit(digits)
      if (check === undefined) {
        digits = `1${digits}`
        check = mod11CheckDigit(digits)!
      }
      return `${digits}${check}`
    }
    case "ocr": {
      const digits = base.slice(-23)
      const withLength = `${digits}${(digits.length + 2) % 10}`
      return `${withLength}${luhnCheckDigit(withLength)}`
    }
    case "be": {
      const ten = base.slice(-10).padStart(10, "0")
      const check = mod97(ten) === 0 ? 97 : mod97(ten)
      const all = `${ten}${String(check).padStart(2, "0")}`
      return `+++${all.slice(0, 3)}/${all.slice(3, 7)}/${all.slice(7)}+++`
    }
    case "nl": {
      const fifteen = base.slice(-15).padStart(15, "0")
      return `${nlCheckDigit(fifteen)}${fifteen}`
    }
    case "rf":
      return rfReference(base.slice(-21))
  }
}

/** Whether `reference` is a valid reference of `scheme` (its check digits hold). */
export const isValidPaymentReference = (scheme: PaymentReferenceScheme, reference: string): boolean => {
  switch (scheme) {
    case "none":
      return reference === ""
    case "kid-mod10": {
      const d = reference
      return /^\d{2,25}$/.test(d) && luhnCheckDigit(d.slice(0, -1)) === Number(d.at(-1))
    }
    case "kid-mod11": {
      const d = reference
      return /^\d{2,25}$/.test(d) && mod11CheckDigit(d.slice(0, -1)) === Number(d.at(-1))
    }
    case "ocr": {
      const d = reference
      return /^\d{3,25}$/.test(d) && luhnCheckDigit(d.slice(0, -1)) === Number(d.at(-1)) && Number(d.at(-2)) === d.length % 10
    }
    case "be": {
      const m = /^\+\+\+(\d{3})\/(\d{4})\/(\d{5})\+\+\+$/.exec(reference)
      if (m === null) return false
      const all = m.slice(1).join("")
      const r = mod97(all.slice(0, 10))
      return Number(all.slice(10)) === (r === 0 ? 97 : r)
    }
    case "nl":
      return /^\d{16}$/.test(reference) && nlCheckDigit(reference.slice(1)) === Number(reference[0])
    case "rf": {
      const clean = reference.replace(/\s/g, "").toUpperCase()
      if (!/^RF\d{2}[0-9A-Z]{1,21}$/.test(clean)) return false
      return mod97(lettersAsDigits(`${clean.slice(4)}${clean.slice(0, 4)}`)) === 1
    }
  }
}

/** Whether `iban` is a valid IBAN (ISO 13616: country, two check digits, mod 97 = 1). */
export const isValidIban = (iban: string): boolean => {
  const clean = iban.replace(/\s/g, "").toUpperCase()
  if (!/^[A-Z]{2}\d{2}[0-9A-Z]{11,30}$/.test(clean)) return false
  return mod97(lettersAsDigits(`${clean.slice(4)}${clean.slice(0, 4)}`)) === 1
}

/** An IBAN in groups of four, as printed on invoices. */
export const formatIban = (iban: string): string => iban.replace(/\s/g, "").toUpperCase().replace(/(.{4})(?=.)/g, "$1 ")
