/**
 * The store refuses with typed errors carrying data; the CLI words them exactly as before, naming the flag,
 * and exits 2 with nothing written.
 */
import { describe, expect, it } from "vitest"
import { subscriptionErrorMessage } from "../../../engine/subscriptions/index.ts"
import {
  ContactNotFound, ItemDoesNotFit, NextBillingDateRefused, NoPaymentMethod, NothingToUpdate, PurchaseRefused, RefundAtPeriodEnd, ResumeDateNotAfterToday,
  StartBeforeToday, SubscriptionDeleted, SubscriptionNotFound, TransitionRefused
} from "../../../engine/domain/index.ts"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("subscriptions: typed refusals in the CLI's words", () => {
  it("each refusal reads as the message the command printed before", () => {
    const cases: Array<[Parameters<typeof subscriptionErrorMessage>[0], string]> = [
      [new PurchaseRefused({ reason: { _tag: "NoItems" } }), "--item: a subscription needs at least one item"],
      [new ContactNotFound({ email: "zed@example.com" }), "--contact: no contact with email zed@example.com (add it with: billcycle contacts add --email zed@example.com)"],
      [new PurchaseRefused({ reason: { _tag: "NoRecurringItem" } }), "--item: a subscription needs at least one recurring item (all items are one-time)"],
      [new PurchaseRefused({ reason: { _tag: "MixedCurrencies", currencies: ["USD", "EUR"] } }), "--item: items billed together must share a currency, got USD and EUR"],
      [new NoPaymentMethod({ contact: "bo@example.com" }), "--payment-method: charging automatically needs a saved payment method (give --payment-method, or save one on contact bo@example.com, or use --collection invoice)"],
      [new SubscriptionNotFound({ id: 7 }), "subscription 7 does not exist"],
      [new SubscriptionDeleted({ id: 7, deletedOn: "2026-02-03" }), "subscription 7 was deleted on 2026-02-03 (its invoices remain: billcycle invoices list --subscription 7)"],
      [new TransitionRefused({ id: 7, status: "canceled", action: "change" }), "subscription 7 is canceled: it can no longer be changed"],
      [new TransitionRefused({ id: 7, status: "paused", action: "cancel" }), "subscription 7 is paused: it cannot be canceled"],
      [new TransitionRefused({ id: 7, status: "scheduled", action: "pause" }), "subscription 7 is scheduled: only an active, past-due or unpaid subscription can be paused"],
      [new TransitionRefused({ id: 7, status: "active", action: "resume" }), "subscription 7 is active: only a paused subscription can be resumed"],
      [new TransitionRefused({ id: 7, status: "active", action: "delete" }), "subscription 7 is active: only canceled or expired subscriptions can be deleted"],
      [new ItemDoesNotFit({ id: 7, reason: { _tag: "Currency", subscription: "USD", item: "EUR" } }), "--item: the subscription bills in USD, not EUR"],
      [new ItemDoesNotFit({ id: 7, reason: { _tag: "Frequency", item: "Beans", itemFrequency: "annually", subscription: "monthly" } }), "--item: Beans bills annually, the subscription monthly; a different frequency needs its own subscription"],
      [new NextBillingDateRefused({ id: 7, reason: { _tag: "InThePast", date: "2026-02-01", today: "2026-03-01" } }), "--next-billing-date: 2026-02-01 is in the past (today is 2026-03-01)"],
      [new NextBillingDateRefused({ id: 7, reason: { _tag: "NothingToBill" } }), "--next-billing-date: subscription 7 has nothing more to bill"],
      [new NextBillingDateRefused({ id: 7, reason: { _tag: "InvoicedPeriod", date: "2028-02-10", periodStart: "2028-01-31", lastDay: "2028-02-28", periodEnd: "2028-02-29", invoice: "INV-000002" } }),
        "--next-billing-date: 2028-02-10 is inside 2028-01-31..2028-02-28, already invoiced (INV-000002); give 2028-02-29 or later"],
      [new NothingToUpdate({ id: 7 }), "nothing to update: give --item, --next-billing-date or --payment-method"],
      [new RefundAtPeriodEnd({ id: 7 }), "--refund-unused: nothing is unused when canceling at period end"],
      [new ResumeDateNotAfterToday({ id: 7, resumeOn: "2026-03-01", today: "2026-03-01" }), "--resume-on: 2026-03-01 must be after today (2026-03-01)"],
      [new StartBeforeToday({ date: "2026-11-01", today: "2027-05-01" }), "--start: 2026-11-01 is before today (2027-05-01); a subscription starts today or later, billing never reaches back"]
    ]
    for (const [error, message] of cases) expect(subscriptionErrorMessage(error)).toBe(message)
  })

  it("a refused create, pause and cancel exit 2 with the flag named, and write nothing", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    expect((await cli("products", "add", "--name", "Coffee", "--sku", "COFFEE", "--price", "25.00", "--frequency", "monthly")).code).toBe(0)
    expect((await cli("contacts", "add", "--email", "bo@example.com")).code).toBe(0)
    const noContact = await cli("subscriptions", "create", "--contact", "zed@example.com", "--item", "sku=COFFEE")
    expect([noContact.code, noContact.stderr]).toEqual([2, expect.stringContaining("--contact: no contact with email zed@example.com (add it with: billcycle contacts add --email zed@example.com)")])
    const noCard = await cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=COFFEE")
    expect([noCard.code, noCard.stderr]).toEqual([2, expect.stringContaining("--payment-method: charging automatically needs a saved payment method (give --payment-method")])
    const created = await cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "sku=COFFEE", "--collection", "invoice", "--start", "2026-04-01")
    expect(created.code).toBe(0)
    const pause = await cli("subscriptions", "pause", "1")
    expect([pause.code, pause.stderr]).toEqual([2, expect.stringContaining("subscription 1 is scheduled: only an active, past-due or unpaid subscription can be paused")])
    const cancel = await cli("subscriptions", "cancel", "1", "--at-period-end", "--refund-unused")
    expect([cancel.code, cancel.stderr]).toEqual([2, expect.stringContaining("--refund-unused: nothing is unused when canceling at period end")])
    const missing = await cli("subscriptions", "resume", "99")
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("subscription 99 does not exist")])
    const events = await cli("events", "list", "--json")
    expect(events.stdout.match(/"type"/g)?.length).toBe(3) // contact.created, subscription.created, its status change
  }, 300_000)
  it("resume says why the subscription is not active: unpaid after its retries ran out names the failed charge, not an overdue invoice (found by an audit)", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (now: string, ...args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
    expect((await cli("2026-03-01", "settings", "set", "retry-days", "1")).code).toBe(0)
    expect((await cli("2026-03-01", "settings", "set", "after-retries", "pause")).code).toBe(0)
    expect((await cli("2026-03-01", "contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_declined")).code).toBe(0)
    expect((await cli("2026-03-01", "subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Tea,price=9.00")).code).toBe(0)
    expect((await cli("2026-03-01", "engine", "--once")).code).toBe(0)
    expect((await cli("2026-03-02", "engine", "--once")).code).toBe(0)
    const resumed = await cli("2026-03-03", "subscriptions", "resume", "1")
    expect([resumed.code, resumed.stdout.trim()]).toEqual([0, "subscription 1 resumed (unpaid: the charge of an open invoice failed; it is charged again on the next engine run); next billing 2026-04-01"])
  }, 300_000)
  it("a blank payment-method token is refused by contacts add, subscriptions create and update (exit 2, nothing written), not saved to be declined (found by an audit)", async () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db, "--now", "2026-03-01"], { env })
    const blankContact = await cli("contacts", "add", "--email", "bo@example.com", "--payment-method", " ")
    expect([blankContact.code, blankContact.stderr]).toEqual([2, expect.stringContaining("--payment-method: a payment-method token cannot be empty")])
    expect((await cli("contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_ok")).code).toBe(0)
    const blankCreate = await cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Tea,price=9.00", "--payment-method", "")
    expect([blankCreate.code, blankCreate.stderr]).toEqual([2, expect.stringContaining("--payment-method: a payment-method token cannot be empty")])
    expect((await cli("subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Tea,price=9.00")).code).toBe(0)
    for (const token of ["", "  ", "pm ok"]) {
      const r = await cli("subscriptions", "update", "1", "--payment-method", token)
      expect(r.code, token).toBe(2)
      expect(r.stderr).toContain("--payment-method: a payment-method token")
    }
    const shown = JSON.parse((await cli("subscriptions", "show", "1", "--json")).stdout) as { payment_method: string | null }
    expect(shown.payment_method).toBe("pm_ok")
    const events = await cli("events", "list", "--json")
    expect(events.stdout).not.toContain("property_changed")
  }, 300_000)

  it("update --next-billing-date inside a period already invoiced exits 2 naming the flag, the period and its invoice, and changes nothing", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli([...args, "--db", db], { env })
    expect(cli("clock", "set", "2028-01-31").code).toBe(0)
    expect(cli("contacts", "add", "--email", "a@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "a@example.com", "--item", "name=Box,price=10.00").code).toBe(0)
    expect(cli("engine", "--once").code).toBe(0)
    const [invoice] = JSON.parse(cli("invoices", "list", "--json").stdout) as Array<{ number: string }>
    const before = [cli("subscriptions", "show", "1").stdout, cli("events", "list", "--all", "--json").stdout]
    const r = cli("subscriptions", "update", "1", "--item", "name=Box,price=10.00,qty=2", "--next-billing-date", "2028-02-10")
    expect([r.code, r.stderr.trim()]).toEqual([2, `billcycle: --next-billing-date: 2028-02-10 is inside 2028-01-31..2028-02-28, already invoiced (${invoice!.number}); give 2028-02-29 or later`])
    expect([cli("subscriptions", "show", "1").stdout, cli("events", "list", "--all", "--json").stdout]).toEqual(before)
  }, 300_000)
})
