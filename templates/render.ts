/**
 * Rendering emails and invoices with Handlebars, compiled once per process
 * (per template directory). Labels come from the language's catalog; money,
 * numbers and dates are formatted for the locale. Every value from data is
 * HTML-escaped exactly once: templates use `{{…}}` on data, never `{{{…}}}`
 * (the only triple-stash is the layout inserting the already-rendered body);
 * a helper escapes what it returns and marks it safe, so neither Handlebars
 * nor `t` escapes it a second time.
 */
import { createRequire } from "node:module"
import type Handlebars from "handlebars"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { resolveLanguage } from "../engine/billing/index.ts"
import { formatDate, formatDateRange, formatMoney, formatNumber, formatPercent } from "./format.ts"
import type { EmailData, EmailTemplate, InvoiceDocumentData } from "./schemas.ts"

export const builtInDir = fileURLToPath(new URL(".", import.meta.url))
export { type Language, languages } from "../engine/billing/index.ts"

export interface RenderOptions {
  readonly language: string
  readonly locale: string
  /** An account's own templates: files there override ours by name. */
  readonly templatesDir?: string | undefined
}

export class TemplateError extends Error {
  readonly template: string
  constructor(template: string, message: string) {
    super(`template ${template}: ${message}`)
    this.template = template
  }
}

/** A catalog that is not a JSON object of labels (an account's, edited by hand): named with its file and line. */
export class CatalogError extends TemplateError {
  readonly file: string
  readonly line: number
  readonly problem: string
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}`, problem)
    this.file = file
    this.line = line
    this.problem = problem
  }
}

const readCatalog = (path: string): Record<string, string> => {
  const text = readFileSync(path, "utf8")
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    const message = (e as Error).message
    const line = /line (\d+)/.exec(message)
    const position = /position (\d+)/.exec(message)
    throw new CatalogError(path, line !== null ? Number(line[1]) : position !== null ? text.slice(0, Number(position[1])).split("\n").length : 1, `not a JSON catalog: ${message}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
    throw new CatalogError(path, 1, "expected a JSON object of labels, each a string")
  }
  return parsed as Record<string, string>
}

const catalogs = new Map<string, Record<string, string>>()

export const catalog = (language: string, templatesDir?: string): Record<string, string> => {
  const key = `${templatesDir ?? ""}|${language}`
  let c = catalogs.get(key)
  if (c === undefined) {
    const ours = readCatalog(join(builtInDir, "catalogs", `${language}.json`))
    const theirsPath = templatesDir === undefined ? undefined : join(templatesDir, "catalogs", `${language}.json`)
    const theirs = theirsPath !== undefined && existsSync(theirsPath) ? readCatalog(theirsPath) : {}
    c = { ...ours, ...theirs }
    catalogs.set(key, c)
  }
  return c
}

/** The path of a template file: the account's directory first, then ours. */
export const templatePath = (relative: string, templatesDir?: string): string => {
  if (templatesDir !== undefined) {
    const theirs = join(templatesDir, relative)
    if (existsSync(theirs)) return theirs
  }
  return join(builtInDir, relative)
}

const pluralRules = new Map<string, Intl.PluralRules>()

/**
 * A label given a `count` in its plural form, when the catalog has one: `KEY.one`, `KEY.few`… by the language's CLDR
 * rules ("1 payment", "2 payments"; French counts 0 and 1 as one). KEY itself is the form for any other count.
 */
const pluralLabel = (labels: Record<string, string>, key: string, language: string, count: unknown): string | undefined => {
  if (typeof count !== "number") return undefined
  let rules = pluralRules.get(language)
  if (rules === undefined) pluralRules.set(language, (rules = new Intl.PluralRules(language)))
  return labels[`${key}.${rules.select(count)}`]
}

interface Env {
  readonly hb: typeof Handlebars
  readonly compiled: Map<string, Handlebars.TemplateDelegate>
}
const envs = new Map<string, Env>()

// Handlebars is required on the first render, not when the command line starts.
const require = createRequire(import.meta.url)
const handlebars = (): typeof Handlebars => require("handlebars")
const escape = (value: unknown): string => handlebars().Utils.escapeExpression(value as string)

/** One Handlebars environment per template directory, with our helpers; templates compiled on first use. */
const envFor = (templatesDir?: string): Env => {
  const key = templatesDir ?? ""
  let env = envs.get(key)
  if (env !== undefined) return env
  const hb = handlebars().create()
  // The helpers read language and locale from the root data (@root), set per render.
  hb.registerHelper("t", function(this: unknown, key: unknown, options: Handlebars.HelperOptions) {
    const root = options.data.root as { language: string; __catalog: Record<string, string> }
    const hash = options.hash as Record<string, unknown>
    const text = pluralLabel(root.__catalog, String(key), root.language, hash["count"]) ?? root.__catalog[String(key)]
    if (text === undefined) throw new TemplateError("catalog", `missing label "${String(key)}" in language ${root.language}`)
    // Parameters are escaped unless they are already-safe output of another helper.
    return new hb.SafeString(escape(text).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const v = hash[name]
      return v instanceof hb.SafeString ? v.toString() : escape(String(v ?? ""))
    }))
  })
  // A formatted value is escaped here, once, and handed on as safe: Handlebars must not escape it again, nor `t`
  // when it is a label's parameter ("Bread &amp;amp; Butter" reached a buyer from {{date subscription}}).
  const formatted = (text: string) => new hb.SafeString(escape(text))
  const localeOf = (options: Handlebars.HelperOptions) => (options.data.root as { locale: string }).locale
  // `minus=true` shows an amount taken off (a discount, what was paid) as the locale writes a negative amount.
  hb.registerHelper("money", (minor: unknown, currency: unknown, options: Handlebars.HelperOptions) => {
    const amount = Number(minor ?? 0)
    return formatted(formatMoney((options.hash as { minus?: unknown }).minus === true ? -amount : amount, String(currency), localeOf(options)))
  })
  hb.registerHelper("num", (n: unknown, options: Handlebars.HelperOptions) => formatted(formatNumber(Number(n), localeOf(options))))
  hb.registerHelper("percent", (ppm: unknown, options: Handlebars.HelperOptions) => formatted(formatPercent(Number(ppm), localeOf(options))))
  hb.registerHelper("date", (d: unknown, options: Handlebars.HelperOptions) => formatted(d === undefined || d === null || d === "" ? "" : formatDate(String(d), localeOf(options))))
  hb.registerHelper("dateRange", (first: unknown, last: unknown, options: Handlebars.HelperOptions) =>
    formatted(formatDateRange(String(first ?? ""), String(last ?? ""), localeOf(options))))
  env = { hb, compiled: new Map() }
  envs.set(key, env)
  return env
}

const compiled = (relative: string, templatesDir?: string): Handlebars.TemplateDelegate => {
  const env = envFor(templatesDir)
  let t = env.compiled.get(relative)
  if (t === undefined) {
    const path = templatePath(relative, templatesDir)
    if (!existsSync(path)) throw new TemplateError(relative, "no such template")
    t = env.hb.compile(readFileSync(path, "utf8"), { strict: false, noEscape: false })
    env.compiled.set(relative, t)
  }
  return t
}

const run = (relative: string, data: object, options: RenderOptions): string => {
  const language = resolveLanguage(options.language)
  try {
    return compiled(relative, options.templatesDir)({ ...data, language, locale: options.locale, __catalog: catalog(language, options.templatesDir) })
  } catch (e) {
    if (e instanceof TemplateError) throw e
    throw new TemplateError(relative, (e as Error).message)
  }
}

export const renderInvoice = (data: InvoiceDocumentData, options: RenderOptions): string => run("invoice.hbs", data, options)

export interface RenderedEmail {
  readonly subject: string
  readonly html: string
  readonly text: string
}

/** A catalog label's `{{name}}` parameters filled in as plain text (a name it is not given is left empty). */
export const fillLabel = (text: string, values: Readonly<Record<string, string>>): string =>
  text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? "")

/** The subject line: the catalog's `NAME.subject`, its parameters from the data, as plain text. */
const subjectOf = (name: EmailTemplate, data: EmailData, options: RenderOptions): string => {
  const language = resolveLanguage(options.language)
  const labels = catalog(language, options.templatesDir)
  // A reminder of a subscription paid by invoice announces the invoice, not a charge.
  const text = (name === "reminder" && data.invoiced === true ? labels["reminder.subject_invoice"] : undefined) ?? labels[`${name}.subject`]
  if (text === undefined) throw new TemplateError(name, `missing label "${name}.subject" in language ${language}`)
  const values: Record<string, string> = {
    // The outcome is data ("succeeded", "failed"); the subject says it in the reader's words.
    number: data.number ?? "", seller: data.seller ?? "", outcome: data.outcome ? labels[`${name}.outcome.${data.outcome}`] ?? data.outcome : "",
    date: data.nextDate ? formatDate(data.nextDate, options.locale) : ""
  }
  return fillLabel(text, values)
}

export const renderEmail = (name: EmailTemplate, data: EmailData, options: RenderOptions): RenderedEmail => {
  const subject = subjectOf(name, data, options)
  const body = run(`emails/${name}.hbs`, data, options)
  const html = run("partials/layout.hbs", { body, subject, seller: data.seller ?? "" }, options)
  return { subject, html, text: htmlToText(body) + `\n\n${catalog(resolveLanguage(options.language), options.templatesDir)["email.signoff"] ?? ""}\n${data.seller ?? ""}\n` }
}

/** The buyer's pages (served by `billcycle serve`, engine/api/pages.ts). */
export type PageTemplate = "update_payment" | "pay_invoice" | "message" | "checkout" | "checkout_done"

export interface PageOptions extends RenderOptions {
  /** The catalog label of the page's title and its parameters (plain text, escaped in the layout). */
  readonly title: string
  readonly titleValues?: Readonly<Record<string, string>> | undefined
  readonly seller: string
}

/** A whole page: the body from `pages/NAME.hbs` inside `pages/layout.hbs`, every value from data escaped. */
export const renderPage = (name: PageTemplate, data: object, options: PageOptions): string => {
  const language = resolveLanguage(options.language)
  const label = catalog(language, options.templatesDir)[options.title]
  if (label === undefined) throw new TemplateError(`pages/${name}.hbs`, `missing label "${options.title}" in language ${language}`)
  const title = fillLabel(label, options.titleValues ?? {})
  const body = run(`pages/${name}.hbs`, { ...data, seller: options.seller }, options)
  return run("pages/layout.hbs", { body, title, seller: options.seller }, options)
}

/** The plain-text part from the rendered body: paragraphs, links as "text (url)", entities decoded. */
export const htmlToText = (html: string): string =>
  html
    .replace(/<a [^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g, (_, href: string, label: string) => `${label} (${href})`)
    .replace(/<br\s*\/?>/g, "\n")
    .replace(/<\/p>\s*/g, "\n\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;|&#x22;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#x3D;/g, "=")
    .replace(/&#x60;/g, "`")
    .replace(/&amp;/g, "&")
    .replace(/\n{3,}/g, "\n\n")
    .trim()

export const listTemplateFiles = (templatesDir?: string): Array<string> => {
  const names = new Set<string>(["invoice.hbs", "partials/layout.hbs"])
  for (const dir of [builtInDir, templatesDir].filter((d): d is string => d !== undefined)) {
    for (const sub of ["emails", "pages"]) {
      const folder = join(dir, sub)
      if (existsSync(folder)) for (const f of readdirSync(folder)) if (f.endsWith(".hbs")) names.add(`${sub}/${f}`)
    }
  }
  return [...names].sort()
}
