/**
 * The coffee-shop demo: a fresh embedded database, the shop's catalogue and
 * settings, a seeded year of customers replayed day by day through the real
 * commands and the real engine tick, then a short story of what happened,
 * invoices as HTML, emails as .eml files and the revenue table.
 */
import { Effect } from "effect"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { addDays, addMonthsClamped, toDayNumber } from "../../engine/billing/index.ts"
import type { CalendarDate, ItemSpec, PaymentTerms } from "../../engine/domain/index.ts"
import { formatMajorAmount, parseBillingTerms, parseItemSpec } from "../../engine/domain/index.ts"
import { runTick } from "../../engine/runtime/index.ts"
import type { EngineContext } from "../../engine/account/index.ts"
import { settleAttemptsNow } from "../../engine/payments/index.ts"
import type { TickSummary } from "../../engine/runtime/index.ts"
import { Database, InputError } from "../../engine/sql/index.ts"
import { loadSettings, saveSetting, BusinessClock, dayTime, makeEngineContext } from "../../engine/account/index.ts"
import { addContact, addProduct } from "../../engine/catalogue/index.ts"
import { loadInvoiceDocument, payInvoice } from "../../engine/invoicing/index.ts"
import {
  cancelSubscription, createSubscriptions, pauseSubscription, updateSubscription
} from "../../engine/subscriptions/index.ts"
import { createPaymentLink, openCheckoutSession, payCheckout } from "../../engine/checkout/index.ts"
import { buildReports, mrrSeries } from "../../reports/index.ts"
import type { DemoOptions, DemoResult, DemoRun } from "../../engine/cli/demoRunner.ts"
import { renderInvoice } from "../../templates/index.ts"
import { buildScenario, type SignUp } from "./scenario.ts"
import { products, settings } from "./shop.ts"

const items = (specs: ReadonlyArray<string>): Array<ItemSpec> => specs.map((s) => parseItemSpec(s) as ItemSpec)

const linkLanguages = [["en", "en-US"], ["nb", "nb-NO"], ["nl", "nl-NL"], ["fr", "fr-FR"], ["sv", "sv-SE"]] as const

/** About a sixth of the shop's customers buy the 1 kg plan (with or without the grinder) through the payment link, paying by card on the day. */
const soldThroughLink = (a: SignUp): boolean =>
  a.collection === "charge" && a.terms === "auto-renew" && a.startDelayDays === 0 &&
  (a.items.length === 1 ? a.items[0] === "sku=COFFEE-1KG" : a.items[1] === "sku=GRINDER-SETUP,one-time") &&
  Number(/\d+/.exec(a.customer.email)![0]) % 2 === 0

/** `billcycle demo` loads this by its path (engine/cli/demoRunner.ts). */
export const runDemo: DemoRun = Effect.fn("runDemo")(function*(options: DemoOptions) {
  const { sql } = yield* Database
  const clock = yield* BusinessClock
  const db = <A>(f: () => Promise<A>) => Effect.promise(f)
  rmSync(join(options.outDir, "invoices"), { recursive: true, force: true })
  rmSync(join(options.outDir, "mail"), { recursive: true, force: true })
  mkdirSync(join(options.outDir, "invoices"), { recursive: true })

  yield* db(async () => {
    for (const [k, v] of settings) await saveSetting(sql, k, v)
    for (const p of products) await addProduct(sql, { name: p.name, sku: p.sku, price: p.price, currency: p.currency, frequency: p.frequency })
    // The shop sells its 1 kg plan through a payment link, one per language (/l/coffee-club-en, …): the quantity is the buyer's, the grinder optional.
    const [kg] = await sql<Array<{ id: number }>>`select id::int as id from products where sku = 'COFFEE-1KG'`
    const [grinder] = await sql<Array<{ id: number }>>`select id::int as id from products where sku = 'GRINDER-SETUP'`
    for (const [language, locale] of linkLanguages) {
      await createPaymentLink(sql, options.start, {
        name: `Coffee club (${language})`, currency: "USD", terms: { _tag: "AutoRenew" }, start: { _tag: "AtCheckout" }, language, locale,
        items: [
          { productId: kg!.id, sku: "COFFEE-1KG", name: "Just one more cup – 1 kg", unitPrice: 2500, quantity: 1, frequency: { unit: "month", count: 1 }, optional: false, editableQuantity: { min: 1, max: 5 } },
          { productId: grinder!.id, sku: "GRINDER-SETUP", name: "Grinder rental setup", unitPrice: 1500, quantity: 1, frequency: undefined, optional: true }
        ],
        paymentTypes: ["card"], collectBillingAddress: false, collectShippingAddress: false, allowDiscountCodes: false, contactFields: [],
        confirmationText: "Thank you! Your first beans ship tomorrow."
      }, { slug: `coffee-club-${language}` })
    }
  })
  const end = addMonthsClamped(options.start, options.months)
  const plan = buildScenario({ customers: options.customers, start: options.start, months: options.months })
  const byDay = new Map<string, typeof plan>()
  for (const a of plan) {
    const list = byDay.get(a.day)
    if (list === undefined) byDay.set(a.day, [a])
    else list.push(a)
  }
  const subsOf = new Map<string, Array<number>>()
  const sellThroughLink: Array<SignUp> = []
  const subscriptionsOfEmail = async (email: string) =>
    (await sql<Array<{ id: number }>>`select s.id::int as id from subscriptions s join contacts c on c.id = s.contact_id where c.email = ${email} order by s.id`).map((r) => r.id)
  const totals: Record<string, number> = {}
  const add = (k: string, n: number) => { totals[k] = (totals[k] ?? 0) + n }
  const days = toDayNumber(end) - toDayNumber(options.start)
  for (let i = 0; i < days; i++) {
    const day = addDays(options.start, i)
    yield* clock.set(dayTime(day))
    const ctx: EngineContext = makeEngineContext(yield* db(() => loadSettings(sql)), day)
    const refunds: Array<number> = []
    for (const action of byDay.get(day) ?? []) {
      // A customer's action that the product refuses (pausing a canceled subscription) is skipped, as ops would.
      yield* db(async () => {
        try {
          switch (action._tag) {
            case "SignUp": {
              const c = action.customer
              if (soldThroughLink(action)) {
                sellThroughLink.push(action)
                break
              }
              await addContact(sql, { email: c.email, name: c.name, language: c.language, locale: c.locale, paymentMethod: c.paymentMethod, country: c.language === "en" ? "US" : c.language === "nb" ? "NO" : c.language === "sv" ? "SE" : c.language === "fr" ? "FR" : "NL" }, day)
              const [method, terms] = action.collection.split(":")
              const created = await createSubscriptions(sql, ctx, {
                contactEmail: c.email, items: items(action.items), start: action.startDelayDays > 0 ? { _tag: "DelayDays", days: action.startDelayDays } : { _tag: "Today" },
                terms: parseBillingTerms(action.terms)!, collection: method as "charge" | "invoice", paymentTerms: terms as PaymentTerms | undefined,
                paymentMethod: undefined, language: undefined, locale: undefined, reminders: action.reminders
              })
              subsOf.set(c.email, created.map((s) => s.id))
              add("signUps", 1)
              break
            }
            case "Upgrade":
              for (const id of subsOf.get(action.email) ?? await subscriptionsOfEmail(action.email)) await updateSubscription(sql, ctx, id, { items: items(action.items) })
              add("upgrades", 1)
              break
            case "Pause":
              for (const id of subsOf.get(action.email) ?? await subscriptionsOfEmail(action.email)) await pauseSubscription(sql, ctx, id, action.resumeOn)
              add("pauses", 1)
              break
            case "Cancel":
              for (const id of subsOf.get(action.email) ?? await subscriptionsOfEmail(action.email)) {
                const r = await cancelSubscription(sql, ctx, id, { atPeriodEnd: action.atPeriodEnd, refundUnused: action.refundUnused && !action.atPeriodEnd })
                if (r.refund !== undefined) refunds.push(r.refund.attemptId)
              }
              add("cancellations", 1)
              break
            case "PayInvoices": {
              const open = await sql<Array<{ id: number }>>`
                select i.id from invoices i join subscriptions s on s.id = i.subscription_id join contacts c on c.id = s.contact_id
                where c.email = ${action.email} and i.status = 'open' and i.collection_method = 'invoice' order by i.id`
              for (const inv of open) await payInvoice(sql, ctx, inv.id, undefined)
              add("invoicesPaidByTransfer", open.length)
              break
            }
          }
        } catch (e) {
          if (!(e instanceof InputError)) throw e
          add("actionsRefused", 1)
        }
      })
    }
    // Buyers who found the shop's payment link: they open it and pay on the checkout page (the use cases behind /l and /c).
    for (const action of sellThroughLink.splice(0)) {
      const c = action.customer
      const id = yield* openCheckoutSession(`coffee-club-${c.language}`).pipe(Effect.orDie)
      const answer = yield* payCheckout(id, {
        items: new Map([[0, { quantity: 1 }], [1, { include: action.items.length > 1 }]]), discountCode: "",
        buyer: { email: c.email, name: c.name, fields: [] }, paymentMethod: c.paymentMethod
      }).pipe(Effect.orDie)
      add(answer._tag === "Completed" ? "checkoutsCompleted" : answer._tag === "Processing" ? "checkoutsProcessing" : "checkoutsDeclined", 1)
      // A lost reply (pm_timeout) is completed by the engine's next tick: a sign-up too.
      if (answer._tag === "Completed" || answer._tag === "Processing") add("signUps", 1)
    }
    if (refunds.length > 0) yield* settleAttemptsNow(ctx, refunds)
    const s: TickSummary = yield* runTick({ batch: 500 })
    for (const k of ["invoiced", "charged", "failed", "retried", "overdue", "reminders", "delivered", "expired", "canceled", "resumed", "activated"] as const) add(k, s[k])
    if (options.progress) {
      const width = 30
      const done = Math.round(((i + 1) / days) * width)
      process.stderr.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${day}  invoices ${totals["invoiced"] ?? 0}  emails ${totals["delivered"] ?? 0} `)
    }
  }
  if (options.progress) process.stderr.write("\n")

  return yield* db(async (): Promise<DemoResult> => {
    const settingsNow = await loadSettings(sql)
    const byStatus = await sql<Array<{ status: string; n: number }>>`select status, count(*)::int as n from subscriptions group by 1 order by 2 desc, 1`
    const [inv] = await sql<Array<{ n: number; paid: number; open: number; uncollectible: number; billed: number; collected: number; refunded: number }>>`
      select count(*)::int as n, count(*) filter (where status = 'paid')::int as paid, count(*) filter (where status = 'open')::int as open,
             count(*) filter (where status = 'uncollectible')::int as uncollectible, coalesce(sum(total), 0)::int8 as billed,
             coalesce(sum(amount_paid), 0)::int8 as collected, coalesce(sum(amount_refunded), 0)::int8 as refunded from invoices`
    const [pay] = await sql<Array<{ charges: number; declined: number; retries: number; recovered: number }>>`
      select (select count(*) from sim_gateway_ledger where kind = 'charge' and outcome = 'succeeded')::int as charges,
             (select count(*) from sim_gateway_ledger where kind = 'charge' and outcome = 'declined')::int as declined,
             (select count(*) from payment_attempts where kind = 'charge' and attempt_number > 1)::int as retries,
             (select count(*) from status_history where from_status = 'unpaid' and to_status = 'active')::int as recovered`
    const [links] = await sql<Array<{ paid: number; settledLater: number; declined: number; taken: number }>>`
      select count(*) filter (where status = 'succeeded')::int as paid, count(*) filter (where status = 'succeeded' and check_count > 0)::int as "settledLater",
             count(*) filter (where status = 'failed')::int as declined, coalesce(sum(amount) filter (where status = 'succeeded'), 0)::int8 as taken
      from checkout_payments`
    const mail = await sql<Array<{ template: string; n: number }>>`select template, count(*)::int as n from outbox where status = 'sent' group by 1 order by 2 desc`
    const langs = await sql<Array<{ language: string; n: number }>>`select coalesce(language, 'en') as language, count(*)::int as n from outbox where kind = 'email' group by 1 order by 1`
    // A few invoices in each language, as documents.
    const picks = await sql<Array<{ id: number; number: string; language: string }>>`
      select id, number, language from (
        select i.id, i.number, coalesce(i.language, 'en') as language, row_number() over (partition by coalesce(i.language, 'en') order by i.id) as k
        from invoices i) x where k <= 3 order by language, id`
    const invoiceFiles: Array<string> = []
    for (const p of picks) {
      const doc = await loadInvoiceDocument(sql, p.id, settingsNow)
      const file = join(options.outDir, "invoices", `${p.number}.${doc.language}.html`)
      writeFileSync(file, renderInvoice(doc.data, { language: doc.language, locale: doc.locale }))
      invoiceFiles.push(file)
    }
    const mrr = await mrrSeries(sql, options.start.slice(0, 7), options.months, "USD")
    const usd = (minor: number) => `$${formatMajorAmount(Math.round(minor), "USD").replace(/\B(?=(\d{3})+(?!\d))/g, ",")}`
    // The full revenue report of the months simulated (what `billcycle report` computes), for out/report.html and
    // the table below: the console shows the report's own figures, by its definitions (METRICS.md).
    const lastMonth = addMonthsClamped(options.start, options.months - 1).slice(0, 7)
    const reports = await buildReports(sql, { from: options.start.slice(0, 7), to: lastMonth, currency: "USD" })
    const cents = (major: unknown) => Math.round(Number(major ?? 0) * 100)
    const lines = [
      `Bean There Coffee Co. — ${options.customers} customers, ${options.start} to ${addDays(end, -1)}`,
      "",
      `Subscriptions by status: ${byStatus.map((r) => `${r.status} ${r.n}`).join(", ")}`,
      `Invoices: ${inv!.n} (${inv!.paid} paid, ${inv!.open} open, ${inv!.uncollectible} uncollectible); billed ${usd(inv!.billed)}, collected ${usd(inv!.collected)}, refunded ${usd(inv!.refunded)}`,
      `Charges: ${pay!.charges} succeeded, ${pay!.declined} declined; ${pay!.retries} retries, ${pay!.recovered} subscriptions recovered from unpaid`,
      `Customers: ${totals["signUps"] ?? 0} sign-ups, ${totals["upgrades"] ?? 0} upgrades, ${totals["pauses"] ?? 0} pauses, ${totals["cancellations"] ?? 0} cancellations, ${totals["invoicesPaidByTransfer"] ?? 0} invoices paid by transfer`,
      `Payment links (/l/coffee-club-en, -nb, -nl, -fr, -sv): ${links!.paid} checkouts paid, ${usd(links!.taken)} taken at checkout; ${links!.settledLater} settled by the engine after a lost reply, ${links!.declined} card${links!.declined === 1 ? "" : "s"} declined at checkout`,
      `Emails sent: ${mail.map((m) => `${m.template} ${m.n}`).join(", ")}`,
      `Email languages: ${langs.map((l) => `${l.language} ${l.n}`).join(", ")}`,
      "",
      "Revenue (USD, month end)",
      `  ${"month".padEnd(8)} ${"MRR".padStart(12)} ${"subscribers".padStart(12)} ${"new".padStart(10)} ${"churned".padStart(10)}`,
      ...reports.movements.map((m, i) => `  ${String(m["month"]).padEnd(8)} ${usd(cents(m["mrr_end"])).padStart(12)} ${String(reports.mrr[i]?.["subscribers"] ?? 0).padStart(12)} ${usd(cents(m["new"])).padStart(10)} ${usd(cents(m["churn"])).padStart(10)}`),
      "",
      `Invoices as HTML: ${join(options.outDir, "invoices")}/ (${invoiceFiles.length} files, three per language)`,
      `Emails as .eml:   ${join(options.outDir, "mail")}/ (${mail.reduce((a, m) => a + m.n, 0)} files)`
    ]
    return { lines, totals, mrr, invoiceFiles, reports }
  })
})
