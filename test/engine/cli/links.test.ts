/**
 * `billcycle links …` and `billcycle discount-codes …` (issue #17): every rule of a payment link from the
 * article, refused on the command line with exit 2, one line on stderr naming the flag, nothing written;
 * and the commands that manage links, their lists paged like every other list, `--json` pure.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { backend, freshCliDatabase } from "../../storeHarness.ts"

const slow = { timeout: 900_000 }
let cli: (...args: Array<string>) => ReturnType<typeof runCli>

beforeAll(() => {
  const { db, env } = freshCliDatabase()
  cli = (...args) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
  for (const args of [
    ["products", "add", "--name", "Coffee 1kg", "--sku", "COFFEE", "--price", "25.00", "--currency", "USD", "--frequency", "monthly"],
    ["products", "add", "--name", "Kaffe", "--sku", "KAFFE", "--price", "250.00", "--currency", "NOK", "--frequency", "monthly"],
    ["contacts", "add", "--email", "ana@example.com", "--name", "Ana"],
    ["links", "create", "--name", "Existing", "--item", "sku=COFFEE", "--slug", "taken"],
    ["discount-codes", "create", "SPRING", "--off", "10%"]
  ]) {
    const r = cli(...args)
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`)
  }
}, 600_000)

/** Every write journals an event (links, codes): the journal's length says whether anything was written. */
const journalLength = () => (JSON.parse(cli("events", "list", "--all", "--json").stdout) as Array<unknown>).length

const refused = (args: ReadonlyArray<string>, flag: string, words?: RegExp) => {
  const r = cli(...args)
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2)
  expect(r.stdout).toBe("")
  const lines = r.stderr.trim().split("\n")
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(new RegExp(`^billcycle: ${flag.replace(/[()]/g, "\\$&")}`))
  if (words !== undefined) expect(lines[0]).toMatch(words)
}

const link = (...args: Array<string>) => ["links", "create", "--name", "Test", ...args]

// Each CLI run starts a process (seconds on a loaded machine): the article's rules here, every rule over HTTP
// (test/engine/api/paymentLinks.test.ts) and in the pure rules (test/engine/checkout/linkRules.test.ts).
describe(`links: the article's rules refused with exit 2 naming the flag, nothing written (${backend})`, () => {
  it("zero price, fractional quantity, editable quantity with own price, under 0.50 due, bad redirect URL", slow, () => {
    const before = journalLength()
    refused(link("--item", "name=Free,price=0,one-time"), "--item 1 (price)", /greater than 0/)
    refused(link("--item", "name=A,price=10,qty=1.5"), "--item 1", /whole number/)
    refused(link("--item", "name=A,price=10,min-price=5,qty-min=1,qty-max=3"), "--item 1 (min-price)", /cannot also have an editable quantity/)
    refused(link("--item", "name=Sticker,price=0.40,one-time"), "--item", /at least 0\.50 USD/)
    refused(link("--item", "sku=COFFEE", "--delay-days", "14"), "--item", /only delayed items/)
    refused(link("--item", "sku=COFFEE", "--redirect-url", "http://shop.example.com/thanks"), "--redirect-url", /https/)
    refused(link("--item", "sku=COFFEE", "--slug", "taken"), "--slug", /taken/)
    refused(link("--item", "sku=COFFEE", "--checkout-text", "x".repeat(5_001)), "--checkout-text", /the checkout text must be at most 5000 characters/)
    refused(link("--item", "sku=COFFEE", "--confirmation-text", "x".repeat(5_001)), "--confirmation-text", /the confirmation text must be at most 5000 characters/)
    refused(["links", "create", "--from-contact", "nobody@example.com", "--name", "N", "--item", "Cake", "--price", "30.00"], "--from-contact")
    refused(["links", "update", "taken", "--redirect-url", "ftp://x"], "--redirect-url")
    refused(["links", "preview", "taken", "--qty", "1=3"], "the quantity of item 1", /cannot be changed/)
    refused(["discount-codes", "create", "MORE", "--off", "150%"], "--off")
    refused(["discount-codes", "create", "spring", "--off", "10%"], "CODE", /exists already/)
    expect(journalLength()).toBe(before)
  })
})

describe(`links: managing links (${backend})`, () => {
  it("create, show, preview, update, clone, off/on and delete", slow, () => {
    const made = cli("links", "create", "--json", "--name", "Coffee club", "--slug", "club",
      "--item", "sku=COFFEE,qty-min=1,qty-max=5,discount=10%", "--item", "name=Mug,price=12.00,one-time,optional,description=Stoneware",
      "--item", "name=Tip,price=5.00,min-price=1.00,frequency=monthly",
      "--terms", "fixed:6", "--order-discount", "2.00", "--language", "nb", "--locale", "nb-NO", "--payment-types", "card,bank-debit",
      "--billing-address", "yes", "--discount-codes", "yes", "--redirect-url", "https://shop.example.com/thanks",
      "--contact-field", "label=Grind,help=Whole bean or ground,required", "--completed-payments-limit", "100", "--checkout-text", "Fresh every month")
    expect(made.code, made.stderr).toBe(0)
    const json = JSON.parse(made.stdout)
    expect(json).toMatchObject({
      object: "payment_link", slug: "club", name: "Coffee club", currency: "USD", active: true, terms: "fixed:6", start: "checkout",
      order_discount: { amount: 200 }, language: "nb", locale: "nb-NO", payment_types: ["card", "bank-debit"], collect_billing_address: true,
      allow_discount_codes: true, redirect_url: "https://shop.example.com/thanks", completed_payments_limit: 100, checkout_text: "Fresh every month",
      contact_fields: [{ label: "Grind", help_text: "Whole bean or ground", required: true, order: 1 }]
    })
    expect(json.items).toMatchObject([
      { name: "Coffee 1kg", sku: "COFFEE", unit_price: { amount: 2500 }, frequency: "monthly", discount: "10%", editable_quantity: { min: 1, max: 5 } },
      { name: "Mug", description: "Stoneware", unit_price: { amount: 1200 }, frequency: "one-time", optional: true },
      { name: "Tip", unit_price: { amount: 500 }, own_price_minimum: { amount: 100 } }
    ])
    expect(JSON.parse(cli("links", "show", "club", "--json").stdout)).toEqual(json)
    expect(JSON.parse(cli("links", "show", String(json.id), "--json").stdout)).toEqual(json)

    const preview = cli("links", "preview", "club", "--json", "--include", "2", "--qty", "1=2", "--price", "3=10.00", "--code", "spring")
    expect(preview.code, preview.stderr).toBe(0)
    // Coffee 2 × 22.50 + Mug 12.00 + Tip 10.00 = 67.00; less 2.00 order discount = 65.00; SPRING 10% once: 6.50 off.
    expect(JSON.parse(preview.stdout)).toEqual({
      object: "link_summary", currency: "USD", start_date: "2026-03-01",
      lines: [
        { item: 1, name: "Coffee 1kg", one_time: false, quantity: 2, unit_price: { amount: 2500, currency: "USD", formatted: "25.00 USD" }, discount: { amount: 500, currency: "USD", formatted: "5.00 USD" }, amount: { amount: 4500, currency: "USD", formatted: "45.00 USD" } },
        { item: 2, name: "Mug", one_time: true, quantity: 1, unit_price: { amount: 1200, currency: "USD", formatted: "12.00 USD" }, discount: { amount: 0, currency: "USD", formatted: "0.00 USD" }, amount: { amount: 1200, currency: "USD", formatted: "12.00 USD" } },
        { item: 3, name: "Tip", one_time: false, quantity: 1, unit_price: { amount: 1000, currency: "USD", formatted: "10.00 USD" }, discount: { amount: 0, currency: "USD", formatted: "0.00 USD" }, amount: { amount: 1000, currency: "USD", formatted: "10.00 USD" } }
      ],
      subtotal: { amount: 6700, currency: "USD", formatted: "67.00 USD" }, order_discount: { amount: 200, currency: "USD", formatted: "2.00 USD" },
      code_discount: { amount: 650, currency: "USD", formatted: "6.50 USD" }, tax: { amount: 0, currency: "USD", formatted: "0.00 USD" },
      due_today: { amount: 5850, currency: "USD", formatted: "58.50 USD" },
      future_payments: [{ subscription: 0, name: "Coffee 1kg + 1 more", frequency: "monthly", first_date: "2026-04-01", amount: { amount: 5500, currency: "USD", formatted: "55.00 USD" }, payments: 5 }],
      total: { amount: 5850 + 5 * 5500, currency: "USD", formatted: "333.50 USD" }
    })
    expect(cli("links", "preview", "club").stdout).toContain("due today: 25.50 USD (27.50 USD less 2.00 USD off)")

    const updated = cli("links", "update", "club", "--json", "--name", "Coffee club 2", "--redirect-url", "none", "--terms", "auto-renew")
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: "Coffee club 2", redirect_url: null, terms: "auto-renew", items: json.items })
    expect(cli("links", "preview", "club").stdout).toContain("total: none")

    const copy = cli("links", "clone", "club", "--json", "--slug", "club-copy")
    expect(copy.code, copy.stderr).toBe(0)
    expect(JSON.parse(copy.stdout)).toMatchObject({ slug: "club-copy", name: "Coffee club 2 (copy)", items: json.items, active: true })

    expect(cli("links", "off", "club").stdout).toBe("payment link " + json.id + " is off\n")
    expect(cli("links", "off", "club").stdout).toContain("already")
    expect(cli("links", "list", "--status", "off", "--json").stdout).toContain('"slug":"club"')
    expect(cli("links", "on", "club").code).toBe(0)
    expect(cli("links", "delete", "club").code).toBe(0)
    expect(cli("links", "list", "--all", "--json").stdout).not.toContain('"slug":"club"')
    expect(cli("links", "show", "club").code).toBe(2)

    const events = (JSON.parse(cli("events", "list", "--all", "--json").stdout) as Array<{ type: string }>).map((e) => e.type).filter((t) => t.startsWith("payment_link."))
    expect(events).toEqual(expect.arrayContaining(["payment_link.created", "payment_link.updated", "payment_link.switched_off", "payment_link.switched_on", "payment_link.deleted"]))
  })

  it("the contract's names (CLI.md): --optional-item, --start-after, --discount-codes, --field, --payment-types card,debit,bank, --collect, --redirect, --limit, own-price-min=; links simple; discount-codes add", slow, () => {
    const made = cli("links", "create", "--json", "--name", "Contract", "--slug", "contract",
      "--item", "sku=COFFEE", "--item", "name=Tip,price=5.00,own-price-min=2.00,frequency=monthly", "--optional-item", "name=Mug,price=12.00,one-time", "--item", "name=Setup,price=10.00,one-time",
      "--start-after", "14d", "--discount-codes", "--field", "Company:required", "--field", "Phone", "--payment-types", "card,debit,bank",
      "--collect", "billing,shipping", "--redirect", "https://shop.example.com/thanks", "--limit", "5")
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({
      start: "14 days", allow_discount_codes: true, payment_types: ["card", "debit-card", "bank-debit"],
      collect_billing_address: true, collect_shipping_address: true, redirect_url: "https://shop.example.com/thanks", completed_payments_limit: 5,
      contact_fields: [{ label: "Company", required: true, order: 1 }, { label: "Phone", required: false, order: 2 }],
      items: [{ sku: "COFFEE" }, { name: "Tip", own_price_minimum: { amount: 200 } }, { name: "Setup", optional: false }, { name: "Mug", optional: true }]
    })
    const months = cli("links", "update", "contract", "--json", "--start-after", "2m", "--discount-codes", "no", "--collect", "shipping")
    expect(months.code, months.stderr).toBe(0)
    expect(JSON.parse(months.stdout)).toMatchObject({ start: "2 months", allow_discount_codes: false, collect_billing_address: false, collect_shipping_address: true })
    refused(["links", "update", "contract", "--start-after", "14x"], "--start-after", /14d/)
    refused(["links", "update", "contract", "--collect", "postal"], "--collect")

    const simple = cli("links", "simple", "--json", "--contact", "ana@example.com", "--name", "Birthday cake", "--price", "25.00", "--currency", "USD")
    expect(simple.code, simple.stderr).toBe(0)
    expect(JSON.parse(simple.stdout)).toMatchObject({ completed_payments_limit: 1, items: [{ name: "Birthday cake", unit_price: { amount: 2500 }, quantity: 1, frequency: "one-time" }] })

    const percent = cli("discount-codes", "add", "TENOFF", "--percent", "10", "--duration", "forever", "--expires", "2026-12-31", "--max-redemptions", "50", "--json")
    expect(percent.code, percent.stderr).toBe(0)
    expect(JSON.parse(percent.stdout)).toMatchObject({ code: "TENOFF", duration: "forever", expires_on: "2026-12-31", max_redemptions: 50 })
    expect(cli("discount-codes", "show", "TENOFF").stdout).toContain("10% off, forever")
    const amount = cli("discount-codes", "add", "FIVEOFF", "--amount", "5.00", "--duration", "3")
    expect(amount.code, amount.stderr).toBe(0)
    expect(amount.stdout).toContain("5.00 USD off, 3 payments")
    refused(["discount-codes", "add", "BOTH", "--percent", "10", "--amount", "5.00"], "--amount")
    refused(["discount-codes", "add", "NONE"], "--off")
    // A refusal names the flag as the command line gave it (CLI.md's name), not the other name of the same flag.
    refused(["discount-codes", "add", "TOOMUCH", "--percent", "150"], "--percent:", /at most 100%/)
    refused(["discount-codes", "add", "BADDAY", "--percent", "10", "--expires", "2026-02-30"], "--expires:", /2026-02-30/)
    refused(link("--item", "sku=COFFEE", "--redirect", "http://evil.example.com"), "--redirect:", /https/)
    refused(["links", "simple", "--contact", "nobody@example.com", "--name", "Cake", "--price", "5.00"], "--contact:", /no contact with email nobody@example.com/)
    // The price was read in a currency that is none, and the command failed with Intl's words.
    refused(["links", "simple", "--contact", "ana@example.com", "--name", "Cake", "--price", "5.00", "--currency", "XX"], "--currency:", /"XX" is not an ISO 4217 currency code such as USD/)
  })

  it("a simple link from a contact switches off after one payment", slow, () => {
    const r = cli("links", "create", "--json", "--from-contact", "ana@example.com", "--name", "Ana's cake", "--item", "Wedding cake, three tiers", "--price", "300.00")
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: "Ana's cake", completed_payments_limit: 1, from_contact_id: 1,
      items: [{ name: "Wedding cake, three tiers", unit_price: { amount: 30_000 }, quantity: 1, frequency: "one-time" }]
    })
  })

  it("lists page like every list: --limit N says how many more on stderr, --json stays one array", slow, () => {
    const r = cli("links", "list", "--limit", "1", "--json")
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toHaveLength(1)
    expect(r.stderr).toMatch(/^billcycle: showing 1 of \d+ payment links/)
    expect(cli("links", "list", "--limit", "1", "--all").code).toBe(2)
    const codes = cli("discount-codes", "list", "--json")
    expect(JSON.parse(codes.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ code: "SPRING", percent_ppm: 100_000, duration: "once", redemptions: 0, active: true })]))
  })

  it("discount codes: show in any case, update, off and on, delete", slow, () => {
    const made = cli("discount-codes", "create", "Summer-5", "--off", "5.00", "--duration", "3", "--expires-on", "2026-09-30", "--max-redemptions", "50", "--json")
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ code: "Summer-5", amount_off: { amount: 500, currency: "USD" }, duration: "payments", duration_payments: 3, expires_on: "2026-09-30", max_redemptions: 50 })
    expect(JSON.parse(cli("discount-codes", "show", "SUMMER-5", "--json").stdout)).toMatchObject({ code: "Summer-5" })
    expect(JSON.parse(cli("discount-codes", "update", "summer-5", "--max-redemptions", "none", "--json").stdout)).toMatchObject({ max_redemptions: null })
    expect(JSON.parse(cli("discount-codes", "off", "summer-5", "--json").stdout)).toMatchObject({ active: false })
    expect(JSON.parse(cli("discount-codes", "on", "summer-5", "--json").stdout)).toMatchObject({ active: true })
    expect(cli("discount-codes", "delete", "summer-5").code).toBe(0)
    expect(cli("discount-codes", "show", "summer-5").stderr).toMatch(/^billcycle: no discount code summer-5/)
  })

  it("a code of digits is named by what it says; an id still names the code that has it", slow, () => {
    // A campaign's code 2026: `show 2026` read the digits as an id and answered "no discount code 2026".
    const made = cli("discount-codes", "create", "2026", "--percent", "20", "--json")
    expect(made.code, made.stderr).toBe(0)
    const { id } = JSON.parse(made.stdout) as { id: number }
    const shown = cli("discount-codes", "show", "2026", "--json")
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, code: "2026", percent_off: "20%" })
    expect(JSON.parse(cli("discount-codes", "update", "2026", "--max-redemptions", "7", "--json").stdout)).toMatchObject({ id, max_redemptions: 7 })
    // Its id is still a reference to it, as to every code.
    expect(JSON.parse(cli("discount-codes", "show", String(id), "--json").stdout)).toMatchObject({ id, code: "2026" })
  })
})
