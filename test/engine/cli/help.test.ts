/**
 * Every command's `--help` describes every flag and argument and gives an
 * example (issue #20). Walks the real command tree in-process and reads the
 * help document effect/cli builds for each command.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Option } from "effect"
import { CliOutput, Command } from "effect/cli"
import type { HelpDoc } from "effect/cli"
import { describe, expect, it } from "vitest"
import { commands } from "../../../engine/cli/commands/index.ts"
import { examplesFor } from "../../../engine/cli/examples.ts"
import { globalFlags } from "../../../engine/cli/GlobalFlags.ts"

const billcycle = Command.make("billcycle").pipe(Command.withSubcommands(commands), Command.withGlobalFlags(globalFlags))

interface Node {
  readonly name: string
  readonly subcommands: ReadonlyArray<{ readonly commands: ReadonlyArray<Node> }>
}

/** Every command path that runs something: leaves, and groups with a handler of their own (`import FILE`). */
const paths = (node: Node, prefix: ReadonlyArray<string>): Array<Array<string>> => {
  const here = [...prefix, node.name]
  const subs = node.subcommands.flatMap((g) => g.commands)
  return [...(subs.length === 0 || node.name === "import" ? [here] : []), ...subs.flatMap((s) => paths(s, here))]
}

const helpDocOf = (path: ReadonlyArray<string>) =>
  Effect.runPromise(Effect.gen(function*() {
    let doc: HelpDoc.HelpDoc | undefined
    const capture = CliOutput.layerPresenter({ present: (event) => Effect.sync(() => { if (event._tag === "Help") doc = event.helpDoc }) })
    yield* Command.runWith(billcycle, { version: "test" })([...path.slice(1), "--help"]).pipe(Effect.provide([NodeServices.layer, capture]))
    return doc!
  }))

describe("help texts", () => {
  it("describe every flag and argument of every command and give it an example", async () => {
    const all = (commands as ReadonlyArray<Node>).flatMap((c) => paths(c, ["billcycle"]))
    expect(all.length).toBeGreaterThan(30)
    const missing: Array<string> = []
    for (const path of all) {
      const doc = await helpDocOf(path)
      const name = path.join(" ")
      for (const f of doc.flags) if (Option.isNone(f.description) || f.description.value.trim() === "") missing.push(`${name} --${f.name}: no description`)
      for (const a of doc.args ?? []) if (Option.isNone(a.description) || a.description.value.trim() === "") missing.push(`${name} ${a.name}: no description`)
      if (examplesFor(path).length === 0 && (doc.examples ?? []).length === 0) missing.push(`${name}: no example`)
      for (const e of examplesFor(path)) expect(e.command.startsWith(`${name} `) || e.command === name, `${name}: example ${e.command}`).toBe(true)
    }
    expect(missing).toEqual([])
  }, 120_000)
})
