/**
 * The buyer's links (`/p/TOKEN`: update the payment method; `/i/TOKEN`: pay an
 * invoice) and their tokens. A token is signed, single-purpose and expiring:
 * version, purpose, the subject's id and the last valid day, then the first
 * 128 bits of an HMAC-SHA256 over them with the database's buyer secret
 * (engine/account/buyerSecret.ts), all base64url (38 characters). Nothing else
 * travels in the URL. Pure: the secret and today are passed in.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import type { CalendarDate } from "../domain/index.ts"
import { addDays, fromDayNumber, toDayNumber } from "./calendar.ts"

export type BuyerLinkPurpose = "update-payment" | "pay-invoice"

const purposeCode: Record<BuyerLinkPurpose, number> = { "update-payment": 1, "pay-invoice": 2 }
const version = 1
const bodyBytes = 12
const macBytes = 16

/** How long a link works: the payment-failed email's for 30 days after it is sent; an invoice's for 90 days after its due date. */
export const updateLinkExpiresOn = (sentOn: CalendarDate): CalendarDate => addDays(sentOn, 30)
/**
 * A pay link lives 90 days past the invoice's due date, or past the day the document carrying it was made when that
 * is later: an open invoice rendered (or sent again) after its due date carries a link that opens, not one already
 * dead.
 */
export const payLinkExpiresOn = (dueDate: CalendarDate, issuedOn?: CalendarDate): CalendarDate =>
  addDays(issuedOn !== undefined && issuedOn > dueDate ? issuedOn : dueDate, 90)

const mac = (secret: Uint8Array, label: string, data: Uint8Array | string): Buffer =>
  createHmac("sha256", secret).update(label).update(data).digest()

export const signBuyerToken = (secret: Uint8Array, token: { readonly purpose: BuyerLinkPurpose; readonly id: number; readonly expiresOn: CalendarDate }): string => {
  const body = Buffer.alloc(bodyBytes)
  body.writeUInt8(version, 0)
  body.writeUInt8(purposeCode[token.purpose], 1)
  body.writeUIntBE(token.id, 2, 6)
  body.writeUInt32BE(toDayNumber(token.expiresOn) + 1_000_000, 8)
  return Buffer.concat([body, mac(secret, "buyer-link|", body).subarray(0, macBytes)]).toString("base64url")
}

export type BuyerTokenCheck =
  | { readonly _tag: "Valid"; readonly id: number; readonly expiresOn: CalendarDate }
  /** Signed by us for this purpose, but its last day has passed (410). */
  | { readonly _tag: "Expired"; readonly id: number; readonly expiresOn: CalendarDate }
  /** Not ours, altered, or made for another purpose (404: nothing said about why). */
  | { readonly _tag: "Invalid" }

export const readBuyerToken = (secret: Uint8Array, token: string, purpose: BuyerLinkPurpose, today: CalendarDate): BuyerTokenCheck => {
  if (!/^[A-Za-z0-9_-]{38}$/.test(token)) return { _tag: "Invalid" }
  const raw = Buffer.from(token, "base64url")
  if (raw.length !== bodyBytes + macBytes) return { _tag: "Invalid" }
  const body = raw.subarray(0, bodyBytes)
  // Compared in constant time: a forger learns nothing from how long a refusal takes.
  if (!timingSafeEqual(raw.subarray(bodyBytes), mac(secret, "buyer-link|", body).subarray(0, macBytes))) return { _tag: "Invalid" }
  if (body.readUInt8(0) !== version || body.readUInt8(1) !== purposeCode[purpose]) return { _tag: "Invalid" }
  const id = body.readUIntBE(2, 6)
  const expiresOn = fromDayNumber(body.readUInt32BE(8) - 1_000_000)
  return expiresOn < today ? { _tag: "Expired", id, expiresOn } : { _tag: "Valid", id, expiresOn }
}

/**
 * The CSRF token of a page's form: an HMAC of the browser's cookie nonce and
 * the page's token. A form posted from another site carries neither the
 * cookie (SameSite=Strict) nor a token matching it.
 */
export const csrfTokenOf = (secret: Uint8Array, nonce: string, pageToken: string): string =>
  mac(secret, "buyer-csrf|", `${nonce}|${pageToken}`).subarray(0, macBytes).toString("base64url")

export const csrfTokenMatches = (secret: Uint8Array, nonce: string, pageToken: string, given: string): boolean => {
  const expected = Buffer.from(csrfTokenOf(secret, nonce, pageToken))
  const got = Buffer.from(given)
  return got.length === expected.length && timingSafeEqual(got, expected)
}

/** The link of a purpose under the account's `base-url` ("" when it is unset: no link is printed). */
export const buyerLinkUrl = (baseUrl: string, purpose: BuyerLinkPurpose, token: string): string =>
  baseUrl === "" ? "" : `${baseUrl}/${purpose === "update-payment" ? "p" : "i"}/${token}`
