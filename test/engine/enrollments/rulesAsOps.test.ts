/**
 * The rule language used as ops use it, from the README alone: each rule is
 * written in a temp directory, run by the engine over business days, and
 * judged by `enrollments list` (who enrolled, once) and `rules check`.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const ruleDir = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-ops-rules-"))
  writeFileSync(join(dir, "ops.rules"), text)
  return dir
}

const store = () => {
  const { db, env } = freshCliDatabase()
  return (now: string, args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
}

describe("a rule on a subscription's cancellation day", () => {
  it("when subscription.canceled_on becomes known enrolls the subscription canceled, once, and not the other one", () => {
    const at = store()
    const dir = ruleDir(`rule goodbye
  when subscription.canceled_on becomes known
then
  add contact to list "canceled"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    for (const email of ["ann@example.com", "bo@example.com"]) {
      expect(at("2026-01-01", ["contacts", "add", "--email", email, "--payment-method", "pm_ok"]).code).toBe(0)
      expect(at("2026-01-01", ["subscriptions", "create", "--contact", email, "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    }
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-10", ["subscriptions", "cancel", "1"]).code).toBe(0)
    expect(at("2026-01-10", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-11", ["engine", "--once", "--rules", dir]).code).toBe(0)
    const listed = JSON.parse(at("2026-01-11", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; status: string }) => `${e.ruleId} ${e.subscriptionId} ${e.status}`)).toEqual(["goodbye 1 done"])
  }, 600_000)
})

describe("a rule on the number of payments made", () => {
  it("when subscription.payments_made becomes >= 2 enrolls a subscription on its second payment, once; one paid once is not enrolled; a payment's event sees it counted", () => {
    const at = store()
    const dir = ruleDir(`rule loyal
  when subscription.payments_made becomes >= 2
then
  add contact to list "loyal"
end

rule first_payment
  when event payment.succeeded
  where subscription.payments_made is 1
  reenroll
then
  add contact to list "first"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "ann@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Beans,price=25.00,frequency=annually"]).code).toBe(0)
    const run = at("2026-01-01", ["simulate", "--until", "2026-03-05", "--rules", dir])
    expect(run.code, run.stderr).toBe(0)
    const listed = JSON.parse(at("2026-03-05", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; enrolledOn: string }) => `${e.ruleId} ${e.subscriptionId} ${e.enrolledOn}`)).toEqual(["loyal 1 2026-02-01", "first_payment 2 2026-01-02", "first_payment 1 2026-01-02"])
  }, 600_000)
})

describe("rules explain after the engine ran", () => {
  it("a re-enrolling rule that enrolled on the latest event says so, not that it would enroll on it (the engine never enrolls twice on one event)", () => {
    const at = store()
    const dir = ruleDir(`rule failed_payment
  when event payment.failed
  where payment.amount >= 20.00
  reenroll
then
  notify team "finance" "{{contact.email}}: {{event.reason}}"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_declined"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    const listed = JSON.parse(at("2026-01-01", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; status: string }) => `${e.ruleId} ${e.subscriptionId} ${e.status}`)).toEqual(["failed_payment 1 done"])
    const explained = at("2026-01-01", ["rules", "explain", dir, "--subscription", "1"])
    expect(explained.code, explained.stderr).toBe(0)
    expect(explained.stdout).not.toContain("would enroll")
    expect(explained.stdout).toContain(`failed_payment: enrolled on 2026-01-01 by payment.failed of 2026-01-01 (event #${listed[0].eventId})`)
    expect(explained.stdout).toContain(`enrolled on 2026-01-01 by this payment.failed event (#${listed[0].eventId}) (done); it enrolls again on the next one`)
    expect(explained.stdout).toContain("next: event payment.failed: fires on the next payment.failed event")
    const json = JSON.parse(at("2026-01-01", ["--json", "rules", "explain", dir, "--subscription", "1"]).stdout)
    expect(json[0]).toMatchObject({ rule: "failed_payment", triggered: true, filter: true, wouldEnroll: false })
  }, 600_000)
})

describe("rules explain on an event the engine passed over", () => {
  it("a re-enrolling rule whose latest event came while an enrollment ran does not say it would enroll on it", () => {
    const at = store()
    const dir = ruleDir(`rule failed_payment
  when event payment.failed
  reenroll
then
  wait 10 days
  notify team "finance" "{{contact.email}} still failing"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_declined"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["simulate", "--until", "2026-01-12", "--rules", dir]).code).toBe(0)
    const listed = JSON.parse(at("2026-01-12", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; status: string; enrolledOn: string }) => `${e.ruleId} ${e.status} ${e.enrolledOn}`)).toEqual(["failed_payment done 2026-01-02"])
    const failures = JSON.parse(at("2026-01-12", ["--json", "events", "list", "--type", "payment.failed"]).stdout)
    expect(failures.length).toBeGreaterThan(1)
    const explained = at("2026-01-12", ["rules", "explain", dir, "--subscription", "1"])
    expect(explained.code, explained.stderr).toBe(0)
    expect(explained.stdout).not.toContain("would enroll on")
    expect(explained.stdout).toContain(`the engine read the payment.failed event (#${failures[failures.length - 1].id}) and did not enroll on it`)
  }, 600_000)
})

describe("a rules directory with no rule in it", () => {
  it("rules check and engine --rules exit 2 naming the directory: a typo in the path, or files named *.rule, ran the engine with no rule and enrolled nobody", () => {
    const at = store()
    const empty = mkdtempSync(join(tmpdir(), "billcycle-ops-empty-"))
    writeFileSync(join(empty, "welcome.rule"), `rule welcome\n  when event subscription.created\nthen\n  send email welcome to contact\nend\n`)
    const checked = at("2026-01-01", ["rules", "check", empty])
    expect(checked.code).toBe(2)
    expect(checked.stderr).toContain(`${empty}: no *.rules file`)
    for (const command of [["engine", "--once", "--rules", empty], ["simulate", "--until", "2026-01-03", "--rules", empty]]) {
      const run = at("2026-01-01", command)
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toContain(`--rules: ${empty} holds no *.rules file`)
    }
  }, 600_000)
})

describe("a rule on an event that changes the status", () => {
  it("when event payment.failed where subscription.status is \"unpaid\" enrolls on the first failure, which made it unpaid; a cancellation's event sees it canceled", () => {
    const at = store()
    const dir = ruleDir(`rule unpaid_failure
  when event payment.failed
  where subscription.status is "unpaid"
then
  add contact to list "unpaid"
end

rule canceled_now
  when event subscription.canceled
  where subscription.status is "canceled"
then
  add contact to list "canceled"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_declined"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "bo@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "ann@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "cancel", "2"]).code).toBe(0)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    const failures = JSON.parse(at("2026-01-01", ["--json", "events", "list", "--type", "payment.failed"]).stdout)
    const listed = JSON.parse(at("2026-01-01", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; eventId: number; enrolledOn: string }) => `${e.ruleId} ${e.subscriptionId} ${e.enrolledOn}`))
      .toEqual(["canceled_now 2 2026-01-01", "unpaid_failure 1 2026-01-01"])
    expect(listed[1].eventId).toBe(failures[0].id)
  }, 600_000)
})

describe("a rule on the first payment", () => {
  it("when subscription.payments_made becomes 1 enrolls on the first payment the engine charged, once (not on the second), whether billing starts the day of creation or later", () => {
    const at = store()
    const dir = ruleDir(`rule first_payment
  when subscription.payments_made becomes 1
  reenroll
then
  add contact to list "paid-once"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "ann@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "bo@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "bo@example.com", "--start", "2026-01-05", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    for (const day of ["2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-02-01", "2026-02-05"]) {
      const run = at(day, ["engine", "--once", "--rules", dir])
      expect(run.code, run.stderr).toBe(0)
    }
    const payments = JSON.parse(at("2026-02-05", ["--json", "events", "list", "--type", "payment.succeeded"]).stdout)
    const first = (sub: number) => payments.find((p: { subscription_id: number; id: number }) => p.subscription_id === sub).id
    const listed = JSON.parse(at("2026-02-05", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; enrolledOn: string; eventType: string; eventId: number }) => `${e.ruleId} ${e.subscriptionId} ${e.enrolledOn} ${e.eventType} #${e.eventId}`))
      .toEqual([`first_payment 2 2026-01-05 payment.succeeded #${first(2)}`, `first_payment 1 2026-01-01 payment.succeeded #${first(1)}`])
  }, 600_000)
})

describe("a rule on a subscription's payment method", () => {
  it("a contact's new card is a change of payment_method for its subscriptions that take the contact's: when subscription.payment_method becomes / changes enrolls them, not one with its own card", () => {
    const at = store()
    const dir = ruleDir(`rule new_card
  when subscription.payment_method becomes "pm_fail_once"
then
  add contact to list "new-card"
end

rule card_swap
  when subscription.payment_method changes from "pm_ok" to "pm_fail_once"
then
  add contact to list "swapped"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "ann@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--payment-method", "pm_ok", "--item", "name=Tea,price=15.00,frequency=monthly"]).code).toBe(0)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-03", ["contacts", "update", "ann@example.com", "--payment-method", "pm_fail_once"]).code).toBe(0)
    const run = at("2026-01-03", ["engine", "--once", "--rules", dir])
    expect(run.code, run.stderr).toBe(0)
    const listed = JSON.parse(at("2026-01-03", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; subscriptionId: number; enrolledOn: string }) => `${e.ruleId} ${e.subscriptionId} ${e.enrolledOn}`).sort())
      .toEqual(["card_swap 1 2026-01-03", "new_card 1 2026-01-03"])
  }, 600_000)
})

describe("a rule on the next billing date", () => {
  it("a renewal moves next_billing_date: changes from / becomes fire on the renewal that moves it, once; the creation sees the date it was created with", () => {
    const at = store()
    const dir = ruleDir(`rule second_period
  when subscription.next_billing_date changes from 2026-02-01 to 2026-03-01
then
  add contact to list "second"
end

rule into_april
  when subscription.next_billing_date becomes >= 2026-04-01
then
  add contact to list "april"
end

rule welcome
  when event subscription.created
  where subscription.next_billing_date is 2026-01-01
then
  add contact to list "welcome"
end
`)
    expect(at("2026-01-01", ["engine", "--once", "--rules", dir]).code).toBe(0)
    expect(at("2026-01-01", ["contacts", "add", "--email", "ann@example.com", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-01-01", ["subscriptions", "create", "--contact", "ann@example.com", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    for (const day of ["2026-01-01", "2026-02-01", "2026-02-02", "2026-03-01", "2026-04-01"]) {
      const run = at(day, ["engine", "--once", "--rules", dir])
      expect(run.code, run.stderr).toBe(0)
    }
    const invoices = JSON.parse(at("2026-04-01", ["--json", "events", "list", "--type", "invoice.created"]).stdout)
    const listed = JSON.parse(at("2026-04-01", ["--json", "enrollments", "list"]).stdout)
    expect(listed.map((e: { ruleId: string; enrolledOn: string; eventType: string; eventId: number }) => `${e.ruleId} ${e.enrolledOn} ${e.eventType} #${e.eventId}`)).toEqual([
      `into_april 2026-03-01 invoice.created #${invoices[2].id}`,
      `second_period 2026-02-01 invoice.created #${invoices[1].id}`,
      "welcome 2026-01-01 subscription.created #2"
    ])
  }, 600_000)
})

describe("rules explain on a file that is not UTF-8", () => {
  it("names the first bad byte once (E003), as rules check does, not again as an unexpected character", () => {
    const at = store()
    const dir = ruleDir("")
    const file = join(dir, "ops.rules")
    writeFileSync(file, Buffer.concat([Buffer.from("rule caf"), Buffer.from([0xe9]), Buffer.from("\n  when event subscription.created\nthen\n  add contact to list \"x\"\nend\n")]))
    const checked = at("2026-01-01", ["rules", "check", file])
    expect(checked.code).toBe(1)
    const explained = at("2026-01-01", ["rules", "explain", file, "--subscription", "1"])
    expect(explained.code).toBe(1)
    expect(explained.stderr.match(/error: /g)).toHaveLength(1)
    expect(explained.stderr).toContain(`${file}:1:9: error: not valid UTF-8: byte 0xE9; save the file as UTF-8 [E003]`)
    expect(explained.stderr).not.toContain("E001")
    expect(explained.stderr).toContain("billcycle: 1 error in rule files")
    expect(checked.stdout.match(/error: /g)).toHaveLength(1)
  }, 600_000)
})
