/**
 * CLI.md writes a pay-what-you-want link item as `own-price-min=5.00` (`min-price=` is its other name). A refusal
 * of it named the key the user had not written: `--item 1 (min-price): the suggested price 1.00 is under the minimum 5.00`.
 */
import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"
import { freshCliDatabase } from "../../storeHarness.ts"

describe("links create: an own-price item's refusal names its key as written", () => {
  it("own-price-min= is named own-price-min, min-price= min-price", () => {
    const { db, env } = freshCliDatabase()
    const cli = (...args: Array<string>) => runCli(["links", "create", "--name", "Tip jar", ...args, "--db", db, "--now", "2099-01-01"], { env })
    const under = cli("--item", "name=Tip,price=1.00,own-price-min=5.00,one-time")
    expect(under.code).toBe(2)
    expect(under.stderr).toBe("billcycle: --item 1 (own-price-min): the suggested price 1.00 is under the minimum 5.00\n")
    const notAnAmount = cli("--item", "name=Tip,price=6.00,own-price-min=lots,one-time")
    expect(notAnAmount.code).toBe(2)
    expect(notAnAmount.stderr).toContain("own-price-min: ")
    expect(notAnAmount.stderr).not.toContain("min-price: ")
    const other = cli("--item", "name=Tip,price=1.00,min-price=5.00,one-time")
    expect(other.code).toBe(2)
    expect(other.stderr).toBe("billcycle: --item 1 (min-price): the suggested price 1.00 is under the minimum 5.00\n")
  }, 300_000)
})
