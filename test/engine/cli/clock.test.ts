/**
 * The stored business clock (issue #13, finding 7), driven through the real
 * CLI: business time leaked out of `--now` and could run backwards. Each test
 * is one of the users' findings; dates far in the future (2099) stay in the
 * future of the real clock whenever the tests run.
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const store = () => {
  const { db, env } = freshCliDatabase()
  return (...args: Array<string>) => runCli([...args, "--db", db], { env })
}

// Each test drives the CLI a few times over; a loaded machine needs more than the default minute.
const cliTimeout = 300_000

const journalDates = (events: ReadonlyArray<{ occurred_on: string }>) => events.map((e) => e.occurred_on)

describe("billcycle clock: business time never runs backwards", () => {
  it("after simulating into the future, invoices pay without --now is recorded on the simulated day, in journal order", () => {
    const cli = store()
    expect(cli("contacts", "add", "--email", "ana@example.com", "--now", "2099-01-01").code).toBe(0)
    const created = cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=20.00", "--collection", "invoice:net-30", "--now", "2099-01-01")
    expect(created.code, created.stderr).toBe(0)
    const simulated = cli("simulate", "--until", "2099-01-10", "--now", "2099-01-01", "--json")
    expect(simulated.code, simulated.stderr).toBe(0)
    const [invoice] = JSON.parse(cli("invoices", "list", "--json").stdout) as Array<{ id: number }>
    const paid = cli("invoices", "pay", String(invoice!.id))
    expect(paid.code, paid.stderr).toBe(0)
    const events = JSON.parse(cli("events", "list", "--json").stdout) as Array<{ type: string; occurred_on: string }>
    expect(events.find((e) => e.type === "invoice.paid")?.occurred_on).toBe("2099-01-10")
    expect(journalDates(events)).toEqual([...journalDates(events)].sort())
  }, cliTimeout)

  it("on the real clock, a store ahead of the real date (a command ran with a later --now) is worked in at its day: commands without --now run there, not refused", () => {
    const cli = store()
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok", "--now", "2099-01-01").code).toBe(0)
    expect(cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=20.00", "--now", "2099-01-01").code).toBe(0)
    // It said "the store's day 2099-01-01 is after today's real date …" and exited 2, for a list.
    const listed = cli("subscriptions", "list", "--json")
    expect(listed.code, listed.stderr).toBe(0)
    expect((JSON.parse(listed.stdout) as Array<unknown>).length).toBe(1)
    expect(cli("contacts", "add", "--email", "bo@example.com").code).toBe(0)
    const events = JSON.parse(cli("events", "list", "--json").stdout) as Array<{ type: string; occurred_on: string }>
    expect(events.filter((e) => e.type === "contact.created").map((e) => e.occurred_on)).toEqual(["2099-01-01", "2099-01-01"])
    expect(JSON.parse(cli("clock", "show", "--json").stdout)).toMatchObject({ clock: "real", today: "2099-01-01", storeDay: "2099-01-01" })
    // The real-time engine does not start at a day ahead of the real date.
    const realTime = cli("engine", "--interval", "1")
    expect(realTime.code).toBe(2)
    expect(realTime.stderr).toMatch(/^billcycle: the store's clock is on 2099-01-01, in the future/)
  }, cliTimeout)

  it("a contact added on the real date does not hold back a subscription made with an earlier --now (catalogue changes are not billing's history)", () => {
    const cli = store()
    expect(cli("contacts", "add", "--email", "ana@example.com", "--payment-method", "pm_ok").code).toBe(0)
    expect(cli("products", "add", "--name", "Beans", "--sku", "BEANS", "--price", "20.00", "--currency", "USD", "--frequency", "monthly").code).toBe(0)
    // It said "--now: 2026-03-01 is before the store's day <the real date>" and exited 2.
    const created = cli("subscriptions", "create", "--contact", "ana@example.com", "--item", "sku=BEANS", "--now", "2026-03-01")
    expect(created.code, created.stderr).toBe(0)
    expect(cli("engine", "--once", "--now", "2026-03-01").code).toBe(0)
    // Billing's own history still holds: the engine may not go back before what it billed.
    const back = cli("engine", "--once", "--now", "2026-02-01")
    expect(back.code).toBe(2)
    expect(back.stderr).toContain("is before the store's day 2026-03-01")
  }, cliTimeout)

  it("simulate --now (or any --now) before the store's day exits 2 naming the store's day, and changes nothing", () => {
    const cli = store()
    expect(cli("engine", "--once", "--now", "2099-06-15").code).toBe(0)
    const back = cli("simulate", "--until", "2099-12-31", "--now", "2099-01-01")
    expect(back.code).toBe(2)
    expect(back.stderr).toBe("billcycle: --now: 2099-01-01 is before the store's day 2099-06-15: business time never runs backwards (billcycle clock show)\n")
    expect(back.stdout).toBe("")
    // A read with an earlier --now is refused too: one rule for every command.
    const read = cli("subscriptions", "list", "--now", "2099-06-14")
    expect(read.code).toBe(2)
    expect(read.stderr).toContain("before the store's day 2099-06-15")
    const shown = JSON.parse(cli("clock", "show", "--json").stdout)
    expect(shown).toMatchObject({ clock: "test", today: "2099-06-15", storeDay: "2099-06-15", simulatedThrough: "2099-06-15" })
  }, cliTimeout)

  it("BILLCYCLE_NOW set for a whole session: after simulate moved the store on, later commands run at the store's day instead of being refused; --now stays strict", () => {
    const { db, env } = freshCliDatabase()
    // CLI.md: BILLCYCLE_NOW is --now's environment variable. A session sets it once, as a script or test harness does.
    const session = (...args: Array<string>) => runCli([...args, "--db", db], { env: { ...env, BILLCYCLE_NOW: "2099-01-01" } })
    expect(session("contacts", "add", "--email", "ana@example.com").code).toBe(0)
    expect(session("subscriptions", "create", "--contact", "ana@example.com", "--item", "name=Beans,price=20.00", "--collection", "invoice:net-30").code).toBe(0)
    const simulated = session("simulate", "--until", "2099-01-10")
    expect(simulated.code, simulated.stderr).toBe(0)
    // Read after the simulation: it was refused (exit 2, "2099-01-01 is before the store's day 2099-01-10").
    const listed = session("invoices", "list", "--json")
    expect(listed.code, listed.stderr).toBe(0)
    const [invoice] = JSON.parse(listed.stdout) as Array<{ id: number }>
    const report = session("report", "mrr", "--from", "2099-01", "--to", "2099-01", "--format", "json")
    expect(report.code, report.stderr).toBe(0)
    // A write lands on the store's day, in journal order.
    const paid = session("invoices", "pay", String(invoice!.id))
    expect(paid.code, paid.stderr).toBe(0)
    const events = JSON.parse(session("events", "list", "--json").stdout) as Array<{ type: string; occurred_on: string }>
    expect(events.find((e) => e.type === "invoice.paid")?.occurred_on).toBe("2099-01-10")
    expect(journalDates(events)).toEqual([...journalDates(events)].sort())
    // A second simulate continues from the day after the last simulated one.
    const again = session("simulate", "--until", "2099-01-12", "--json")
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ from: "2099-01-11", until: "2099-01-12" })
    // An explicit --now before the store's day is still refused.
    const back = runCli(["subscriptions", "list", "--now", "2099-01-01", "--db", db], { env })
    expect(back.code).toBe(2)
    expect(back.stderr).toContain("before the store's day 2099-01-12")
  }, cliTimeout)

  it("the engine without --now runs on the store's test clock, and the real-time engine refuses a store whose clock is in the future", () => {
    const cli = store()
    expect(cli("simulate", "--until", "2099-01-03", "--now", "2099-01-01").code).toBe(0)
    const once = cli("engine", "--once", "--log-format", "json")
    expect(once.code, once.stderr).toBe(0)
    expect(JSON.parse(once.stdout.trim())).toMatchObject({ msg: "tick", today: "2099-01-03" })
    const realTime = cli("engine", "--interval", "1", "--rules", "examples/coffee-shop/rules")
    expect(realTime.code).toBe(2)
    expect(realTime.stderr).toMatch(/^billcycle: the store's clock is on 2099-01-03, in the future \(today's real date is \d{4}-\d{2}-\d{2}\): the real-time engine will not start/)
    // The refused start did not mark its rules loaded: a later run still sees them as new (and may replay history).
    expect(realTime.stderr).not.toContain("new rule")
    const later = cli("engine", "--once", "--rules", "examples/coffee-shop/rules")
    expect(later.stderr).toContain("rules: 3 new rules (welcome, unpaid_alert, renewal_offer)")
  }, cliTimeout)

  it("clock set | show | real: a test clock every command uses; never set back; real only once the real date has caught up", () => {
    const cli = store()
    expect(JSON.parse(cli("clock", "show", "--json").stdout)).toMatchObject({ clock: "real", storeDay: null, simulatedThrough: null })
    // A test clock in the past can go back to the real clock: the real date is later.
    expect(cli("clock", "set", "2000-01-01").code).toBe(0)
    const real = cli("clock", "real", "--json")
    expect(real.code, real.stderr).toBe(0)
    expect(JSON.parse(real.stdout)).toMatchObject({ clock: "real", storeDay: "2000-01-01" })
    const set = cli("clock", "set", "2099-03-01")
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(/^clock\s+test clock/)
    expect(set.stdout).toMatch(/today\s+2099-03-01/)
    // Every command without --now runs on the test clock.
    expect(cli("contacts", "add", "--email", "bo@example.com").code).toBe(0)
    const events = JSON.parse(cli("events", "list", "--json").stdout) as Array<{ type: string; occurred_on: string }>
    expect(events.map((e) => [e.type, e.occurred_on])).toEqual([["contact.created", "2099-03-01"]])
    const back = cli("clock", "set", "2099-02-01")
    expect(back.code).toBe(2)
    expect(back.stderr).toBe("billcycle: DATE: 2099-02-01 is before the store's day 2099-03-01: business time never runs backwards\n")
    const notYet = cli("clock", "real")
    expect(notYet.code).toBe(2)
    expect(notYet.stderr).toMatch(/^billcycle: clock real: the store's day 2099-03-01 is after today's real date \d{4}-\d{2}-\d{2}: business time never runs backwards/)
    expect(cli("clock", "show", "--now", "2099-04-01").code).toBe(2)
    expect(JSON.parse(cli("clock", "show", "--json").stdout)).toMatchObject({ clock: "test", today: "2099-03-01", storeDay: "2099-03-01" })
  }, cliTimeout)
})
