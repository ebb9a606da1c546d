import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase, openTestDatabase, serverUrl } from "../../storeHarness.ts"

/** Every row of the tables a bad command could touch, as text: equal snapshots mean nothing changed. */
const snapshotOf = async (db: string, env: Record<string, string>) => {
  const t = await openTestDatabase(serverUrl === undefined ? { _tag: "Embedded", dataDir: db } : { _tag: "Server", url: serverUrl, schema: env["BILLCYCLE_DB_SCHEMA"] })
  try {
    const parts: Array<string> = []
    for (const table of ["contacts", "products", "subscriptions", "line_items", "invoices", "events", "outbox", "settings"]) {
      parts.push(table + JSON.stringify(await t.db.sql.unsafe(`select * from ${table} order by 1`)))
    }
    return parts.join("\n")
  } finally {
    await t.close()
  }
}

describe("bad input through the CLI: exit 2 naming the file, row and column or the flag, nothing written", () => {
  it("NUL bytes, over-long fields, extra cells, out-of-range dates and integers, amounts past the money maximum", async () => {
    const { db, env } = freshCliDatabase()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-bad-"))
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    }
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "CASUAL", "--price", "12.50", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const before = await snapshotOf(db, env)
    const cases: Array<[Array<string>, string]> = [
      [["import", file("nul.csv", "email,name\nbo@example.com,Bo\u0000Jr\n")], "nul.csv:2:name: holds a NUL byte"],
      [["import", file("long.csv", `email,name\n${"a".repeat(1_000_000)}@example.com,Cy\n`)], "long.csv:2:email: is 1000012 characters long"],
      [["import", file("extra.csv", "subscription,contact,item\nA,ana@example.com,sku=CASUAL\nB,ana@example.com,sku=CASUAL,qty=2\n")], "extra.csv:3:4: the row has 4 cells, the header 3 columns"],
      [["products", "add", "--name", "X", "--sku", "S".repeat(5000), "--price", "1.00", "--currency", "USD"], "--sku: a SKU of 5000 characters"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--delay-days", "99999999"], "--delay-days: expected a whole number from 0 to 36525"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--start", "9999-12-15"], "--start: 9999-12-15 is out of range"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL", "--terms", "fixed:99999999999"], "--terms: expected auto-renew or fixed:N (N from 1 to 1000)"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=CASUAL,qty=3000000000"], "--item 1: quantity must be at most 1000000000"],
      // An amount read in a currency that is none crashed the command.
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Cake,price=4.00,currency=XX"], '--item 1 ("name=Cake,price=4.00,currency=XX"): currency "XX" is not an ISO 4217 currency code such as USD'],
      // The money maximum (README): a price past what an invoice holds, a line past what a line holds, lines past an invoice.
      [["products", "add", "--name", "X", "--sku", "BIG", "--price", "90071992547409.91", "--currency", "USD"], "--price: amount out of range"],
      [["subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Big,price=900719925474.09,qty=3"], "--item 1: unit price × quantity must be at most 100000000000000 minor units"],
      [["subscriptions", "create", "--contact", "ana@example.com", ...Array.from({ length: 11 }, () => ["--item", "name=Big,price=999999999999.00,tax=25%"]).flat()], "--item 9: the lines add up to more than 1000000000000000 minor units"],
      // Calendar settings: a day count of a hundred thousand years is a typo, not a schedule.
      [["settings", "set", "reminder-days", "99999999"], "reminder-days: expected a whole number of days from 0 to 366"],
      [["settings", "set", "retry-days", "1,3,99999999"], "retry-days: expected up to 20 increasing day counts from 1 to 366"],
      // A filter by a type no event can have is a slip, not an empty journal.
      [["events", "list", "--type", "invoice.payed"], '--type: unknown event type "invoice.payed" (did you mean "invoice.paid"?)'],
      // --json asks for one JSON document: a command whose output is a CSV file or a PDF says so rather than print it.
      [["export", "subscriptions", "--json"], "--json: export subscriptions writes CSV only"],
      [["render", "invoice", "1", "--format", "pdf", "--out", join(dir, "i.pdf"), "--json"], "--json: a PDF is not JSON"]
    ]
    for (const [args, needle] of cases) {
      const r = cli(...args)
      expect(r.code, `${args.join(" ").slice(0, 200)}: ${r.stderr.slice(0, 300)}`).toBe(2)
      expect(r.stderr).toContain(needle)
      expect(r.stderr.length).toBeLessThan(2000)
    }
    expect(await snapshotOf(db, env)).toBe(before)
  }, 900_000)

  it("a CSV file not in UTF-8, a column named twice or a cell under a column without a name: refused by import, import history and report --fx", async () => {
    const { db, env } = freshCliDatabase()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-csv-"))
    const file = (name: string, bytes: string | Buffer) => {
      writeFileSync(join(dir, name), bytes)
      return join(dir, name)
    }
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    const before = await snapshotOf(db, env)
    // A history directory whose customers.csv is the case; the other files are good.
    const history = (name: string, customers: string | Buffer) => {
      const h = join(dir, name)
      mkdirSync(h)
      writeFileSync(join(h, "customers.csv"), customers)
      writeFileSync(join(h, "subscriptions.csv"), "subscription_id,customer_id,currency,frequency,terms,collection,created_on,start_date\ns1,c1,USD,monthly,auto-renew,charge,2026-01-01,2026-01-01\n")
      writeFileSync(join(h, "line_items.csv"), "subscription_id,version,effective_from,line_no,name,unit_price,quantity,discount,tax_rate,one_time\ns1,1,2026-01-01,1,Plan,10.00,1,,,false\n")
      writeFileSync(join(h, "events.csv"), "event_id,subscription_id,type,requested_on,effective_on,version,note\n")
      return h
    }
    const latin1 = (text: string) => Buffer.from(text, "latin1")
    const fx = ["report", "mrr", "--from", "2026-01", "--to", "2026-02", "--fx"]
    const cases: Array<[Array<string>, string]> = [
      [["import", file("c.csv", latin1("email,name\nandre@example.com,André\n"))], "c.csv:2:name: not valid UTF-8 (byte 0xE9): save the file as UTF-8"],
      [["import", file("twice.csv", "email,name,name\nx7@example.com,First,Second\n")], 'twice.csv:1:3: column "name" appears twice'],
      [["import", file("unnamed.csv", "email,name,\nx8@example.com,Eight,lost data\n")], "unnamed.csv:2:3: a cell under a column without a name"],
      [["import", "history", history("h1", latin1("customer_id,name,email,currency\nc1,André,andre@example.com,USD\n"))], "customers.csv:2:name: not valid UTF-8 (byte 0xE9)"],
      [["import", "history", history("h2", "customer_id,name,email,name,currency\nc1,First,andre@example.com,Second,USD\n")], 'customers.csv:1:4: column "name" appears twice'],
      [["import", "history", history("h3", "customer_id,name,email,currency,\nc1,Andre,andre@example.com,USD,lost\n")], "customers.csv:2:5: a cell under a column without a name"],
      [[...fx, file("fx1.csv", latin1("month,from_currency,to_currency,rate,note\n2026-01,EUR,USD,1.10,\n2026-02,EUR,USD,1.20,±\n"))], "fx1.csv:3:note: not valid UTF-8 (byte 0xB1)"],
      [[...fx, file("fx2.csv", "month,from_currency,to_currency,rate,rate\n2026-01,EUR,USD,1.10,1.20\n")], 'fx2.csv:1:5: column "rate" appears twice'],
      [[...fx, file("fx3.csv", "month,from_currency,to_currency,rate,\n2026-01,EUR,USD,1.10,1.20\n")], "fx3.csv:2:5: a cell under a column without a name"]
    ]
    for (const [args, needle] of cases) {
      const r = cli(...args)
      expect(r.code, `${args.join(" ")}: ${r.stderr.slice(0, 300)}`).toBe(2)
      expect(r.stderr).toContain(needle)
    }
    expect(await snapshotOf(db, env)).toBe(before)
    // A byte order mark (Excel's "CSV UTF-8") is read as today.
    const bom = cli("import", file("bom.csv", "\uFEFFemail,name\nandre@example.com,André\n"))
    expect(bom.code, bom.stderr).toBe(0)
    expect(JSON.parse(cli("contacts", "list", "--json").stdout)).toMatchObject([{ email: "andre@example.com", name: "André" }])
  }, 900_000)

  it("re-running a subscriptions import says nothing changed and bills each subscription once", async () => {
    const { db, env } = freshCliDatabase()
    const dir = mkdtempSync(join(tmpdir(), "billcycle-reimport-"))
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect(cli("products", "add", "--name", "Coffee", "--sku", "CASUAL", "--price", "12.50", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    const subs = join(dir, "subs.csv")
    writeFileSync(subs, "subscription,contact,item\nA,ana@example.com,\"sku=CASUAL,qty=2\"\n")
    expect(cli("import", subs).stdout).toContain(`imported 1 subscription from 1 row of ${subs}`)
    const again = cli("import", subs)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(`imported 0 subscriptions from 1 row of ${subs}; its 1 row was imported before with the same data: nothing changed`)
    writeFileSync(subs, "subscription,contact,item\nA,ana@example.com,\"sku=CASUAL,qty=3\"\n")
    const changed = cli("import", subs)
    expect(changed.code).toBe(2)
    expect(changed.stderr).toContain("subs.csv:2:subscription: subscription A was imported before with other rows")
    expect(cli("engine", "--once").code).toBe(0)
    const invoices = JSON.parse(cli("invoices", "list", "--json").stdout)
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({ total: { amount: 2500, currency: "USD", formatted: "25.00 USD" }, status: "paid" })
  }, 900_000)
})
