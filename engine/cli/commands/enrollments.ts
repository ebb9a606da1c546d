/** `billcycle enrollments list [--subscription ID] [--rule ID]`: the history of rules' enrollments, newest first (HubSpot's enrollment history). */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { enrollmentRecordOf, Enrollments } from "../../enrollments/index.ts"
import { withApp } from "../AppLayer.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { pageFlags, printList } from "../paging.ts"

const list = Command.make(
  "list",
  {
    subscription: Flag.String("subscription").pipe(Flag.withDescription("only this subscription's enrollments"), Flag.optional),
    rule: Flag.String("rule").pipe(Flag.withDescription("only this rule's enrollments"), Flag.optional),
    ...pageFlags
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const subscriptionId = Option.isSome(flags.subscription) ? yield* parseCountFlag("--subscription", flags.subscription.value) : undefined
      yield* printList(flags, (yield* Enrollments).list({ subscriptionId, ruleId: Option.getOrUndefined(flags.rule) }), {
        noun: "enrollments",
        json: (row) => {
          const { program: _program, ...r } = enrollmentRecordOf(row)
          return r
        },
        // ENROLLED is the day the engine enrolled the subscription; EVENT ON the day of the event that triggered it,
        // which is earlier when the engine ran later (a date trigger has no event: its day is in TRIGGER).
        headers: ["ID", "RULE", "SUB", "ENROLLED", "TRIGGER", "EVENT ON", "STATUS", "STEPS DONE", "WAKES"],
        cells: (row) => {
          const r = enrollmentRecordOf(row)
          return [
            String(r.id), r.ruleId, String(r.subscriptionId), r.enrolledOn, r.eventType === null ? r.trigger : `${r.eventType} (${r.trigger})`, r.eventOn ?? "", r.status,
            String(r.stepsDone), r.status === "waiting" ? r.wakeOn ?? "" : ""
          ]
        }
      })
    }))
).pipe(Command.withDescription("Enrollment history: which rule enrolled which subscription, when, on which event, and where it is now"))

export const enrollmentsCommand = Command.make("enrollments").pipe(Command.withDescription("Enrollments of subscriptions in rules"), Command.withSubcommands([list]))
