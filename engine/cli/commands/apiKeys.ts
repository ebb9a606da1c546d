/** `billcycle api-keys create|list|revoke`: the keys of the HTTP API (`billcycle serve`). */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Account } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { Json } from "../GlobalFlags.ts"
import { pageFlags, printList } from "../paging.ts"
import { wordAccountRefusals } from "../refusals.ts"

const create = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("what the key is for (unique), e.g. shop; the journal names it on every write it makes")),
    readOnly: Flag.Boolean("read-only").pipe(Flag.withDescription("a key that may only read (GET); a write with it is refused with 403"), Flag.withDefault(false))
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      const json = yield* Json
      const made = yield* (yield* Account).createApiKey(flags.name, flags.readOnly).pipe(wordAccountRefusals)
      if (json) return yield* Console.log(JSON.stringify(made))
      yield* Console.log(`${made.key}\n`)
      yield* Console.error(`api key ${made.id} "${made.name}"${made.read_only ? " (read-only)" : ""} created; this is the only time it is shown: only its hash is kept`)
    }))
).pipe(Command.withDescription("Make an API key and print it once (only its hash is stored)"))

const list = Command.make("list", { ...pageFlags }, (flags) =>
  withApp(Effect.gen(function*() {
    yield* printList(flags, (yield* Account).listApiKeys, {
      noun: "API keys", headers: ["ID", "NAME", "ACCESS", "CREATED", "REVOKED"],
      cells: (r) => [String(r.id), r.name, r.read_only ? "read-only" : "read-write", r.created_at, r.revoked_at ?? ""]
    })
  }))).pipe(Command.withDescription("List API keys (never the keys themselves)"))

const revoke = Command.make("revoke", { key: Argument.String("key").pipe(Argument.withDescription("the key's name or id (as in api-keys list)")) }, (flags) =>
  withApp(Effect.gen(function*() {
    const json = yield* Json
    const r = yield* (yield* Account).revokeApiKey(flags.key).pipe(wordAccountRefusals)
    yield* Console.log(json ? JSON.stringify(r) : `api key ${r.id} "${r.name}" revoked: requests with it get 401 from now on`)
  }))).pipe(Command.withDescription("Revoke an API key: requests with it are refused (401)"))

export const apiKeysCommand = Command.make("api-keys").pipe(
  Command.withDescription("Keys of the HTTP API (billcycle serve)"),
  Command.withSubcommands([create, list, revoke])
)
