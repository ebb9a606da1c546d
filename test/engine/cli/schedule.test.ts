import { describe, expect, it } from "vitest"
import { runCli } from "../../cliRunner.ts"

describe("billcycle schedule", () => {
  it("prints six monthly dates and the September end date as JSON", () => {
    const r = runCli(["schedule", "--start", "2026-03-01", "--frequency", "monthly", "--payments", "6", "--json"])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      dates: ["2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"],
      endDate: "2026-09-01"
    })
  })

  it("accepts --json before the command and gives a null end date without --payments", () => {
    const r = runCli(["--json", "schedule", "--start", "2026-01-31", "--frequency", "monthly", "--count", "3"])
    expect(JSON.parse(r.stdout)).toEqual({ dates: ["2026-01-31", "2026-02-28", "2026-03-31"], endDate: null })
  })

  it("prints human text with the end date", () => {
    const r = runCli(["schedule", "--start", "2026-01-01", "--frequency", "quarterly", "--payments", "8"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("2027-10-01")
    expect(r.stdout).toContain("end date: 2028-01-01")
  })

  it.each([
    [["--start", "2026-02-30", "--frequency", "monthly"], "--start"],
    [["--start", "2026-03-01", "--frequency", "fortnightly"], "--frequency"],
    [["--start", "2026-03-01", "--frequency", "monthly", "--count", "-3"], "--count"],
    [["--start", "2026-03-01", "--frequency", "monthly", "--payments", "0"], "--payments"],
    [["--frequency", "monthly"], "--start"],
    // Fixed terms hold at most 1000 payments; past that the preview printed 5-digit years ("10358-04-30") that no command takes.
    [["--start", "2026-03-01", "--frequency", "monthly", "--payments", "1001"], "--payments: expected a whole number from 1 to 1000"],
    [["--start", "2026-03-01", "--frequency", "monthly", "--count", "100000"], "--count: expected a whole number from 1 to 1000"]
  ])("bad input %j exits 2 naming %s on one stderr line", (args, flag) => {
    const r = runCli(["schedule", ...args])
    expect(r.code).toBe(2)
    const lines = r.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(flag)
  })

  it("--version and --help work", () => {
    expect(runCli(["--version"]).stdout).toMatch(/0\.1\.0/)
    const help = runCli(["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("schedule")
  })
})
