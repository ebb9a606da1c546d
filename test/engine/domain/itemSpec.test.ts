/** An item SPEC (`--item`, an import's item cell, a link's item): one value per key. */
import { describe, expect, it } from "vitest"
import { parseItemSpec } from "../../../engine/domain/index.ts"

describe("parseItemSpec", () => {
  it("a key given twice is refused, naming it, not settled by the last one (found by an audit: sku=A,qty=2,qty=3 billed 3)", () => {
    expect(parseItemSpec("sku=A,qty=2,qty=3")).toBe('key "qty" given twice ("qty=2", "qty=3"): give each key once')
    expect(parseItemSpec("sku=A,qty=2,quantity=3")).toBe('key "quantity" given twice ("qty=2", "quantity=3"): give each key once')
    expect(parseItemSpec("sku=A,discount=10%,discount=2.00")).toBe('key "discount" given twice ("discount=10%", "discount=2.00"): give each key once')
    expect(parseItemSpec("sku=A,sku=B")).toBe('key "sku" given twice ("sku=A", "sku=B"): give each key once')
    expect(parseItemSpec("sku=A,qty=2,discount=10%,tax=25%")).toMatchObject({ sku: "A", quantity: 2, discountPercentPpm: 100_000, taxPpm: 250_000 })
    expect(parseItemSpec("name=Setup,price=5,one-time,one-time")).toMatchObject({ name: "Setup", oneTime: true })
  })

  it("a currency that is no ISO 4217 code is refused, naming it (an amount read in it failed the server)", () => {
    expect(parseItemSpec("name=Cake,price=4.00,currency=XX")).toBe('currency "XX" is not an ISO 4217 currency code such as USD')
    expect(parseItemSpec("name=Cake,price=4.00,currency=nok")).toMatchObject({ currency: "NOK" })
  })
})
