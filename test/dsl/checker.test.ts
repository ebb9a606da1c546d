/** The checker's answers to issue #15: what an ops person coming from HubSpot workflows ran into. */
import { describe, expect, it } from "vitest"
import { checkRuleSources, checkSource, defaultCheckContext, parseDeclarations } from "../../dsl/index.ts"

const rule = (body: string, when = "event subscription.created", id = "r") => `rule ${id}\n  when ${when}\nthen\n${body}\nend\n`
const at = (source: string) => checkSource(source).map((d) => `${d.range.line}:${d.range.col} ${d.code}`)

describe("rule ids across the files of a directory", () => {
  it("the same id in two files is an error at both places, each naming the other", () => {
    const results = checkRuleSources([
      { file: "rules/a.rules", source: rule("  wait 1 day", undefined, "welcome") },
      { file: "rules/b.rules", source: "# second\n" + rule("  wait 2 days", undefined, "welcome") + rule("  wait 1 day", undefined, "other") }
    ], defaultCheckContext)
    const a = results.find((r) => r.file === "rules/a.rules")!.diagnostics
    const b = results.find((r) => r.file === "rules/b.rules")!.diagnostics
    expect(a.map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["1:6 E114"])
    expect(a[0]!.message).toContain("rules/b.rules:2")
    expect(b.map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["2:6 E114"])
    expect(b[0]!.message).toContain("rules/a.rules:1")
  })

  it("distinct ids in several files check clean", () => {
    const results = checkRuleSources([{ file: "a.rules", source: rule("  wait 1 day", undefined, "a") }, { file: "b.rules", source: rule("  wait 1 day", undefined, "b") }], defaultCheckContext)
    expect(results.flatMap((r) => r.diagnostics)).toEqual([])
  })
})

describe("dates are calendar dates", () => {
  it.each([["2026-13-45"], ["2026-02-29"], ["2026-04-31"], ["2026-00-10"]])("%s is an error at its own place", (date) => {
    const source = `rule r\n  when event subscription.created\n  where subscription.end_date < ${date}\nthen\nend\n`
    expect(at(source)).toEqual(["3:33 E116"])
  })

  it("a real date, a leap day in a leap year, checks clean", () => {
    expect(at(`rule r\n  when subscription.end_date becomes 2028-02-29\nthen\nend\n`)).toEqual([])
  })

  it("a date in a changes-trigger and in a set action is checked too", () => {
    expect(at(`rule r\n  when subscription.end_date changes from 2026-01-31 to 2026-02-30\nthen\nend\n`)).toEqual(["2:57 E116"])
  })
})

describe("every error at its own line and column", () => {
  it("a duration without a unit in a task is reported at the number, with the units", () => {
    const source = rule('  create task "Call" for owner due in 2')
    expect(at(source)).toEqual(["4:39 E108"])
    expect(checkSource(source)[0]!.message).toContain("days")
  })

  it("a wait without a unit, followed by another action", () => {
    expect(at(rule('  wait 2\n  notify owner "x"'))).toEqual(["4:8 E108"])
  })

  it("a date trigger without a unit", () => {
    expect(at(`rule r\n  when 14 before subscription.end_date\nthen\nend\n`)).toEqual(["2:8 E108"])
  })

  it("no diagnostic of a broken file sits at 1:1 unless the problem is there", () => {
    const broken = [rule("  wait"), rule("  set subscription.owner to"), rule("  notify team"), rule("  notify owner"), rule('  notify team "finance"'), rule("  send email to contact"), rule("  create task for owner due in 2 days")]
    for (const source of broken) {
      const found = checkSource("\n\n" + source)
      expect(found.length).toBeGreaterThan(0)
      for (const d of found) expect(d.range.line).toBeGreaterThan(2)
    }
  })
})

describe("values that can never match", () => {
  it("a lowercase currency is a warning that names the code to write", () => {
    const found = checkSource(`rule r\n  when event subscription.created\n  where subscription.currency is "usd"\nthen\nend\n`)
    expect(found.map((d) => `${d.range.line}:${d.range.col} ${d.code} ${d.severity}`)).toEqual(["3:34 W205 warning"])
    expect(found[0]!.hint).toBe('write "USD"')
  })

  it("a lowercase country code never matches (countries are stored in capitals): W205 naming the code to write", () => {
    const found = checkSource(`rule r\n  when event subscription.created\n  where contact.country is "no"\nthen\nend\n`)
    expect(found.map((d) => `${d.range.line}:${d.range.col} ${d.code} ${d.severity}`)).toEqual(["3:28 W205 warning"])
    expect(found[0]!.hint).toBe('write "NO"')
    expect(at(`rule r\n  when event subscription.created\n  where contact.country in ["NO", "se"]\nthen\nend\n`)).toEqual(["3:35 W205"])
    expect(at(`rule r\n  when event subscription.created\n  where contact.country in ["NO", "SE"]\nthen\nend\n`)).toEqual([])
  })

  it("an unknown currency is a warning, in a list and in a trigger too", () => {
    expect(at(`rule r\n  when subscription.currency becomes "XYZ"\nthen\nend\n`)).toEqual(["2:38 W205"])
    expect(at(`rule r\n  when event subscription.created\n  where subscription.currency in ["EUR", "usd"]\nthen\nend\n`)).toEqual(["3:42 W205"])
    expect(at(`rule r\n  when event subscription.created\n  where subscription.currency in ["EUR", "NOK", "JPY"]\nthen\nend\n`)).toEqual([])
  })

  it("an unknown list, when the lists are declared, names the declared ones", () => {
    const context = { ...defaultCheckContext, lists: ["renewals", "vip"] }
    const found = checkSource(rule('  remove contact from list "renewal"'), context)
    expect(found.map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["4:28 E106"])
    expect(found[0]!.message).toContain("renewals, vip")
  })

  it("an unknown team names the teams, in a task as in a notification", () => {
    const found = checkSource(rule('  create task "x" for team "finanse" due in 2 days'))
    expect(found.map((d) => d.code)).toEqual(["E107"])
    expect(found[0]!.message).toContain("finance, support")
  })
})

describe("HubSpot's phrasing", () => {
  it("`is` in a when line gets a hint: a trigger needs becomes", () => {
    const found = checkSource(`rule r\n  when subscription.status is "unpaid"\nthen\nend\n`)
    expect(found.map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["2:28 E010"])
    expect(found[0]!.hint).toBe('a trigger needs "becomes": when subscription.status becomes "unpaid" ("is" belongs in "where")')
  })
})

describe("declarations: custom properties, teams, lists", () => {
  const declarations = `{
  "properties": {
    "grind": { "type": "string", "label": "Grind size" },
    "cups_per_week": { "type": "number" }
  },
  "teams": ["finance", "baristas"],
  "lists": ["renewals"]
}`

  it("a declared custom property can be read and set; teams and lists are the declared ones", () => {
    const { context, diagnostics } = parseDeclarations(declarations)
    expect(diagnostics).toEqual([])
    const source = rule('  set subscription.grind to "fine"\n  notify team "baristas" "x"\n  add contact to list "renewals"', "subscription.cups_per_week becomes >= 3")
    expect(checkSource(source, context)).toEqual([])
    expect(checkSource(rule("  set subscription.grind to 5"), context).map((d) => `${d.range.line}:${d.range.col} ${d.code}`)).toEqual(["4:29 E102"])
    expect(at(rule('  set subscription.grind to "fine"'))).toEqual(["4:7 E101"])
    expect(checkSource(rule('  notify team "sales" "x"\n  add contact to list "vip"'), context).map((d) => d.code)).toEqual(["E107", "E106"])
  })

  it("a bad declaration is a diagnostic at its line: an unknown type, a bad name, bad JSON", () => {
    const bad = parseDeclarations(`{\n  "properties": {\n    "Grind size": { "type": "string" },\n    "tier": { "type": "text" }\n  }\n}`)
    expect(bad.diagnostics.map((d) => `${d.range.line} ${d.code}`)).toEqual(["3 E117", "4 E117"])
    expect(bad.diagnostics[1]!.message).toContain("string, number, money, date, boolean")
    expect(parseDeclarations("{ \"teams\": [\"a\",, ] }").diagnostics.map((d) => d.code)).toEqual(["E117"])
  })
})

describe("a filter that contradicts the rule's triggers (never true when they fire)", () => {
  const warnings = (source: string) => checkSource(source).filter((d) => d.severity === "warning").map((d) => `${d.range.line}:${d.range.col} ${d.code}`)

  it("becomes one status, filtered on another: W203 at the filter", () => {
    const source = `rule r\n  when subscription.status becomes "active"\n  where subscription.status is "canceled"\nthen\nend\n`
    expect(warnings(source)).toEqual(["3:9 W203"])
    expect(checkSource(source)[0]!.message).toContain('subscription.status becomes "active"')
  })

  it("inside a conjunction, with in-lists, negations and amounts", () => {
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  where subscription.mrr > 10.00 and subscription.status in ["active", "paused"]\nthen\nend\n`)).toEqual(["3:38 W203"])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  where subscription.status is not "unpaid"\nthen\nend\n`)).toEqual(["3:9 W203"])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  where subscription.status not in ["unpaid", "past_due"]\nthen\nend\n`)).toEqual(["3:9 W203"])
    expect(warnings(`rule r\n  when subscription.mrr becomes 100.00\n  where subscription.mrr < 50.00\nthen\nend\n`)).toEqual(["3:9 W203"])
  })

  it("no warning when one trigger can pass the filter, or the filter is an or, or reads another property", () => {
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid" or subscription.status becomes "past_due"\n  where subscription.status is "unpaid"\nthen\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  where subscription.status is "canceled" or subscription.mrr > 5.00\nthen\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  where subscription.currency is "USD"\nthen\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid" or event payment.failed\n  where subscription.status is "active"\nthen\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status changes from "unpaid" to "active"\n  where subscription.status is "active"\nthen\nend\n`)).toEqual([])
  })

  it("changes from A to B, filtered on another value than B", () => {
    expect(warnings(`rule r\n  when subscription.status changes from "unpaid" to "active"\n  where subscription.status is "unpaid"\nthen\nend\n`)).toEqual(["3:9 W203"])
  })
})

describe("a property named without becomes or changes in a when line", () => {
  it("an event's name without `event`: the error says how to write the event trigger", () => {
    const [d, ...rest] = checkSource(`rule r\n  when subscription.created\n  where subscription.mrr > 5.00\nthen\nend\n`)
    expect(rest).toEqual([])
    expect(`${d!.range.line}:${d!.range.col} ${d!.code}`).toBe("2:8 E010")
    expect(d!.message).toBe('"subscription.created" is an event: a trigger on it is "event subscription.created"')
    expect(d!.hint).toBe("when event subscription.created")
  })
})

describe("an unenroll condition the trigger makes true", () => {
  const warnings = (source: string) => checkSource(source).filter((d) => d.severity === "warning").map((d) => `${d.range.line}:${d.range.col} ${d.code}`)

  it("ends every enrollment before its first action: W206 at the condition", () => {
    const source = `rule r\n  when subscription.status becomes "unpaid"\n  unenroll when subscription.status is "unpaid"\nthen\n  notify team "finance" "x"\nend\n`
    expect(warnings(source)).toEqual(["3:17 W206"])
    expect(checkSource(source)[0]!.message).toContain("ends before its first action")
  })

  it("no warning when the condition waits for another value, or reads something else", () => {
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  unenroll when subscription.status is "active"\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid"\n  unenroll when subscription.status is "unpaid" and subscription.mrr > 100.00\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
    expect(warnings(`rule r\n  when subscription.status becomes "unpaid" or event payment.failed\n  unenroll when subscription.status is "unpaid"\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
  })
})

describe("a date trigger on the day of cancellation", () => {
  it("can never fire (date triggers fire while the subscription is live): W201, with the rule to write instead", () => {
    const [d, ...rest] = checkSource(`rule winback\n  when 30 days after subscription.canceled_on\nthen\n  notify team "finance" "x"\nend\n`)
    expect(rest).toEqual([])
    expect(`${d!.range.line}:${d!.range.col} ${d!.code} ${d!.severity}`).toBe("2:8 W201 warning")
    expect(d!.hint).toBe('when subscription.status becomes "canceled", then "wait 30 days" as the first action')
  })
  it("the alternative, and date triggers on the live dates, check clean", () => {
    expect(at(`rule winback\n  when subscription.status becomes "canceled"\nthen\n  wait 30 days\n  notify team "finance" "x"\nend\n`)).toEqual([])
    expect(at(`rule r\n  when 14 days before subscription.next_billing_date\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
    expect(at(`rule r\n  when 7 days before subscription.end_date\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
  })
})

describe("a misspelt step is named as one", () => {
  it("an unknown word where a step starts is an unknown action with the nearest one, a stray else is an else without if; a rule left open is still a missing end", () => {
    const messages = (source: string) => checkSource(source).map((d) => `${d.range.line}:${d.range.col} ${d.message}`)
    expect(messages(rule("  sned email welcome to contact"))).toEqual(['4:3 unknown action "sned" (did you mean "send"?)'])
    expect(messages(rule("  else\n  notify owner \"x\""))).toEqual(['4:3 "else" without "if"'])
    expect(messages(rule("  frobnicate"))[0]).toBe("4:3 unknown action \"frobnicate\" (a step starts with send, notify, set, create, add, remove, wait, if, webhook)")
    expect(messages(`rule a\n  when event subscription.created\nthen\n  notify owner "x"\n\n${rule('  notify owner "y"', undefined, "b")}`)).toEqual(['6:1 missing "end": a rule (or an if) is not closed before "rule"'])
  })
})

describe("a conjunction that is never true (W203)", () => {
  const warnings = (where: string) => checkSource(`rule r\n  when event subscription.created\n  where ${where}\nthen\nend\n`).filter((d) => d.severity === "warning").map((d) => `${d.range.line}:${d.range.col}-${d.range.endCol} ${d.code}`)
  /** The columns of the text from `first` to the end of `last` in the where line (it starts at column 9). */
  const span = (where: string, first: string, last: string) => `3:${9 + where.indexOf(first)}-${8 + where.lastIndexOf(last) + last.length} W203`

  it("inclusive bounds that meet leave one value: no warning", () => {
    expect(warnings("subscription.mrr >= 10.00 and subscription.mrr <= 10.00")).toEqual([])
    expect(warnings("subscription.start_date >= 2026-05-01 and subscription.start_date <= 2026-05-01")).toEqual([])
  })

  it("a strict bound at the same value is never true", () => {
    const a = "subscription.mrr > 10.00 and subscription.mrr <= 10.00"
    const b = "subscription.mrr >= 10.00 and subscription.mrr < 10.00"
    expect(warnings(a)).toEqual([span(a, "subscription.mrr >", "<= 10.00")])
    expect(warnings(b)).toEqual([span(b, "subscription.mrr >=", "< 10.00")])
  })

  it("contradicting bounds anywhere in a chain of and, at the two conditions", () => {
    const a = `contact.language is "nb" and subscription.mrr > 50 and subscription.mrr < 10`
    const b = `subscription.mrr > 50 and contact.language is "nb" and subscription.mrr < 10`
    const c = `subscription.status is "active" and contact.language is "nb" and subscription.status is "paused"`
    expect(warnings(a)).toEqual([span(a, "subscription.mrr >", "< 10")])
    expect(warnings(b)).toEqual([span(b, "subscription.mrr >", "< 10")])
    expect(warnings(c)).toEqual([span(c, "subscription.status", '"paused"')])
  })

  it("dates too", () => {
    const a = "subscription.start_date > 2026-05-01 and subscription.start_date < 2026-04-01"
    expect(warnings(a)).toEqual([span(a, "subscription", "2026-04-01")])
  })
})

describe("a trigger on a bound (becomes >= V) and a filter or unenroll condition it decides", () => {
  const warnings = (when: string, rest: string) => checkSource(`rule r\n  when ${when}\n  ${rest}\nthen\nend\n`).filter((d) => d.severity === "warning").map((d) => `${d.range.line}:${d.range.col} ${d.code}`)

  it("a filter the bound makes false is W203", () => {
    expect(warnings("subscription.mrr becomes >= 30.00", "where subscription.mrr < 5.00")).toEqual(["3:9 W203"])
    expect(warnings("subscription.mrr becomes > 30.00", "where subscription.mrr <= 30.00")).toEqual(["3:9 W203"])
    expect(warnings("subscription.mrr becomes < 10.00", "where subscription.mrr is 10.00")).toEqual(["3:9 W203"])
    expect(warnings("subscription.end_date becomes > 2026-06-01", "where subscription.end_date < 2026-01-01")).toEqual(["3:9 W203"])
  })

  it("a filter the bound leaves open, or makes true, is no warning", () => {
    expect(warnings("subscription.mrr becomes >= 30.00", "where subscription.mrr > 10.00")).toEqual([])
    expect(warnings("subscription.mrr becomes >= 30.00", "where subscription.mrr < 50.00")).toEqual([])
    expect(warnings("subscription.mrr becomes >= 30.00", "where subscription.mrr <= 30.00")).toEqual([])
    expect(warnings("subscription.mrr becomes >= 30.00", "where subscription.mrr is not 10.00")).toEqual([])
  })

  it("an unenroll condition the bound makes true is W206", () => {
    expect(warnings("subscription.mrr becomes >= 30.00", "unenroll when subscription.mrr >= 10.00")).toEqual(["3:17 W206"])
    expect(warnings("subscription.mrr becomes >= 30.00", "unenroll when subscription.mrr < 30.00")).toEqual([])
  })
})

describe("a trigger on a contact's property", () => {
  it("can never fire (a contact's change is no event of its subscriptions): W201 at the trigger, with the rule to write instead", () => {
    for (const when of ['contact.country becomes "NO"', "contact.email becomes known", 'contact.language changes from "en" to "nb"']) {
      const [d, ...rest] = checkSource(`rule r\n  when ${when}\nthen\n  notify team "finance" "x"\nend\n`)
      expect(rest).toEqual([])
      expect(`${d!.range.line}:${d!.range.col} ${d!.code} ${d!.severity}`).toBe("2:8 W201 warning")
      expect(d!.message).toContain("contact")
      expect(d!.hint).toContain("where contact.")
    }
  })
  it("a contact's property in a filter checks clean", () => {
    expect(at(`rule r\n  when event subscription.created\n  where contact.country is "NO"\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
  })
})

describe("a property whose name is a word of the language", () => {
  it("contact.email, and event.from and event.to of a status change, are read in a filter (they were a syntax error: expected a name)", () => {
    expect(checkSource(`rule r\n  when event subscription.created\n  where contact.email is "vip@example.com" or contact.email is unknown\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
    expect(checkSource(`rule r\n  when event subscription.status_changed\n  where event.from is "unpaid" and event.to is "active"\nthen\n  notify team "finance" "x"\nend\n`)).toEqual([])
  })
})

describe("an amount written with a currency", () => {
  const where = (filter: string) => checkSource(`rule r\n  when event payment.failed\n  where ${filter}\nthen\n  notify team "finance" "x"\nend\n`)
  it("50.00 USD is one E010 at the code saying amounts are in the subscription's currency, with the filter to write (it said 'missing \"then\" before \"USD\"')", () => {
    const [d, ...rest] = where("subscription.amount >= 50.00 USD")
    expect(rest).toEqual([])
    expect(`${d!.range.line}:${d!.range.col} ${d!.code}`).toBe("3:38 E010")
    expect(d!.message).toBe(`an amount is written without a currency: 50.00 is in the subscription's currency`)
    expect(d!.hint).toBe(`subscription.amount >= 50.00 and subscription.currency is "USD"`)
  })
  it("$50.00 is one E001 at the sign saying the same (it said 'unexpected character \"$\"')", () => {
    const [d, ...rest] = where("subscription.amount >= $50.00")
    expect(rest).toEqual([])
    expect(`${d!.range.line}:${d!.range.col} ${d!.code}`).toBe("3:32 E001")
    expect(d!.message).toBe(`an amount is written without a currency sign: 50.00 is in the subscription's currency`)
  })
})

describe("a date relative to today", () => {
  it("\"today\" in a filter is an E010 at the word saying how a rule reckons from today (it said 'unexpected \"today\"')", () => {
    const [d, ...rest] = checkSource(`rule r\n  when event payment.failed\n  where subscription.next_billing_date < today\nthen\n  notify team "finance" "x"\nend\n`)
    expect(rest).toEqual([])
    expect(`${d!.range.line}:${d!.range.col} ${d!.code}`).toBe("3:42 E010")
    expect(d!.message).toBe(`"today" is not a value: a date is written 2026-12-31`)
    expect(d!.hint).toBe(`a day reckoned from a date is a trigger (when 14 days before subscription.next_billing_date) or a wait (wait until 14 days before subscription.next_billing_date)`)
  })
})
