/**
 * `billcycle links create|list|show|update|clone|off|on|delete|preview` and
 * `billcycle discount-codes create|list|show|update|off|on|delete`: payment
 * links and the discount-code catalogue (engine/checkout). Items use the SPEC
 * of `subscriptions create` plus the link's keys (optional, qty-min, qty-max,
 * min-price, description). The checkout's typed refusals are worded here with
 * the flag they are about. The use cases are the services `PaymentLinks`
 * and `DiscountCodes` (engine/checkout).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type {
  DiscountCodeError, DiscountCodeListRow, DiscountCodesFailure, LinkRequest, LinkSummary, PaymentLinkError, PaymentLinkListRow, PaymentLinksFailure
} from "../../checkout/index.ts"
import { codeJson, DiscountCodes, linkJson, PaymentLinks, summaryJson } from "../../checkout/index.ts"
import type { DiscountCode, LinkField, PaymentLink } from "../../domain/index.ts"
import { discountCodeFieldNames, formatBillingTerms, formatFrequency, formatMajorAmount, linkFieldNames, paymentTypes } from "../../domain/index.ts"
import { languages } from "../../billing/index.ts"
import { BadInput } from "../../sql/index.ts"
import { commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { Json } from "../GlobalFlags.ts"
import { pageFlags, printList } from "../paging.ts"

const money = (minor: number, currency: string) => `${formatMajorAmount(minor, currency)} ${currency}`

const itemPart: Partial<Record<LinkField, string>> = {
  "item.unitPrice": "price", "item.quantity": "qty", "item.editableQuantity": "qty-min/qty-max", "item.ownPrice": "min-price", "item.discount": "discount", "item.taxRate": "tax"
}

/** The part of an item SPEC a refusal names, as the user wrote it: CLI.md's `own-price-min=` is also `min-price=`. */
const itemPartOf = (field: LinkField, written: string | undefined): string | undefined =>
  field === "item.ownPrice" && written !== undefined && /(^|,)\s*own-price-min\s*=/i.test(written) ? "own-price-min" : itemPart[field]

/** A typed refusal of the checkout room in the CLI's words: the flag first; `itemTexts`, the --item SPECs as given. */
export const checkoutRefusalMessage = (e: PaymentLinkError | DiscountCodeError, itemTexts?: ReadonlyArray<string>): string => {
  switch (e._tag) {
    case "PaymentLinkInvalid": {
      const flag = linkFieldNames[e.field].flag
      const part = e.item === undefined ? undefined : itemPartOf(e.field, itemTexts?.[e.item])
      const where = e.item === undefined ? flag : `${flag} ${e.item + 1}${part === undefined ? "" : ` (${part})`}`
      return `${where}: ${e.problem}`
    }
    case "PaymentLinkNotFound":
      return `no payment link ${e.ref} (billcycle links list)`
    case "DiscountCodeInvalid":
      return `${discountCodeFieldNames[e.field].flag}: ${e.problem}`
    case "DiscountCodeNotFound":
      return `no discount code ${e.ref} (billcycle discount-codes list)`
    case "BuyerChoiceRefused":
      return e.problem
    case "DiscountCodeUnusable":
      // Only a preview's --code meets it.
      return `--code: ${e.problem}`
  }
}

/** A refusal of a checkout use case in the CLI's words: still bad input (exit 2), the refusal kept. */
const worded = (e: PaymentLinksFailure | DiscountCodesFailure, itemTexts?: ReadonlyArray<string>) =>
  e._tag === "BadInput" || e._tag === "DatabaseError" ? e : new BadInput({ message: checkoutRefusalMessage(e, itemTexts), refusal: e })

/** Runs a use case of `PaymentLinks` or `DiscountCodes`, its refusals worded for the command line (naming the --item SPECs' keys as given). */
const linksUseCase = <A>(f: (links: PaymentLinks["Service"]) => Effect.Effect<A, PaymentLinksFailure>, itemTexts?: ReadonlyArray<string>) =>
  Effect.flatMap(Effect.service(PaymentLinks), (links) => Effect.mapError(f(links), (e) => worded(e, itemTexts)))
const codesUseCase = <A>(f: (codes: DiscountCodes["Service"]) => Effect.Effect<A, DiscountCodesFailure>) =>
  Effect.flatMap(Effect.service(DiscountCodes), (codes) => Effect.mapError(f(codes), worded))

/** Bad input found before any use case runs (exit 2). */
const refused = (message: string) => Effect.fail(new BadInput({ message }))

const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)

const describeItem = (link: PaymentLink, i: number): string => {
  const item = link.items[i]!
  const parts = [
    `${i + 1}. ${item.name}${item.sku === undefined ? "" : ` (${item.sku})`}`,
    `${item.quantity} × ${money(item.unitPrice, link.currency)}`,
    item.frequency === undefined ? "one-time" : formatFrequency(item.frequency),
    ...(item.discount === undefined ? [] : [item.discount._tag === "Percent" ? `${item.discount.ppm / 10_000}% off` : `${money(item.discount.amount, link.currency)} off each`]),
    ...(item.taxRate === undefined ? [] : [`tax ${item.taxRate / 10_000}%`]),
    ...(item.optional ? ["optional"] : []),
    ...(item.editableQuantity === undefined ? [] : [`quantity ${item.editableQuantity.min}..${item.editableQuantity.max}`]),
    ...(item.ownPrice === undefined ? [] : [`buyer sets the price, at least ${money(item.ownPrice.minimum, link.currency)}`])
  ]
  return "  " + parts.join(", ")
}

const startText = (link: PaymentLink) =>
  link.start._tag === "AtCheckout" ? "at checkout" : link.start._tag === "Date" ? link.start.date : link.start._tag === "DelayDays" ? `${link.start.days} days after checkout` : `${link.start.months} months after checkout`

const linkText = (link: PaymentLink) => [
  `payment link ${link.id}: ${link.name} (/l/${link.slug}), ${link.deletedOn !== undefined ? `deleted on ${link.deletedOn}` : link.active ? "on" : "off"}`,
  `items:`,
  ...link.items.map((_, i) => describeItem(link, i)),
  link.items.every((i) => i.frequency === undefined) ? "terms: one payment (nothing recurs)" : `terms: ${formatBillingTerms(link.terms)}, billing starts ${startText(link)}`,
  ...(link.orderDiscount === undefined ? [] : [`order discount: ${link.orderDiscount._tag === "Percent" ? `${link.orderDiscount.ppm / 10_000}%` : money(link.orderDiscount.amount, link.currency)}`]),
  `language: ${link.language}${link.locale === undefined ? "" : `, locale ${link.locale}`}; payment types: ${link.paymentTypes.join(", ")}`,
  `addresses: billing ${link.collectBillingAddress ? "yes" : "no"}, shipping ${link.collectShippingAddress ? "yes" : "no"}; discount codes: ${link.allowDiscountCodes ? "yes" : "no"}`,
  `after paying: ${link.redirectUrl ?? "the confirmation page"}`,
  ...link.contactFields.map((f) => `contact field: ${f.label}${f.required ? " (required)" : ""}${f.helpText === undefined ? "" : ` — ${f.helpText}`}`),
  `completed payments: ${link.completedPayments}${link.completedPaymentsLimit === undefined ? "" : ` of at most ${link.completedPaymentsLimit}`}`
].join("\n")

const summaryText = (s: LinkSummary) => [
  // Each item as the buyer's page shows it: quantity × unit price − the line's discount = its amount (billing/pricing.ts shownLine).
  ...s.lines.map((l) =>
    `${l.name}: ${l.quantity} × ${money(l.unitPrice, s.currency)}${l.discount === 0 ? "" : ` − ${money(l.discount, s.currency)} discount`} = ${money(l.amount, s.currency)}${l.frequency === undefined ? ", one-time" : ` ${formatFrequency(l.frequency)}`}`
  ),
  `due today: ${money(s.dueToday.amount, s.currency)}${s.orderDiscount.amount + s.codeDiscount.amount > 0 ? ` (${money(s.subtotal.amount, s.currency)} less ${money(s.orderDiscount.amount + s.codeDiscount.amount, s.currency)} off${s.tax.amount > 0 ? `, plus ${money(s.tax.amount, s.currency)} tax` : ""})` : ""}`,
  ...s.futurePayments.map((f) =>
    `then ${money(f.amount.amount, s.currency)} ${formatFrequency(f.frequency)} from ${f.firstDate}${f.payments === undefined ? " until canceled" : `, ${f.payments} payment${f.payments === 1 ? "" : "s"}`} (${f.name})`
  ),
  s.total === undefined ? "total: none (renews until canceled)" : `total: ${money(s.total.amount, s.currency)}`
].join("\n")

const settingFlags = {
  name: Flag.String("name").pipe(Flag.withDescription("the internal name (buyers do not see it)"), Flag.optional),
  currency: Flag.String("currency").pipe(Flag.withDescription("the link's currency (default: settings currency); every item is priced in it"), Flag.optional),
  items: Flag.String("item").pipe(Flag.withDescription("sku=SKU or name=NAME,price=12.50, then qty=N, frequency=…|one-time, discount=10%|2.00, tax=25%, optional, qty-min=N,qty-max=N, min-price=AMOUNT (or own-price-min=), description=TEXT"), Flag.atLeast(0)),
  optionalItems: Flag.String("optional-item").pipe(Flag.withDescription("an item the buyer may tick: the same SPEC as --item (after the --item ones; repeat)"), Flag.atLeast(0)),
  terms: Flag.String("terms").pipe(Flag.withDescription("auto-renew (default) or fixed:N"), Flag.optional),
  start: Flag.String("start").pipe(Flag.withDescription("recurring billing starts on DATE (after today), or checkout (default)"), Flag.optional),
  delayDays: Flag.String("delay-days").pipe(Flag.withDescription("recurring billing starts N days after checkout"), Flag.optional),
  delayMonths: Flag.String("delay-months").pipe(Flag.withDescription("recurring billing starts N months after checkout"), Flag.optional),
  startAfter: Flag.String("start-after").pipe(Flag.withDescription("recurring billing starts 14d (days) or 2m (months) after checkout, or on a DATE"), Flag.optional),
  orderDiscount: Flag.String("order-discount").pipe(Flag.withDescription("a one-time discount off the order: 10% or 5.00 (none removes it)"), Flag.optional),
  checkoutText: Flag.String("checkout-text").pipe(Flag.withDescription("text shown on the checkout page"), Flag.optional),
  confirmationText: Flag.String("confirmation-text").pipe(Flag.withDescription("text of the confirmation page"), Flag.optional),
  redirectUrl: Flag.String("redirect-url").pipe(Flag.withAlias("redirect"), Flag.withDescription("send buyers to this https:// URL after paying instead of the confirmation page (none removes it)"), Flag.optional),
  language: Flag.String("language").pipe(Flag.withDescription(`the checkout's language: ${languages.join(", ")}`), Flag.optional),
  locale: Flag.String("locale").pipe(Flag.withDescription("the checkout's locale of dates and money, e.g. nb-NO"), Flag.optional),
  paymentTypes: Flag.String("payment-types").pipe(Flag.withDescription(`accepted, comma-separated: ${paymentTypes.join(", ")} (or card, debit, bank; default card)`), Flag.optional),
  billingAddress: Flag.String("billing-address").pipe(Flag.withDescription("collect the billing address: yes or no"), Flag.optional),
  shippingAddress: Flag.String("shipping-address").pipe(Flag.withDescription("collect the shipping address: yes or no"), Flag.optional),
  collect: Flag.String("collect").pipe(Flag.withDescription("the addresses to collect: billing, shipping, billing,shipping or none (the others are not)"), Flag.optional),
  discountCodes: Flag.Boolean("discount-codes").pipe(Flag.withDescription("let buyers enter a discount code (--discount-codes, or --discount-codes yes|no)"), Flag.optional),
  contactFields: Flag.String("contact-field").pipe(Flag.withAlias("field"), Flag.withDescription("an extra field to ask: \"Company:required\" or label=TEXT,help=TEXT,required,order=N (repeat; replaces the list)"), Flag.atLeast(0)),
  completedPaymentsLimit: Flag.String("completed-payments-limit").pipe(Flag.withAlias("limit"), Flag.withDescription("switch the link off after N completed payments (none: no limit)"), Flag.optional)
}

type SettingFlags = { readonly [K in keyof typeof settingFlags]: (typeof settingFlags)[K] extends Flag.Flag<infer A> ? A : never }

const requestOf = (f: SettingFlags) =>
  Effect.gen(function*() {
    const collectBillingAddress = yield* runBool("--billing-address", f.billingAddress)
    const collectShippingAddress = yield* runBool("--shipping-address", f.shippingAddress)
    const allowDiscountCodes = opt(f.discountCodes)
    const items = [...f.items, ...f.optionalItems.map((spec) => `${spec},optional`)]
    const request: LinkRequest = {
      name: opt(f.name), currency: opt(f.currency), items: items.length === 0 ? undefined : items, terms: opt(f.terms), start: opt(f.start),
      delayDays: opt(f.delayDays), delayMonths: opt(f.delayMonths), startAfter: opt(f.startAfter), orderDiscount: opt(f.orderDiscount), checkoutText: opt(f.checkoutText),
      confirmationText: opt(f.confirmationText), redirectUrl: opt(f.redirectUrl), language: opt(f.language), locale: opt(f.locale),
      paymentTypes: opt(f.paymentTypes), collectBillingAddress, collectShippingAddress, collect: opt(f.collect), allowDiscountCodes,
      contactFields: f.contactFields.length === 0 ? undefined : f.contactFields, completedPaymentsLimit: opt(f.completedPaymentsLimit)
    }
    return request
  })

/** yes/no flags, refused as usage errors naming the flag. */
const runBool = (flag: string, value: Option.Option<string>): Effect.Effect<boolean | undefined, BadInput> => {
  const v = opt(value)
  if (v === undefined) return Effect.succeed(undefined)
  if (v === "yes" || v === "true") return Effect.succeed(true)
  if (v === "no" || v === "false") return Effect.succeed(false)
  return refused(`${flag}: expected yes or no, got "${v}"`)
}

const refArg = Argument.String("link").pipe(Argument.withDescription("the link's id or slug"))

const printLink = (link: PaymentLink, lead?: string) =>
  Effect.gen(function*() {
    const json = yield* Json
    yield* Console.log(json ? JSON.stringify(linkJson(link)) : (lead === undefined ? "" : lead + "\n") + linkText(link))
  })

const create = Command.make(
  "create",
  {
    ...settingFlags,
    slug: Flag.String("slug").pipe(Flag.withDescription("the link's address /l/SLUG (default: random, unguessable)"), Flag.optional),
    fromContact: Flag.String("from-contact").pipe(Flag.withDescription("a simple link for this contact's email: --name, one --item NAME and --price; off after one payment"), Flag.optional),
    price: Flag.String("price").pipe(Flag.withDescription("with --from-contact: the item's one-time price"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const from = opt(flags.fromContact)
      if (from !== undefined) {
        const name = opt(flags.name)
        const price = opt(flags.price)
        if (name === undefined) return yield* refused("--name: a simple link needs a name")
        if (flags.items.length !== 1) return yield* refused("--item: a simple link has one item: --item NAME")
        if (price === undefined) return yield* refused("--price: a simple link needs the item's one-time price")
        const others = Object.entries({ terms: flags.terms, start: flags.start, "delay-days": flags.delayDays, "delay-months": flags.delayMonths })
          .filter(([, v]) => Option.isSome(v)).map(([k]) => `--${k}`)
        if (others.length > 0) return yield* refused(`${others[0]}: a simple link is one one-time payment; create a full link without --from-contact`)
        const link = yield* linksUseCase((links) =>
          links.createSimple(ctx, { contactEmail: from, name, itemName: flags.items[0]!, price, currency: opt(flags.currency), slug: opt(flags.slug) })
        )
        return yield* printLink(link, `created simple payment link ${link.id}: /l/${link.slug} (switches off after one payment)`)
      }
      if (Option.isSome(flags.price)) return yield* refused("--price: only with --from-contact (otherwise price=… in --item)")
      const request = yield* requestOf(flags)
      const link = yield* linksUseCase((links) => links.create(ctx, request, opt(flags.slug)), request.items)
      yield* printLink(link, `created payment link ${link.id}: /l/${link.slug}`)
    }))
).pipe(Command.withDescription("Create a payment link: items (from products or custom), terms, billing start, discounts and checkout settings"))

/** CLI.md's `links simple`: a link for one contact, one item at a one-time price; off after one payment. */
const simple = Command.make(
  "simple",
  {
    contact: Flag.String("contact").pipe(Flag.withDescription("the contact's email")),
    name: Flag.String("name").pipe(Flag.withDescription("what is sold (the item's and the link's name)")),
    price: Flag.String("price").pipe(Flag.withDescription("the one-time price, e.g. 25.00")),
    currency: Flag.String("currency").pipe(Flag.withDescription("the currency (default: settings currency)"), Flag.optional),
    slug: Flag.String("slug").pipe(Flag.withDescription("the link's address /l/SLUG (default: random, unguessable)"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const link = yield* linksUseCase((links) =>
        links.createSimple(ctx, { contactEmail: flags.contact, name: flags.name, itemName: flags.name, price: flags.price, currency: opt(flags.currency), slug: opt(flags.slug) })
      )
      yield* printLink(link, `created simple payment link ${link.id}: /l/${link.slug} (switches off after one payment)`)
    }))
).pipe(Command.withDescription("A simple payment link for one contact: one item at a one-time price; it switches off after one payment"))

const listLinks = Command.make(
  "list",
  { status: Flag.String("status").pipe(Flag.withDescription("on or off"), Flag.optional), ...pageFlags },
  (flags) =>
    withApp(Effect.gen(function*() {
      const status = opt(flags.status)
      if (status !== undefined && status !== "on" && status !== "off") return yield* refused(`--status: expected on or off, got "${status}"`)
      const links = yield* PaymentLinks
      yield* printList(flags, links.list({ active: status === undefined ? undefined : status === "on" }), {
        noun: "payment links",
        headers: ["ID", "SLUG", "NAME", "CURRENCY", "ITEMS", "STATUS", "PAYMENTS", "CREATED"],
        cells: (r: PaymentLinkListRow) => [String(r.id), r.slug, r.name, r.currency, String(r.items), r.active ? "on" : "off",
          r.completed_payments_limit === null ? String(r.completed_payments) : `${r.completed_payments}/${r.completed_payments_limit}`, r.created_on],
        align: ["right", "left", "left", "left", "right", "left", "right", "left"]
      })
    }))
).pipe(Command.withDescription("List payment links (not deleted)"))

const show = Command.make("show", { link: refArg }, (flags) =>
  withApp(Effect.gen(function*() {
    const link = yield* linksUseCase((links) => links.show(flags.link))
    yield* printLink(link)
  }))).pipe(Command.withDescription("Show a payment link"))

const update = Command.make("update", { link: refArg, ...settingFlags }, (flags) =>
  withApp(Effect.gen(function*() {
    const ctx = yield* commandContext
    const request = yield* requestOf(flags)
    const link = yield* linksUseCase((links) => links.update(ctx.today, flags.link, request), request.items)
    yield* printLink(link, `updated payment link ${link.id}`)
  }))).pipe(Command.withDescription("Change a payment link: what you give replaces what it has (--item replaces all items)"))

const clone = Command.make(
  "clone",
  {
    link: refArg,
    name: Flag.String("name").pipe(Flag.withDescription("the copy's name (default: NAME (copy))"), Flag.optional),
    slug: Flag.String("slug").pipe(Flag.withDescription("the copy's slug (default: random)"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const link = yield* linksUseCase((links) => links.clone(ctx.today, flags.link, { name: opt(flags.name), slug: opt(flags.slug) }))
      yield* printLink(link, `cloned into payment link ${link.id}: /l/${link.slug}`)
    }))
).pipe(Command.withDescription("Copy a payment link under a new slug (on, no payments counted)"))

const switchCommand = (on: boolean) =>
  Command.make(on ? "on" : "off", { link: refArg }, (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const json = yield* Json
      const r = yield* linksUseCase((links) => (on ? links.switchOn : links.switchOff)(ctx.today, flags.link))
      yield* Console.log(json ? JSON.stringify({ ...linkJson(r.link), changed: r.changed }) : `payment link ${r.link.id} is ${on ? "on" : "off"}${r.changed ? "" : " (it was already)"}`)
    }))).pipe(Command.withDescription(on ? "Switch a payment link on: it takes payments again" : "Switch a payment link off: it takes no payments (its page says so)"))

const remove = Command.make("delete", { link: refArg }, (flags) =>
  withApp(Effect.gen(function*() {
    const ctx = yield* commandContext
    const json = yield* Json
    const link = yield* linksUseCase((links) => links.delete(ctx.today, flags.link))
    yield* Console.log(json ? JSON.stringify(linkJson(link)) : `payment link ${link.id} deleted (its slug ${link.slug} stays reserved; its payments and subscriptions remain)`)
  }))).pipe(Command.withDescription("Delete a payment link"))

const preview = Command.make(
  "preview",
  {
    link: refArg,
    include: Flag.String("include").pipe(Flag.withDescription("tick optional item N (1-based; repeat)"), Flag.atLeast(0)),
    qty: Flag.String("qty").pipe(Flag.withDescription("N=Q: buy Q of item N (an editable quantity; repeat)"), Flag.atLeast(0)),
    price: Flag.String("price").pipe(Flag.withDescription("N=AMOUNT: the buyer's own price for item N (repeat)"), Flag.atLeast(0)),
    code: Flag.String("code").pipe(Flag.withDescription("a discount code"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const json = yield* Json
      const { link, summary } = yield* linksUseCase((links) => links.preview(ctx.today, flags.link, { include: flags.include, quantities: flags.qty, prices: flags.price, code: opt(flags.code) }))
      yield* Console.log(json ? JSON.stringify(summaryJson(summary)) : `${link.name} (/l/${link.slug}), bought today (${ctx.today}):\n${summaryText(summary)}`)
    }))
).pipe(Command.withDescription("What a buyer pays: due today, future payments, and the total when the number of payments is fixed"))

export const linksCommand = Command.make("links").pipe(
  Command.withDescription("Payment links: offers buyers pay at /l/SLUG"),
  Command.withSubcommands([create, simple, listLinks, show, update, clone, switchCommand(false), switchCommand(true), remove, preview])
)

const offText = (c: Pick<DiscountCode, "off">) => (c.off._tag === "Percent" ? `${c.off.ppm / 10_000}%` : money(c.off.amount, c.off.currency))
const durationText = (d: DiscountCode["duration"]) => (d._tag === "Once" ? "once" : d._tag === "Forever" ? "forever" : `${d.payments} payments`)

const codeText = (c: DiscountCode) =>
  `discount code ${c.id}: ${c.code}, ${offText(c)} off, ${durationText(c.duration)}${c.expiresOn === undefined ? "" : `, expires after ${c.expiresOn}`}, redeemed ${c.redemptions}${c.maxRedemptions === undefined ? "" : ` of ${c.maxRedemptions}`}, ${c.active ? "on" : "off"}`

const printCode = (c: DiscountCode, lead = "") =>
  Effect.gen(function*() {
    const json = yield* Json
    yield* Console.log(json ? JSON.stringify(codeJson(c)) : lead + codeText(c))
  })

const codeArg = Argument.String("code").pipe(Argument.withDescription("the code (any case) or its id"))

/** What is off: `--off 10%|5.00`, or CLI.md's `--percent 10` / `--amount 5.00`; exactly one of them. */
const offOf = (flags: { readonly off: Option.Option<string>; readonly percent: Option.Option<string>; readonly amount: Option.Option<string> }) => {
  const given = [["--off", opt(flags.off)], ["--percent", opt(flags.percent)], ["--amount", opt(flags.amount)]].filter(([, v]) => v !== undefined)
  if (given.length === 0) return refused("--off: how much is off: --off 10% (or --percent 10) or --off 5.00 (or --amount 5.00)")
  if (given.length > 1) return refused(`${given[1]![0]}: give one of --off, --percent and --amount`)
  const percent = opt(flags.percent)
  if (percent !== undefined) return Effect.succeed(percent.trim().endsWith("%") ? percent.trim() : `${percent.trim()}%`)
  const amount = opt(flags.amount)
  if (amount !== undefined) {
    return amount.trim().endsWith("%") ? refused(`--amount: an amount of money such as 5.00, got "${amount}" (a percentage is --percent)`) : Effect.succeed(amount.trim())
  }
  return Effect.succeed(opt(flags.off)!)
}

/** `discount-codes create` (and CLI.md's `discount-codes add`). */
const createCodeCommand = (name: "create" | "add") => Command.make(
  name,
  {
    code: Argument.String("code").pipe(Argument.withDescription("what buyers type: 3 to 40 letters, digits, - or _")),
    off: Flag.String("off").pipe(Flag.withDescription("percent (10%) or amount (5.00) off each discounted payment"), Flag.optional),
    percent: Flag.String("percent").pipe(Flag.withDescription("percent off each discounted payment, e.g. 10"), Flag.optional),
    amount: Flag.String("amount").pipe(Flag.withDescription("an amount off each discounted payment, e.g. 5.00"), Flag.optional),
    currency: Flag.String("currency").pipe(Flag.withDescription("the currency of an amount off (default: settings currency)"), Flag.optional),
    duration: Flag.String("duration").pipe(Flag.withDescription("once (the payment at checkout, default), N (N payments, the one at checkout the first) or forever"), Flag.optional),
    expiresOn: Flag.String("expires-on").pipe(Flag.withAlias("expires"), Flag.withDescription("the last day it can be used, YYYY-MM-DD"), Flag.optional),
    maxRedemptions: Flag.String("max-redemptions").pipe(Flag.withDescription("how many purchases may use it"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const off = yield* offOf(flags)
      const c = yield* codesUseCase((codes) => codes.create(ctx, {
        code: flags.code, off, currency: opt(flags.currency), duration: opt(flags.duration), expiresOn: opt(flags.expiresOn), maxRedemptions: opt(flags.maxRedemptions)
      }))
      yield* printCode(c, "created ")
    }))
).pipe(Command.withDescription(name === "create" ? "Create a discount code buyers can enter on links that take codes" : "Add a discount code (the same as create)"))

const listCodes = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(Effect.flatMap(Effect.service(DiscountCodes), (codes) => printList(flags, codes.list, {
    noun: "discount codes",
    headers: ["ID", "CODE", "OFF", "DURATION", "EXPIRES", "REDEEMED", "STATUS"],
    cells: (r: DiscountCodeListRow) => [
      String(r.id), r.code, r.percent_ppm !== null ? `${r.percent_ppm / 10_000}%` : money(r.amount!, r.currency!),
      r.duration === "payments" ? `${r.duration_payments} payments` : r.duration, r.expires_on ?? "",
      r.max_redemptions === null ? String(r.redemptions) : `${r.redemptions}/${r.max_redemptions}`, r.active ? "on" : "off"
    ]
  })))).pipe(Command.withDescription("List discount codes"))

const showCode = Command.make("show", { code: codeArg }, (flags) =>
  withApp(Effect.gen(function*() {
    const c = yield* codesUseCase((codes) => codes.show(flags.code))
    yield* printCode(c)
  }))).pipe(Command.withDescription("Show a discount code"))

const updateCode = Command.make(
  "update",
  {
    code: codeArg,
    expiresOn: Flag.String("expires-on").pipe(Flag.withAlias("expires"), Flag.withDescription("a new last day (none: no expiry)"), Flag.optional),
    maxRedemptions: Flag.String("max-redemptions").pipe(Flag.withDescription("a new redemption limit (none: no limit)"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const c = yield* codesUseCase((codes) => codes.change(ctx.today, flags.code, { expiresOn: opt(flags.expiresOn), maxRedemptions: opt(flags.maxRedemptions) }))
      yield* printCode(c, "updated ")
    }))
).pipe(Command.withDescription("Change a discount code's expiry or redemption limit"))

const switchCode = (on: boolean) =>
  Command.make(on ? "on" : "off", { code: codeArg }, (flags) =>
    withApp(Effect.gen(function*() {
      const ctx = yield* commandContext
      const c = yield* codesUseCase((codes) => codes.change(ctx.today, flags.code, { active: on }))
      yield* printCode(c)
    }))).pipe(Command.withDescription(on ? "Let buyers use a discount code again" : "Stop buyers using a discount code"))

const removeCode = Command.make("delete", { code: codeArg }, (flags) =>
  withApp(Effect.gen(function*() {
    const ctx = yield* commandContext
    const json = yield* Json
    const c = yield* codesUseCase((codes) => codes.delete(ctx.today, flags.code))
    yield* Console.log(json ? JSON.stringify({ ...codeJson(c), deleted: true }) : `discount code ${c.code} deleted`)
  }))).pipe(Command.withDescription("Delete a discount code"))

export const discountCodesCommand = Command.make("discount-codes").pipe(
  Command.withDescription("Discount codes buyers enter at checkout"),
  Command.withSubcommands([createCodeCommand("create"), createCodeCommand("add"), listCodes, showCode, updateCode, switchCode(false), switchCode(true), removeCode])
)

