/** `billcycle products add|list|update|archive` and `billcycle contacts add|list|show|update`. */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { formatMajorAmount } from "../../domain/index.ts"
import type { CatalogueFailure, ContactChange, ContactDetail, ProductRow } from "../../catalogue/index.ts"
import { formatAddress } from "../../../templates/index.ts"
import { languagesInWords } from "../../billing/index.ts"
import { BadInput, runSql } from "../../sql/index.ts"
import { commandContext, loadSettings } from "../../account/index.ts"
import { catalogueErrorMessage, Contacts, frequencyText, Products } from "../../catalogue/index.ts"
import { withApp } from "../AppLayer.ts"
import { Json } from "../GlobalFlags.ts"
import { pageFlags, printList } from "../paging.ts"

/** A refusal of a catalogue use case in the CLI's words (catalogue/refusals.ts): still bad input (exit 2), the refusal kept. */
const worded = (e: CatalogueFailure) =>
  e._tag === "BadInput" || e._tag === "DatabaseError" ? e : new BadInput({ message: catalogueErrorMessage(e), refusal: e })

/** Runs a use case of `Contacts` or `Products`, its refusals worded for the command line. */
const contactsUseCase = <A>(f: (contacts: Contacts["Service"]) => Effect.Effect<A, CatalogueFailure>) =>
  Effect.flatMap(Effect.service(Contacts), (contacts) => Effect.mapError(f(contacts), worded))
const productsUseCase = <A>(f: (products: Products["Service"]) => Effect.Effect<A, CatalogueFailure>) =>
  Effect.flatMap(Effect.service(Products), (products) => Effect.mapError(f(products), worded))

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
      const row = yield* productsUseCase((p) => p.add({
        name: flags.name, sku: flags.sku, price: flags.price,
        currency: Option.getOrElse(flags.currency, () => settings.currency).toUpperCase(),
        frequency: Option.getOrElse(flags.frequency, () => "monthly")
      }))
      yield* Console.log(json ? JSON.stringify(row) : `product ${row.id}: ${row.name} (${row.sku}) ${formatMajorAmount(row.unit_price, row.currency)} ${row.currency} ${frequencyText(row)}`)
    }))
).pipe(Command.withDescription("Add a product to the catalogue"))

const productJson = (r: ProductRow) => ({ ...r, price: formatMajorAmount(r.unit_price, r.currency), frequency: frequencyText(r) })

const productsList = Command.make("list", {
  ...pageFlags,
  includeArchived: Flag.Boolean("include-archived").pipe(Flag.withDescription("list archived products too (with the day each was archived)"), Flag.withDefault(false))
}, (flags) =>
  withApp(Effect.flatMap(Effect.service(Products), (products) => printList(flags, products.list(flags.includeArchived), {
    noun: "products",
    json: productJson,
    headers: ["ID", "SKU", "NAME", "PRICE", "FREQUENCY", ...(flags.includeArchived ? ["ARCHIVED"] : [])],
    cells: (r) => [String(r.id), r.sku, r.name, `${formatMajorAmount(r.unit_price, r.currency)} ${r.currency}`, frequencyText(r), ...(flags.includeArchived ? [r.archived_on ?? ""] : [])]
  })))).pipe(Command.withDescription("List the catalogue, in the order products were added; archived products only with --include-archived"))

const skuArgument = Argument.String("sku").pipe(Argument.withDescription("the product's SKU"))

const productsUpdate = Command.make(
  "update",
  {
    sku: skuArgument,
    name: Flag.String("name").pipe(Flag.withDescription("a new product name (new subscriptions get it)"), Flag.optional),
    price: Flag.String("price").pipe(Flag.withDescription("a new unit price in major units, e.g. 27.00: for new subscriptions only; existing ones keep theirs"), Flag.optional),
    frequency: Flag.String("frequency").pipe(Flag.withDescription("a new frequency (monthly, biweekly, … or one-time): for new subscriptions only"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const ctx = yield* commandContext
      const { product, changes } = yield* productsUseCase((p) => p.update(flags.sku, {
        name: Option.getOrUndefined(flags.name), price: Option.getOrUndefined(flags.price), frequency: Option.getOrUndefined(flags.frequency)
      }, ctx.today))
      const note = "existing subscriptions keep the name, price and frequency on their items; new subscriptions get these"
      if (json) return yield* Console.log(JSON.stringify({ product: productJson(product), changes, note }))
      const shown = (field: string, v: string | number) => (field === "price" ? `${formatMajorAmount(v as number, product.currency)} ${product.currency}` : String(v))
      const lines = Object.entries(changes).map(([field, c]) => `  ${field}: ${shown(field, c.from)} -> ${shown(field, c.to)}`)
      yield* Console.log(lines.length === 0
        ? `product ${product.sku}: nothing to change`
        : [`product ${product.sku} updated:`, ...lines, `  ${note}`].join("\n"))
    }))
).pipe(Command.withDescription("Change a product's name, price or frequency for new subscriptions; existing subscriptions keep their own"))

const productsArchive = Command.make("archive", { sku: skuArgument }, (flags) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const ctx = yield* commandContext
    const r = yield* productsUseCase((p) => p.archive(flags.sku, ctx.today))
    if (json) return yield* Console.log(JSON.stringify({ product: productJson(r.product), archived_now: r.archivedNow, subscriptions: r.subscriptions }))
    yield* Console.log(r.archivedNow
      ? `product ${r.product.sku} archived: it can no longer go on new subscriptions; the ${r.subscriptions} subscription(s) that have it keep billing it`
      : `product ${r.product.sku} was archived already on ${r.product.archived_on}`)
  }))).pipe(Command.withDescription("Retire a product: no new subscriptions or imports can use it; subscriptions that have it keep billing"))

export const productsCommand = Command.make("products").pipe(
  Command.withDescription("The product catalogue"),
  Command.withSubcommands([productsAdd, productsList, productsUpdate, productsArchive])
)

/** The postal address flags of `contacts add` and `contacts update` (the country is --country). */
const addressFlags = (clears: string) => ({
  address: Flag.String("address").pipe(Flag.withDescription(`street address, first line, as on invoices${clears}`), Flag.optional),
  addressLine2: Flag.String("address-line2").pipe(Flag.withDescription(`street address, second line${clears}`), Flag.optional),
  postalCode: Flag.String("postal-code").pipe(Flag.withDescription(`postal code${clears}`), Flag.optional),
  city: Flag.String("city").pipe(Flag.withDescription(`city${clears}`), Flag.optional),
  region: Flag.String("region").pipe(Flag.withDescription(`state, province or region (e.g. CA in the United States)${clears}`), Flag.optional)
})

const addressOf = (flags: { readonly address: Option.Option<string>; readonly addressLine2: Option.Option<string>; readonly postalCode: Option.Option<string>; readonly city: Option.Option<string>; readonly region: Option.Option<string> }) => ({
  line1: Option.getOrUndefined(flags.address), line2: Option.getOrUndefined(flags.addressLine2), postalCode: Option.getOrUndefined(flags.postalCode),
  city: Option.getOrUndefined(flags.city), region: Option.getOrUndefined(flags.region)
})

const contactsAdd = Command.make(
  "add",
  {
    email: Flag.String("email").pipe(Flag.withDescription("the buyer's email address (unique)")),
    name: Flag.String("name").pipe(Flag.withDescription("the buyer's name, as on invoices"), Flag.optional),
    language: Flag.String("language").pipe(Flag.withDescription(languagesInWords), Flag.optional),
    locale: Flag.String("locale").pipe(Flag.withDescription("e.g. nb-NO, for dates, numbers and money"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("a saved payment-method token (pm_ok, pm_declined, …)"), Flag.optional),
    country: Flag.String("country").pipe(Flag.withDescription("two-letter country code of the address"), Flag.optional),
    ...addressFlags("")
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const ctx = yield* commandContext
      const row = yield* contactsUseCase((c) => c.add({
        email: flags.email, name: Option.getOrUndefined(flags.name), language: Option.getOrUndefined(flags.language),
        locale: Option.getOrUndefined(flags.locale), paymentMethod: Option.getOrUndefined(flags.paymentMethod), country: Option.getOrUndefined(flags.country),
        address: addressOf(flags)
      }, ctx.today))
      yield* Console.log(json ? JSON.stringify(row) : `contact ${row.id}: ${row.email}${row.name === null ? "" : ` (${row.name})`}`)
    }))
).pipe(Command.withDescription("Add a contact (a buyer)"))

const contactsList = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(Effect.flatMap(Effect.service(Contacts), (contacts) => printList(flags, contacts.list, {
    noun: "contacts",
    headers: ["ID", "EMAIL", "NAME", "LANGUAGE", "LOCALE", "PAYMENT METHOD"],
    cells: (r) => [String(r.id), r.email, r.name ?? "", r.language ?? "", r.locale ?? "", r.payment_method ?? ""]
  })))).pipe(Command.withDescription("List contacts, oldest first"))

const contactArgument = Argument.String("contact").pipe(Argument.withDescription("the contact's email address or id"))

const contactsShow = Command.make("show", { contact: contactArgument }, (flags) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const view = yield* contactsUseCase((c) => c.show(flags.contact))
    if (json) return yield* Console.log(JSON.stringify(view))
    const c = view.contact
    yield* Console.log([
      `contact ${c.id}: ${c.email}`,
      `  name            ${c.name ?? "-"}`,
      `  language        ${c.language ?? "-"}`,
      `  locale          ${c.locale ?? "-"}`,
      `  payment method  ${c.payment_method ?? "-"}`,
      `  address         ${addressLines(c).join(" / ") || "-"}`,
      `  open invoices   ${view.open_invoices}`,
      view.subscriptions.length === 0 ? "subscriptions: (none)" : "subscriptions:",
      ...view.subscriptions.map((s) =>
        `  ${s.id}  ${s.status}  ${s.name}${s.next_billing_date === null ? "" : `  next ${s.next_billing_date}`}${s.payment_method === null ? "" : `  payment method ${s.payment_method}`}`)
    ].join("\n"))
  }))).pipe(Command.withDescription("Show a contact, its subscriptions with their status and how many of its invoices are open"))

/** A contact's address as it is printed on its invoices (in en-US; the invoice uses the buyer's locale). */
const addressLines = (c: ContactDetail) =>
  formatAddress({ line1: c.address ?? undefined, line2: c.address_line2 ?? undefined, postalCode: c.postal_code ?? undefined, city: c.city ?? undefined, region: c.region ?? undefined, country: c.country ?? undefined }, "en-US")

const changeText = (changes: ContactChange["changes"]) =>
  Object.entries(changes).map(([field, c]) => `  ${field.replaceAll("_", " ")}: ${c.from ?? "-"} -> ${c.to ?? "-"}`)

const contactsUpdate = Command.make(
  "update",
  {
    contact: contactArgument,
    email: Flag.String("email").pipe(Flag.withDescription("a new email address (unique)"), Flag.optional),
    name: Flag.String("name").pipe(Flag.withDescription("the buyer's name, as on invoices (\"\" clears it)"), Flag.optional),
    language: Flag.String("language").pipe(Flag.withDescription(`${languagesInWords} ("" clears it)`), Flag.optional),
    locale: Flag.String("locale").pipe(Flag.withDescription("e.g. nb-NO, for dates, numbers and money (\"\" clears it)"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("a saved payment-method token: the next charge of every subscription without its own uses it (\"\" clears it)"), Flag.optional),
    country: Flag.String("country").pipe(Flag.withDescription("two-letter country code of the address (\"\" clears it)"), Flag.optional),
    ...addressFlags(" (\"\" clears it)")
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const ctx = yield* commandContext
      const r = yield* contactsUseCase((c) => c.update(flags.contact, {
        email: Option.getOrUndefined(flags.email), name: Option.getOrUndefined(flags.name), language: Option.getOrUndefined(flags.language),
        locale: Option.getOrUndefined(flags.locale), paymentMethod: Option.getOrUndefined(flags.paymentMethod), country: Option.getOrUndefined(flags.country),
        address: addressOf(flags)
      }, ctx.today))
      if (json) return yield* Console.log(JSON.stringify(r))
      const lines = changeText(r.changes)
      yield* Console.log(lines.length === 0 ? `contact ${r.contact.id} (${r.contact.email}): nothing to change` : [`contact ${r.contact.id} (${r.contact.email}) updated:`, ...lines].join("\n"))
    }))
).pipe(Command.withDescription("Change a contact's email, name, language, locale, payment method or postal address"))

export const contactsCommand = Command.make("contacts").pipe(
  Command.withDescription("Buyers"),
  Command.withSubcommands([contactsAdd, contactsList, contactsShow, contactsUpdate])
)
