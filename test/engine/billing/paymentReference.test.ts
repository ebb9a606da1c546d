/**
 * Payment references and bank account numbers on invoices: the check digits
 * of each scheme, against published examples, and as properties (every
 * reference we make validates; a single mistyped digit never does).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  formatIban, isValidIban, isValidPaymentReference, luhnCheckDigit, mod11CheckDigit, paymentReference, paymentReferenceSchemes, rfReference, schemeForCountry
} from "../../../engine/billing/paymentReference.ts"

describe("published examples", () => {
  it("Luhn (KID MOD10, Swedish OCR): 79927398713", () => {
    expect(luhnCheckDigit("7992739871")).toBe(3)
    expect(isValidPaymentReference("kid-mod10", "79927398713")).toBe(true)
    expect(isValidPaymentReference("kid-mod10", "79927398714")).toBe(false)
  })

  it("MOD11 with weights 2..7 (KID MOD11; the Norwegian account number 8601 11 17947)", () => {
    expect(mod11CheckDigit("8601111794")).toBe(7)
    expect(isValidPaymentReference("kid-mod11", "86011117947")).toBe(true)
    expect(isValidPaymentReference("kid-mod11", "86011117948")).toBe(false)
  })

  it("RF creditor reference (ISO 11649): RF18 5390 0754 7034", () => {
    expect(rfReference("539007547034")).toBe("RF18 5390 0754 7034")
    expect(isValidPaymentReference("rf", "RF18 5390 0754 7034")).toBe(true)
    expect(isValidPaymentReference("rf", "RF18539007547034")).toBe(true)
    expect(isValidPaymentReference("rf", "RF19 5390 0754 7034")).toBe(false)
  })

  it("Belgian structured communication: +++090/9337/55493+++", () => {
    expect(isValidPaymentReference("be", "+++090/9337/55493+++")).toBe(true)
    expect(isValidPaymentReference("be", "+++090/9337/55494+++")).toBe(false)
    expect(paymentReference("be", "0909337554", 1)).toBe("+++090/9337/55493+++")
  })

  it("IBAN (ISO 13616): GB82 WEST 1234 5698 7654 32 and NO93 8601 1117 947", () => {
    expect(isValidIban("GB82 WEST 1234 5698 7654 32")).toBe(true)
    expect(isValidIban("NO9386011117947")).toBe(true)
    expect(isValidIban("NO9386011117948")).toBe(false)
    expect(isValidIban("1234")).toBe(false)
    expect(formatIban("no9386011117947")).toBe("NO93 8601 1117 947")
  })
})

describe("references of invoices", () => {
  it("are made from the digits of the invoice number, in each scheme's shape", () => {
    expect(paymentReference("kid-mod10", "INV-000123", 9)).toBe("1230")
    expect(paymentReference("kid-mod11", "INV-000123", 9)).toBe("1236")
    expect(paymentReference("ocr", "INV-000123", 9)).toBe("12351")
    expect(paymentReference("be", "INV-000123", 9)).toBe("+++000/0000/12326+++")
    expect(paymentReference("nl", "INV-000123", 9)).toBe("0000000000000123")
    expect(paymentReference("rf", "INV-000123", 9)).toBe("RF78 123")
    expect(paymentReference("none", "INV-000123", 9)).toBe("")
    // A number without digits uses the invoice's id.
    expect(paymentReference("kid-mod10", "DRAFT", 42)).toBe(paymentReference("kid-mod10", "42", 0))
  })

  it("each country has its scheme, RF elsewhere", () => {
    expect([schemeForCountry("no"), schemeForCountry("SE"), schemeForCountry("BE"), schemeForCountry("NL"), schemeForCountry("DE"), schemeForCountry("")])
      .toEqual(["kid-mod10", "ocr", "be", "nl", "rf", "rf"])
  })

  const schemes = paymentReferenceSchemes.filter((s) => s !== "none")
  const numbers = fc.tuple(fc.string({ maxLength: 6 }), fc.bigInt({ min: 0n, max: 10n ** 30n })).map(([prefix, n]) => `${prefix.replace(/\d/g, "")}${n}`)

  it("every reference we make validates in its scheme", () => {
    fc.assert(fc.property(fc.constantFrom(...schemes), numbers, fc.integer({ min: 1, max: 2 ** 31 }), (scheme, number, id) => {
      expect(isValidPaymentReference(scheme, paymentReference(scheme, number, id))).toBe(true)
    }), { numRuns: 500 })
  })

  // Not the Dutch scheme: it folds a check of 10 into 1, so some typos keep a valid digit (as in Currence's rule).
  it("a single mistyped digit is caught", () => {
    fc.assert(fc.property(fc.constantFrom(...schemes.filter((s) => s !== "nl")), numbers, fc.nat(), fc.integer({ min: 1, max: 9 }), (scheme, number, at, delta) => {
      const ref = paymentReference(scheme, number, 7)
      const positions = [...ref].flatMap((c, i) => (/\d/.test(c) && !(scheme === "rf" && i < 2) ? [i] : []))
      const i = positions[at % positions.length]!
      const typo = ref.slice(0, i) + String((Number(ref[i]) + delta) % 10) + ref.slice(i + 1)
      expect(isValidPaymentReference(scheme, typo)).toBe(false)
    }), { numRuns: 500 })
  })
})
