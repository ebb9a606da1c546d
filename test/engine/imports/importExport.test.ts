import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { addProduct } from "../../../engine/catalogue/index.ts"
import {
  csvRecords, exportSubscriptions, formatCsv, importCsv, parseCsv, spreadsheetSafe
} from "../../../engine/imports/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), "2026-03-01" as CalendarDate, { owner: "test", failpoint: () => {} })
  await addProduct(t.db.sql, { name: "Coffee casual – 250 g", sku: "CASUAL", price: "12.50", currency: "USD", frequency: "monthly" })
  await addProduct(t.db.sql, { name: "Beans for a year", sku: "YEARLY", price: "250.00", currency: "USD", frequency: "annually" })
})
afterAll(async () => {
  await t.close()
})

const rowCount = async () =>
  (await t.db.sql<Array<{ n: number }>>`select (select count(*) from contacts) + (select count(*) from subscriptions) + (select count(*) from line_items) + (select count(*) from events) + (select count(*) from products) as n`)[0]!.n

describe("CSV", () => {
  it("parses quotes, doubled quotes, CRLF and a BOM, and round-trips what it formats", () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n').map((r) => r.cells)).toEqual([["a", "b"], ["x, y", 'say "hi"']])
    fc.assert(fc.property(fc.array(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 10 }), (rows) => {
      // A row with nothing in any cell is a blank line to the reader (a spreadsheet's row of commas): not a record.
      const fixed = rows.map((r) => (r.every((c) => c.trim() === "") ? ["x"] : r))
      expect(parseCsv(formatCsv(fixed)).map((r) => r.cells)).toEqual(fixed)
    }))
  })
})

describe(`import and export (${backend})`, () => {
  it("refuses the rows of one purchase that name another contact, start, terms or collection (a key given twice), and a bad locale; writes nothing", async () => {
    await importCsv(t.db.sql, ctx, "pair.csv", "email,name,payment_method\npat@example.com,Pat,pm_ok\nsam@example.com,Sam,pm_ok\n")
    const before = await rowCount()
    const twice = "subscription,contact,item,start,terms,collection\nK1,pat@example.com,sku=CASUAL,2026-03-20,,\nK1,sam@example.com,sku=YEARLY,2027-03-01,fixed:3,invoice\nK2,PAT@example.com,sku=CASUAL,,,\nK2,pat@example.com,sku=YEARLY,,,\n"
    const message = await importCsv(t.db.sql, ctx, "twice.csv", twice).then(() => "", (e: Error) => e.message)
    expect(message.split("\n")).toEqual([
      'twice.csv:3:contact: purchase K1 says "pat@example.com" on row 2, this row "sam@example.com": the rows of a purchase share its contact (a key given twice by mistake?)',
      'twice.csv:3:start: purchase K1 says "2026-03-20" on row 2, this row "2027-03-01": the rows of a purchase share its start (a key given twice by mistake?)',
      'twice.csv:3:terms: purchase K1 says nothing on row 2, this row "fixed:3": the rows of a purchase share its terms (a key given twice by mistake?)',
      'twice.csv:3:collection: purchase K1 says nothing on row 2, this row "invoice": the rows of a purchase share its collection (a key given twice by mistake?)'
    ])
    await expect(importCsv(t.db.sql, ctx, "locale.csv", "subscription,contact,item,locale\nL1,pat@example.com,sku=CASUAL,zz-garbage-locale\n")).rejects.toThrow('locale.csv:2:locale: "zz-garbage-locale" is not a locale such as nb-NO')
    expect(await rowCount()).toBe(before)
    // A file of fewer columns, run again after the contact gained a payment method elsewhere: nothing to refuse.
    expect(await importCsv(t.db.sql, ctx, "names.csv", "email,name\npat@example.com,Pat\n")).toMatchObject({ kind: "contacts", created: 0 })
    await expect(importCsv(t.db.sql, ctx, "names.csv", "email,name\npat@example.com,Patricia\n")).rejects.toThrow('names.csv:2:name: a contact with email pat@example.com exists already with other data (name is "Pat", the file says "Patricia")')
  })

  it("imports contacts and subscriptions; a file with one bad row among good ones writes nothing and names every bad cell", async () => {
    const bad = "email,name,language,payment_method\nana@example.com,Ana,nb,pm_ok\nbo@example.com,Bo,xx,pm_ok\nnot-an-email,Cy,,\n"
    const before = await rowCount()
    await expect(importCsv(t.db.sql, ctx, "people.csv", bad)).rejects.toThrow("people.csv:3:language: expected en, nb, nl, fr or sv, got \"xx\"\npeople.csv:4:email:")
    expect(await rowCount()).toBe(before)
    expect(await importCsv(t.db.sql, ctx, "people.csv", "email,name,language,payment_method\nana@example.com,Ana,nb,pm_ok\nbo@example.com,\"Bo, Jr\",sv,pm_ok\n")).toMatchObject({ kind: "contacts", created: 2 })
    const subs = "subscription,contact,item,terms,collection\nA,ana@example.com,\"sku=CASUAL,qty=2\",fixed:6,charge\nA,ana@example.com,sku=YEARLY,,\nB,bo@example.com,\"name=Custom,price=9.99\",auto-renew,invoice:net-30\n"
    const badSubs = subs + "C,zed@example.com,sku=CASUAL,,\nD,bo@example.com,sku=NOPE,,\nE,bo@example.com,\"sku=CASUAL,qty=0\",,\n"
    const mid = await rowCount()
    const message = await importCsv(t.db.sql, ctx, "subs.csv", badSubs).then(() => "", (e: Error) => e.message)
    expect(message.split("\n").sort()).toEqual([
      "subs.csv:5:contact: no contact with email zed@example.com",
      "subs.csv:6:item: unknown SKU \"NOPE\"",
      "subs.csv:7:item: quantity must be a whole number greater than 0, got \"0\""
    ])
    expect(await rowCount()).toBe(mid)
    expect(await importCsv(t.db.sql, ctx, "subs.csv", subs)).toMatchObject({ kind: "subscriptions", created: 3 })
    const rows = await t.db.sql`select s.name, s.frequency_unit, s.end_date, count(l.*)::int as lines from subscriptions s join line_items l on l.subscription_id = s.id group by s.id order by s.id`
    expect(rows.map((r) => [r["frequency_unit"], r["end_date"], r["lines"]])).toEqual([["month", "2026-09-01", 1], ["year", "2032-03-01", 1], ["month", null, 1]])
    expect((await t.db.sql`select count(*)::int as n from status_history`)[0]!["n"]).toBe(3)
  })

  it("re-importing the same subscriptions file changes nothing and says so; a known key with other rows is refused naming the row", async () => {
    const subs = "subscription,contact,item,terms,collection\nA,ana@example.com,\"sku=CASUAL,qty=2\",fixed:6,charge\nA,ana@example.com,sku=YEARLY,,\nB,bo@example.com,\"name=Custom,price=9.99\",auto-renew,invoice:net-30\n"
    const before = await rowCount()
    // The operator re-runs the import a crash left unknown: no second subscription (so no second invoice or charge).
    expect(await importCsv(t.db.sql, ctx, "subs.csv", subs)).toEqual({ kind: "subscriptions", rows: 3, created: 0, unchanged: 3 })
    expect(await importCsv(t.db.sql, { ...ctx, today: "2026-03-02" as CalendarDate }, "SUBS.csv", subs.replace("ana@", "ANA@"))).toMatchObject({ created: 0, unchanged: 3 })
    expect(await rowCount()).toBe(before)
    const keys = await t.db.sql`select import_key, frequency_unit from subscriptions order by id`
    expect(keys.map((k) => [k["import_key"], k["frequency_unit"]])).toEqual([["A", "month"], ["A", "year"], ["B", "month"]])
    // The same key with other data: refused, naming the row; the new purchase beside it is not written either.
    const changed = subs.replace("price=9.99", "price=19.99") + "C,ana@example.com,sku=CASUAL,,\n"
    await expect(importCsv(t.db.sql, ctx, "subs.csv", changed)).rejects.toThrow("subs.csv:4:subscription: subscription B was imported before with other rows")
    expect(await rowCount()).toBe(before)
    expect(await rowCount()).toBe(before)
    // A start no calendar of billing dates can follow is refused like any bad cell.
    await expect(importCsv(t.db.sql, ctx, "far.csv", "subscription,contact,item,start,terms\nF,ana@example.com,sku=CASUAL,9999-12-15,fixed:1000\n"))
      .rejects.toThrow("far.csv:2:start: 9999-12-15 is out of range (years 1900 to 2999)")
    expect(await rowCount()).toBe(before)
  })

  it("re-importing contacts and products with the same data changes nothing; other data under a known email or SKU is refused", async () => {
    const before = await rowCount()
    const people = "email,name,language,payment_method\nana@example.com,Ana,nb,pm_ok\nbo@example.com,\"Bo, Jr\",sv,pm_ok\n"
    expect(await importCsv(t.db.sql, ctx, "people.csv", people)).toEqual({ kind: "contacts", rows: 2, created: 0, unchanged: 2 })
    await expect(importCsv(t.db.sql, ctx, "people.csv", people.replace("Ana,nb", "Anna,nb") + "dee@example.com,Dee,,\n"))
      .rejects.toThrow('people.csv:2:name: a contact with email ana@example.com exists already with other data (name is "Ana", the file says "Anna")')
    const products = "name,sku,price,currency,frequency\nCoffee casual – 250 g,CASUAL,12.50,USD,monthly\n"
    expect(await importCsv(t.db.sql, ctx, "products.csv", products)).toEqual({ kind: "products", rows: 1, created: 0, unchanged: 1 })
    await expect(importCsv(t.db.sql, ctx, "products.csv", products.replace("12.50", "13.50"))).rejects.toThrow("products.csv:2:price: a product with SKU CASUAL exists already with another price")
    expect(await rowCount()).toBe(before)
  })

  it("reads header names in any case with - or spaces for _, and refuses a column it does not know instead of dropping it", async () => {
    const before = await rowCount()
    await expect(importCsv(t.db.sql, ctx, "crm.csv", "email,name,pay_method\ncy@example.com,Cy,pm_ok\n")).rejects.toThrow('crm.csv:1:3: unknown column "pay_method" in a contacts file')
    expect(await rowCount()).toBe(before)
    expect(await importCsv(t.db.sql, ctx, "crm.csv", "Email,Name,Payment-Method\ncy@example.com,Cy,pm_ok\n")).toMatchObject({ kind: "contacts", created: 1 })
    const [cy] = await t.db.sql<Array<{ payment_method: string | null }>>`select payment_method from contacts where email = 'cy@example.com'`
    expect(cy!.payment_method).toBe("pm_ok")
  })

  it("exports subscriptions with Norwegian headers, all properties with associations, and the CSV reads back", async () => {
    const csv = await exportSubscriptions(t.db.sql, "all-with-associations", "nb", ctx.today)
    const { header, records } = csvRecords(parseCsv(csv))
    expect(header.slice(0, 4)).toEqual(["abonnements-id", "navn", "kontaktens e-post", "status"])
    expect(header).toContain("tilknyttede kontakter")
    expect(records).toHaveLength(3)
    expect(records[2]!.get("kontaktens e-post")).toBe("bo@example.com")
    expect(records[2]!.get("tilknyttede kontakter")).toBe("Bo, Jr")
    expect(records[0]!.get("beløp per betaling")).toBe("25.00")
    const view = csvRecords(parseCsv(await exportSubscriptions(t.db.sql, "view", "fr", ctx.today)))
    expect(view.header).toEqual(["id de l'abonnement", "nom", "e-mail du contact", "statut", "fréquence de facturation", "prochaine date de facturation", "montant par paiement", "devise"])
  })

  it("a subscriptions file with imported and new purchases writes the new ones only", async () => {
    const subs = "subscription,contact,item,terms,collection\nA,ana@example.com,\"sku=CASUAL,qty=2\",fixed:6,charge\nA,ana@example.com,sku=YEARLY,,\nB,bo@example.com,\"name=Custom,price=9.99\",auto-renew,invoice:net-30\n"
    expect(await importCsv(t.db.sql, ctx, "subs.csv", subs + "C,ana@example.com,sku=CASUAL,,\n")).toEqual({ kind: "subscriptions", rows: 4, created: 1, unchanged: 3 })
    expect(await importCsv(t.db.sql, ctx, "subs.csv", subs + "C,ana@example.com,sku=CASUAL,,\n")).toEqual({ kind: "subscriptions", rows: 4, created: 0, unchanged: 4 })
    expect((await t.db.sql`select count(*)::int as n from subscriptions`)[0]!["n"]).toBe(4)
  })
  it("export neutralises cells a spreadsheet would run as formulas (=, +, -, @, tab, CR): a leading single quote, numbers untouched", async () => {
    await importCsv(t.db.sql, ctx, "evil.csv", "email,name\nevil@example.com,\"=HYPERLINK(\"\"http://x\"\")\"\n")
    const subs = "subscription,contact,item,collection\n" + ["@SUM(A1)", "+1+2", "-1+2"].map((n, i) => `E${i},evil@example.com,"name=${n.replaceAll('"', '""')},price=1.00",invoice\n`).join("")
    expect(await importCsv(t.db.sql, ctx, "evil.csv", subs)).toMatchObject({ created: 3 })
    const { records } = csvRecords(parseCsv(await exportSubscriptions(t.db.sql, "all-with-associations", "en", ctx.today)))
    const evil = records.filter((r) => r.get("contact email") === "evil@example.com")
    expect(evil.map((r) => r.get("name"))).toEqual(["'@SUM(A1)", "'+1+2", "'-1+2"])
    expect(evil[0]!.get("associated contacts")).toBe(`'=HYPERLINK("http://x")`)
    expect(evil[0]!.get("amount per payment")).toBe("1.00")
    // Names reach the store trimmed; a tab or CR can still lead a property's value.
    expect(["\tX", "\rX", "=1", "-12.50", "12", "a=b"].map(spreadsheetSafe)).toEqual(["'\tX", "'\rX", "'=1", "-12.50", "12", "a=b"])
  })
})
