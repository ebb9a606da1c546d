/** The rules' commands as users run them: engine --rules [--enroll-existing], enrollments list, rules explain, rules test. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { readRuleTests } from "../../../engine/runtime/index.ts"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

const ruleDir = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), "billcycle-rules-"))
  writeFileSync(join(dir, "r.rules"), text)
  return dir
}

const welcome = `rule hello
  when event subscription.created
  where subscription.frequency is "monthly" and contact.country is "NO"
then
  add contact to list "hello"
  wait 1 month
  add contact to list "hello_again"
end
`

describe("engine --rules, enrollments list, rules explain", () => {
  it("a newly loaded rule says on stderr that existing records are not enrolled; --enroll-existing enrolls them; the history shows it", () => {
    const { db, env } = freshCliDatabase()
    const at = (now: string, args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
    expect(at("2026-03-01", ["contacts", "add", "--email", "ola@example.no", "--name", "Ola", "--payment-method", "pm_ok", "--country", "NO"]).code).toBe(0)
    expect(at("2026-03-01", ["subscriptions", "create", "--contact", "ola@example.no", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    const first = ruleDir(welcome)
    const run = at("2026-03-01", ["engine", "--once", "--rules", first])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain("rules: 1 new rule (hello) start after event #")
    expect(run.stderr).toContain("existing records are not enrolled (give --enroll-existing to replay history)")
    expect(at("2026-03-01", ["--json", "enrollments", "list"]).stdout.trim()).toBe("[]")
    const explained = at("2026-03-01", ["rules", "explain", first, "--subscription", "1"])
    expect(explained.stdout).toContain("happened before the rule was loaded")

    const second = ruleDir(welcome.replace("rule hello", "rule hello_existing"))
    const replay = at("2026-03-02", ["engine", "--once", "--rules", second, "--enroll-existing"])
    expect(replay.code, replay.stderr).toBe(0)
    expect(replay.stderr).toContain("rules: 1 new rule (hello_existing) enroll existing records")
    const listed = JSON.parse(at("2026-03-02", ["--json", "enrollments", "list", "--subscription", "1"]).stdout)
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ ruleId: "hello_existing", subscriptionId: 1, status: "waiting", eventType: "subscription.created", enrolledOn: "2026-03-02", eventOn: "2026-03-01", wakeOn: "2026-04-02", stepsDone: 1, updatedOn: "2026-03-02" })
    const table = at("2026-03-02", ["enrollments", "list", "--rule", "hello_existing"]).stdout
    expect(table).toMatch(/hello_existing\s+1\s+2026-03-02\s+subscription\.created \(event #\d+\)\s+2026-03-01\s+waiting\s+1\s+2026-04-02/)

    const why = at("2026-03-02", ["rules", "explain", second, "--subscription", "1"]).stdout
    expect(why).toContain("hello_existing: enrolled on 2026-03-02 by subscription.created of 2026-03-01")
    expect(why).toContain("waiting until 2026-04-02")
    expect(why).toContain("left: add contact to list \"hello_again\"")
    expect(why).toContain("filter:\n    true   and\n      true   subscription.frequency is \"monthly\"  (\"monthly\")\n      true   contact.country is \"NO\"  (\"NO\")")
  }, 600_000)
})

describe("enrollments list: when the subscription was enrolled", () => {
  it("ENROLLED is the day the engine enrolled it (a tick on 2026-03-10), the event's own day (2026-03-01) its own column", () => {
    const { db, env } = freshCliDatabase()
    const at = (now: string, args: Array<string>) => runCli([...args, "--db", db, "--now", now], { env })
    const rules = ruleDir(`rule hello
  when event subscription.created
then
  add contact to list "hello"
end
`)
    expect(at("2026-03-01", ["engine", "--once", "--rules", rules]).code).toBe(0)
    expect(at("2026-03-01", ["contacts", "add", "--email", "ola@example.no", "--payment-method", "pm_ok"]).code).toBe(0)
    expect(at("2026-03-01", ["subscriptions", "create", "--contact", "ola@example.no", "--item", "name=Beans,price=25.00,frequency=monthly"]).code).toBe(0)
    const run = at("2026-03-10", ["engine", "--once", "--rules", rules])
    expect(run.code, run.stderr).toBe(0)
    const listed = JSON.parse(at("2026-03-10", ["--json", "enrollments", "list"]).stdout)
    expect(listed).toHaveLength(1)
    // updatedOn is the business day of its last step (--now), not the machine's day (it was `updated_at::date`).
    expect(listed[0]).toMatchObject({ ruleId: "hello", eventType: "subscription.created", enrolledOn: "2026-03-10", eventOn: "2026-03-01", updatedOn: "2026-03-10" })
    const table = at("2026-03-10", ["enrollments", "list"]).stdout
    expect(table).toMatch(/ENROLLED\s+TRIGGER\s+EVENT ON\s+STATUS/)
    expect(table).toMatch(/hello\s+1\s+2026-03-10\s+subscription\.created \(event #\d+\)\s+2026-03-01\s+done/)
    expect(at("2026-03-10", ["rules", "explain", rules, "--subscription", "1"]).stdout).toContain("hello: enrolled on 2026-03-10 by subscription.created of 2026-03-01")
  }, 600_000)
})

describe("--enroll-existing without --rules", () => {
  it("is bad usage (exit 2, naming both flags) for engine and simulate, and the clock does not move", () => {
    const { db, env } = freshCliDatabase()
    const engine = runCli(["engine", "--once", "--enroll-existing", "--db", db, "--now", "2026-03-01"], { env })
    expect(engine.code, engine.stderr).toBe(2)
    expect(engine.stderr).toContain("--enroll-existing")
    expect(engine.stderr).toContain("--rules")
    const simulate = runCli(["simulate", "--until", "2026-03-05", "--enroll-existing", "--db", db], { env })
    expect(simulate.code, simulate.stderr).toBe(2)
    expect(simulate.stderr).toContain("--rules")
    const clock = JSON.parse(runCli(["--json", "clock", "show", "--db", db], { env }).stdout)
    expect(clock.simulatedThrough ?? null).toBe(null)
  }, 600_000)
})

describe("rules test", () => {
  it("prints PASS/FAIL per case with a diff and exits 1 on a failing case; a bad fixture exits 2 naming the field", () => {
    const dir = ruleDir(welcome)
    writeFileSync(join(dir, "r.rules-test.json"), JSON.stringify({
      tests: [
        {
          name: "a Norwegian monthly subscriber is on the list",
          subscription: { start: "2026-01-01", items: ["name=Beans,price=25.00,frequency=monthly"], contact: { country: "NO" } },
          until: "2026-01-01",
          expect: { enrollments: ["hello waiting"], actions: ["2026-01-01 list hello"] }
        },
        {
          name: "a Swede is expected on it too (wrong on purpose)",
          subscription: { start: "2026-01-01", items: ["name=Beans,price=25.00,frequency=monthly"], contact: { country: "SE" } },
          until: "2026-01-01",
          expect: { actions: ["list hello"] }
        }
      ]
    }))
    const r = runCli(["rules", "test", dir])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toContain("  PASS  a Norwegian monthly subscriber is on the list")
    expect(r.stdout).toContain("  FAIL  a Swede is expected on it too (wrong on purpose)\n        - list hello")
    expect(r.stdout).toContain("2 cases: 1 passed, 1 failed")

    writeFileSync(join(dir, "r.rules-test.json"), JSON.stringify({ tests: [{ name: "x", subscription: { start: "2026-02-30", items: [] }, until: "2026-03-01" }] }))
    const bad = runCli(["rules", "test", dir])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("r.rules-test.json: tests[0].subscription.start: \"2026-02-30\" is not a date YYYY-MM-DD")
  }, 600_000)
})

describe("rules test refuses a fixture that would check nothing", () => {
  const start = { start: "2026-01-01", items: ["name=House blend,price=25.00,frequency=monthly"] }
  const fixture = (tests: unknown, top: Record<string, unknown> = {}) => {
    const file = join(mkdtempSync(join(tmpdir(), "billcycle-rule-tests-")), "a.rules-test.json")
    writeFileSync(file, JSON.stringify({ tests, ...top }))
    return file
  }
  const refusal = (file: string) => {
    try {
      readRuleTests(file)
    } catch (e) {
      return (e as Error).message
    }
    return "accepted"
  }

  it("a misspelt \"expects\" exits 2 naming the file, the case and the field, and runs no case", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-rules-"))
    writeFileSync(join(dir, "r.rules"), welcome)
    writeFileSync(join(dir, "a.rules-test.json"), JSON.stringify({ tests: [{ name: "typo", subscription: start, until: "2026-01-05", expects: { enrollments: ["nothing done"] } }] }))
    const r = runCli(["rules", "test", dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${join(dir, "a.rules-test.json")}: tests[0].expects: unknown field (did you mean "expect"?)`)
    expect(r.stdout).not.toContain("PASS")
  }, 120_000)

  it("an unknown key in any object of the format is refused with its path, and a near miss is named", () => {
    const expectOk = { enrollments: [] }
    const cases: ReadonlyArray<readonly [unknown, Record<string, unknown>, string]> = [
      [[{ name: "t", subscription: start, until: "2026-01-05", expect: { action: ["x"] } }], {}, `tests[0].expect.action: unknown field (did you mean "actions"?)`],
      [[{ name: "t", subscription: { ...start, paymentmethod: "pm_declined" }, until: "2026-01-05", expect: expectOk }], {}, `tests[0].subscription.paymentmethod: unknown field (did you mean "payment_method"?)`],
      [[{ name: "t", subscription: { ...start, contact: { contry: "NO" } }, until: "2026-01-05", expect: expectOk }], {}, `tests[0].subscription.contact.contry: unknown field (did you mean "country"?)`],
      [[{ name: "t", subscription: start, until: "2026-01-05", expect: expectOk, evnets: [] }], {}, `tests[0].evnets: unknown field (did you mean "events"?)`],
      [[{ name: "t", subscription: start, until: "2026-01-05", expect: expectOk, events: [{ on: "2026-01-02", pase: true }] }], {}, `tests[0].events[0].pase: unknown field (did you mean "pause"?)`],
      [[{ name: "t", subscription: start, until: "2026-01-05", expect: expectOk }], { test: [] }, `test: unknown field (did you mean "tests"?)`],
      [[{ name: "t", subscription: start, until: "2026-01-05", expect: expectOk, zebra: 1 }], {}, `tests[0].zebra: unknown field (expected one of name, subscription, events, until, expect)`]
    ]
    for (const [tests, top, message] of cases) {
      const file = fixture(tests, top)
      expect(refusal(file)).toBe(`${file}: ${message}`)
    }
  })

  it("a case without expect, or with an empty one, is refused: it would pass whatever the rules do", () => {
    for (const expectation of [undefined, {}]) {
      const file = fixture([{ name: "checks nothing", subscription: start, until: "2026-01-05", ...(expectation === undefined ? {} : { expect: expectation }) }])
      expect(refusal(file)).toBe(`${file}: tests[0] ("checks nothing"): expects nothing: give expect.enrollments, expect.actions or both`)
    }
    // An empty list is a real expectation: the rules did nothing.
    expect(readRuleTests(fixture([{ name: "nothing happens", subscription: start, until: "2026-01-05", expect: { actions: [] } }]))).toHaveLength(1)
  })
})

describe("invoice, payment and event values in a rule's steps", () => {
  it("a rule on payment events reads the invoice and payment it is about, and the event's fields, in its filter and its texts", () => {
    const dir = ruleDir(`rule declined
  when event payment.failed
  where invoice.total >= 10.00 and payment.attempt is 1
then
  notify team "finance" "{{invoice.number}} {{invoice.status}}: {{payment.failure_reason}}, {{payment.amount}} (attempt {{payment.attempt}}, {{event.reason}})"
end

rule paid
  when event invoice.paid
then
  notify team "finance" "{{invoice.number}} paid {{invoice.total}}"
end
`)
    const box = { start: "2026-01-01", items: ["name=Box,price=25.00,frequency=monthly"] }
    writeFileSync(join(dir, "r.rules-test.json"), JSON.stringify({
      tests: [
        { name: "declined", subscription: { ...box, payment_method: "pm_declined" }, until: "2026-01-02", expect: { actions: ["2026-01-01 notify finance: INV-000001 open: card declined, 25.00 (attempt 1, card declined)"] } },
        { name: "paid", subscription: box, until: "2026-01-02", expect: { actions: ["2026-01-01 notify finance: INV-000001 paid 25.00"] } }
      ]
    }))
    const r = runCli(["rules", "test", dir])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain("2 cases: 2 passed, 0 failed")
  })

  it("an invoice or payment value in a rule that is not about one is refused (it never has a value)", () => {
    const r = runCli(["rules", "check", ruleDir(`rule welcome
  when event subscription.created
then
  notify team "finance" "{{invoice.number}}"
end
`)])
    expect(r.code).toBe(1)
    expect(r.stdout + r.stderr).toContain(`"invoice.number": invoice values are only known in a rule triggered by invoice or payment events (this one: subscription.created) [E113]`)
  })

  it("a rule without reenroll that listens to an event and to a date enrolls a subscription once, whichever fires first", () => {
    const dir = mkdtempSync(join(tmpdir(), "billcycle-rules-"))
    writeFileSync(join(dir, "m.rules"), `rule mix "Hello, once"
  when event subscription.created or 3 days after subscription.start_date
then
  notify team "finance" "hello"
end
`)
    const box = { start: "2026-01-01", items: ["name=Box,price=25.00,frequency=monthly"] }
    writeFileSync(join(dir, "m.rules-test.json"), JSON.stringify({
      tests: [{ name: "created, then its start date + 3 days", subscription: box, until: "2026-01-10", expect: { enrollments: ["mix done"], actions: ["2026-01-01 notify finance: hello"] } }]
    }))
    const r = runCli(["rules", "test", dir])
    expect(r.stdout + r.stderr).toContain("1 case: 1 passed, 0 failed")
    expect(r.code).toBe(0)
  })
})

