/** `billcycle schedule`: preview the billing dates of an anchor and a frequency. */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { BillingSchedule } from "../../billing/index.ts"
import { frequencyNames, maxFixedPayments } from "../../domain/index.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag, parseDateFlag, parseFrequencyFlag } from "../flagParsers.ts"

const defaultCount = 12

export const scheduleCommand = Command.make(
  "schedule",
  {
    start: Flag.String("start").pipe(Flag.withDescription("the anchor date YYYY-MM-DD")),
    frequency: Flag.String("frequency").pipe(
      Flag.withDescription(`${frequencyNames.join(", ")} or every-N-days|weeks|months|years`)
    ),
    payments: Flag.String("payments").pipe(Flag.withDescription("a fixed number of payments N (prints all N and the end date)"), Flag.optional),
    count: Flag.String("count").pipe(Flag.withDescription(`how many dates to print (default ${defaultCount}, or N)`), Flag.optional)
  },
  Effect.fn("schedule")(function*(flags) {
    const json = yield* Json
    const start = yield* parseDateFlag("--start", flags.start)
    const frequency = yield* parseFrequencyFlag("--frequency", flags.frequency)
    // As many payments as fixed terms may hold (terms.ts): past that the dates leave the calendar's 4-digit years.
    const payments = Option.isSome(flags.payments) ? yield* parseCountFlag("--payments", flags.payments.value, maxFixedPayments) : undefined
    const count = Option.isSome(flags.count) ? yield* parseCountFlag("--count", flags.count.value, maxFixedPayments) : undefined
    const schedule = new BillingSchedule(start, frequency)
    const shown = count ?? payments ?? defaultCount
    const dates = schedule.dates(payments === undefined ? shown : Math.min(shown, payments))
    const endDate = payments === undefined ? null : schedule.endDate(payments)
    if (json) {
      yield* Console.log(JSON.stringify({ dates, endDate }))
      return
    }
    const lines = dates.map((d, i) => `${String(i + 1).padStart(4)}  ${d}`)
    if (endDate !== null) lines.push(`end date: ${endDate}`)
    yield* Console.log(lines.join("\n"))
  })
).pipe(
  Command.withDescription("Preview billing dates: computed from the anchor each time, clamped to month end"),
  Command.withExamples([
    { command: "billcycle schedule --start 2026-03-01 --frequency monthly --payments 6", description: "six monthly payments, ending 2026-09-01" },
    { command: "billcycle schedule --start 2026-01-31 --frequency monthly --count 4 --json", description: "Jan 31, Feb 28, Mar 31, Apr 30" }
  ])
)
