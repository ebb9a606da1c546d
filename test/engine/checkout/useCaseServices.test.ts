/**
 * The PaymentLinks and DiscountCodes services (both backends): their use cases fail with the rule's
 * refusal as a value (engine/domain/paymentLinks.ts) and write nothing, and the door's journal source
 * (CurrentJournalSource, as the API sets it) names who made a change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Layer } from "effect"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { DiscountCodeNotFound, PaymentLinkNotFound } from "../../../engine/domain/index.ts"
import type { EngineContext } from "../../../engine/account/index.ts"
import { loadSettings, makeEngineContext } from "../../../engine/account/index.ts"
import { DiscountCodes, PaymentLinks } from "../../../engine/checkout/index.ts"
import { CurrentJournalSource } from "../../../engine/sql/index.ts"
import { backend, openTestDatabase } from "../../storeHarness.ts"
import type { TestDatabase } from "../../storeHarness.ts"

let t: TestDatabase
let ctx: EngineContext
const today = "2026-03-01" as CalendarDate
const run = <A, E>(effect: Effect.Effect<A, E, PaymentLinks | DiscountCodes>) =>
  Effect.runPromise(effect.pipe(Effect.provide(Layer.mergeAll(PaymentLinks.layer, DiscountCodes.layer).pipe(Layer.provide(t.layer)))))
const failure = <A, E>(effect: Effect.Effect<A, E, PaymentLinks | DiscountCodes>) => run(Effect.flip(effect))
const links = <A, E>(f: (s: PaymentLinks["Service"]) => Effect.Effect<A, E>) => Effect.flatMap(Effect.service(PaymentLinks), f)
const codes = <A, E>(f: (s: DiscountCodes["Service"]) => Effect.Effect<A, E>) => Effect.flatMap(Effect.service(DiscountCodes), f)
const counts = async () => {
  const [row] = await t.db.sql<Array<{ links: number; codes: number; events: number }>>`
    select (select count(*)::int from payment_links) as links, (select count(*)::int from discount_codes) as codes,
      (select count(*)::int from events where type like 'payment_link.%' or type like 'discount_code.%') as events`
  return row
}

beforeAll(async () => {
  t = await openTestDatabase()
  ctx = makeEngineContext(await loadSettings(t.db.sql), today, { owner: "test", failpoint: () => {} })
})
afterAll(async () => {
  await t.close()
})

describe(`checkout's seller side as services (${backend})`, () => {
  it("fail with the refusal as a value, and write nothing", async () => {
    const link = await run(links((l) => l.create(ctx, { name: "Mugs", items: ["name=Mug,price=12.00"] }, "mugs-2026")).pipe(
      Effect.provideService(CurrentJournalSource, "api:shop")
    ))
    expect(link).toMatchObject({ slug: "mugs-2026", name: "Mugs", currency: ctx.settings.currency, active: true })
    expect(await t.db.sql`select source from events where type = 'payment_link.created'`).toEqual([{ source: "api:shop" }])
    await run(codes((c) => c.create(ctx, { code: "SAVE10", off: "10%" })))
    const before = await counts()

    expect(await failure(links((l) => l.show("nope")))).toEqual(new PaymentLinkNotFound({ ref: "nope" }))
    expect(await failure(links((l) => l.delete(today, "nope")))).toEqual(new PaymentLinkNotFound({ ref: "nope" }))
    expect(await failure(links((l) => l.switchOff(today, "nope")))).toEqual(new PaymentLinkNotFound({ ref: "nope" }))
    expect(await failure(links((l) => l.create(ctx, { name: "Again", items: ["name=Mug,price=12.00"] }, "mugs-2026"))))
      .toMatchObject({ _tag: "PaymentLinkInvalid", rule: "SlugTaken", field: "slug" })
    expect(await failure(links((l) => l.update(today, "mugs-2026", { items: ["name=Mug,price=0"] }))))
      .toMatchObject({ _tag: "PaymentLinkInvalid", rule: "UnitPriceNotPositive", field: "item.unitPrice", item: 0 })
    expect(await failure(links((l) => l.preview(today, "mugs-2026", { code: "NOPE" })))).toEqual(new DiscountCodeNotFound({ ref: "NOPE" }))
    expect(await failure(links((l) => l.preview(today, "mugs-2026", { quantities: ["1=3"] }))))
      .toMatchObject({ _tag: "BuyerChoiceRefused", item: 0 })
    // Text a setting does not take stays bad input, in its words.
    expect(await failure(links((l) => l.update(today, "mugs-2026", {})))).toMatchObject({ _tag: "BadInput", message: "nothing to update: give a setting to change, such as --name or --item" })

    expect(await failure(codes((c) => c.create(ctx, { code: "save10", off: "5%" })))).toMatchObject({ _tag: "DiscountCodeInvalid", rule: "CodeTaken", field: "code" })
    expect(await failure(codes((c) => c.show("NOPE")))).toEqual(new DiscountCodeNotFound({ ref: "NOPE" }))
    expect(await failure(codes((c) => c.change(today, "NOPE", { active: false })))).toEqual(new DiscountCodeNotFound({ ref: "NOPE" }))
    expect(await failure(codes((c) => c.delete(today, "NOPE")))).toEqual(new DiscountCodeNotFound({ ref: "NOPE" }))

    expect(await counts()).toEqual(before)
    expect(await run(links((l) => l.show("mugs-2026")))).toEqual(link)
  })

  it("list what the CLI and the API page", async () => {
    const [linkQuery, codeQuery] = await run(Effect.all([links((l) => Effect.succeed(l.list({ active: true }))), codes((c) => Effect.succeed(c.list))]))
    expect((await linkQuery(t.db.sql)).map((r) => r.slug)).toEqual(["mugs-2026"])
    expect((await codeQuery(t.db.sql)).map((r) => r.code)).toEqual(["SAVE10"])
  })
})
