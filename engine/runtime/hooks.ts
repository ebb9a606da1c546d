/**
 * The tick hooks the CLI's engine uses: outbox delivery (rendered by the
 * message renderer, sent by the message sender; by default files under
 * ./out/mail) and, when --rules is given, the rules.
 */
import { Effect, Layer } from "effect"
import { Database } from "../sql/index.ts"
import { deliverOutbox, MessageRenderer, MessageSender, templateRendererLayer } from "./OutboxDelivery.ts"
import { TickHooks } from "./TickHooks.ts"
import type { CompiledRuleSet } from "../../dsl/index.ts"
import type { RulesTickOptions } from "./RulesRuntime.ts"
import { activateLoadedRules, runRulesTick } from "./RulesRuntime.ts"

export const defaultMailDir = "out/mail"

export const deliveryHooksLayer = (rules: (() => CompiledRuleSet) | undefined, options: RulesTickOptions = {}) => Layer.effect(
  TickHooks,
  Effect.gen(function*() {
    const db = yield* Database
    const renderer = yield* MessageRenderer
    const sender = yield* MessageSender
    // Rules are marked loaded before the first tick, so that tick's own events are not "history" to them.
    if (rules !== undefined) {
      const line = yield* activateLoadedRules(rules(), options)
      if (line !== undefined) process.stderr.write(line + "\n")
    }
    const log = (line: string) => void process.stderr.write(line + "\n")
    return {
      runRules: (ctx) => rules === undefined ? Effect.succeed(0) : runRulesTick(rules, ctx, 1000, { ...options, log }).pipe(Effect.provideService(Database, db)),
      deliverOutbox: (ctx, now) =>
        deliverOutbox(ctx.owner, now, undefined, ctx.today).pipe(
          Effect.provideService(Database, db),
          Effect.provideService(MessageRenderer, renderer),
          Effect.provideService(MessageSender, sender)
        )
    }
  })
)

/** SMTP when SMTP_URL is set, else .eml files under ./out/mail. */
export const senderLayer = (mailDir = defaultMailDir) => {
  const smtp = process.env["SMTP_URL"]
  return smtp === undefined || smtp === "" ? MessageSender.files(mailDir) : MessageSender.smtp(smtp)
}

export const engineHooksLayer = (rules: (() => CompiledRuleSet) | undefined, mailDir = defaultMailDir, options: RulesTickOptions = {}) =>
  deliveryHooksLayer(rules, options).pipe(Layer.provide(Layer.mergeAll(templateRendererLayer(undefined), senderLayer(mailDir))))
