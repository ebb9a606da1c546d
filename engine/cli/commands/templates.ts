/** `billcycle templates check` and `billcycle render invoice|email`. */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { writeOutFile } from "../outFile.ts"
import { htmlToPdf } from "../../../templates/pdf.ts"
import type { EmailTemplate } from "../../../templates/index.ts"
import { checkTemplates, emailTemplates } from "../../../templates/index.ts"
import { everyLanguageInWords, languageProblem, localeProblem, languagesInWords } from "../../billing/index.ts"
import { SubscriptionId } from "../../domain/index.ts"
import { Invoices } from "../../invoicing/index.ts"
import { commandContext } from "../../account/index.ts"
import { withApp } from "../AppLayer.ts"
import { CheckFailed, UsageError } from "../CliFailure.ts"
import { Json } from "../GlobalFlags.ts"
import { parseCountFlag } from "../flagParsers.ts"
import { wordInvoiceRefusals } from "../refusals.ts"
import { invoiceIdOf } from "./invoices.ts"

const templatesFlag = Flag.String("templates").pipe(Flag.withDescription("a directory of templates overriding ours by name"), Flag.optional)

const dirOf = (flag: Option.Option<string>) =>
  Option.isNone(flag)
    ? Effect.succeed(undefined)
    : existsSync(flag.value)
    ? Effect.succeed(flag.value)
    : Effect.fail(new UsageError({ message: `--templates: ${flag.value}: no such directory` }))

const check = Command.make("check", { templates: templatesFlag }, (flags) =>
  Effect.gen(function*() {
    const json = yield* Json
    const dir = yield* dirOf(flags.templates)
    const diagnostics = checkTemplates({ templatesDir: dir })
    if (json) yield* Console.log(JSON.stringify({ diagnostics }))
    else if (diagnostics.length === 0) yield* Console.log(`templates: every template has its labels in ${everyLanguageInWords}, and every variable in its data, of the kind its helper formats`)
    for (const d of diagnostics) if (!json) yield* Console.error(`${d.file}:${d.line}: error: ${d.message}`)
    if (diagnostics.length > 0) return yield* new CheckFailed({ message: `${diagnostics.length} template error${diagnostics.length === 1 ? "" : "s"}` })
  })).pipe(Command.withDescription("Check every template in every language: missing labels, unknown variables, a helper given a field of the wrong kind"))

export const templatesCommand = Command.make("templates").pipe(Command.withDescription("Email and invoice templates"), Command.withSubcommands([check]))

const languageFlag = Flag.String("language").pipe(Flag.withDescription(`${languagesInWords} (default: the subscription's, the contact's, the account's)`), Flag.optional)
const localeFlag = Flag.String("locale").pipe(Flag.withDescription("e.g. nb-NO (default: as the language)"), Flag.optional)
const outFlag = Flag.String("out").pipe(Flag.withDescription("write the HTML to FILE"), Flag.optional)

const checkFlag = (name: string, flag: Option.Option<string>, problem: (value: string) => string | undefined) => {
  const bad = Option.isSome(flag) ? problem(flag.value) : undefined
  return bad === undefined ? Effect.void : Effect.fail(new UsageError({ message: `--${name}: ${bad}` }))
}
const checkLanguage = (flag: Option.Option<string>) => checkFlag("language", flag, languageProblem)
const checkLocale = (flag: Option.Option<string>) => checkFlag("locale", flag, localeProblem)

const output = (html: string, out: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(out)) {
      yield* writeOutFile(out.value, html)
      yield* Console.error(`wrote ${out.value}`)
    } else {
      yield* Console.log(html)
    }
  })

const renderInvoiceCommand = Command.make(
  "invoice",
  {
    id: Argument.String("invoice-id").pipe(Argument.withDescription("the invoice's id or number (as in invoices list)")),
    format: Flag.Literals("format", ["html", "pdf"]).pipe(Flag.withDescription("html (default) or pdf (printed by the Chromium that npm install brings; give --out FILE)"), Flag.withDefault("html" as const)),
    language: languageFlag, locale: localeFlag, out: outFlag, templates: templatesFlag
  },
  (flags) =>
    withApp(Effect.gen(function*() {
      yield* checkLanguage(flags.language)
      yield* checkLocale(flags.locale)
      const id = yield* invoiceIdOf(flags.id)
      const dir = yield* dirOf(flags.templates)
      const json = yield* Json
      if (json && flags.format === "pdf") return yield* new UsageError({ message: "--json: a PDF is not JSON (--json gives the HTML with the invoice's id and locale)" })
      if (flags.format === "pdf" && Option.isNone(flags.out) && process.stdout.isTTY === true) {
        return yield* new UsageError({ message: "--format pdf: give --out FILE (or redirect stdout); a PDF is not for the terminal" })
      }
      const { html, locale } = yield* (yield* Invoices).renderDocument(id, {
        language: Option.getOrUndefined(flags.language), locale: Option.getOrUndefined(flags.locale), templatesDir: dir, issuedOn: (yield* commandContext).today
      }).pipe(wordInvoiceRefusals())
      if (flags.format === "html") return yield* (json ? Console.log(JSON.stringify({ invoice_id: Number(id), locale, html })) : output(html, flags.out))
      const pdf = yield* Effect.tryPromise({ try: () => htmlToPdf(html, locale), catch: (e) => new CheckFailed({ message: `cannot print the PDF with Chromium: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` }) })
      if (Option.isSome(flags.out)) {
        yield* writeOutFile(flags.out.value, pdf)
        yield* Console.error(`wrote ${flags.out.value}`)
      } else {
        yield* Effect.promise(() => new Promise<void>((resolve) => process.stdout.write(pdf, () => resolve())))
      }
    }))
).pipe(Command.withDescription("Render an invoice as a printable HTML document, or as a PDF (--json: its id, locale and HTML)"))

const renderEmailCommand = Command.make(
  "email",
  { template: Argument.String("template").pipe(Argument.withDescription("an email template, e.g. welcome, payment_failed, receipt")), subscription: Flag.String("subscription").pipe(Flag.withDescription("the subscription whose data fills the email")), language: languageFlag, locale: localeFlag, out: outFlag, templates: templatesFlag },
  (flags) =>
    withApp(Effect.gen(function*() {
      if (!(emailTemplates as ReadonlyArray<string>).includes(flags.template)) {
        return yield* new UsageError({ message: `TEMPLATE: unknown email "${flags.template}" (${emailTemplates.join(", ")})` })
      }
      yield* checkLanguage(flags.language)
      yield* checkLocale(flags.locale)
      const id = SubscriptionId.make(yield* parseCountFlag("--subscription", flags.subscription))
      const dir = yield* dirOf(flags.templates)
      const json = yield* Json
      const rendered = yield* (yield* Invoices).previewEmail(id, flags.template as EmailTemplate, (yield* commandContext).today, {
        language: Option.getOrUndefined(flags.language), locale: Option.getOrUndefined(flags.locale), templatesDir: dir
      }).pipe(wordInvoiceRefusals())
      if (json) return yield* Console.log(JSON.stringify(rendered))
      yield* output(rendered.html, flags.out)
    }))
).pipe(Command.withDescription("Render an email for a subscription (HTML; --json for subject, html and text)"))

export const renderCommand = Command.make("render").pipe(Command.withDescription("Render invoices and emails"), Command.withSubcommands([renderInvoiceCommand, renderEmailCommand]))
