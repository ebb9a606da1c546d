/** `billcycle products add|list` and `billcycle contacts add|list`. */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { formatMajorAmount } from "../../domain/index.ts"
import { addContact, addProduct, frequencyText, listContacts, listProducts, loadSettings, runSql } from "../../store/index.ts"
import { commandContext, withApp } from "../AppLayer.ts"
import { Json } from "../GlobalFlags.ts"
import { pageFlags, printList } from "../paging.ts"

const productsAdd = Command.make(
  "add",
  {
    name: Flag.String("name").pipe(Flag.withDescription("product name")),
    sku: Flag.String("sku").pipe(Flag.withDescription("unique stock-keeping unit")),
    price: Flag.String("price").pipe(Flag.withDescription("unit price in major units, e.g. 25.00")),
    currency: Flag.String("currency").pipe(Flag.withDescription("ISO 4217 code (default: the account's)"), Flag.optional),
    frequency: Flag.String("frequency").pipe(Flag.withDescription("monthly, biweekly, … or one-time (default monthly)"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const settings = yield* runSql(loadSettings)
      const row = yield* runSql((sql) => addProduct(sql, {
        name: flags.name, sku: flags.sku, price: flags.price,
        currency: Option.getOrElse(flags.currency, () => settings.currency).toUpperCase(),
        frequency: Option.getOrElse(flags.frequency, () => "monthly")
      }))
      yield* Console.log(json ? JSON.stringify(row) : `product ${row.id}: ${row.name} (${row.sku}) ${formatMajorAmount(row.unit_price, row.currency)} ${row.currency} ${frequencyText(row)}`)
    }))
).pipe(Command.withDescription("Add a product to the catalogue"))

const productsList = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(printList(flags, listProducts, {
    noun: "products",
    json: (r) => ({ ...r, price: formatMajorAmount(r.unit_price, r.currency), frequency: frequencyText(r) }),
    headers: ["ID", "SKU", "NAME", "PRICE", "FREQUENCY"],
    cells: (r) => [String(r.id), r.sku, r.name, `${formatMajorAmount(r.unit_price, r.currency)} ${r.currency}`, frequencyText(r)]
  }))).pipe(Command.withDescription("List the catalogue, in the order products were added"))

export const productsCommand = Command.make("products").pipe(Command.withDescription("The product catalogue"), Command.withSubcommands([productsAdd, productsList]))

const contactsAdd = Command.make(
  "add",
  {
    email: Flag.String("email").pipe(Flag.withDescription("the buyer's email address (unique)")),
    name: Flag.String("name").pipe(Flag.withDescription("the buyer's name, as on invoices"), Flag.optional),
    language: Flag.String("language").pipe(Flag.withDescription("en, nb, nl, fr or sv"), Flag.optional),
    locale: Flag.String("locale").pipe(Flag.withDescription("e.g. nb-NO, for dates, numbers and money"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("a saved payment-method token (pm_ok, pm_declined, …)"), Flag.optional),
    country: Flag.String("country").pipe(Flag.withDescription("two-letter country code of the address"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const ctx = yield* commandContext
      const row = yield* runSql((sql) => addContact(sql, {
        email: flags.email, name: Option.getOrUndefined(flags.name), language: Option.getOrUndefined(flags.language),
        locale: Option.getOrUndefined(flags.locale), paymentMethod: Option.getOrUndefined(flags.paymentMethod), country: Option.getOrUndefined(flags.country)
      }, ctx.today))
      yield* Console.log(json ? JSON.stringify(row) : `contact ${row.id}: ${row.email}${row.name === null ? "" : ` (${row.name})`}`)
    }))
).pipe(Command.withDescription("Add a contact (a buyer)"))

const contactsList = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(printList(flags, listContacts, {
    noun: "contacts",
    headers: ["ID", "EMAIL", "NAME", "LANGUAGE", "LOCALE", "PAYMENT METHOD"],
    cells: (r) => [String(r.id), r.email, r.name ?? "", r.language ?? "", r.locale ?? "", r.payment_method ?? ""]
  }))).pipe(Command.withDescription("List contacts, oldest first"))

export const contactsCommand = Command.make("contacts").pipe(Command.withDescription("Buyers"), Command.withSubcommands([contactsAdd, contactsList]))
