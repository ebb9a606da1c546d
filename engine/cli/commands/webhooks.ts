/** `billcycle webhooks add|list|remove`: event webhooks without writing rules. */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Account, commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { Json } from "../GlobalFlags.ts"
import { wordAccountRefusals } from "../refusals.ts"
import { renderTable } from "../table.ts"

const add = Command.make(
  "add",
  {
    url: Flag.String("url").pipe(Flag.withDescription("where to POST each event: https:// (http:// only to localhost)")),
    events: Flag.String("events").pipe(Flag.withDescription("comma-separated event types: invoice.paid, a noun's every type subscription.*, or * for all"))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const ctx = yield* commandContext
      const row = yield* (yield* Account).addWebhookEndpoint(flags.url, flags.events, ctx.today).pipe(wordAccountRefusals)
      yield* Console.log(json ? JSON.stringify(row) : `webhook endpoint ${row.id}: ${row.url} (${row.events.join(", ")})`)
    }))
).pipe(Command.withDescription("Send every journal event of the given types to a URL, signed, through the outbox (retried, visible in outbox list)"))

const list = Command.make("list", {}, () =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const rows = yield* (yield* Account).webhookEndpoints
    if (json) return yield* Console.log(JSON.stringify(rows))
    yield* Console.log(rows.length === 0 ? "No webhook endpoints." : renderTable(["ID", "URL", "EVENTS", "SINCE"], rows.map((r) => [String(r.id), r.url, r.events.join(","), r.created_on])))
  }))).pipe(Command.withDescription("List the webhook endpoints"))

const remove = Command.make("remove", { id: Argument.String("id").pipe(Argument.withDescription("the endpoint's id (as in webhooks list)")) }, (flags) =>
  withApp(Effect.gen(function*() {
    const id = yield* parseCountFlag("ID", flags.id)
    const ctx = yield* commandContext
    const json = yield* Json
    yield* (yield* Account).removeWebhookEndpoint(id, ctx.today).pipe(wordAccountRefusals)
    yield* Console.log(json ? JSON.stringify({ id, removed_on: ctx.today }) : `webhook endpoint ${id} removed (messages already queued for it are still delivered)`)
  }))).pipe(Command.withDescription("Stop sending events to a webhook endpoint"))

export const webhooksCommand = Command.make("webhooks").pipe(
  Command.withDescription("Event webhooks: journal events sent to your URLs"),
  Command.withSubcommands([add, list, remove])
)
