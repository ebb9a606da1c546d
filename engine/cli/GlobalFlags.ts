/**
 * The global options of the command line (CLI.md): `--db`, `--now`, `--json`.
 * They are effect/cli global settings, so every command reads them with
 * `yield* Json` (etc.) wherever they were written on the command line.
 */
import { Flag, GlobalFlag } from "effect/cli"

export const Json = GlobalFlag.Setting("json")({
  flag: Flag.Boolean("json").pipe(Flag.withDescription("machine-readable output on stdout (one JSON document)"), Flag.withDefault(false))
})

export const Db = GlobalFlag.Setting("db")({
  flag: Flag.String("db").pipe(
    Flag.withDescription("a PostgreSQL URL, or a directory for the embedded database (env DATABASE_URL; default ./.billcycle/db; db migrate --db DIR makes a new one)"),
    Flag.optional
  )
})

export const Now = GlobalFlag.Setting("now")({
  flag: Flag.String("now").pipe(
    Flag.withDescription("the business clock for this command: YYYY-MM-DD or an ISO timestamp (env BILLCYCLE_NOW); never before the store's day (billcycle clock show)"),
    Flag.optional
  )
})

export const globalFlags = [Json, Db, Now] as const
