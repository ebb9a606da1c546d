/**
 * engine/cli/usageError.ts `namedAsGiven`: a refusal names the flag the way the command line gave it, when the
 * flag has two names (`--redirect-url` and CLI.md's `--redirect`, `--off` and `--percent`/`--amount`).
 */
import { describe, expect, it } from "vitest"
import { namedAsGiven } from "../../../engine/cli/usageError.ts"

describe("namedAsGiven", () => {
  it("names the other name when only it was given", () => {
    expect(namedAsGiven("--redirect-url: expected an https:// URL", ["links", "create", "--redirect", "http://x"])).toBe("--redirect: expected an https:// URL")
    expect(namedAsGiven("--redirect-url: expected an https:// URL", ["links", "create", "--redirect=http://x"])).toBe("--redirect: expected an https:// URL")
    expect(namedAsGiven("--off: expected a percent", ["discount-codes", "add", "X", "--amount", "5%"])).toBe("--amount: expected a percent")
  })
  it("keeps the message when the flag itself was given, or no other name, or another flag is named", () => {
    expect(namedAsGiven("--redirect-url: bad", ["--redirect-url", "http://x", "--redirect", "y"])).toBe("--redirect-url: bad")
    expect(namedAsGiven("--off: how much is off", ["discount-codes", "add", "X"])).toBe("--off: how much is off")
    expect(namedAsGiven("--name: required", ["--redirect", "x"])).toBe("--name: required")
    // A flag whose name starts like another's is not it.
    expect(namedAsGiven("--expires-on: bad", ["--expires-onward", "x"])).toBe("--expires-on: bad")
    // One of several (found by an audit: `--field` typed, `--contact-field 1` named).
    expect(namedAsGiven('--contact-field 1: unknown key "x"', ["links", "create", "--field", "x=1"])).toBe('--field 1: unknown key "x"')
  })
})
