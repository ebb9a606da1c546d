/**
 * `billcycle subscriptions create|list|show|update|cancel|pause|resume|delete`
 * and `billcycle events list`.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { languages } from "../../billing/index.ts"
import type { SubscriptionError } from "../../domain/index.ts"
import { eventTypeProblem, flagField, formatFrequency, formatMajorAmount, itemErrorOf, subscriptionErrorOf, SubscriptionId, subscriptionStatuses } from "../../domain/index.ts"
import { catalogueErrorMessage } from "../../catalogue/index.ts"
import { Gateway } from "../../payments/index.ts"
import type { StoredLine, SubscriptionRow, SubscriptionsFailure } from "../../subscriptions/index.ts"
import { cancelWithRefund, createdSubscriptionJson, parseItems, readCreateRequest, readPaymentMethod, subscriptionErrorMessage, subscriptionJson, subscriptionRowJson, Subscriptions, subscriptionViewOn } from "../../subscriptions/index.ts"
import { BadInput } from "../../sql/index.ts"
import { commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag, parseDateFlag } from "../flagParsers.ts"
import { periodText } from "../periodText.ts"
import { renderTable } from "../table.ts"
import { pageFlags, printList } from "../paging.ts"

/** A refusal of a subscriptions use case in the CLI's words: still bad input (exit 2), the refusal kept. */
const worded = (e: SubscriptionsFailure) => {
  if (e._tag === "BadInput" || e._tag === "DatabaseError") return e
  const item = itemErrorOf(e)
  // An item's refusal names the item by its flag already (`--item 2: unknown SKU "NOPE"`).
  return new BadInput({ message: item === undefined ? subscriptionErrorMessage(e as SubscriptionError) : catalogueErrorMessage(item), refusal: e })
}

/** Runs a use case of the `Subscriptions` service, its refusals worded for the command line. */
const useCase = <A>(f: (subscriptions: Subscriptions["Service"]) => Effect.Effect<A, SubscriptionsFailure>) =>
  Effect.flatMap(Effect.service(Subscriptions), (subscriptions) => Effect.mapError(f(subscriptions), worded))

/** Items are named by their flag in messages: `--item 2`. */
const itemLabels = (items: ReadonlyArray<unknown>) => items.map((_, i) => `--item ${i + 1}`)

const money = (minor: number, currency: string) => `${formatMajorAmount(minor, currency)} ${currency}`

/** A subscription named on the command line: its id, branded at the door. */
const idOf = (value: string) => Effect.map(parseCountFlag("ID", value), SubscriptionId.make)

const create = Command.make(
  "create",
  {
    contact: Flag.String("contact").pipe(Flag.withDescription("the buyer's email (an existing contact)")),
    items: Flag.String("item").pipe(Flag.withDescription("sku=SKU or name=NAME,price=12.50, then qty=N, frequency=…, discount=10%|2.00, tax=25%, one-time"), Flag.atLeast(1)),
    start: Flag.String("start").pipe(Flag.withDescription("billing start date YYYY-MM-DD, today or later (default today)"), Flag.optional),
    delayDays: Flag.String("delay-days").pipe(Flag.withDescription("start N days after today (at most 36525, 100 years)"), Flag.optional),
    delayMonths: Flag.String("delay-months").pipe(Flag.withDescription("start N months after today (at most 1200)"), Flag.optional),
    terms: Flag.String("terms").pipe(Flag.withDescription("auto-renew (default) or fixed:N"), Flag.optional),
    collection: Flag.String("collection").pipe(Flag.withDescription("charge (default) or invoice[:due-on-receipt|:net-15|:net-30|:net-60]"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("payment-method token (default: the contact's)"), Flag.optional),
    language: Flag.String("language").pipe(Flag.withDescription(`language of invoices and emails: ${languages.join(", ")}`), Flag.optional),
    locale: Flag.String("locale").pipe(Flag.withDescription("locale of dates and money, e.g. nb-NO"), Flag.optional),
    reminders: Flag.Boolean("reminders").pipe(Flag.withDescription("remind the buyer before each payment"), Flag.withDefault(false))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const input = yield* readCreateRequest({
        contact: flags.contact, items: flags.items, start: Option.getOrUndefined(flags.start), delayDays: Option.getOrUndefined(flags.delayDays),
        delayMonths: Option.getOrUndefined(flags.delayMonths), terms: Option.getOrUndefined(flags.terms), collection: Option.getOrUndefined(flags.collection),
        paymentMethod: Option.getOrUndefined(flags.paymentMethod), language: Option.getOrUndefined(flags.language), locale: Option.getOrUndefined(flags.locale),
        reminders: flags.reminders
      })
      const ctx = yield* commandContext
      const created = yield* useCase((s) => s.create(ctx, { ...input, itemLabels: itemLabels(input.items) }))
      if (json) return yield* Console.log(JSON.stringify({ subscriptions: created.map(createdSubscriptionJson) }))
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
    view: Flag.String("view").pipe(Flag.withDescription("a saved view: unpaid, scheduled, past-due"), Flag.optional),
    ...pageFlags
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
      const subscriptions = yield* Subscriptions
      yield* printList(flags, subscriptions.list({ status, nextBillingBefore: before }), {
        noun: "subscriptions", headers: ["ID", "CONTACT", "NAME", "STATUS", "FREQUENCY", "NEXT BILLING", "PAYMENTS", "COLLECTION"], cells: describeRow, json: subscriptionRowJson
      })
    }))
).pipe(Command.withDescription("List subscriptions by status or next billing date"))

/** A checkout's discount code on the view: what it takes off, which payments, and whether the next is still discounted. */
const codeLine = (sub: SubscriptionRow, c: string) => {
  const code = sub.code_discount!
  const off = code.off._tag === "Percent" ? `${code.off.ppm / 10_000}%` : money(code.off.amount, c)
  return code.payments === null
    ? `${off} off every payment`
    : `${off} off each of the first ${code.payments} payments${sub.code_discount_ends_on === null ? " (the next is still discounted)" : `; full price from ${sub.code_discount_ends_on}`}`
}

const itemsTable = (lines: ReadonlyArray<StoredLine>, c: string) =>
  renderTable(["#", "ITEM", "QTY", "UNIT PRICE", "DISCOUNT", "TAX", "ONE-TIME"], lines.map((i) => [
    String(i.line_no), i.name, String(i.quantity), money(i.unit_price, c),
    i.discount_ppm !== null ? `${i.discount_ppm / 10_000}%` : i.discount_amount !== null ? money(i.discount_amount, c) : "-",
    i.tax_rate_ppm === null ? "-" : `${i.tax_rate_ppm / 10_000}%`, i.one_time ? "yes" : ""
  ]))

const show = Command.make("show", { id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")) }, ({ id }) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const subscriptionId = yield* idOf(id)
    const ctx = yield* commandContext
    // The version in force today (business clock) and the next one, kept apart: a change waits for the next billing date.
    const rows = yield* useCase((s) => s.show(subscriptionId))
    // The same JSON as GET /v1/subscriptions/:id (money as { amount, currency, formatted }).
    if (json) return yield* Console.log(JSON.stringify(subscriptionJson(rows, ctx.today)))
    const { sub, invoices, current, next } = subscriptionViewOn(rows, ctx.today)
    const shown = current ?? next
    const c = sub.currency
    yield* Console.log([
      `Subscription ${sub.id}: ${sub.name}`,
      `  contact        ${sub.email}${sub.contact_name === null ? "" : ` (${sub.contact_name})`}`,
      `  status         ${sub.status}${sub.cancel_at === null ? "" : ` (cancels ${sub.cancel_at})`}${sub.resume_on === null ? "" : ` (resumes ${sub.resume_on})`}`,
      `  billing        ${formatFrequency({ unit: sub.frequency_unit, count: sub.frequency_count })}, ${sub.terms_payments === null ? "auto-renew" : `fixed ${sub.terms_payments} payments`}, ${sub.collection_method}${sub.payment_terms === null ? "" : ` (${sub.payment_terms})`}`,
      `  start          ${sub.start_date}${sub.end_date === null ? "" : `, ends ${sub.end_date}`}`,
      `  next billing   ${sub.next_billing_date ?? "-"}`,
      `  payments made  ${sub.payments_made}`,
      `  per payment    ${shown === undefined ? "-" : money(shown.amountPerPayment, c)}${next === undefined || shown === next ? "" : ` (${money(next.amountPerPayment, c)} from ${next.effectiveFrom})`}`,
      `  payment method ${sub.payment_method ?? "-"}`,
      ...(sub.code_discount === null ? [] : [`  discount code  ${codeLine(sub, c)}`]),
      ...(sub.last_error === null ? [] : [`  last error     ${sub.last_error}${sub.parked_at === null ? "" : " (parked)"}`]),
      "",
      ...(current === undefined
        ? [`No items in force today (${ctx.today}).`]
        : [`Items in force today (version ${current.version}, since ${current.effectiveFrom}): ${money(current.amountPerPayment, c)} per payment`, itemsTable(current.lines, c)]),
      ...(next === undefined ? [] : ["", `Next items (version ${next.version}, from ${next.effectiveFrom}): ${money(next.amountPerPayment, c)} per payment`, itemsTable(next.lines, c)]),
      "",
      invoices.length === 0 ? "No invoices yet." : renderTable(["INVOICE", "NUMBER", "PERIOD", "TOTAL", "STATUS"], invoices.map((i) => [
        String(i.id), i.number, periodText(i, ".."), money(i.total, i.currency), i.status
      ]))
    ].join("\n"))
  }))).pipe(Command.withDescription("Show a subscription: terms, the items in force today and the next ones, invoices"))

const update = Command.make(
  "update",
  {
    id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")),
    items: Flag.String("item").pipe(Flag.withDescription("the new set of items, a new version from the next billing date; an item already on the subscription (same sku, or same name) keeps the price, qty, discount and tax its SPEC does not name"), Flag.atLeast(0)),
    nextBillingDate: Flag.String("next-billing-date").pipe(Flag.withDescription("move the next billing date; later dates follow from it"), Flag.optional),
    paymentMethod: Flag.String("payment-method").pipe(Flag.withDescription("a new saved payment-method token for future charges"), Flag.optional)
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const id = yield* idOf(flags.id)
      const items = yield* parseItems(flags.items)
      const nextBillingDate = Option.isSome(flags.nextBillingDate) ? yield* parseDateFlag("--next-billing-date", flags.nextBillingDate.value) : undefined
      const paymentMethod = yield* readPaymentMethod(flagField("payment-method"), Option.getOrUndefined(flags.paymentMethod))
      const ctx = yield* commandContext
      const result = yield* useCase((s) => s.update(ctx, id, {
        items: items.length === 0 ? undefined : items, itemLabels: itemLabels(items), nextBillingDate, paymentMethod
      }))
      if (!json) return yield* Console.log(`subscription ${id} updated: ${result.changes.join("; ")}`)
      // As POST /v1/subscriptions/:id answers: the subscription as shown now, and what changed.
      yield* Console.log(JSON.stringify({ ...subscriptionJson(yield* useCase((s) => s.show(id)), ctx.today), changes: result.changes }))
    }))
).pipe(Command.withDescription("Change items (prints the amount per payment before and after), next billing date or payment method"))

const cancel = Command.make(
  "cancel",
  {
    id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")),
    atPeriodEnd: Flag.Boolean("at-period-end").pipe(Flag.withDescription("stay active until the next billing date, then cancel"), Flag.withDefault(false)),
    refundUnused: Flag.Boolean("refund-unused").pipe(Flag.withDescription("refund the unused days of the paid period, prorated by day"), Flag.withDefault(false))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const id = yield* idOf(flags.id)
      const { refundSettled: refund, ...result } = yield* cancelWithRefund(id, { atPeriodEnd: flags.atPeriodEnd, refundUnused: flags.refundUnused }).pipe(
        Effect.provide(Gateway.simulated),
        // The use case's typed refusals, worded for the command line as every other subscriptions command words them.
        Effect.mapError((e) => {
          const refusal = e._tag === "BadInput" ? subscriptionErrorOf(e.refusal) : undefined
          return refusal === undefined ? e : new BadInput({ message: subscriptionErrorMessage(refusal), refusal })
        })
      )
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
  { id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")), resumeOn: Flag.String("resume-on").pipe(Flag.withDescription("resume automatically on DATE"), Flag.optional) },
  (flags) =>
    withApp(Effect.gen(function*() {
      const id = yield* idOf(flags.id)
      const resumeOn = Option.isSome(flags.resumeOn) ? yield* parseDateFlag("--resume-on", flags.resumeOn.value) : undefined
      const ctx = yield* commandContext
      yield* useCase((s) => s.pause(ctx, id, resumeOn))
      yield* Console.log((yield* Json) ? JSON.stringify({ id, status: "paused", resumeOn: resumeOn ?? null }) : `subscription ${id} paused${resumeOn === undefined ? "" : ` until ${resumeOn}`}`)
    }))
).pipe(Command.withDescription("Pause billing (optionally until a date)"))

const resume = Command.make("resume", { id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")) }, (flags) =>
  withApp(Effect.gen(function*() {
    const id = yield* idOf(flags.id)
    const ctx = yield* commandContext
    const { nextBillingDate: next, status } = yield* useCase((s) => s.resume(ctx, id))
    // past_due, not active, while an overdue invoice is open; unpaid while one is open after a failed charge (its retries
    // ran out and paused it), which the engine charges again on the resume day.
    const why = status === "unpaid" ? "the charge of an open invoice failed; it is charged again on the next engine run" : "an overdue invoice is open"
    yield* Console.log((yield* Json) ? JSON.stringify({ id, status, nextBillingDate: next }) : `subscription ${id} resumed${status === "active" ? "" : ` (${status.replace("_", " ")}: ${why})`}; next billing ${next}`)
  }))).pipe(Command.withDescription("Resume a paused subscription (never back-billing the pause)"))

const remove = Command.make("delete", { id: Argument.String("id").pipe(Argument.withDescription("the subscription's id")) }, (flags) =>
  withApp(Effect.gen(function*() {
    const id = yield* idOf(flags.id)
    const ctx = yield* commandContext
    const kept = yield* useCase((s) => s.delete(ctx, id))
    yield* Console.log((yield* Json)
      ? JSON.stringify({ id, deleted: true, deletedOn: ctx.today, invoicesKept: kept.invoices, openInvoices: kept.openInvoices })
      : `subscription ${id} deleted; its ${kept.invoices} invoice${kept.invoices === 1 ? "" : "s"} and journal are kept${kept.openInvoices === 0 ? "" : ` (${kept.openInvoices} still open: pay, void or write off with billcycle invoices)`}`)
  }))).pipe(Command.withDescription("Delete a canceled or expired subscription: gone from lists, views and the export; its invoices, payments and journal are kept, and reports do not change"))

export const subscriptionsCommand = Command.make("subscriptions").pipe(
  Command.withDescription("Subscriptions"),
  Command.withSubcommands([create, list, show, update, cancel, pause, resume, remove])
)

const eventsList = Command.make(
  "list",
  {
    subscription: Flag.String("subscription").pipe(Flag.withDescription("only the events of subscription ID"), Flag.optional),
    type: Flag.String("type").pipe(Flag.withDescription("e.g. subscription.status_changed"), Flag.optional),
    since: Flag.String("since").pipe(Flag.withDescription("only events on or after DATE"), Flag.optional),
    ...pageFlags
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const subscriptionId = Option.isSome(flags.subscription) ? yield* parseCountFlag("--subscription", flags.subscription.value) : undefined
      const since = Option.isSome(flags.since) ? yield* parseDateFlag("--since", flags.since.value) : undefined
      const typeProblem = Option.isSome(flags.type) ? eventTypeProblem(flags.type.value) : undefined
      if (typeProblem !== undefined) return yield* new UsageError({ message: `--type: ${typeProblem}` })
      const subscriptions = yield* Subscriptions
      yield* printList(flags, subscriptions.events({ subscriptionId, type: Option.getOrUndefined(flags.type), since }), {
        noun: "events", headers: ["ID", "ON", "TYPE", "SUB", "SOURCE", "DATA"], cells: (r) => [
          String(r.id), r.occurred_on, r.type, r.subscription_id === null ? "" : String(r.subscription_id), r.source, JSON.stringify(r.data).slice(0, 100)
        ]
      })
    }))
).pipe(Command.withDescription("The event journal, oldest first"))

export const eventsCommand = Command.make("events").pipe(Command.withDescription("The event journal"), Command.withSubcommands([eventsList]))

