/** Country codes of addresses and of the seller: ISO 3166-1 alpha-2, any case (domain/country.ts). */
import { describe, expect, it } from "vitest"
import { countryCodeProblem, isCountryCode } from "../../../engine/domain/index.ts"

describe("country codes", () => {
  it("takes the assigned ISO 3166-1 codes in any case, and XK", () => {
    for (const code of ["NO", "no", "Us", "GB", "DE", "AQ", "XK", "SS", "CW"]) expect(isCountryCode(code), code).toBe(true)
  })

  it("refuses two letters that name no country: private use, reserved and withdrawn codes", () => {
    for (const code of ["QQ", "XX", "ZZ", "AA", "EU", "UK", "YU", "SU", "AN", "N0", "NOR", "N", ""]) expect(isCountryCode(code), code).toBe(false)
    expect(countryCodeProblem("QQ")).toBe(`expected a two-letter country code (ISO 3166-1) such as NO, got "QQ"`)
    expect(countryCodeProblem("uk")).toBe(`expected a two-letter country code (ISO 3166-1) such as NO, got "uk" (the United Kingdom is GB)`)
    expect(countryCodeProblem("se")).toBeUndefined()
    // A setting's refusal names the value itself (`setting seller-country: …, got "QQ"`): not twice.
    expect(countryCodeProblem("QQ", { naming: false })).toBe("expected a two-letter country code (ISO 3166-1) such as NO")
  })
})
