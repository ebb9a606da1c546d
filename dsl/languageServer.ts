/**
 * The rule language's server for editors (Language Server Protocol over a
 * pair of streams, stdio from `billcycle rules lsp`): the checker's
 * diagnostics as you type, with their codes; hover on properties, events,
 * templates and keywords; completion; formatting through the formatter; go
 * to the definition of a rule id. It answers from the same parser, checker
 * and declarations as `rules check`, so the editor and the CLI never
 * disagree. It reads the other rule files and the declarations.json of a
 * document's directory; it writes nothing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { TextDocument } from "vscode-languageserver-textdocument"
import type { CompletionItem, Diagnostic as LspDiagnostic, Hover, Location, Position, Range as LspRange, TextEdit } from "vscode-languageserver/node"
import { CompletionItemKind, createConnection, DiagnosticSeverity, MarkupKind, StreamMessageReader, StreamMessageWriter, TextDocuments, TextDocumentSyncKind } from "vscode-languageserver/node"
import type { Range } from "./ast.ts"
import type { CheckContext } from "./schema.ts"
import { loadDeclarations } from "./declarations.ts"
import type { Diagnostic } from "./diagnostics.ts"
import { formatRules } from "./formatter.ts"
import { checkRuleSources } from "./index.ts"
import { keywords } from "./lexer.ts"
import { parseRules } from "./parser.ts"
import { durationUnits, events, objects, propertyDocs, statuses } from "./schema.ts"

export interface LanguageServerOptions {
  /** The variables an email template uses, for hover; the caller knows where templates live. */
  readonly templateVariables?: (template: string) => ReadonlyArray<string> | undefined
}

const keywordDocs: Record<string, string> = {
  rule: "`rule ID \"Title\"` starts a rule; the id is unique across the files of the directory",
  when: "`when TRIGGER or TRIGGER`: what enrolls a subscription (a trigger is a change: `becomes`, `changes from … to …`, an event, or a date)",
  where: "`where CONDITION`: checked on the new state when a trigger fires",
  reenroll: "enroll again on each new transition (never while an enrollment is running)",
  unenroll: "`unenroll when CONDITION`: checked before every step and on waking",
  becomes: "`PROPERTY becomes VALUE`: fires when it was not VALUE before the change and is after",
  changes: "`PROPERTY changes from A to B`: it was A and is now B",
  is: "`X is V`, `X is not V`, `X is known`, `X is unknown` (in `where`, `unenroll when` and `if`; a trigger needs `becomes`)",
  wait: "`wait 3 days` (weeks, months, years) or `wait until 30 days before subscription.end_date`",
  send: "`send email TEMPLATE to contact` (or `to billing contact`)",
  notify: "`notify team \"finance\" \"TEXT\"`, `notify owner \"TEXT\"`, `notify user \"EMAIL\" \"TEXT\"`",
  set: "`set subscription.PROPERTY to VALUE` (not the properties the engine owns)",
  create: "`create task \"TEXT\" for owner due in 2 days` (or `for team \"finance\"`)",
  add: "`add contact to list \"renewals\"`",
  remove: "`remove contact from list \"renewals\"`",
  webhook: "`webhook post \"https://…\"`: a signed JSON POST",
  event: "`event subscription.created`: fires when that event is written; `event.FIELD` reads its fields"
}

const toLsp = (r: Range): LspRange => ({
  start: { line: Math.max(0, r.line - 1), character: Math.max(0, r.col - 1) },
  end: { line: Math.max(0, r.endLine - 1), character: Math.max(0, r.endCol) }
})

const toLspDiagnostic = (d: Diagnostic): LspDiagnostic => ({
  range: toLsp(d.range),
  severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
  code: d.code,
  source: "billcycle",
  message: d.hint === undefined ? d.message : `${d.message} (${d.hint})`
})

const pathOf = (uri: string): string | undefined => (uri.startsWith("file:") ? fileURLToPath(uri) : undefined)

/** The dotted name (or word) the position is in, with its range on the line. */
const wordAt = (line: string, character: number): { word: string; start: number; end: number } | undefined => {
  for (const m of line.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g)) {
    if (m.index <= character && character <= m.index + m[0].length) return { word: m[0], start: m.index, end: m.index + m[0].length }
  }
  return undefined
}

const typeOf = (name: string, context: CheckContext): string | undefined => {
  const [object, prop] = name.split(".")
  if (object === undefined || prop === undefined) return undefined
  const spec = objects[object]?.[prop]
  if (spec !== undefined) return `${spec.type}${spec.engineOwned ? ", set by the billing engine (a rule reads it, never sets it)" : ""}`
  if (object === "subscription" && context.customProperties?.[prop] !== undefined) return `${context.customProperties[prop]}, a custom property (declarations.json)`
  return undefined
}

export const startLanguageServer = (input: NodeJS.ReadableStream, output: NodeJS.WritableStream, options: LanguageServerOptions = {}) => {
  const connection = createConnection(new StreamMessageReader(input), new StreamMessageWriter(output))
  const documents = new TextDocuments(TextDocument)

  const contextFor = (uri: string): CheckContext => {
    const file = pathOf(uri)
    return loadDeclarations(file === undefined ? process.cwd() : dirname(file)).context
  }

  /** The document with the other rule files of its directory (open ones as edited): ids are unique across them. */
  const ruleSetOf = (uri: string): Array<{ file: string; source: string }> => {
    const doc = documents.get(uri)
    const own = { file: uri, source: doc?.getText() ?? "" }
    const path = pathOf(uri)
    if (path === undefined || !existsSync(dirname(path))) return [own]
    const dir = dirname(path)
    const others = readdirSync(dir).filter((f) => f.endsWith(".rules") && join(dir, f) !== path).map((f) => {
      const otherUri = pathToFileURL(join(dir, f)).href
      return { file: otherUri, source: documents.get(otherUri)?.getText() ?? readFileSync(join(dir, f), "utf8") }
    })
    return [own, ...others]
  }

  const validate = (uri: string) => {
    const results = checkRuleSources(ruleSetOf(uri), contextFor(uri))
    const own = results.find((r) => r.file === uri)
    void connection.sendDiagnostics({ uri, diagnostics: (own?.diagnostics ?? []).map(toLspDiagnostic) })
  }

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: [".", "\"", " ", "{"] },
      documentFormattingProvider: true,
      definitionProvider: true
    },
    serverInfo: { name: "billcycle rules" }
  }))

  documents.onDidChangeContent((e) => validate(e.document.uri))
  documents.onDidClose((e) => void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }))

  connection.onHover((params): Hover | null => {
    const doc = documents.get(params.textDocument.uri)
    if (doc === undefined) return null
    const line = doc.getText({ start: { line: params.position.line, character: 0 }, end: { line: params.position.line + 1, character: 0 } }).replace(/\r?\n$/, "")
    const at = wordAt(line, params.position.character)
    if (at === undefined) return null
    const context = contextFor(params.textDocument.uri)
    const range = { start: { line: params.position.line, character: at.start }, end: { line: params.position.line, character: at.end } }
    const markdown = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range })
    const type = typeOf(at.word, context)
    if (type !== undefined) {
      const prop = at.word.split(".")[1]!
      const meaning = propertyDocs[at.word] ?? context.propertyLabels?.[prop]
      return markdown(`**${at.word}**: ${type}${meaning === undefined ? "" : `\n\n${meaning}`}`)
    }
    if (events[at.word] !== undefined) {
      const fields = Object.entries(events[at.word]!).map(([f, t]) => `\`event.${f}\` (${t})`)
      return markdown(`**event ${at.word}**${fields.length === 0 ? "" : `\n\nfields: ${fields.join(", ")}`}`)
    }
    if (/\bsend\s+email\s+$/.test(line.slice(0, at.start)) || (context.templates.includes(at.word) && /\bemail\b/.test(line))) {
      const variables = options.templateVariables?.(at.word)
      return markdown(`**email template ${at.word}**${context.templates.includes(at.word) ? "" : " (unknown)"}${variables === undefined ? "" : `\n\nvariables: ${variables.length === 0 ? "none" : variables.map((v) => `\`${v}\``).join(", ")}`}`)
    }
    if (keywordDocs[at.word] !== undefined) return markdown(keywordDocs[at.word]!)
    return null
  })

  connection.onCompletion((params): Array<CompletionItem> => {
    const doc = documents.get(params.textDocument.uri)
    if (doc === undefined) return []
    const before = doc.getText({ start: { line: params.position.line, character: 0 }, end: params.position })
    const context = contextFor(params.textDocument.uri)
    const items = (labels: ReadonlyArray<string>, kind: CompletionItemKind, detail?: (label: string) => string | undefined): Array<CompletionItem> =>
      labels.map((label) => ({ label, kind, ...(detail?.(label) === undefined ? {} : { detail: detail(label)! }) }))
    // Inside an open quote the name alone is inserted; after a space, the quoted value.
    const quoted = (labels: ReadonlyArray<string>, kind: CompletionItemKind, open: boolean) =>
      labels.map((label): CompletionItem => ({ label, kind, insertText: open ? label : `"${label}"` }))
    const member = /(subscription|contact|invoice|payment|event)\.\w*$/.exec(before)
    if (member !== null) {
      const object = member[1]!
      if (object === "event") {
        const fields = [...new Set(Object.values(events).flatMap((f) => Object.keys(f)))]
        return items(fields, CompletionItemKind.Field)
      }
      const props = [...Object.keys(objects[object] ?? {}), ...(object === "subscription" ? Object.keys(context.customProperties ?? {}) : [])]
      return items(props, CompletionItemKind.Property, (p) => typeOf(`${object}.${p}`, context))
    }
    if (/\bevent\s+[\w.]*$/.test(before)) return items(Object.keys(events), CompletionItemKind.Event)
    if (/\bsend\s+email\s+\w*$/.test(before)) return items(context.templates, CompletionItemKind.Reference)
    const team = /\bteam\s+(")?\w*$/.exec(before)
    if (team !== null) return quoted(context.teams, CompletionItemKind.Value, team[1] !== undefined)
    const list = /\blist\s+(")?\w*$/.exec(before)
    if (list !== null) return quoted(context.lists ?? [], CompletionItemKind.Value, list[1] !== undefined)
    const status = /\bsubscription\.status\s+(?:becomes|is(?:\s+not)?|changes\s+from|(?:not\s+)?in\s+\[[^\]]*|changes\s+from\s+"\w+"\s+to)\s*(")?\w*$/.exec(before)
    if (status !== null) return quoted(statuses, CompletionItemKind.EnumMember, status[1] !== undefined)
    if (/\{\{[^}]*$/.test(before)) return items(Object.keys(propertyDocs), CompletionItemKind.Variable)
    if (/\b\d+\s+\w*$/.test(before)) return items(durationUnits.filter((u) => u.endsWith("s")), CompletionItemKind.Unit)
    return [
      ...items(keywords.map((k) => k.name.toLowerCase()), CompletionItemKind.Keyword, (k) => keywordDocs[k]),
      ...items(Object.keys(objects), CompletionItemKind.Module)
    ]
  })

  connection.onDocumentFormatting((params): Array<TextEdit> => {
    const doc = documents.get(params.textDocument.uri)
    if (doc === undefined) return []
    const text = doc.getText()
    const formatted = formatRules(text)
    if (formatted === undefined || formatted === text) return []
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(text.length) }, newText: formatted }]
  })

  connection.onDefinition((params): Array<Location> => {
    const doc = documents.get(params.textDocument.uri)
    if (doc === undefined) return []
    const position: Position = params.position
    const line = doc.getText({ start: { line: position.line, character: 0 }, end: { line: position.line + 1, character: 0 } })
    const at = wordAt(line, position.character)
    if (at === undefined || at.word.includes(".")) return []
    return ruleSetOf(params.textDocument.uri).flatMap(({ file, source }) =>
      parseRules(source).file.rules.filter((r) => r.id === at.word).map((r) => ({ uri: file, range: toLsp(r.idRange) })))
  })

  documents.listen(connection)
  connection.listen()
  return connection
}
