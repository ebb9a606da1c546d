/**
 * The coffee-shop scenario: a seeded, deterministic plan of what customers do
 * over a year — sign up (charge or invoice, fixed or auto-renew, some with a
 * delayed start), upgrade, pause and resume, cancel — in five languages, with
 * payment tokens that fail sometimes. Pure: the demo replays the plan day by
 * day against the engine; the same seed always gives the same plan.
 */
import { addDays, addMonthsClamped, languages, toDayNumber } from "../../engine/billing/index.ts"
import type { CalendarDate } from "../../engine/domain/index.ts"

export interface Customer {
  readonly email: string
  readonly name: string
  readonly language: "en" | "nb" | "nl" | "fr" | "sv"
  readonly locale: string
  readonly paymentMethod: string
}

export interface SignUp {
  readonly _tag: "SignUp"
  readonly day: CalendarDate
  readonly customer: Customer
  /** item specs in the CLI's form: sku=COFFEE-1KG,qty=2 */
  readonly items: ReadonlyArray<string>
  readonly terms: "auto-renew" | `fixed:${number}`
  readonly collection: "charge" | "invoice:net-15" | "invoice:due-on-receipt"
  readonly startDelayDays: number
  readonly reminders: boolean
}

export type Action =
  | SignUp
  | { readonly _tag: "Upgrade"; readonly day: CalendarDate; readonly email: string; readonly items: ReadonlyArray<string> }
  | { readonly _tag: "Pause"; readonly day: CalendarDate; readonly email: string; readonly resumeOn: CalendarDate }
  | { readonly _tag: "Cancel"; readonly day: CalendarDate; readonly email: string; readonly atPeriodEnd: boolean; readonly refundUnused: boolean }
  | { readonly _tag: "PayInvoices"; readonly day: CalendarDate; readonly email: string }

const firstNames = {
  en: ["Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Mia", "Lucas"],
  nb: ["Ingrid", "Ola", "Kari", "Lars", "Sigrid", "Magnus", "Nora", "Jakob"],
  nl: ["Sanne", "Daan", "Lotte", "Bram", "Fleur", "Sem", "Julia", "Thijs"],
  fr: ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Jules", "Manon", "Arthur"],
  sv: ["Elsa", "Oskar", "Maja", "Hugo", "Alice", "William", "Ebba", "Axel"]
} as const
const lastNames = {
  en: ["Smith", "Johnson", "Brown", "Taylor", "Miller"],
  nb: ["Hansen", "Johansen", "Olsen", "Larsen", "Berg"],
  nl: ["de Jong", "Jansen", "de Vries", "Bakker", "Visser"],
  fr: ["Martin", "Bernard", "Dubois", "Moreau", "Lefèvre"],
  sv: ["Andersson", "Johansson", "Karlsson", "Nilsson", "Lindqvist"]
} as const
const locales = { en: "en-US", nb: "nb-NO", nl: "nl-NL", fr: "fr-FR", sv: "sv-SE" } as const

/** A small, seeded generator (mulberry32): the same seed, the same scenario. */
const generator = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!
  return { next, int, pick }
}

export interface ScenarioOptions {
  readonly customers: number
  readonly start: CalendarDate
  readonly months: number
  readonly seed?: number
}

export const buildScenario = (options: ScenarioOptions): Array<Action> => {
  const g = generator(options.seed ?? 2026)
  const end = addMonthsClamped(options.start, options.months)
  const span = toDayNumber(end) - toDayNumber(options.start)
  const actions: Array<Action> = []
  // English twice: every third customer or so writes in English.
  const weighted = ["en", ...languages] as const
  for (let i = 0; i < options.customers; i++) {
    const language = g.pick(weighted)
    const name = `${g.pick(firstNames[language])} ${g.pick(lastNames[language])}`
    const roll = g.next()
    const paymentMethod = roll < 0.8 ? "pm_ok" : roll < 0.9 ? "pm_fail_once" : roll < 0.96 ? "pm_declined" : "pm_timeout"
    const customer: Customer = {
      email: `customer${String(i + 1).padStart(4, "0")}@${language === "en" ? "example.com" : `example.${language === "nb" ? "no" : language === "sv" ? "se" : language}`}`,
      name,
      language,
      locale: locales[language],
      paymentMethod
    }
    // Sign-ups spread over the first ten months, more early on.
    const day = addDays(options.start, Math.floor(Math.pow(g.next(), 1.4) * span * 0.83))
    const plan = g.next()
    const items = plan < 0.4
      ? ["sku=COFFEE-1KG"]
      : plan < 0.65
      ? [`sku=COFFEE-250G,qty=${1 + g.int(2)}`]
      : plan < 0.85
      ? ["sku=COFFEE-500G"]
      : ["sku=COFFEE-1KG,discount=10%", "sku=GRINDER-SETUP,one-time"]
    const fixed = g.next() < 0.3
    const invoice = g.next() < 0.25
    const signUp: SignUp = {
      _tag: "SignUp",
      day,
      customer,
      items,
      terms: fixed ? `fixed:${g.pick([3, 6, 12])}` : "auto-renew",
      collection: invoice ? g.pick(["invoice:net-15", "invoice:due-on-receipt"] as const) : "charge",
      startDelayDays: g.next() < 0.12 ? 7 + g.int(21) : 0,
      reminders: g.next() < 0.5
    }
    actions.push(signUp)
    const later = (minDays: number, maxDays: number) => addDays(day, signUp.startDelayDays + minDays + g.int(maxDays - minDays))
    const fate = g.next()
    if (fate < 0.15 && items[0]!.includes("COFFEE-250G")) {
      actions.push({ _tag: "Upgrade", day: later(40, 150), email: customer.email, items: ["sku=COFFEE-1KG"] })
    } else if (fate < 0.25) {
      const pauseDay = later(30, 200)
      actions.push({ _tag: "Pause", day: pauseDay, email: customer.email, resumeOn: addDays(pauseDay, 30 + g.int(45)) })
    } else if (fate < 0.42) {
      actions.push({ _tag: "Cancel", day: later(20, 260), email: customer.email, atPeriodEnd: g.next() < 0.6, refundUnused: g.next() < 0.3 })
    }
    if (invoice) {
      // Most invoice customers pay within a few weeks; the payment is recorded monthly.
      for (let m = 1; m <= options.months; m++) {
        const payDay = addDays(day, m * 30 + 5 + g.int(12))
        if (toDayNumber(payDay) < toDayNumber(end) && g.next() < 0.85) actions.push({ _tag: "PayInvoices", day: payDay, email: customer.email })
      }
    }
  }
  return actions
    .filter((a) => toDayNumber(a.day) < toDayNumber(end))
    .sort((a, b) => toDayNumber(a.day) - toDayNumber(b.day))
}
