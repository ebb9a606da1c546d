/**
 * One worked example per command, shown in the EXAMPLES section of its
 * `--help`. Kept in one table (by command path) so that every command has one
 * and a test can check it; main.ts adds them to the help document.
 */

export interface CommandExample {
  readonly command: string
  readonly description: string
}

const example = (command: string, description: string): ReadonlyArray<CommandExample> => [{ command: `billcycle ${command}`, description }]

export const commandExamples: Readonly<Record<string, ReadonlyArray<CommandExample>>> = {
  "": example("subscriptions list --status unpaid", "the subscriptions whose last charge failed"),
  "settings show": example("settings show --json", "every account setting as one JSON object"),
  "settings set": example("settings set timezone Europe/Oslo", "bill by the calendar of Oslo"),
  "db migrate": example("db migrate --db postgres://postgres@127.0.0.1:5432/billing", "create or update the tables on a server"),
  "products add": example("products add --name \"Coffee casual – 250 g\" --sku COFFEE-250G --price 12.50 --currency USD --frequency monthly", "a monthly product"),
  "products list": example("products list --limit 10", "the first ten products"),
  "products update": example("products update COFFEE-250G --price 13.50", "a new price for new subscriptions; existing ones keep theirs"),
  "products archive": example("products archive COFFEE-250G", "retire a product: no new subscriptions, existing ones keep billing"),
  "contacts add": example("contacts add --email ana@example.com --name \"Ana Berg\" --language nb --locale nb-NO --payment-method pm_ok --address \"Storgata 1\" --postal-code 0155 --city Oslo --country NO", "a Norwegian buyer with a card on file and a postal address"),
  "contacts list": example("contacts list --all --json", "every contact as one JSON array"),
  "contacts show": example("contacts show ana@example.com", "a contact with its subscriptions and open invoices"),
  "contacts update": example("contacts update ana@example.com --name \"Ana Lund\" --payment-method pm_ok", "a new name, and the card the next charges use"),
  "subscriptions create": example("subscriptions create --contact ana@example.com --item sku=COFFEE-250G,qty=2,discount=10% --terms fixed:6", "six monthly payments of two bags at 10% off"),
  "subscriptions list": example("subscriptions list --status unpaid --limit 20", "the first twenty unpaid subscriptions"),
  "subscriptions show": example("subscriptions show 1", "a subscription with its items and history"),
  "subscriptions update": example("subscriptions update 1 --item sku=COFFEE-250G,qty=3", "three bags from the next billing date"),
  "subscriptions cancel": example("subscriptions cancel 1 --at-period-end", "stop renewing; the paid period runs out"),
  "subscriptions pause": example("subscriptions pause 1 --resume-on 2026-09-01", "pause until September"),
  "subscriptions resume": example("subscriptions resume 1", "resume on the next billing date"),
  "subscriptions delete": example("subscriptions delete 1", "delete a canceled or expired subscription"),
  import: example("import contacts.csv", "contacts, products or subscriptions from a CSV file: all rows or none"),
  "import history": example("import history ./old-system", "a previous billing system's history (four CSV files)"),
  "export subscriptions": example("export subscriptions --header-language nb --out subscriptions.csv", "every subscription as CSV with Norwegian headers"),
  schedule: example("schedule --start 2026-01-31 --frequency monthly --count 4", "billing dates clamp to the end of short months"),
  engine: example("engine --once --now 2026-03-01", "do all that is due on March 1, then exit"),
  simulate: example("simulate --until 2026-12-31 --now 2026-01-01", "replay a year of billing day by day"),
  serve: example("serve --port 8080 --engine", "the HTTP API on http://127.0.0.1:8080/v1, with the billing engine in the same process"),
  "api-keys create": example("api-keys create --name shop", "a read-write key for the shop; printed once"),
  "api-keys list": example("api-keys list", "every key: name, access, when made and revoked"),
  "api-keys revoke": example("api-keys revoke shop", "the shop's key stops working at once (401)"),
  "clock set": example("clock set 2026-06-01", "put the store on a test clock at June 1 (never backwards)"),
  "clock show": example("clock show --json", "the store's clock, its day and the real date"),
  "clock real": example("clock real", "back to the real clock, once the real date has caught up"),
  "invoices list": example("invoices list --status open --limit 20", "the first twenty open invoices"),
  "invoices show": example("invoices show 1", "an invoice with its lines and payment attempts"),
  "invoices pay": example("invoices pay 1 --amount 25.00", "record a bank transfer of 25.00"),
  "webhooks": example("webhooks list", "the URLs that receive journal events"),
  "webhooks add": example("webhooks add --url https://crm.example.com/billcycle --events invoice.paid,subscription.*", "every paid invoice and every subscription event, signed, to your CRM"),
  "webhooks list": example("webhooks list --json", "every webhook endpoint as JSON"),
  "webhooks remove": example("webhooks remove 1", "stop sending events to endpoint 1"),
  links: example("links list", "the payment links, on and off"),
  "links simple": example("links simple --contact ana@example.com --name \"Wedding cake\" --price 300.00", "a link for one contact, one item at a one-time price; off after one payment"),
  "links create": example("links create --name \"Coffee club\" --item sku=COFFEE-1KG,qty-min=1,qty-max=5 --item name=Mug,price=12.00,one-time,optional --terms fixed:6", "a link buyers pay at /l/SLUG: six monthly payments, an editable quantity, an optional mug"),
  "links list": example("links list --status on --json", "the links that take payments, as JSON"),
  "links show": example("links show coffee-club", "a link's items and settings"),
  "links update": example("links update coffee-club --redirect-url https://shop.example.com/thanks", "send buyers to your page after paying"),
  "links clone": example("links clone coffee-club --slug coffee-club-2", "a copy under a new address"),
  "links off": example("links off coffee-club", "the link takes no payments until switched on"),
  "links on": example("links on coffee-club", "the link takes payments again"),
  "links delete": example("links delete coffee-club", "the link leaves the lists; its slug stays reserved"),
  "links preview": example("links preview coffee-club --include 2 --qty 1=2 --code SPRING", "what a buyer pays today, later, and in all"),
  "discount-codes": example("discount-codes list", "the discount codes buyers can enter"),
  "discount-codes add": example("discount-codes add TENOFF --percent 10 --duration forever --max-redemptions 100", "10% off every payment, for the first 100 purchases"),
  "discount-codes create": example("discount-codes create SPRING --off 10% --duration 3 --expires-on 2026-06-30", "10% off the first three payments, until June"),
  "discount-codes list": example("discount-codes list --json", "every discount code as JSON"),
  "discount-codes show": example("discount-codes show spring", "a code, in any case"),
  "discount-codes update": example("discount-codes update SPRING --max-redemptions 100", "at most 100 purchases may use it"),
  "discount-codes off": example("discount-codes off SPRING", "buyers can no longer use it"),
  "discount-codes on": example("discount-codes on SPRING", "buyers can use it again"),
  "discount-codes delete": example("discount-codes delete SPRING", "remove the code"),
  "render invoice": example("render invoice 1 --language nb --locale nb-NO --format pdf --out invoice.pdf", "an invoice in Norwegian as a PDF"),
  "render email": example("render email payment_failed --subscription 1", "the email a buyer gets when a charge fails"),
  "templates check": example("templates check", "every label in every language, every variable in its data, of its kind"),
  "events list": example("events list --subscription 1 --since 2026-03-01", "what happened to subscription 1 since March"),
  "outbox list": example("outbox list --status failed", "messages that could not be delivered"),
  "outbox retry": example("outbox retry 7", "queue message 7 again"),
  "tasks list": example("tasks list --limit 10", "the first ten tasks rules created"),
  "lists show": example("lists show renewals", "the contacts on the list renewals"),
  "rules check": example("rules check examples/coffee-shop/rules", "every rule file in a directory, like a compiler"),
  "rules fmt": example("rules fmt --check examples/coffee-shop/rules", "report files that are not formatted"),
  "rules explain": example("rules explain examples/coffee-shop/rules --subscription 1", "would each rule enroll subscription 1 now, and why not"),
  "rules test": example("rules test examples/coffee-shop/rules", "run the rule tests written beside the rules"),
  "rules lsp": example("rules lsp", "speak the Language Server Protocol on stdio (an editor starts it)"),
  "enrollments list": example("enrollments list --subscription 1", "which rules enrolled subscription 1, when, and where each stands"),
  "invoices void": example("invoices void 7", "void invoice 7, issued by mistake; its number stays"),
  "invoices write-off": example("invoices write-off 7", "give up invoice 7 as bad debt (status uncollectible)"),
  report: example("report mrr --from 2026-01 --to 2026-12 --format csv", "monthly recurring revenue for 2026 as CSV"),
  "analytics refresh": example("analytics refresh", "bring the analytics copy up to date with what changed since the last refresh"),
  "analytics rebuild": example("analytics rebuild", "build the analytics copy again from scratch"),
  demo: example("demo", "a year of a coffee shop on a fresh embedded database")
}

/** The examples of a command, by its path without the leading `billcycle`. */
export const examplesFor = (commandPath: ReadonlyArray<string>): ReadonlyArray<CommandExample> =>
  commandExamples[commandPath.slice(1).join(" ")] ?? []
