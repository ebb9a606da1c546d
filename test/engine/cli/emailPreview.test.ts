/**
 * `render email TEMPLATE --subscription ID` as an ops person previews the emails before going live: an email about
 * something the subscription does not have (an invoice, a coming payment, an end date) is refused, naming what is
 * missing, instead of a buyer's email saying "$0.00", "due on ." or "ended on  after its last payment"; one about
 * what it has tells it (the declined charge's reason and the next retry).
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = () => {
  const { db, env } = freshCliDatabase()
  return (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
}

/** The plain-text part of a previewed email. */
const textOf = (stdout: string) => (JSON.parse(stdout) as { text: string }).text

describe("render email for a subscription", () => {
  it("refuses what the subscription cannot be sent (exit 2, naming what it lacks), and fills what it can from its invoice and last attempt", () => {
    const cli = session()
    expect(cli("2026-03-01", "contacts", "add", "--email", "ann@example.com", "--name", "Ann").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Box,price=12.50", "--payment-method", "pm_ok", "--start", "2026-03-20").code).toBe(0)

    // Not invoiced yet, renews until canceled.
    for (const template of ["receipt", "payment_failed", "payment_notification", "invoice_sent"]) {
      const r = cli("2026-03-01", "render", "email", template, "--subscription", "1")
      expect(r.code, `${template}: ${r.stdout}`).toBe(2)
      expect(r.stderr).toContain(`--subscription: subscription 1 has no invoice yet, and the ${template} email is about one`)
      expect(r.stdout).toBe("")
    }
    for (const template of ["expiry", "renewal_offer"]) {
      const r = cli("2026-03-01", "render", "email", template, "--subscription", "1")
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`subscription 1 has no end date, and the ${template} email is about one`)
    }
    expect(textOf(cli("2026-03-01", "render", "email", "reminder", "--subscription", "1", "--json").stdout)).toContain("$12.50 for Box will be charged on March 20, 2026")

    // Canceled: no coming payment to remind of.
    expect(cli("2026-03-01", "subscriptions", "cancel", "1").code).toBe(0)
    const reminder = cli("2026-03-01", "render", "email", "reminder", "--subscription", "1")
    expect(reminder.code).toBe(2)
    expect(reminder.stderr).toContain("subscription 1 is canceled: it has no coming payment for a reminder to announce")

    // Fixed terms, the first charge declined: the emails about it name its amount, reason, retry and end.
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Box,price=12.50", "--payment-method", "pm_declined", "--terms", "fixed:3").code).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    const failed = textOf(cli("2026-03-01", "render", "email", "payment_failed", "--subscription", "2", "--json").stdout)
    expect(failed).toContain("We could not charge $12.50 for Box.")
    expect(failed).toMatch(/We will try again on March \d+, 2026\./)
    expect(textOf(cli("2026-03-01", "render", "email", "payment_notification", "--subscription", "2", "--json").stdout)).toContain("failed: the card was declined.")
    expect(textOf(cli("2026-03-01", "render", "email", "expiry", "--subscription", "2", "--json").stdout)).toContain("ended on June 1, 2026")
  }, 180_000)
  it("a reminder of a period a discount makes free is refused (exit 2), as the engine sends none for a payment of nothing (it previewed \"$0.00 will be charged\")", () => {
    const cli = session()
    expect(cli("2026-03-01", "contacts", "add", "--email", "ann@example.com", "--name", "Ann").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Box,price=12.50,discount=100%", "--payment-method", "pm_ok", "--start", "2026-03-20").code).toBe(0)
    const r = cli("2026-03-01", "render", "email", "reminder", "--subscription", "1")
    expect(r.code, r.stdout).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("--subscription: subscription 1's coming payment on 2026-03-20 is of nothing: no reminder is sent for a payment of nothing")
    // The engine agrees: no reminder queued for it.
    expect(cli("2026-03-10", "engine", "--once").code).toBe(0)
    expect(cli("2026-03-10", "render", "email", "reminder", "--subscription", "1").code).toBe(2)
  }, 180_000)
  it("a Norwegian account's notice of a declined charge says why in Norwegian; the buyer's email names no reason (found by an audit: 'mislyktes: card declined')", () => {
    const cli = session()
    expect(cli("2026-03-01", "settings", "set", "language", "nb").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "ola@example.no", "--name", "Ola").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ola@example.no", "--item", "name=Boks,price=12.50", "--payment-method", "pm_declined").code).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    const notice = textOf(cli("2026-03-01", "render", "email", "payment_notification", "--subscription", "1", "--json").stdout)
    expect(notice).toContain("mislyktes: kortet ble avvist.")
    expect(notice).not.toMatch(/card|declined/i)
    expect(textOf(cli("2026-03-01", "render", "email", "payment_failed", "--subscription", "1", "--json").stdout)).not.toMatch(/card|declined|avvist/i)
  }, 180_000)
  it("is dated on business time, and an email already queued is previewed as the buyer got it (its day, its refund line)", () => {
    const cli = session()
    expect(cli("2028-01-31", "contacts", "add", "--email", "jan@example.nl", "--name", "Jan", "--language", "nl", "--locale", "nl-NL", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("2028-01-31", "subscriptions", "create", "--contact", "jan@example.nl", "--item", "name=Kaffe,price=31.00").code).toBe(0)
    expect(cli("2028-01-31", "engine", "--once").code).toBe(0)
    // Not canceled yet: the preview is dated on the command's business day (found by an audit: the computer's date).
    expect(textOf(cli("2028-02-02", "render", "email", "cancellation", "--subscription", "1", "--json").stdout)).toContain("op 2 februari 2028 opgezegd")
    expect(cli("2028-02-03", "subscriptions", "cancel", "1", "--refund-unused").code).toBe(0)
    const sent = textOf(cli("2028-03-15", "render", "email", "cancellation", "--subscription", "1", "--json").stdout)
    expect(sent).toContain("op 3 februari 2028 opgezegd")
    expect(sent).toMatch(/terugbetaald/)
  }, 180_000)

  it("a buyer given a language but no locale gets that language's dates and money, in the email sent and in render (--language alone too)", () => {
    const cli = session()
    expect(cli("2026-03-01", "contacts", "add", "--email", "ola@example.com", "--language", "nb", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "ola@example.com", "--item", "name=Kaffe,price=25.00,currency=NOK").code).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    // The receipt sent to the buyer (render shows a queued email as it went out): Norwegian labels, dates and money
    // (the dates were en-US, "April 1, 2026", inside Norwegian sentences).
    const text = textOf(cli("2026-03-01", "render", "email", "receipt", "--subscription", "1", "--json").stdout)
    expect(text).toContain("Neste betaling er 1. april 2026")
    expect(text).toMatch(/25,00\skr/)
    // --language alone shows the email in that language with its own formats (--locale keeps the last word).
    expect(textOf(cli("2026-03-01", "render", "email", "receipt", "--subscription", "1", "--language", "fr", "--json").stdout)).toContain("le 1er avril 2026")
    expect(textOf(cli("2026-03-01", "render", "email", "receipt", "--subscription", "1", "--language", "fr", "--locale", "en-GB", "--json").stdout)).toContain("1 April 2026")
  })

  it("the admins' notice of an overdue invoice speaks the account's language, with its dates (was English: \"Invoice INV-000001 is overdue (due 2026-03-16)\")", () => {
    const cli = session()
    expect(cli("2026-03-01", "settings", "set", "language", "nb").code).toBe(0)
    expect(cli("2026-03-01", "settings", "set", "locale", "nb-NO").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "kari@example.com").code).toBe(0)
    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "kari@example.com", "--item", "name=Kaffe,price=25.00", "--collection", "invoice:net-15").code).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    expect(cli("2026-03-17", "engine", "--once").code).toBe(0)
    const notice = JSON.parse(cli("2026-03-17", "render", "email", "internal_notification", "--subscription", "1", "--json").stdout) as { subject: string; text: string }
    expect(notice.subject).toBe("Varsel fra billcycle")
    expect(notice.text).toContain("Faktura INV-000001 er forfalt (forfallsdato 16. mars 2026).")
    expect(notice.text).not.toContain("overdue")
  })
})

