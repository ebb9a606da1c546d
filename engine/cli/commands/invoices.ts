/** `billcycle invoices list|show|pay|void|write-off`, `outbox list|retry`, `tasks list`, `lists show`: each calls one use case (Invoices, Outbox, Enrollments). */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { formatMajorAmount, InvoiceId, moneyJson } from "../../domain/index.ts"
import { shownLine, shownTotals } from "../../billing/index.ts"
import { Enrollments } from "../../enrollments/index.ts"
import { invoiceJson, invoiceSummaryJson, Invoices, Outbox } from "../../invoicing/index.ts"
import { commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { UsageError } from "../CliFailure.ts"
import { wordInvoiceRefusals } from "../refusals.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { periodText } from "../periodText.ts"
import { renderTable } from "../table.ts"
import { pageFlags, printList } from "../paging.ts"

const money = (minor: number, currency: string) => `${formatMajorAmount(minor, currency)} ${currency}`
const idArgument = (name: string, description: string) => Argument.String(name).pipe(Argument.withDescription(description))
const parseId = (flag: string, value: string) => parseCountFlag(flag, value)
/**
 * An invoice named on the command line: its id, or its number as invoices list prints it (INV-000001), branded at
 * the door. A number no invoice has is bad input naming INVOICE_ID.
 */
export const invoiceIdOf = (value: string) =>
  Effect.gen(function*() {
    const text = value.trim()
    if (text === "" || /^\d+$/.test(text)) return InvoiceId.make(yield* parseCountFlag("INVOICE_ID", value))
    const id = yield* (yield* Invoices).idOfNumber(text)
    if (id === undefined) return yield* new UsageError({ message: `INVOICE_ID: no invoice ${text} (an invoice's id or number, as in invoices list)` })
    return id
  })

const oneOf = (flag: string, value: Option.Option<string>, allowed: ReadonlyArray<string>) =>
  Option.isNone(value)
    ? Effect.succeed(undefined)
    : allowed.includes(value.value)
    ? Effect.succeed(value.value)
    : Effect.fail(new UsageError({ message: `${flag}: expected one of ${allowed.join(", ")}, got "${value.value}"` }))

const list = Command.make(
  "list",
  {
    subscription: Flag.String("subscription").pipe(Flag.withDescription("only the invoices of subscription ID"), Flag.optional),
    status: Flag.String("status").pipe(Flag.withDescription("open, paid, void or uncollectible"), Flag.optional),
    ...pageFlags
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const subscriptionId = Option.isSome(flags.subscription) ? yield* parseId("--subscription", flags.subscription.value) : undefined
      const status = yield* oneOf("--status", flags.status, ["open", "paid", "void", "uncollectible"])
      const invoices = yield* Invoices
      yield* printList(flags, invoices.list({ subscriptionId, status }), {
        noun: "invoices",
        json: invoiceSummaryJson,
        headers: ["ID", "NUMBER", "SUB", "PERIOD", "DUE", "TOTAL", "STATUS"],
        cells: (r) => [String(r.id), r.number, String(r.subscription_id), periodText(r, ".."), r.due_date, money(r.total, r.currency), r.status + (r.overdue_on !== null && r.status === "open" ? " (overdue)" : "")]
      })
    }))
).pipe(Command.withDescription("List invoices, by subscription or status"))

const show = Command.make("show", { id: idArgument("invoice-id", "the invoice's id or number (as in invoices list)") }, ({ id }) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const invoiceId = yield* invoiceIdOf(id)
    const found = yield* (yield* Invoices).show(invoiceId).pipe(wordInvoiceRefusals())
    if (json) return yield* Console.log(JSON.stringify(invoiceJson(found)))
    const { invoice, lines, attempts } = found
    const c = invoice.currency
    // As the invoice document shows them (billing/pricing.ts shownLine, shownTotals): qty × unit price − discount = amount; the amounts add up to the subtotal.
    const shown = lines.map((l) => shownLine({ unitPrice: l.unit_price, quantity: l.quantity, net: l.amount }))
    const totals = shownTotals(shown, invoice)
    yield* Console.log([
      `Invoice ${invoice.number} (id ${invoice.id}), subscription ${invoice.subscription_id}: ${invoice.status}`,
      `Period ${periodText(invoice, " .. ")}; issued ${invoice.issue_date}, due ${invoice.due_date}`,
      "",
      renderTable(["#", "ITEM", "QTY", "UNIT PRICE", "DISCOUNT", "TAX", "AMOUNT"], lines.map((l, i) => [
        String(l.line_no), l.name, String(l.quantity), money(l.unit_price, c), shown[i]!.discount === 0 ? "-" : `-${money(shown[i]!.discount, c)}`,
        l.tax_rate_ppm === null ? "-" : `${l.tax_rate_ppm / 10_000}%`, money(l.amount, c)
      ])),
      "",
      `Subtotal ${money(totals.subtotal, c)}  Discount ${money(totals.discount, c)}  Tax ${money(invoice.tax, c)}  Total ${money(invoice.total, c)}  Paid ${money(invoice.amount_paid, c)}${invoice.amount_refunded > 0 ? `  Refunded ${money(invoice.amount_refunded, c)}` : ""}`,
      "",
      attempts.length === 0 ? "No payment attempts." : renderTable(["ATTEMPT", "KIND", "KEY", "AMOUNT", "STATUS", "ON", "REASON"], attempts.map((a) => [
        String(a.attempt_number), a.kind, a.idempotency_key, money(a.amount, c), a.status, a.requested_on ?? "", a.failure_reason ?? ""
      ]))
    ].join("\n"))
  }))).pipe(Command.withDescription("Show an invoice with its lines and payment attempts"))

const pay = Command.make(
  "pay",
  { id: idArgument("invoice-id", "the invoice's id or number (as in invoices list)"), amount: Flag.String("amount").pipe(Flag.withDescription("the amount received, e.g. 25.00 (default: all that is due)"), Flag.optional) },
  ({ id, amount }) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const invoiceId = yield* invoiceIdOf(id)
      const ctx = yield* commandContext
      const result = yield* (yield* Invoices).pay(ctx, invoiceId, Option.getOrUndefined(amount)).pipe(wordInvoiceRefusals())
      yield* Console.log(json ? JSON.stringify({ ...result, amount: moneyJson(result.amount, result.currency), remaining: moneyJson(result.remaining, result.currency) }) : result.paid
        ? `invoice ${result.number} paid (${money(result.amount, result.currency)} received)`
        : `recorded ${money(result.amount, result.currency)} on invoice ${result.number}; ${money(result.remaining, result.currency)} still due`)
    }))
).pipe(Command.withDescription("Record a payment received outside the gateway"))

const closing = (name: "void" | "write-off", description: string) =>
  Command.make(name, { id: idArgument("invoice-id", "the invoice's id or number (as in invoices list)") }, ({ id }) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const invoiceId = yield* invoiceIdOf(id)
      const ctx = yield* commandContext
      const closed = yield* (yield* Invoices).close(ctx, invoiceId, name).pipe(wordInvoiceRefusals({ notFound: "INVOICE_ID: " }))
      if (json) return yield* Console.log(JSON.stringify({ ...closed, amount: moneyJson(closed.amount, closed.currency) }))
      const released = closed.subscriptionStatus === null ? "" : `; subscription ${closed.subscriptionId} ${closed.subscriptionStatus.from} → ${closed.subscriptionStatus.to}`
      yield* Console.log(`invoice ${closed.number} ${name === "void" ? "voided" : "written off"} (${money(closed.amount, closed.currency)} no longer due, status ${closed.status})${released}`)
    }))).pipe(Command.withDescription(description))

const voidCommand = closing("void", "Void an open (or written-off) invoice issued by mistake: nothing is owed, the number stays; a paid invoice is refunded instead")
const writeOff = closing("write-off", "Write off an open invoice as uncollectible (bad debt); a paid invoice is refunded instead")

export const invoicesCommand = Command.make("invoices").pipe(Command.withDescription("Invoices: never deleted; paid, voided or written off"), Command.withSubcommands([list, show, pay, voidCommand, writeOff]))

const outboxList = Command.make(
  "list",
  {
    status: Flag.String("status").pipe(Flag.withDescription("queued, sending, sent or failed"), Flag.optional),
    kind: Flag.String("kind").pipe(Flag.withDescription("email, notification or webhook"), Flag.optional),
    ...pageFlags
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const status = yield* oneOf("--status", flags.status, ["queued", "sending", "sent", "failed"])
      const kind = yield* oneOf("--kind", flags.kind, ["email", "notification", "webhook"])
      yield* printList(flags, (yield* Outbox).list({ status, kind }), {
        noun: "messages", headers: ["ID", "KIND", "TEMPLATE", "TO", "STATUS", "TRIES", "SUB", "CREATED", "ERROR"], cells: (r) => [
          String(r.id), r.kind, r.template ?? "", r.recipient, r.status, String(r.attempts), r.subscription_id === null ? "" : String(r.subscription_id), r.created_on, r.last_error ?? ""
        ]
      })
    }))
).pipe(Command.withDescription("List outbox messages: emails, notifications, webhooks"))

const outboxRetry = Command.make("retry", { id: idArgument("message-id", "the message's id (as in outbox list)") }, ({ id }) =>
  withApp(Effect.gen(function*() {
    const messageId = yield* parseId("ID", id)
    yield* (yield* Outbox).retry(messageId).pipe(wordInvoiceRefusals())
    yield* Console.log(`message ${messageId} queued again`)
  }))).pipe(Command.withDescription("Queue a failed message again"))

export const outboxCommand = Command.make("outbox").pipe(Command.withDescription("Messages waiting, sent or failed"), Command.withSubcommands([outboxList, outboxRetry]))

const tasksList = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(Effect.gen(function*() {
    yield* printList(flags, (yield* Enrollments).tasks, {
      noun: "tasks", headers: ["ID", "TASK", "FOR", "DUE", "SUB", "STATUS"], cells: (r) => [
        String(r.id), r.title, r.assignee ?? r.team ?? "", r.due_on ?? "", r.subscription_id === null ? "" : String(r.subscription_id), r.status
      ]
    })
  }))).pipe(Command.withDescription("Tasks created by rules"))

export const tasksCommand = Command.make("tasks").pipe(Command.withDescription("Tasks"), Command.withSubcommands([tasksList]))

const listsShow = Command.make("show", { name: Argument.String("list-name").pipe(Argument.withDescription("the list's name, as rules write it")), ...pageFlags }, ({ name, ...flags }) =>
  withApp(Effect.gen(function*() {
    yield* printList(flags, (yield* Enrollments).listMembers(name), {
      noun: "members", headers: ["CONTACT", "EMAIL", "NAME", "ADDED"], cells: (r) => [String(r.contact_id), r.email, r.name ?? "", r.added_on]
    })
  }))).pipe(Command.withDescription("Members of a contact list"))

export const listsCommand = Command.make("lists").pipe(Command.withDescription("Contact lists kept by rules"), Command.withSubcommands([listsShow]))
