/**
 * Invoices a business can send (issue #20): the seller's bank account and a
 * payment reference in the seller's national scheme on the invoice and its
 * email, and the invoice as a PDF, as a user gets them through the CLI.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { isValidPaymentReference } from "../../../engine/billing/paymentReference.ts"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const session = (cwd?: string) => {
  const { db, env } = freshCliDatabase()
  return (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env, ...(cwd === undefined ? {} : { cwd }) })
}

/** The text of every page of a PDF, read by pdf.js. */
const pdfText = async (path: string): Promise<string> => {
  const { getDocument } = await import("pdfjs-dist/legacy/build/pdf.mjs")
  const task = getDocument({ data: new Uint8Array(readFileSync(path)), useSystemFonts: false })
  const doc = await task.promise
  const out: Array<string> = []
  for (let p = 1; p <= doc.numPages; p++) {
    const content = await (await doc.getPage(p)).getTextContent()
    out.push(content.items.map((i) => ("str" in i ? i.str : "")).join(" "))
  }
  await task.destroy()
  return out.join("\n")
}

describe("an invoice paid by bank transfer", () => {
  it("carries the seller's IBAN and BIC and a KID for a Norwegian seller, on the invoice, in its email and in its PDF", async () => {
    // The engine writes its emails under ./out/mail of where it runs.
    const here = mkdtempSync(join(tmpdir(), "billcycle-mail-"))
    const cli = session(here)
    for (const [key, value] of [["attach-pdf", "true"], ["seller-name", "Kaffe, Te & Co <AS>"], ["seller-country", "NO"], ["seller-iban", "NO93 8601 1117 947"], ["seller-bic", "dnbanokk"], ["seller-email", "faktura@kaffe.example"]] as const) {
      const set = cli("2026-03-01", "settings", "set", key, value)
      expect(set.code, set.stderr).toBe(0)
    }
    expect(cli("2026-03-01", "products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "249.00", "--currency", "NOK").code).toBe(0)
    expect(cli("2026-03-01", "contacts", "add", "--email", "ola@example.com", "--name", "Ola Nordmann", "--language", "nb", "--locale", "nb-NO", "--country", "NO").code).toBe(0)
    const created = cli("2026-03-01", "subscriptions", "create", "--contact", "ola@example.com", "--item", "sku=COFFEE", "--collection", "invoice:net-15")
    expect(created.code, created.stderr).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    const [invoice] = JSON.parse(cli("2026-03-01", "invoices", "list", "--json").stdout) as Array<{ id: number; number: string }>
    expect(invoice).toBeDefined()

    const html = cli("2026-03-01", "render", "invoice", String(invoice!.id))
    expect(html.code, html.stderr).toBe(0)
    expect(html.stdout).toContain("NO93 8601 1117 947")
    expect(html.stdout).toContain("DNBANOKK")
    const kid = /KID<\/dt><dd class="ref">(\d+)<\/dd>/.exec(html.stdout)?.[1]
    expect(kid, "the invoice names its KID").toBeDefined()
    expect(isValidPaymentReference("kid-mod10", kid!)).toBe(true)
    expect(kid!.slice(0, -1)).toBe(invoice!.number.replace(/\D/g, "").replace(/^0+/, ""))
    // --json: the same HTML in one JSON document, with the invoice and the locale it was rendered in.
    const json = cli("2026-03-01", "render", "invoice", String(invoice!.id), "--json")
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ invoice_id: invoice!.id, locale: expect.any(String), html: html.stdout.replace(/\n$/, "") })

    const email = cli("2026-03-01", "render", "email", "invoice_sent", "--subscription", "1", "--json")
    expect(email.code, email.stderr).toBe(0)
    const { html: body, text } = JSON.parse(email.stdout) as { html: string; text: string }
    expect(body).toContain(`<strong>${kid}</strong>`)
    expect(text).toContain("NO93 8601 1117 947")

    const out = join(mkdtempSync(join(tmpdir(), "billcycle-pdf-")), "invoice.pdf")
    const pdf = cli("2026-03-01", "render", "invoice", String(invoice!.id), "--format", "pdf", "--out", out)
    expect(pdf.code, pdf.stderr).toBe(0)
    expect(readFileSync(out).subarray(0, 5).toString()).toBe("%PDF-")
    const words = await pdfText(out)
    expect(words).toContain(invoice!.number)
    expect(words).toContain(kid!)
    expect(words.replace(/\s/g, "")).toContain("249,00")

    // The invoice email the engine sent: dated on the business day, the invoice attached as a PDF.
    const mails = readdirSync(join(here, "out", "mail")).filter((f) => f.includes("invoice_sent"))
    expect(mails).toHaveLength(1)
    const eml = readFileSync(join(here, "out", "mail", mails[0]!), "utf8")
    expect(eml).toMatch(/^Date: Sun, 01 Mar 2026 /m)
    // The seller's name quoted whole: its comma and angle brackets stay in the name (unquoted, the sender became "AS").
    expect(eml).toMatch(/^From: "Kaffe, Te & Co <AS>" <faktura@kaffe\.example>\r?$/m)
    expect(eml).toMatch(new RegExp(`Content-Type: application/pdf; name=${invoice!.number}\\.pdf`))
    const attached = /Content-Type: application\/pdf[^]*?\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(eml)?.[1]
    expect(Buffer.from(attached!.replace(/\s/g, ""), "base64").subarray(0, 5).toString()).toBe("%PDF-")
  }, 600_000)

  it("refuses an IBAN whose check digits do not match, naming the setting, and keeps the old one", () => {
    const cli = session()
    const bad = cli("2026-03-01", "settings", "set", "seller-iban", "NO93 8601 1117 948")
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("seller-iban")
    const scheme = cli("2026-03-01", "settings", "set", "payment-reference", "swift")
    expect(scheme.code).toBe(2)
    expect(scheme.stderr).toContain("payment-reference")
    const shown = cli("2026-03-01", "settings", "show", "--json")
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).not.toContain("1117 948")
  }, 300_000)

  it("prints the buyer's postal address on the invoice in the buyer's country's format; contacts update changes a part of it", () => {
    const cli = session()
    expect(cli("2026-03-01", "products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "12.50", "--currency", "USD").code).toBe(0)
    const added = cli("2026-03-01", "contacts", "add", "--email", "homer@example.com", "--name", "Homer Simpson", "--address", "742 Evergreen Terrace", "--address-line2", "Apt 1",
      "--city", "Springfield", "--region", "IL", "--postal-code", "62704", "--country", "us")
    expect(added.code, added.stderr).toBe(0)
    const bad = cli("2026-03-01", "contacts", "update", "homer@example.com", "--country", "USA", "--city", "Shelbyville")
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--country: expected a two-letter country code (ISO 3166-1) such as NO, got "USA"')
    const noCountry = cli("2026-03-01", "contacts", "update", "homer@example.com", "--country", "QQ")
    expect(noCountry.code).toBe(2)
    expect(noCountry.stderr).toContain('--country: expected a two-letter country code (ISO 3166-1) such as NO, got "QQ"')
    const updated = cli("2026-03-01", "contacts", "update", "homer@example.com", "--address-line2", "")
    expect(updated.code, updated.stderr).toBe(0)
    expect(updated.stdout).toContain("address line2: Apt 1 -> -")
    const shown = cli("2026-03-01", "contacts", "show", "homer@example.com")
    expect(shown.stdout).toContain("address         742 Evergreen Terrace / Springfield, IL 62704 / United States")

    expect(cli("2026-03-01", "subscriptions", "create", "--contact", "homer@example.com", "--item", "sku=COFFEE", "--collection", "invoice").code).toBe(0)
    expect(cli("2026-03-01", "engine", "--once").code).toBe(0)
    const html = cli("2026-03-01", "render", "invoice", "1")
    expect(html.code, html.stderr).toBe(0)
    expect(html.stdout).toContain("742 Evergreen Terrace<br>Springfield, IL 62704<br>United States<br>")
    // No seller account set: no bank-transfer box.
    expect(html.stdout).not.toContain('class="transfer"')
  }, 600_000)

  it("a contacts CSV carries the postal address; importing it again changes nothing; a bad country names its row", () => {
    const cli = session()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-csv-"))
    const csv = join(dir, "contacts.csv")
    writeFileSync(csv, "email,name,address,address_line2,postal_code,city,region,country\n" +
      "ola@example.com,Ola Nordmann,Storgata 1,,0155,Oslo,,no\n" +
      "homer@example.com,Homer Simpson,742 Evergreen Terrace,,62704,Springfield,IL,US\n")
    const first = cli("2026-03-01", "import", csv)
    expect(first.code, first.stderr).toBe(0)
    const again = cli("2026-03-01", "import", csv)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("nothing changed")
    expect(cli("2026-03-01", "contacts", "show", "ola@example.com").stdout).toContain("address         Storgata 1 / 0155 Oslo / Norway")
    const bad = join(dir, "bad.csv")
    writeFileSync(bad, "email,country\nbo@example.com,Norway\n")
    const refused = cli("2026-03-01", "import", bad)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(`${bad}:2:country: expected a two-letter country code`)
  }, 300_000)
})
