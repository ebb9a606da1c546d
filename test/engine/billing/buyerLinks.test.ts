/**
 * The buyer's link tokens: signed, single-purpose, expiring; and the
 * `base-url` setting they are printed under.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addDays, buyerLinkUrl, csrfTokenMatches, csrfTokenOf, fromDayNumber, payLinkExpiresOn, readBuyerToken, signBuyerToken, toDayNumber } from "../../../engine/billing/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { validateSetting } from "../../../engine/account/index.ts"

const secret = new Uint8Array(32).fill(7)
const other = new Uint8Array(32).fill(8)
const day = (d: string) => d as CalendarDate

describe("a pay link's life (payLinkExpiresOn)", () => {
  it("90 days past the due date, or past the day its document was made when that is later: a document made today never carries a dead link", () => {
    const days = fc.integer({ min: toDayNumber(day("2020-01-01")), max: toDayNumber(day("2035-12-31")) }).map((n) => fromDayNumber(n))
    fc.assert(fc.property(days, fc.option(days, { nil: undefined }), (due, issued) => {
      const expires = payLinkExpiresOn(due, issued)
      expect(expires >= addDays(due, 90)).toBe(true)
      if (issued !== undefined) expect(expires >= addDays(issued, 90)).toBe(true)
      expect(expires === addDays(due, 90) || expires === addDays(issued!, 90)).toBe(true)
    }))
    // Found by an audit of what buyers receive: an open invoice rendered in April, due in January, printed a link dead since April 1.
    expect(payLinkExpiresOn(day("2026-01-01"), day("2026-04-10"))).toBe("2026-07-09")
    expect(payLinkExpiresOn(day("2026-01-01"))).toBe("2026-04-01")
  })
})

describe("buyer link tokens", () => {
  it("a token opens its page for its subject through its last day, and is expired the day after", () => {
    const token = signBuyerToken(secret, { purpose: "update-payment", id: 42, expiresOn: day("2026-05-01") })
    expect(token).toMatch(/^[A-Za-z0-9_-]{38}$/)
    expect(readBuyerToken(secret, token, "update-payment", day("2026-05-01"))).toEqual({ _tag: "Valid", id: 42, expiresOn: "2026-05-01" })
    expect(readBuyerToken(secret, token, "update-payment", day("2026-05-02"))).toEqual({ _tag: "Expired", id: 42, expiresOn: "2026-05-01" })
  })

  it("a token of the other page, of another secret, or altered in any character is invalid", () => {
    const token = signBuyerToken(secret, { purpose: "pay-invoice", id: 7, expiresOn: day("2026-05-01") })
    expect(readBuyerToken(secret, token, "update-payment", day("2026-04-01"))._tag).toBe("Invalid")
    expect(readBuyerToken(other, token, "pay-invoice", day("2026-04-01"))._tag).toBe("Invalid")
    fc.assert(fc.property(fc.integer({ min: 0, max: token.length - 1 }), fc.constantFrom(..."AQgw_-9z"), (i, c) => {
      fc.pre(token[i] !== c)
      const altered = token.slice(0, i) + c + token.slice(i + 1)
      // The last character carries only 4 bits of the MAC's last byte in base64url: a change there may decode to the same bytes.
      const same = Buffer.from(altered, "base64url").equals(Buffer.from(token, "base64url"))
      expect(readBuyerToken(secret, altered, "pay-invoice", day("2026-04-01"))._tag).toBe(same ? "Valid" : "Invalid")
    }))
    expect(readBuyerToken(secret, "", "pay-invoice", day("2026-04-01"))._tag).toBe("Invalid")
    expect(readBuyerToken(secret, token + "A", "pay-invoice", day("2026-04-01"))._tag).toBe("Invalid")
  })

  it("any subject id round-trips", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 47 }), (id) => {
      const token = signBuyerToken(secret, { purpose: "pay-invoice", id, expiresOn: day("2030-01-01") })
      expect(readBuyerToken(secret, token, "pay-invoice", day("2029-12-31"))).toEqual({ _tag: "Valid", id, expiresOn: "2030-01-01" })
    }))
  })

  it("a CSRF token matches only its cookie nonce and its page", () => {
    const csrf = csrfTokenOf(secret, "nonce-a", "page-1")
    expect(csrfTokenMatches(secret, "nonce-a", "page-1", csrf)).toBe(true)
    expect(csrfTokenMatches(secret, "nonce-b", "page-1", csrf)).toBe(false)
    expect(csrfTokenMatches(secret, "nonce-a", "page-2", csrf)).toBe(false)
    expect(csrfTokenMatches(secret, "nonce-a", "page-1", "")).toBe(false)
  })

  it("links are made only under a base-url", () => {
    expect(buyerLinkUrl("", "update-payment", "T")).toBe("")
    expect(buyerLinkUrl("https://pay.example.com", "update-payment", "T")).toBe("https://pay.example.com/p/T")
    expect(buyerLinkUrl("https://pay.example.com/shop", "pay-invoice", "T")).toBe("https://pay.example.com/shop/i/T")
  })
})

describe("the base-url setting", () => {
  it("takes an http(s) address without query, fragment or trailing slash, or nothing", () => {
    expect(validateSetting("base-url", "https://pay.example.com")).toBeUndefined()
    expect(validateSetting("base-url", "http://localhost:8080/billing")).toBeUndefined()
    expect(validateSetting("base-url", "")).toBeUndefined()
    expect(validateSetting("base-url", "pay.example.com")).toMatch(/^setting base-url: expected an address such as https:\/\/pay.example.com/)
    expect(validateSetting("base-url", "ftp://pay.example.com")).toMatch(/^setting base-url: expected an https:\/\//)
    expect(validateSetting("base-url", "https://pay.example.com/")).toMatch(/trailing slash/)
    expect(validateSetting("base-url", "https://pay.example.com?x=1")).toMatch(/without query/)
    expect(validateSetting("pay-url", "https://x.example")).toMatch(/^unknown setting "pay-url"/)
  })
})
