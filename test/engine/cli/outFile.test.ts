/**
 * `--out FILE` is written whole or not at all (CLI contract: nothing is
 * half-written on error). `report … --format xlsx --out reports.xlsx` hands
 * the path to a library that writes the workbook itself, as DuckDB writes a
 * Parquet file: a writer that failed half-way (a full disk, a library error)
 * left a truncated reports.xlsx in place of the finance team's last good one.
 * Now the writer writes a file of its own beside FILE, which replaces FILE
 * only once it is complete, and is removed when the writer fails.
 */
import { Effect } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { writeOutFile, writeOutFileWith } from "../../../engine/cli/outFile.ts"

const dir = () => mkdtempSync(join(tmpdir(), "billcycle-out-"))

describe("--out FILE is written whole or not at all", () => {
  it("a writer that fails half-way leaves the previous file as it was, and nothing beside it", async () => {
    const d = dir()
    const out = join(d, "reports.xlsx")
    writeFileSync(out, "last month's good workbook")
    const failing = (file: string) => Promise.resolve().then(() => {
      writeFileSync(file, "PK\u0003\u0004 half a workbook")
      throw new Error("ENOSPC: no space left on device, write")
    })
    await expect(Effect.runPromise(writeOutFileWith(out, failing))).rejects.toThrow(/--out: cannot write .*reports\.xlsx: no space left on device/)
    expect(readFileSync(out, "utf8")).toBe("last month's good workbook")
    expect(readdirSync(d)).toEqual(["reports.xlsx"])
  })

  it("a writer that fails half-way on a new path leaves no file", async () => {
    const d = dir()
    const out = join(d, "new", "reports.parquet")
    const failing = (file: string) => Promise.resolve().then(() => {
      writeFileSync(file, "PAR1 half")
      throw new Error("IO Error: disk quota exceeded")
    })
    await expect(Effect.runPromise(writeOutFileWith(out, failing))).rejects.toThrow(/--out: cannot write/)
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(join(d, "new"))).toEqual([])
  })

  it("a writer that succeeds replaces FILE whole; text is written so too", async () => {
    const d = dir()
    const out = join(d, "reports.xlsx")
    writeFileSync(out, "old")
    await Effect.runPromise(writeOutFileWith(out, async (file) => writeFileSync(file, "new workbook")))
    expect(readFileSync(out, "utf8")).toBe("new workbook")
    await Effect.runPromise(writeOutFile(join(d, "growth.csv"), "month,subscriptions_start\n"))
    expect(readFileSync(join(d, "growth.csv"), "utf8")).toBe("month,subscriptions_start\n")
    expect(readdirSync(d).sort()).toEqual(["growth.csv", "reports.xlsx"])
  })
})
