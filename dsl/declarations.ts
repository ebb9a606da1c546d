/**
 * What an account declares beside its rules, in `declarations.json`: custom
 * subscription properties (the shape of the `custom_properties` table: a
 * lowercase name, a type of string/number/money/date/boolean, a label), the
 * teams a rule may notify and the lists it may fill. `rules check`, the
 * engine's loader and the language server read it through `loadDeclarations`;
 * so does the runtime, to know the custom properties' types.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { Range } from "./ast.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { codes } from "./diagnostics.ts"
import type { CheckContext, PropertyType } from "./schema.ts"
import { defaultCheckContext, objects } from "./schema.ts"
import { readSourceText } from "./sourceText.ts"

export const declarationsFileName = "declarations.json"

/** The types a custom property may have: the `custom_properties.type` check. */
export const customPropertyTypes = ["string", "number", "money", "date", "boolean"] as const
export type CustomPropertyType = typeof customPropertyTypes[number]

export interface CustomProperty {
  readonly name: string
  readonly type: CustomPropertyType
  readonly label: string | undefined
}

export interface Declarations {
  readonly properties: ReadonlyArray<CustomProperty>
  /** Undefined: the built-in teams (`defaultCheckContext.teams`). */
  readonly teams: ReadonlyArray<string> | undefined
  /** Undefined: any list name (lists are created on first use). */
  readonly lists: ReadonlyArray<string> | undefined
}

export const noDeclarations: Declarations = { properties: [], teams: undefined, lists: undefined }

export interface ParsedDeclarations {
  readonly declarations: Declarations
  readonly context: CheckContext
  readonly diagnostics: Array<Diagnostic>
}

const lineRange = (line: number, col = 1): Range => ({ line, col, endLine: line, endCol: col })

/** The line of the first `"key"` in the text: where a problem with that entry is reported. */
const keyRange = (source: string, key: string): Range => {
  const i = source.indexOf(JSON.stringify(key))
  if (i < 0) return lineRange(1)
  const before = source.slice(0, i)
  const line = before.split("\n").length
  return { line, col: i - before.lastIndexOf("\n"), endLine: line, endCol: i - before.lastIndexOf("\n") + JSON.stringify(key).length - 1 }
}

const names = (value: unknown, what: string, source: string, bad: (range: Range, message: string) => void): ReadonlyArray<string> | undefined => {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
    bad(keyRange(source, what), `"${what}" is a list of names in quotes, such as ["finance", "support"]`)
    return undefined
  }
  return value as Array<string>
}

/** Decodes a declarations file; every problem is a diagnostic at its line, and what is valid is kept. */
export const parseDeclarations = (source: string): ParsedDeclarations => {
  const diagnostics: Array<Diagnostic> = []
  const bad = (range: Range, message: string) => diagnostics.push({ code: codes.badDeclaration, severity: "error", range, message })
  let json: unknown
  try {
    json = JSON.parse(source)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const lc = /line (\d+) column (\d+)/.exec(message)
    const at = /position (\d+)/.exec(message)
    const range = lc !== null ? lineRange(Number(lc[1]), Number(lc[2]))
      : at !== null ? lineRange(source.slice(0, Number(at[1])).split("\n").length)
      : lineRange(1)
    bad(range, `not valid JSON: ${message.replace(/ in JSON at position.*$/, "")}`)
    return { declarations: noDeclarations, context: contextOf(noDeclarations), diagnostics }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    bad(lineRange(1), `${declarationsFileName} holds one object: { "properties": {…}, "teams": […], "lists": […] }`)
    return { declarations: noDeclarations, context: contextOf(noDeclarations), diagnostics }
  }
  const record = json as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!["properties", "teams", "lists"].includes(key)) bad(keyRange(source, key), `unknown entry "${key}" (properties, teams, lists)`)
  }
  const properties: Array<CustomProperty> = []
  const props = record["properties"]
  if (props !== undefined && (typeof props !== "object" || props === null || Array.isArray(props))) {
    bad(keyRange(source, "properties"), `"properties" maps a name to its type: { "grind": { "type": "string", "label": "Grind size" } }`)
  } else {
    for (const [name, spec] of Object.entries((props ?? {}) as Record<string, unknown>)) {
      const range = keyRange(source, name)
      // The custom_properties table's check: lowercase, digits and underscores, a letter first.
      if (!/^[a-z][a-z0-9_]*$/.test(name)) {
        bad(range, `"${name}" is not a property name: lowercase letters, digits and "_", starting with a letter`)
        continue
      }
      if (objects["subscription"]![name] !== undefined) {
        bad(range, `"${name}" is a built-in property of subscriptions; a custom property needs another name`)
        continue
      }
      const s = typeof spec === "string" ? { type: spec } : spec
      const type = typeof s === "object" && s !== null ? (s as Record<string, unknown>)["type"] : undefined
      const label = typeof s === "object" && s !== null ? (s as Record<string, unknown>)["label"] : undefined
      if (typeof type !== "string" || !(customPropertyTypes as ReadonlyArray<string>).includes(type)) {
        bad(range, `"${name}" needs a type: one of ${customPropertyTypes.join(", ")}${typeof type === "string" ? `, not "${type}"` : ""}`)
        continue
      }
      if (label !== undefined && typeof label !== "string") {
        bad(range, `the label of "${name}" is text in quotes`)
        continue
      }
      properties.push({ name, type: type as CustomPropertyType, label })
    }
  }
  const declarations: Declarations = { properties, teams: names(record["teams"], "teams", source, bad), lists: names(record["lists"], "lists", source, bad) }
  return { declarations, context: contextOf(declarations), diagnostics }
}

/** The checker's context for these declarations, on top of a base (templates, currencies). */
export const contextOf = (d: Declarations, base: CheckContext = defaultCheckContext): CheckContext => ({
  ...base,
  teams: d.teams ?? base.teams,
  lists: d.lists ?? base.lists,
  customProperties: { ...base.customProperties, ...Object.fromEntries(d.properties.map((p): [string, PropertyType] => [p.name, p.type])) },
  propertyLabels: { ...base.propertyLabels, ...Object.fromEntries(d.properties.flatMap((p) => (p.label === undefined ? [] : [[p.name, p.label]]))) }
})

export interface LoadedDeclarations extends ParsedDeclarations {
  /** The file read, undefined when the directory has none (the defaults apply). */
  readonly file: string | undefined
  readonly source: string
}

/** Reads `declarations.json` of a rules directory; none there means the defaults. */
export const loadDeclarations = (dir: string): LoadedDeclarations => {
  const file = join(dir, declarationsFileName)
  if (!existsSync(file)) return { file: undefined, source: "", declarations: noDeclarations, context: contextOf(noDeclarations), diagnostics: [] }
  const { source, diagnostics } = readSourceText(file)
  const parsed = parseDeclarations(source)
  return { file, source, ...parsed, diagnostics: [...diagnostics, ...parsed.diagnostics] }
}
