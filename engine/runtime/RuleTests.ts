/**
 * `rules test`: ops' tests of their rules, in fixture files beside the rule
 * files (`*.rules-test.json`). Each case starts a subscription on a
 * throwaway in-memory database, applies dated events (upgrades, a new card,
 * pause, resume, cancel), runs the real engine day by day with the rules
 * compiled as the engine compiles them, and compares the enrollments and
 * the rules' actions with what the case expects. Nothing here touches the
 * user's database.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { readFileSync } from "node:fs"
import type { CompiledRuleSet } from "../../dsl/index.ts"
import { didYouMean } from "../../dsl/index.ts"
import { addDays, parseCalendarDate, toDayNumber } from "../billing/index.ts"
import type { CalendarDate, ItemSpec } from "../domain/index.ts"
import { parseBillingTerms, parseItemSpec } from "../domain/index.ts"
import type { DatabaseService, Sql } from "../sql/index.ts"
import type { EngineContext } from "../account/index.ts"
import { Database, InputError, migrate, openDatabase, useNewSchema } from "../sql/index.ts"
import { loadSettings, BusinessClock, dayTime, makeEngineContext } from "../account/index.ts"
import { addContact } from "../catalogue/index.ts"
import { ruleEffects } from "../enrollments/index.ts"
import {
  cancelSubscription, createSubscriptions, pauseSubscription, resumeSubscription, updateSubscription
} from "../subscriptions/index.ts"
import { runTick } from "./Engine.ts"
import { EngineState, makeEngineState } from "./EngineState.ts"
import { Gateway } from "../payments/index.ts"
import { runRulesTick } from "./RulesRuntime.ts"
import { TickHooks } from "./TickHooks.ts"

export interface RuleTestEvent {
  readonly on: CalendarDate
  readonly items?: ReadonlyArray<ItemSpec>
  readonly paymentMethod?: string
  readonly pause?: boolean
  readonly resume?: boolean
  readonly cancel?: "now" | "at-period-end"
}

export interface RuleTestCase {
  readonly name: string
  readonly start: CalendarDate
  readonly items: ReadonlyArray<ItemSpec>
  readonly terms: string
  readonly collection: "charge" | "invoice"
  readonly paymentMethod: string
  readonly contact: { readonly name?: string; readonly country?: string; readonly language?: string; readonly locale?: string }
  readonly events: ReadonlyArray<RuleTestEvent>
  readonly until: CalendarDate
  readonly expectEnrollments: ReadonlyArray<string> | undefined
  readonly expectActions: ReadonlyArray<string> | undefined
}

export interface RuleTestResult {
  readonly name: string
  readonly passed: boolean
  readonly enrollments: ReadonlyArray<string>
  readonly actions: ReadonlyArray<string>
  /** `- expected` (missing) and `+ actual` (unexpected) lines. */
  readonly diff: ReadonlyArray<string>
}

const fail = (where: string, message: string): never => {
  throw new InputError(`${where}: ${message}`)
}

const obj = (v: unknown, where: string): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : fail(where, "expected an object")
/**
 * An object of the fixture format with only the keys it may hold: a misspelt
 * key (`"expects"`) would otherwise be dropped and its case pass unchecked.
 */
const fields = (v: unknown, where: string, known: ReadonlyArray<string>, keyAt = (k: string) => `${where}.${k}`): Record<string, unknown> => {
  const o = obj(v, where)
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) fail(keyAt(k), `unknown field (${didYouMean(k, known) ?? `expected one of ${known.join(", ")}`})`)
  }
  return o
}
const str = (v: unknown, where: string): string => (typeof v === "string" && v !== "" ? v : fail(where, "expected a text"))
const date = (v: unknown, where: string): CalendarDate => parseCalendarDate(str(v, where)) ?? fail(where, `"${String(v)}" is not a date YYYY-MM-DD`)
const strings = (v: unknown, where: string): Array<string> => (Array.isArray(v) ? v.map((x, i) => str(x, `${where}[${i}]`)) : fail(where, "expected a list of texts"))
const items = (v: unknown, where: string): Array<ItemSpec> =>
  strings(v, where).map((text, i) => {
    const spec = parseItemSpec(text)
    return typeof spec === "string" ? fail(`${where}[${i}]`, spec) : spec
  })

/** Reads a fixture file; a mistake names the file, the case and the field. */
export const readRuleTests = (file: string): Array<RuleTestCase> => {
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    return fail(file, `not valid JSON (${(e as Error).message})`)
  }
  const cases = fields(data, file, ["tests"], (k) => `${file}: ${k}`)["tests"]
  if (!Array.isArray(cases)) return fail(file, `expected { "tests": [ ... ] }`)
  return cases.map((c, i) => {
    const at = `${file}: tests[${i}]`
    const t = fields(c, at, ["name", "subscription", "events", "until", "expect"])
    const name = str(t["name"], `${at}.name`)
    const sub = fields(t["subscription"], `${at}.subscription`, ["start", "items", "terms", "collection", "payment_method", "contact"])
    const expect = fields(t["expect"] ?? {}, `${at}.expect`, ["enrollments", "actions"])
    const terms = typeof sub["terms"] === "string" ? sub["terms"] : "auto-renew"
    if (parseBillingTerms(terms) === undefined) fail(`${at}.subscription.terms`, `"${terms}" is not auto-renew or fixed:N`)
    const collection = sub["collection"] ?? "charge"
    if (collection !== "charge" && collection !== "invoice") fail(`${at}.subscription.collection`, "expected charge or invoice")
    const start = date(sub["start"], `${at}.subscription.start`)
    const events = (Array.isArray(t["events"]) ? t["events"] : t["events"] === undefined ? [] : fail(`${at}.events`, "expected a list")).map((e: unknown, j: number) => {
      const w = `${at}.events[${j}]`
      const ev = fields(e, w, ["on", "items", "payment_method", "pause", "resume", "cancel"])
      const cancel = ev["cancel"]
      if (cancel !== undefined && cancel !== "now" && cancel !== "at-period-end") fail(`${w}.cancel`, `expected "now" or "at-period-end"`)
      return {
        on: date(ev["on"], `${w}.on`),
        ...(ev["items"] === undefined ? {} : { items: items(ev["items"], `${w}.items`) }),
        ...(ev["payment_method"] === undefined ? {} : { paymentMethod: str(ev["payment_method"], `${w}.payment_method`) }),
        ...(ev["pause"] === true ? { pause: true } : {}),
        ...(ev["resume"] === true ? { resume: true } : {}),
        ...(cancel === undefined ? {} : { cancel: cancel as "now" | "at-period-end" })
      }
    })
    const until = date(t["until"], `${at}.until`)
    if (toDayNumber(until) < toDayNumber(start)) fail(`${at}.until`, `${until} is before the start ${start}`)
    const contact = fields(sub["contact"] ?? {}, `${at}.subscription.contact`, ["name", "country", "language", "locale"])
    // A case that expects nothing passes whatever the rules do; an empty list is an expectation (nothing happened).
    if (expect["enrollments"] === undefined && expect["actions"] === undefined) fail(`${at} (${JSON.stringify(name)})`, "expects nothing: give expect.enrollments, expect.actions or both")
    return {
      name,
      start,
      items: items(sub["items"], `${at}.subscription.items`),
      terms,
      collection: collection as "charge" | "invoice",
      paymentMethod: typeof sub["payment_method"] === "string" ? sub["payment_method"] : "pm_ok",
      contact: Object.fromEntries(["name", "country", "language", "locale"].filter((k) => contact[k] !== undefined).map((k) => [k, str(contact[k], `${at}.subscription.contact.${k}`)])),
      events,
      until,
      expectEnrollments: expect["enrollments"] === undefined ? undefined : strings(expect["enrollments"], `${at}.expect.enrollments`),
      expectActions: expect["actions"] === undefined ? undefined : strings(expect["actions"], `${at}.expect.actions`)
    }
  })
}

/** What the rules did to the case's subscription: `RULE STATUS` per enrollment, one line per action. */
const observe = async (sql: Sql) => {
  const { enrollments, messages, propertyChanges: sets, tasks, lists } = await ruleEffects(sql)
  return {
    enrollments: enrollments.map((e) => `${e.rule_id} ${e.status}`),
    actions: [
      ...messages.map((m) =>
        m.kind === "email" ? `${m.created_on} email ${m.template}`
        : m.kind === "webhook" ? `${m.created_on} webhook ${m.recipient}`
        : `${m.created_on} notify ${m.payload["team"] ?? m.recipient}: ${m.payload["message"]}`),
      ...sets.map((s) => `${s.occurred_on} set ${s.data["property"]} to ${JSON.stringify(s.data["to"])}`),
      ...tasks.map((t) => `task ${t.title}${t.due_on === null ? "" : ` due ${t.due_on}`}`),
      ...lists.map((l) => `${l.added_on} list ${l.list_name}`)
    ]
  }
}

const undated = (line: string) => line.replace(/^\d{4}-\d{2}-\d{2} /, "")

/** Expected and actual as multisets: an expected line without a date matches an actual one whatever its date. */
const compare = (expected: ReadonlyArray<string>, actual: ReadonlyArray<string>): Array<string> => {
  const left = [...actual]
  const missing: Array<string> = []
  for (const e of expected) {
    const i = left.findIndex((a) => a === e || (undated(e) === e && undated(a) === e))
    if (i === -1) missing.push(`- ${e}`)
    else left.splice(i, 1)
  }
  return [...missing, ...left.map((a) => `+ ${a}`)]
}

const applyEvent = async (sql: Sql, ctx: EngineContext, id: number, e: RuleTestEvent) => {
  if (e.items !== undefined || e.paymentMethod !== undefined) await updateSubscription(sql, ctx, id, { items: e.items, paymentMethod: e.paymentMethod })
  if (e.pause === true) await pauseSubscription(sql, ctx, id, undefined)
  if (e.resume === true) await resumeSubscription(sql, ctx, id)
  if (e.cancel !== undefined) await cancelSubscription(sql, ctx, id, { atPeriodEnd: e.cancel === "at-period-end", refundUnused: false })
}

/**
 * A throwaway in-memory database for a run of cases (`--db memory:`); each
 * case gets a fresh schema of its own in it, migrated like any database.
 */
export const openRuleTestDatabase = async () => {
  const scope = Scope.makeUnsafe()
  const db = await Effect.runPromise(openDatabase({ _tag: "Embedded", dataDir: undefined }).pipe(Scope.provide(scope)))
  let cases = 0
  return {
    fresh: async (): Promise<DatabaseService> => {
      const schema = `rule_test_${++cases}`
      await useNewSchema(db.sql, schema)
      await migrate(db.sql)
      return db
    },
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** Runs one case on a fresh schema, through the same compiler output and engine tick as `engine --rules`. */
export const runRuleTest = async (rules: CompiledRuleSet, c: RuleTestCase, database: { fresh: () => Promise<DatabaseService> }): Promise<RuleTestResult> => {
  {
    const db = await database.fresh()
    const { sql } = db
    const dbLayer = Layer.succeed(Database, db)
    const hooks = Layer.succeed(TickHooks, {
      runRules: (ctx) => runRulesTick(() => rules, ctx, 1000, { enrollExisting: true }).pipe(Effect.provide(dbLayer)),
      deliverOutbox: () => Effect.succeed(0)
    })
    const gateway = Gateway.simulated.pipe(Layer.provide(dbLayer))
    const engineState = Layer.succeed(EngineState, makeEngineState())
    const ctxOn = async (day: CalendarDate): Promise<EngineContext> => makeEngineContext(await loadSettings(sql), day, { failpoint: () => {} })
    const email = "buyer@rules-test.example"
    await addContact(sql, { email, name: c.contact.name ?? "Test Buyer", country: c.contact.country, language: c.contact.language, locale: c.contact.locale, paymentMethod: c.paymentMethod }, c.start)
    const [created] = await createSubscriptions(sql, await ctxOn(c.start), {
      contactEmail: email, items: c.items, start: { _tag: "Today" }, terms: parseBillingTerms(c.terms)!, collection: c.collection,
      paymentTerms: c.collection === "invoice" ? "net-15" : undefined, paymentMethod: undefined, language: undefined, locale: undefined, reminders: false
    })
    for (let day = c.start; toDayNumber(day) <= toDayNumber(c.until); day = addDays(day, 1)) {
      for (const e of c.events.filter((x) => x.on === day)) await applyEvent(sql, await ctxOn(day), created!.id, e)
      await Effect.runPromise(runTick({ batch: 100 }).pipe(Effect.provide(Layer.mergeAll(dbLayer, BusinessClock.fixed(dayTime(day)), hooks, gateway, engineState))))
    }
    const seen = await observe(sql)
    const diff = [
      ...(c.expectEnrollments === undefined ? [] : compare(c.expectEnrollments, seen.enrollments).map((d) => `${d.slice(0, 2)}enrollment ${d.slice(2)}`)),
      ...(c.expectActions === undefined ? [] : compare(c.expectActions, seen.actions))
    ]
    return { name: c.name, passed: diff.length === 0, enrollments: seen.enrollments, actions: seen.actions, diff }
  }
}
