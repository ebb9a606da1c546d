/**
 * `billcycle subscriptions create|list|show|update|cancel|pause|resume|delete`
 * and `billcycle events list`.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { lineAmounts } from "../../billing/index.ts"
import type { BillingTerms, ItemSpec, PaymentTerms } from "../../domain/index.ts"
import { formatFrequency, formatMajorAmount, parseBillingTerms, parseItemSpec, subscriptionStatuses } from "../../domain/index.ts"
import { settleAttemptsNow } from "../../runtime/settleNow.ts"
import { Gateway } from "../../runtime/Gateway.ts"
import type { StartChoice, SubscriptionRow } from "../../store/index.ts"
import {
  cancelSubscription,
  createSubscriptions,
  currentItems,
  deleteSubscription,
  getSubscription,
  listEvents,
  listInvoices,
  listSubscriptions,
  pauseSubscription,
  resumeSubscription,
  runSql,
  updateSubscription
} from "../../store/index.ts"
import { commandContext, withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag, parseDateFlag, parseNonNegativeFlag } from "../flagParsers.ts"
import { renderTable } from "../table.ts"

const money = (minor: number, currency: string) => `${formatMajorAmount(minor, currency)} ${currency}`

const parseItems = (values: ReadonlyArray<string>) =>
  Effect.forEach(values, (text, i) => {
    const spec = parseItemSpec(text)
    return typeof spec === "string"
      ? Effect.fail(new UsageError({ message: `--item ${i + 1} ("${text}"): ${spec}` }))
      : Effect.succeed(spec as ItemSpec)
  })

const idOf = (value: string) => parseCountFlag("ID", value)

const parseCollection = (value: string): Effect.Effect<{ method: "charge" | "invoice"; terms: PaymentTerms | undefined }, UsageError> => {
  if (value === "charge" || value === "charge-automatically") return Effect.succeed({ method: "charge", terms: undefined })
  const m = /^(?:invoice|send-invoice)(?::(due-on-receipt|net-15|net-30|net-60))?$/.exec(value)
  if (m === null) return Effect.fail(new UsageError({ message: `--collection: expected charge or invoice[:due-on-receipt|:net-15|:net-30|:net-60], got "${value}"` }))
  return Effect.succeed({ method: "invoice", terms: (m[1] ?? "due-on-receipt") as PaymentTerms })
}

const create = Command.make(
  "create",
  {
    contact: Flag.String("contact").pipe(Flag.withDescription("the buyer's email (an existing contact)")),
    items: Flag.String("item").pipe(Flag.withDescription("sku=SKU or name=NAME,price=12.50, then qty=N, frequency=…, discount=10%|2.00, tax=25%, one-time"), Flag.atLeast(1)),
    start: Flag.String("start").pipe(Flag.withDescription("billing start date YYYY-MM-DD (default today)"), Flag.optional),
    delayDays: Flag.String("delay-days").pipe(Flag.withDescription("start N days after today (at most 36525, 100 years)"), Flag.optional),
    delayMonths: Flag.String("delay-months").pipe(Flag.withDescription("start N months after today (at most 1200)"), Flag.optional),
    terms: Flag.String("terms").pipe(Flag.withDescription("auto-renew (default) or fixed:N"), Flag.optional),
    collection: Flag.String("collection").pipe(Flag.withDescription("charge (default) or invoice[:due-on-receipt|:net-15|:net-30|:net-60]"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("payment-method token (default: the contact's)"), Flag.optional),
    language: Flag.String("language").pipe(Flag.withDescription("language of invoices and emails: en, nb, nl, fr, sv"), Flag.optional),
    locale: Flag.String("locale").pipe(Flag.withDescription("locale of dates and money, e.g. nb-NO"), Flag.optional),
    reminders: Flag.Boolean("reminders").pipe(Flag.withDescription("remind the buyer before each payment"), Flag.withDefault(false))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const items = yield* parseItems(flags.items)
      const starts = [flags.start, flags.delayDays, flags.delayMonths].filter(Option.isSome).length
      if (starts > 1) return yield* new UsageError({ message: "--start, --delay-days and --delay-months: give at most one" })
      const start: StartChoice = Option.isSome(flags.start)
        ? { _tag: "Date", date: yield* parseDateFlag("--start", flags.start.value) }
        : Option.isSome(flags.delayDays)
        ? { _tag: "DelayDays", days: yield* parseNonNegativeFlag("--delay-days", flags.delayDays.value, 36_525) }
        : Option.isSome(flags.delayMonths)
        ? { _tag: "DelayMonths", months: yield* parseNonNegativeFlag("--delay-months", flags.delayMonths.value, 1_200) }
        : { _tag: "Today" }
      const termsText = Option.getOrElse(flags.terms, () => "auto-renew")
      const terms: BillingTerms | undefined = parseBillingTerms(termsText)
      if (terms === undefined) return yield* new UsageError({ message: `--terms: expected auto-renew or fixed:N (N from 1 to 1000), got "${termsText}"` })
      const collection = yield* parseCollection(Option.getOrElse(flags.collection, () => "charge"))
      const language = Option.getOrUndefined(flags.language)
      if (language !== undefined && !["en", "nb", "nl", "fr", "sv"].includes(language)) return yield* new UsageError({ message: `--language: expected en, nb, nl, fr or sv, got "${language}"` })
      const locale = Option.getOrUndefined(flags.locale)
      if (locale !== undefined && Intl.DateTimeFormat.supportedLocalesOf([locale]).length !== 1) return yield* new UsageError({ message: `--locale: "${locale}" is not a locale such as nb-NO` })
      const ctx = yield* commandContext
      const created = yield* runSql((sql) => createSubscriptions(sql, ctx, {
        contactEmail: flags.contact, items, start, terms, collection: collection.method, paymentTerms: collection.terms,
        paymentMethod: Option.getOrUndefined(flags.paymentMethod), language, locale, reminders: flags.reminders
      }))
      if (json) return yield* Console.log(JSON.stringify({ subscriptions: created }))
      yield* Console.log(created.map((c) =>
        `subscription ${c.id}: ${c.name}, ${c.frequency}, ${c.terms}, ${money(c.amountPerPayment, c.currency)} per payment, ${c.status}, next billing ${c.nextBillingDate}${c.endDate === null ? "" : `, ends ${c.endDate}`}`
      ).join("\n"))
    }))
).pipe(Command.withDescription("Create subscriptions for a contact: items are grouped by frequency, terms and start date"))

const describeRow = (r: SubscriptionRow) => [
  String(r.id), r.email, r.name, r.status, formatFrequency({ unit: r.frequency_unit, count: r.frequency_count }),
  r.next_billing_date ?? "", r.terms_payments === null ? "auto-renew" : `${r.payments_made}/${r.terms_payments}`, r.collection_method
]

const views: Record<string, string> = { unpaid: "unpaid", scheduled: "scheduled", "past-due": "past_due" }

const list = Command.make(
  "list",
  {
    status: Flag.String("status").pipe(Flag.withDescription(subscriptionStatuses.join(", ")), Flag.optional),
    nextBillingBefore: Flag.String("next-billing-before").pipe(Flag.withDescription("only those billing next before DATE"), Flag.optional),
    view: Flag.String("view").pipe(Flag.withDescription("a saved view: unpaid, scheduled, past-due"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      let status = Option.getOrUndefined(flags.status)
      if (status !== undefined && !(subscriptionStatuses as ReadonlyArray<string>).includes(status)) {
        return yield* new UsageError({ message: `--status: expected one of ${subscriptionStatuses.join(", ")}, got "${status}"` })
      }
      if (Option.isSome(flags.view)) {
        const v = views[flags.view.value]
        if (v === undefined) return yield* new UsageError({ message: `--view: expected unpaid, scheduled or past-due, got "${flags.view.value}"` })
        status = v
      }
      const before = Option.isSome(flags.nextBillingBefore) ? yield* parseDateFlag("--next-billing-before", flags.nextBillingBefore.value) : undefined
      const rows = yield* runSql((sql) => listSubscriptions(sql, { status, nextBillingBefore: before }))
      if (json) return yield* Console.log(JSON.stringify(rows))
      yield* Console.log(renderTable(["ID", "CONTACT", "NAME", "STATUS", "FREQUENCY", "NEXT BILLING", "PAYMENTS", "COLLECTION"], rows.map(describeRow)))
    }))
).pipe(Command.withDescription("List subscriptions by status or next billing date"))

const show = Command.make("show", { id: Argument.String("id") }, ({ id }) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const subscriptionId = yield* idOf(id)
    const { sub, items, invoices } = yield* runSql(async (sql) => ({
      sub: await getSubscription(sql, subscriptionId),
      items: await currentItems(sql, subscriptionId),
      invoices: await listInvoices(sql, { subscriptionId })
    }))
    if (json) return yield* Console.log(JSON.stringify({ ...sub, items, invoices }))
    const c = sub.currency
    const perPayment = items.filter((i) => !i.one_time).reduce((s, i) => s + lineAmounts({
      unitPrice: i.unit_price as never, quantity: i.quantity, ...(i.discount_ppm === null ? {} : { discount: { _tag: "Percent" as const, ppm: i.discount_ppm } }),
      ...(i.discount_amount === null ? {} : { discount: { _tag: "Amount" as const, amount: i.discount_amount as never } }), ...(i.tax_rate_ppm === null ? {} : { taxRate: i.tax_rate_ppm })
    }).total, 0)
    yield* Console.log([
      `Subscription ${sub.id}: ${sub.name}`,
      `  contact        ${sub.email}${sub.contact_name === null ? "" : ` (${sub.contact_name})`}`,
      `  status         ${sub.status}${sub.cancel_at === null ? "" : ` (cancels ${sub.cancel_at})`}${sub.resume_on === null ? "" : ` (resumes ${sub.resume_on})`}`,
      `  billing        ${formatFrequency({ unit: sub.frequency_unit, count: sub.frequency_count })}, ${sub.terms_payments === null ? "auto-renew" : `fixed ${sub.terms_payments} payments`}, ${sub.collection_method}${sub.payment_terms === null ? "" : ` (${sub.payment_terms})`}`,
      `  start          ${sub.start_date}${sub.end_date === null ? "" : `, ends ${sub.end_date}`}`,
      `  next billing   ${sub.next_billing_date ?? "-"}`,
      `  payments made  ${sub.payments_made}`,
      `  per payment    ${money(perPayment, c)}`,
      `  payment method ${sub.payment_method ?? "-"}`,
      ...(sub.last_error === null ? [] : [`  last error     ${sub.last_error}${sub.parked_at === null ? "" : " (parked)"}`]),
      "",
      renderTable(["#", "ITEM", "QTY", "UNIT PRICE", "DISCOUNT", "TAX", "ONE-TIME"], items.map((i) => [
        String(i.line_no), i.name, String(i.quantity), money(i.unit_price, c),
        i.discount_ppm !== null ? `${i.discount_ppm / 10_000}%` : i.discount_amount !== null ? money(i.discount_amount, c) : "-",
        i.tax_rate_ppm === null ? "-" : `${i.tax_rate_ppm / 10_000}%`, i.one_time ? "yes" : ""
      ])),
      "",
      invoices.length === 0 ? "No invoices yet." : renderTable(["INVOICE", "NUMBER", "PERIOD", "TOTAL", "STATUS"], invoices.map((i) => [
        String(i.id), i.number, `${i.period_start}..${i.period_end}`, money(i.total, i.currency), i.status
      ]))
    ].join("\n"))
  }))).pipe(Command.withDescription("Show a subscription: terms, items, invoices"))

const update = Command.make(
  "update",
  {
    id: Argument.String("id"),
    items: Flag.String("item").pipe(Flag.withDescription("the new set of items (a new version from the next billing date)"), Flag.atLeast(0)),
    nextBillingDate: Flag.String("next-billing-date").pipe(Flag.withDescription("move the next billing date; later dates follow from it"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const id = yield* idOf(flags.id)
      const items = yield* parseItems(flags.items)
      const nextBillingDate = Option.isSome(flags.nextBillingDate) ? yield* parseDateFlag("--next-billing-date", flags.nextBillingDate.value) : undefined
      const ctx = yield* commandContext
      const changes = yield* runSql((sql) => updateSubscription(sql, ctx, id, {
        items: items.length === 0 ? undefined : items, nextBillingDate, paymentMethod: Option.getOrUndefined(flags.paymentMethod)
      }))
      yield* Console.log(json ? JSON.stringify({ id, changes }) : `subscription ${id} updated: ${changes.join("; ")}`)
    }))
).pipe(Command.withDescription("Change items, next billing date or payment method"))

const cancel = Command.make(
  "cancel",
  {
    id: Argument.String("id"),
    atPeriodEnd: Flag.Boolean("at-period-end").pipe(Flag.withDescription("stay active until the next billing date, then cancel"), Flag.withDefault(false)),
    refundUnused: Flag.Boolean("refund-unused").pipe(Flag.withDescription("refund the unused days of the paid period, prorated by day"), Flag.withDefault(false))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const id = yield* idOf(flags.id)
      const ctx = yield* commandContext
      const result = yield* runSql((sql) => cancelSubscription(sql, ctx, id, { atPeriodEnd: flags.atPeriodEnd, refundUnused: flags.refundUnused }))
      // The refund goes to the gateway after the cancel has committed; if this process dies, the engine settles it.
      const refund = result.refund === undefined
        ? undefined
        : yield* settleAttemptsNow(ctx, [result.refund.attemptId]).pipe(Effect.provide(Gateway.simulated))
      if (json) return yield* Console.log(JSON.stringify({ id, ...result, refundSettled: refund }))
      const refundText = result.refund === undefined
        ? ""
        : `; refunded ${money(result.refund.amount, result.refund.currency)} for ${result.refund.unusedDays} of ${result.refund.periodDays} days${refund !== undefined && refund.succeeded === 0 ? " (pending with the gateway)" : ""}`
      yield* Console.log(result.status === "canceled"
        ? `subscription ${id} canceled on ${result.effectiveOn}${refundText}`
        : `subscription ${id} will cancel at the end of its period, on ${result.effectiveOn}`)
    }))
).pipe(Command.withDescription("Cancel now, or at the end of the period"))

const pause = Command.make(
  "pause",
  { id: Argument.String("id"), resumeOn: Flag.String("resume-on").pipe(Flag.withDescription("resume automatically on DATE"), Flag.optional) },
  (flags) =>
    withApp(Effect.gen(function*() {
      const id = yield* idOf(flags.id)
      const resumeOn = Option.isSome(flags.resumeOn) ? yield* parseDateFlag("--resume-on", flags.resumeOn.value) : undefined
      const ctx = yield* commandContext
      yield* runSql((sql) => pauseSubscription(sql, ctx, id, resumeOn))
      yield* Console.log((yield* Json) ? JSON.stringify({ id, status: "paused", resumeOn: resumeOn ?? null }) : `subscription ${id} paused${resumeOn === undefined ? "" : ` until ${resumeOn}`}`)
    }))
).pipe(Command.withDescription("Pause billing (optionally until a date)"))

const resume = Command.make("resume", { id: Argument.String("id") }, (flags) =>
  withApp(Effect.gen(function*() {
    const id = yield* idOf(flags.id)
    const ctx = yield* commandContext
    const next = yield* runSql((sql) => resumeSubscription(sql, ctx, id))
    yield* Console.log((yield* Json) ? JSON.stringify({ id, status: "active", nextBillingDate: next }) : `subscription ${id} resumed; next billing ${next}`)
  }))).pipe(Command.withDescription("Resume a paused subscription (never back-billing the pause)"))

const remove = Command.make("delete", { id: Argument.String("id") }, (flags) =>
  withApp(Effect.gen(function*() {
    const id = yield* idOf(flags.id)
    const ctx = yield* commandContext
    yield* runSql((sql) => deleteSubscription(sql, ctx, id))
    yield* Console.log((yield* Json) ? JSON.stringify({ id, deleted: true }) : `subscription ${id} deleted`)
  }))).pipe(Command.withDescription("Delete a canceled or expired subscription, permanently"))

export const subscriptionsCommand = Command.make("subscriptions").pipe(
  Command.withDescription("Subscriptions"),
  Command.withSubcommands([create, list, show, update, cancel, pause, resume, remove])
)

const eventsList = Command.make(
  "list",
  {
    subscription: Flag.String("subscription").pipe(Flag.optional),
    type: Flag.String("type").pipe(Flag.withDescription("e.g. subscription.status_changed"), Flag.optional),
    since: Flag.String("since").pipe(Flag.withDescription("only events on or after DATE"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const subscriptionId = Option.isSome(flags.subscription) ? yield* parseCountFlag("--subscription", flags.subscription.value) : undefined
      const since = Option.isSome(flags.since) ? yield* parseDateFlag("--since", flags.since.value) : undefined
      const rows = yield* runSql((sql) => listEvents(sql, { subscriptionId, type: Option.getOrUndefined(flags.type), since }))
      if (json) return yield* Console.log(JSON.stringify(rows))
      yield* Console.log(renderTable(["ID", "ON", "TYPE", "SUB", "SOURCE", "DATA"], rows.map((r) => [
        String(r.id), r.occurred_on, r.type, r.subscription_id === null ? "" : String(r.subscription_id), r.source, JSON.stringify(r.data).slice(0, 100)
      ])))
    }))
).pipe(Command.withDescription("The event journal, oldest first"))

export const eventsCommand = Command.make("events").pipe(Command.withDescription("The event journal"), Command.withSubcommands([eventsList]))

