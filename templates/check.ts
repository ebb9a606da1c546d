/**
 * `templates check`: for every template and every language, every label a
 * template asks for exists in the catalog, and every variable it uses exists
 * in its data schema. Walks the Handlebars AST; errors name file and line.
 */
import { createRequire } from "node:module"
import type Handlebars from "handlebars"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { builtInDir, catalog, CatalogError, languages, listTemplateFiles, templatePath } from "./render.ts"
import type { FieldKind } from "./schemas.ts"
import { EmailData, fieldKindsOf, fieldsOf, InvoiceDocumentData } from "./schemas.ts"

export interface TemplateDiagnostic {
  readonly file: string
  readonly line: number
  readonly message: string
}

const helpers = new Set(["t", "money", "num", "percent", "date", "dateRange", "if", "unless", "each", "with", "lookup", "log"])
const common = ["language", "locale"]

/**
 * What a formatting helper's arguments must hold, in order: `{{date number}}` printed an invoice number where a
 * date belongs, and `{{money quantity currency}}` a quantity as an amount, with nothing to warn the template's author.
 */
const wantedKinds: Record<string, ReadonlyArray<FieldKind>> = {
  date: ["date"],
  dateRange: ["date", "date"],
  money: ["amount"],
  num: ["number"],
  percent: ["number"]
}
const helperFormats: Record<string, string> = {
  date: "formats a date (YYYY-MM-DD)",
  dateRange: "formats two dates (YYYY-MM-DD)",
  money: "formats an amount in minor units",
  num: "formats a number",
  percent: "formats a rate in parts per million"
}
const withArticle: Record<FieldKind, string> = {
  amount: "an amount", date: "a date", number: "a number", text: "text", "yes or no": "yes or no", list: "a list", "group of fields": "a group of fields"
}

/** The data a template is rendered with; none for the layout, which is given the rendered email. */
const schemaFor = (relative: string) => relative === "invoice.hbs" ? InvoiceDocumentData : relative === "partials/layout.hbs" ? undefined : EmailData

const kindsFor = (relative: string): Map<string, FieldKind> => {
  const schema = schemaFor(relative)
  return schema === undefined ? new Map() : fieldKindsOf(schema)
}

const scopeFor = (relative: string): Map<string, Set<string> | undefined> => {
  const schema = schemaFor(relative)
  const fields = schema === undefined
    ? new Map<string, Set<string> | undefined>([["body", undefined], ["subject", undefined], ["seller", undefined]])
    : fieldsOf(schema)
  for (const c of common) fields.set(c, undefined)
  return fields
}

type Node = { type: string; loc?: { start: { line: number } }; [k: string]: any }

export const checkTemplate = (relative: string, source: string, labelSets: ReadonlyArray<{ language: string; labels: Record<string, string> }>, file = relative): Array<TemplateDiagnostic> => {
  const out: Array<TemplateDiagnostic> = []
  let program: Node
  try {
    program = (createRequire(import.meta.url)("handlebars") as typeof Handlebars).parse(source) as unknown as Node
  } catch (e) {
    const m = /line (\d+)/.exec((e as Error).message)
    return [{ file, line: m === null ? 1 : Number(m[1]), message: `syntax error: ${(e as Error).message.split("\n")[0]}` }]
  }
  // A page's data is built by its door (engine/api/pages.ts) without a schema: its labels are checked, not its variables.
  const root = relative.startsWith("pages/") ? undefined : scopeFor(relative)
  const kinds = root === undefined ? new Map<string, FieldKind>() : kindsFor(relative)
  // Where a scope frame's names live among the kinds: the root's at the top, an iterated list's element under the list.
  const prefixes = new WeakMap<object, string>()
  if (root !== undefined) prefixes.set(root, "")
  type Scope = ReadonlyArray<Map<string, Set<string> | undefined> | Set<string> | undefined>
  /**
   * A path's frame of the scope and its names in it: `@root.x.y` is `x.y` of the template's data wherever it is
   * written, `../x` is `x` of the frame outside; nothing for the other data variables (@index, @first, …).
   */
  const resolve = (p: Node, scope: Scope): { readonly frame: Scope[number]; readonly parts: ReadonlyArray<string> } | undefined => {
    const parts: Array<string> = p["parts"]
    if (p["data"] !== true) return { frame: scope[scope.length - 1 - Number(p["depth"] ?? 0)], parts }
    return parts[0] === "root" ? { frame: scope[0], parts: parts.slice(1) } : undefined
  }
  /** A path as a message names it: `@root.x` as written, else its names (`x.y` of `../x.y`). */
  const shownPath = (p: Node): string => p["data"] === true ? p["original"] as string : (p["parts"] as Array<string>).join(".")
  const kindOfPath = (p: Node, scope: Scope): FieldKind | undefined => {
    const path = p.type === "PathExpression" ? resolve(p, scope) : undefined
    const prefix = path?.frame === undefined || path.parts.length === 0 ? undefined : prefixes.get(path.frame)
    return prefix === undefined ? undefined : kinds.get(prefix === "" ? path!.parts.join(".") : `${prefix}.${path!.parts.join(".")}`)
  }
  const labelKeys = new Set<string>()
  const checkPath = (p: Node, scope: Scope) => {
    const path = resolve(p, scope)
    if (path === undefined || path.parts.length === 0) return // @index, …; this, @root
    const { frame, parts } = path
    const head = parts[0]!
    if (frame instanceof Map) {
      if (!frame.has(head)) out.push({ file, line: p.loc?.start.line ?? 1, message: `unknown variable "${shownPath(p)}" (not in the template's data)` })
      else if (parts.length > 1) {
        const nested = frame.get(head)
        if (nested !== undefined && !nested.has(parts[1]!)) out.push({ file, line: p.loc?.start.line ?? 1, message: `unknown variable "${shownPath(p)}"` })
      }
    } else if (frame instanceof Set) {
      if (!frame.has(head)) out.push({ file, line: p.loc?.start.line ?? 1, message: `unknown variable "${shownPath(p)}" (not a field of the items iterated)` })
    }
  }
  const walkExpr = (e: Node, scope: ReadonlyArray<any>) => {
    if (e.type === "PathExpression") checkPath(e, scope)
    else if (e.type === "SubExpression") walkCall(e, scope)
  }
  const walkCall = (node: Node, scope: ReadonlyArray<any>) => {
    const path = node["path"] as Node
    const name = path.type === "PathExpression" ? (path["parts"] as Array<string>).join(".") : ""
    const params = (node["params"] ?? []) as Array<Node>
    const hash = ((node["hash"]?.pairs ?? []) as Array<{ value: Node }>).map((p) => p.value)
    if (name === "t" && params[0]?.type === "StringLiteral") {
      const key = params[0]["value"] as string
      labelKeys.add(key)
      for (const { language, labels } of labelSets) {
        if (labels[key] === undefined) out.push({ file, line: node.loc?.start.line ?? 1, message: `missing label "${key}" in the ${language} catalog` })
      }
    }
    const wanted = wantedKinds[name]
    if (wanted !== undefined) {
      wanted.forEach((kind, i) => {
        const param = params[i]
        const found = param === undefined ? undefined : kindOfPath(param, scope)
        if (found !== undefined && found !== kind) {
          out.push({ file, line: node.loc?.start.line ?? 1, message: `${name} of "${shownPath(param!)}", which is ${withArticle[found]}, not ${withArticle[kind]}: ${name} ${helperFormats[name]}` })
        }
      })
    }
    if (!helpers.has(name) && params.length === 0 && hash.length === 0) walkExpr(path, scope)
    else if (!helpers.has(name) && name !== "") out.push({ file, line: node.loc?.start.line ?? 1, message: `unknown helper "${name}"` })
    for (const p of [...params, ...hash]) if (!(name === "t" && p === params[0])) walkExpr(p, scope)
  }
  const walk = (node: Node, scope: ReadonlyArray<any>) => {
    switch (node.type) {
      case "Program":
        for (const s of node["body"] as Array<Node>) walk(s, scope)
        break
      case "MustacheStatement":
        walkCall(node, scope)
        break
      case "BlockStatement": {
        const name = ((node["path"] as Node)["parts"] as Array<string>).join(".")
        const params = node["params"] as Array<Node>
        for (const p of params) walkExpr(p, scope)
        let inner = scope
        if (name === "each" && params[0]?.type === "PathExpression") {
          const parts = params[0]["parts"] as Array<string>
          const frame = scope[scope.length - 1]
          const element = frame instanceof Map && parts.length === 1 ? frame.get(parts[0]!) : frame instanceof Map && parts.length === 2 ? undefined : undefined
          inner = [...scope, frame === undefined ? undefined : element ?? new Set<string>()]
          if (element !== undefined && frame !== undefined && prefixes.get(frame) === "") prefixes.set(element, parts[0]!)
          if (frame instanceof Map && parts.length === 2) inner = [...scope, undefined]
        }
        if (node["program"]) walk(node["program"], inner)
        if (node["inverse"]) walk(node["inverse"], scope)
        break
      }
      default:
        break
    }
  }
  walk(program, [root])
  return out
}

/** Checks every template (ours, overridden by the account's) in every language. */
export const checkTemplates = (options: { templatesDir?: string | undefined } = {}): Array<TemplateDiagnostic> => {
  const out: Array<TemplateDiagnostic> = []
  // An account's catalog that does not parse is one diagnostic; its language is then checked against ours.
  const labelSets = languages.map((language) => {
    try {
      return { language, labels: catalog(language, options.templatesDir) }
    } catch (e) {
      if (!(e instanceof CatalogError)) throw e
      out.push({ file: e.file, line: e.line, message: e.problem })
      return { language, labels: catalog(language) }
    }
  })
  for (const relative of listTemplateFiles(options.templatesDir)) {
    const path = templatePath(relative, options.templatesDir)
    out.push(...checkTemplate(relative, readFileSync(path, "utf8"), labelSets, path.startsWith(builtInDir) ? join("templates", relative) : path))
  }
  // Every email needs its subject line in every language.
  for (const relative of listTemplateFiles(options.templatesDir).filter((r) => r.startsWith("emails/"))) {
    const name = relative.slice("emails/".length, -".hbs".length)
    for (const { language, labels } of labelSets) {
      if (labels[`${name}.subject`] === undefined) out.push({ file: join("templates", "catalogs", `${language}.json`), line: 1, message: `missing label "${name}.subject" for email ${name}` })
      // A subject that names an outcome says it in words of the catalog (render.ts subjectOf).
      if (labels[`${name}.subject`]?.includes("{{outcome}}")) {
        for (const outcome of ["succeeded", "failed"]) {
          if (labels[`${name}.outcome.${outcome}`] === undefined) out.push({ file: join("templates", "catalogs", `${language}.json`), line: 1, message: `missing label "${name}.outcome.${outcome}" for email ${name}` })
        }
      }
    }
  }
  return out
}
