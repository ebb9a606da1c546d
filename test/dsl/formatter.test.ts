/** `rules fmt` keeps what the author wrote that matters to a reader: comments where they were, and parentheses. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { formatRules, parseRules } from "../../dsl/index.ts"

describe("rules fmt keeps comments where they were written", () => {
  it("a comment above when, where, reenroll, unenroll, then, else and end stays above it", () => {
    const source = `rule r
  # the trigger
  when subscription.status becomes "unpaid"
  # only the big ones
  where subscription.mrr >= 50.00
  # again on each transition
  reenroll
  # stop when paid
  unenroll when subscription.status is "active"
# the actions
then
  if subscription.status is "unpaid" then
    wait 1 day
  # otherwise
  else
    notify owner "x"
  # closing the if
  end
  # closing the rule
end
`
    expect(formatRules(source)).toBe(source)
  })

  it("a trailing comment stays on its line", () => {
    const source = `rule r "t" # the title
  when event subscription.created # once
  where subscription.mrr >= 50.00 # big
then # go
  wait 1 day # a pause
  if subscription.mrr > 100.00 then # very big
    notify owner "x" # tell
  else # small
    notify owner "y"
  end # if
end # rule
# the end of the file
`
    expect(formatRules(source)).toBe(source)
  })

  it("a trailing comment after messy spacing is kept beside its clause, reindented", () => {
    expect(formatRules("rule r\n when event subscription.created   # once\nthen\n    wait   1 day    # pause\nend\n"))
      .toBe("rule r\n  when event subscription.created # once\nthen\n  wait 1 day # pause\nend\n")
  })
})

describe("rules fmt keeps the parentheses the author wrote", () => {
  it.each([
    'not (subscription.status is "active")',
    '(subscription.mrr > 10.00) and subscription.owner is known',
    'subscription.status is "unpaid" or (subscription.mrr > 10.00 and subscription.owner is known)',
    'not (subscription.status is "active" or subscription.status is "paused")',
    '(subscription.status is "unpaid" or subscription.status is "past_due") and subscription.mrr > 10.00'
  ])("where %s", (condition) => {
    const source = `rule r\n  when event subscription.created\n  where ${condition}\nthen\nend\n`
    expect(formatRules(source)).toBe(source)
  })

  it("doubled parentheses become one pair; needed ones are never dropped", () => {
    expect(formatRules('rule r\n  when event subscription.created\n  where ((subscription.mrr > 10.00))\nthen\nend\n'))
      .toBe('rule r\n  when event subscription.created\n  where (subscription.mrr > 10.00)\nthen\nend\n')
  })
})

// A rule as clause lines; comments are put above or beside line k and name k, so after
// formatting each must still be above (or beside) the k-th clause line.
const clauses = fc.tuple(
  fc.constantFrom('when subscription.status becomes "unpaid"', "when event subscription.created or event payment.failed"),
  fc.option(fc.constantFrom("where subscription.mrr >= 10.00", 'where not (subscription.owner is "x")'), { nil: undefined }),
  fc.boolean(),
  fc.option(fc.constant('unenroll when subscription.status is "active"'), { nil: undefined }),
  fc.array(fc.constantFrom<ReadonlyArray<string>>(["wait 3 days"], ['notify owner "x"'], ["if subscription.mrr > 5.00 then", "wait 1 day", "else", 'notify team "finance" "y"', "end"], ["if subscription.owner is known then", "send email welcome to contact", "end"]), { maxLength: 3 })
).map(([when, where, reenroll, unenroll, actions]) => [
  "rule r", when, ...(where === undefined ? [] : [where]), ...(reenroll ? ["reenroll"] : []), ...(unenroll === undefined ? [] : [unenroll]), "then", ...actions.flat(), "end"
])
const commented = clauses.chain((lines) =>
  fc.tuple(fc.constant(lines), fc.array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom("above", "beside")), { maxLength: 6 }), fc.array(fc.constantFrom("", " ", "    "), { minLength: lines.length, maxLength: lines.length })))

describe("rules fmt: property", () => {
  it("keeps every comment's text and its anchor line; fmt(fmt(x)) == fmt(x); the meaning is unchanged", () => {
    fc.assert(fc.property(commented, ([lines, comments, indents]) => {
      const beside = new Map<number, string>()
      const out: Array<string> = []
      lines.forEach((line, k) => {
        for (const [n, [at, where]] of comments.entries()) if (at === k && where === "above") out.push(`# c${n} above ${k}`)
        const trailing = comments.flatMap(([at, where], n) => (at === k && where === "beside" ? [`c${n}`] : []))
        if (trailing.length > 0) beside.set(k, `# ${trailing.join(" ")} beside ${k}`)
        out.push(indents[k]! + line + (beside.has(k) ? `  ${beside.get(k)}` : ""))
      })
      const source = out.join("\n") + "\n"
      const formatted = formatRules(source)!
      expect(formatted).toBeDefined()
      expect(formatRules(formatted)).toBe(formatted)
      const strip = (s: string) => JSON.stringify(parseRules(s).file, (k, v) => (k.endsWith("ange") ? undefined : v))
      expect(strip(formatted)).toBe(strip(source))
      // walk the output: clause lines count up; an above-comment must precede clause k, a beside-comment sit on it
      const pendingAbove: Array<number> = []
      let k = 0
      const seen: Array<string> = []
      for (const line of formatted.trimEnd().split("\n")) {
        const own = /^\s*# (c\d+) above (\d+)$/.exec(line)
        if (own !== null) {
          pendingAbove.push(Number(own[2]))
          seen.push(own[1]!)
          continue
        }
        for (const at of pendingAbove.splice(0)) expect(at).toBe(k)
        const trail = /# ((?:c\d+ )+)beside (\d+)$/.exec(line)
        if (trail !== null) {
          expect(Number(trail[2])).toBe(k)
          seen.push(...trail[1]!.trim().split(" "))
        }
        k++
      }
      expect(seen.sort()).toEqual(comments.map((_, n) => `c${n}`).sort())
    }), { numRuns: 300 })
  })
})

describe("rules fmt of a duration without its unit", () => {
  it("writes the number alone, without a trailing space (the checker's E108 asks for the unit)", () => {
    const source = 'rule r\n  when event subscription.created\nthen\n  create task "x" for owner due in 2\nend\n'
    expect(formatRules(source)).toBe(source)
  })
})
