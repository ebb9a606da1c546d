/**
 * Rules benchmark: compiled predicate evaluations per second for 3, 100 and
 * 1,000 rules over pre-generated events, beside json-rules-engine on the
 * same rules in the same run (checked to give the same matches); and the
 * time to parse and check a file of 10,000 rules.
 */
import { Engine } from "json-rules-engine"
import { checkSource, compileRules, parseRules } from "../dsl/index.ts"
import type { EvalContext } from "../dsl/index.ts"
import { languages } from "../engine/billing/index.ts"
import { fmt, writeResults } from "./harness.ts"

const statuses = ["active", "unpaid", "past_due", "paused", "canceled"]
let seed = 11
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)

const ruleSpecs = (n: number) => Array.from({ length: n }, (_, i) => ({
  id: `r${i}`, status: statuses[i % statuses.length]!, mrr: (i % 50) * 2, langs: [languages[i % 5]!, languages[(i + 2) % 5]!]
}))
const ruleText = (r: ReturnType<typeof ruleSpecs>[number]) =>
  `rule ${r.id}\n  when subscription.status becomes "${r.status}"\n  where subscription.mrr >= ${r.mrr}.00 and contact.language in ["${r.langs[0]}", "${r.langs[1]}"]\nthen\n  notify owner "x"\nend\n`

const events: Array<EvalContext> = Array.from({ length: 20_000 }, () => {
  const before = statuses[Math.floor(rand() * statuses.length)]!
  const after = statuses[Math.floor(rand() * statuses.length)]!
  const mrr = Math.floor(rand() * 10_000)
  return {
    event: { type: "subscription.status_changed" },
    subscription: { status: after, mrr, currency: "USD" },
    contact: { language: languages[Math.floor(rand() * 5)] },
    previous: { subscription: { status: before, mrr, currency: "USD" } }
  }
})

const results: Record<string, unknown> = {}
console.log("rules: evaluations of compiled rules vs json-rules-engine (same rules, same matches)")
for (const n of [3, 100, 1000]) {
  const specs = ruleSpecs(n)
  const set = compileRules(parseRules(specs.map(ruleText).join("\n")).file.rules)
  // ours: every candidate rule is evaluated against every event
  const rounds = n === 1000 ? 1 : n === 100 ? 5 : 200
  let matches = 0
  const t0 = performance.now()
  for (let r = 0; r < rounds; r++) for (const e of events) matches += set.match(e).length
  const ourSeconds = (performance.now() - t0) / 1000
  const ourRate = (rounds * events.length * n) / ourSeconds

  const engine = new Engine([], { allowUndefinedFacts: true })
  for (const s of specs) {
    engine.addRule({
      name: s.id,
      conditions: { all: [
        { fact: "status", operator: "equal", value: s.status },
        { fact: "previousStatus", operator: "notEqual", value: s.status },
        { fact: "mrr", operator: "greaterThanInclusive", value: s.mrr * 100 },
        { fact: "language", operator: "in", value: s.langs }
      ] },
      event: { type: s.id }
    })
  }
  const sample = events.slice(0, n === 1000 ? 200 : n === 100 ? 1000 : 5000)
  let theirMatches = 0
  let ourSampleMatches = 0
  const t1 = performance.now()
  for (const e of sample) {
    const r = await engine.run({ status: e.subscription!["status"], previousStatus: e.previous!.subscription!["status"], mrr: e.subscription!["mrr"], language: e.contact!["language"] })
    theirMatches += r.events.length
  }
  const theirSeconds = (performance.now() - t1) / 1000
  for (const e of sample) ourSampleMatches += set.match(e).length
  if (theirMatches !== ourSampleMatches) throw new Error(`different matches for ${n} rules: ours ${ourSampleMatches}, json-rules-engine ${theirMatches}`)
  const theirRate = (sample.length * n) / theirSeconds
  console.log(`  ${String(n).padStart(5)} rules: ${fmt(ourRate)} evaluations/s  vs  ${fmt(theirRate)}/s  (${(ourRate / theirRate).toFixed(0)}x; ${matches} matches)`)
  results[`rules${n}`] = { evaluationsPerSecond: Math.round(ourRate), jsonRulesEngine: Math.round(theirRate), ratio: ourRate / theirRate }
}

const big = ruleSpecs(10_000).map(ruleText).join("\n")
const t2 = performance.now()
const diagnostics = checkSource(big)
const checkMs = performance.now() - t2
if (diagnostics.length > 0) throw new Error(`the generated rules have diagnostics: ${diagnostics[0]!.message}`)
console.log(`  parse + check 10,000 rules (${fmt(big.length / 1024)} KiB): ${checkMs.toFixed(0)} ms`)
results["check10000RulesMs"] = Math.round(checkMs)
writeResults("rules", results)
