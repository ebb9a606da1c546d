/**
 * The one line printed on stderr for an invocation effect/cli could not parse
 * (an unknown flag, a missing one, a bad value): it names the flag and points
 * at the command's help, instead of printing the whole help page.
 */

interface ParseError {
  readonly _tag: string
  readonly message: string
}

const didYouMean = (suggestions: ReadonlyArray<string> | undefined) =>
  suggestions !== undefined && suggestions.length > 0 ? ` (did you mean ${suggestions.join(" or ")}?)` : ""

/** One parse error in a few words, on one line. */
export const describeParseError = (error: ParseError): string => {
  const e = error as ParseError & Record<string, unknown>
  switch (e._tag) {
    case "UnrecognizedOption":
      return `unknown flag ${String(e["option"])}${didYouMean(e["suggestions"] as ReadonlyArray<string>)}`
    case "MissingOption":
      return `missing required flag --${String(e["option"])}`
    case "MissingArgument":
      return `missing required argument ${String(e["argument"]).toUpperCase()}`
    case "UnknownSubcommand":
      return `unknown command "${String(e["subcommand"])}"${didYouMean(e["suggestions"] as ReadonlyArray<string>)}`
    case "InvalidValue": {
      // A flag given more often than it may be (any flag, the global --now, --db and --json too): effect/cli says
      // `Invalid value for flag --now: "2 occurrences"`; said plainly, with how often it may be given.
      const given = /^(\d+) occurrences$/.exec(String(e["value"]))
      const most = /^at most (\d+) values?$/.exec(String(e["expected"]))
      if (e["kind"] === "flag" && given !== null && most !== null) {
        const times = (n: number) => (n === 1 ? "once" : n === 2 ? "twice" : `${n} times`)
        return `--${String(e["option"])} was given ${times(Number(given[1]))}: give it ${most[1] === "1" ? "once" : `at most ${times(Number(most[1]))}`}`
      }
      return e.message.replace(/\s*\n\s*/g, " ").trim()
    }
    default:
      return e.message.replace(/\s*\n\s*/g, " ").trim()
  }
}

/** `report mrr: missing required flag --from; see billcycle report mrr --help` */
export const usageErrorLine = (commandPath: ReadonlyArray<string>, errors: ReadonlyArray<ParseError>): string => {
  const path = commandPath.slice(1).join(" ")
  const what = errors.map(describeParseError).join("; ")
  return `${path === "" ? "" : `${path}: `}${what}; see billcycle${path === "" ? "" : ` ${path}`} --help`
}

/**
 * Flags known by another name too (`Flag.withAlias`, and CLI.md's names of the same thing): a message that names
 * the first, for a command line that gave the other, names the one given. `--percent 10` and `--amount 5.00` are
 * `--off` written out; `links simple --contact` is `links create --from-contact`.
 */
const sameFlag: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["--redirect-url", ["--redirect"]],
  ["--contact-field", ["--field"]],
  ["--completed-payments-limit", ["--limit"]],
  ["--expires-on", ["--expires"]],
  ["--off", ["--percent", "--amount"]],
  ["--from-contact", ["--contact"]]
]

/** `--redirect-url: expected an https:// URL …` for `links create --redirect http://…` → `--redirect: expected …`. */
export const namedAsGiven = (message: string, argv: ReadonlyArray<string>): string => {
  const given = (flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`))
  for (const [flag, others] of sameFlag) {
    // `--contact-field: …`, or one of several given (`--contact-field 2: …`).
    if (!(message.startsWith(`${flag}:`) || message.startsWith(`${flag} `)) || given(flag)) continue
    const other = others.find(given)
    if (other !== undefined) return `${other}${message.slice(flag.length)}`
  }
  return message
}
