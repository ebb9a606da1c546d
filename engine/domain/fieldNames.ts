/**
 * A field of a request as each door names it: the command line by its flag
 * (`--next-billing-date`, `--item 2`), the HTTP API by the JSON field the
 * client sent (`next_billing_date`, `items[1]`). A refusal's words carry the
 * field, not one door's name for it (`Words`), and each door renders them:
 * the CLI with `inFlags`, the API with `inJsonFields`. One wording, two readers.
 */
import { Schema } from "effect"

/** A field of a request: its flag (with `--`, or a CLI label such as `row 4`) and its JSON path (`items[1]`). */
export const FieldName = Schema.Struct({ flag: Schema.String, json: Schema.String })
export type FieldName = typeof FieldName.Type

/** Words for a door's own guidance (a command to run, a route to call): the CLI's text and the API's. */
export const DoorText = Schema.Struct({ cli: Schema.String, api: Schema.String })
export type DoorText = typeof DoorText.Type

/** A refusal's words: text, fields and door texts, in order. Starting with a field, that field is the one at fault. */
export const Words = Schema.Array(Schema.Union([Schema.String, FieldName, DoorText]))
export type Words = typeof Words.Type

/** A flag's field: `flagField("next-billing-date")` is `--next-billing-date` and `next_billing_date`. */
export const flagField = (flag: string, json: string = flag.replace(/-/g, "_")): FieldName => ({ flag: `--${flag}`, json })

/** The items of a request as a whole (`--item`, `items`). */
export const itemsField: FieldName = flagField("item", "items")

/**
 * One item of a request, by its place (0-based): `--item 2` and `items[1]`; `label` when the caller names the
 * item otherwise on the command line (`row 4` of a file, or `--item` where the CLI names no number).
 */
export const itemField = (index: number, label = `--item ${index + 1}`): FieldName => ({ flag: label, json: `items[${index}]` })

/** Words from a template: ``words`${flagField("start")}: ${date} is before today` `` (a string interpolated stays text). */
export const words = (strings: TemplateStringsArray, ...parts: ReadonlyArray<string | number | undefined | FieldName | DoorText>): Words => {
  const out: Array<string | FieldName | DoorText> = []
  strings.forEach((s, i) => {
    if (s !== "") out.push(s)
    if (i < parts.length) {
      const p = parts[i]
      out.push(typeof p === "object" ? p : String(p))
    }
  })
  return out
}

const isField = (p: string | FieldName | DoorText): p is FieldName => typeof p !== "string" && "flag" in p

/** The words as the command line prints them: fields as their flags. */
export const inFlags = (w: Words): string => w.map((p) => (typeof p === "string" ? p : isField(p) ? p.flag : p.cli)).join("")

/** The words as the HTTP API answers them: fields as the JSON paths the client sent. */
export const inJsonFields = (w: Words): string => w.map((p) => (typeof p === "string" ? p : isField(p) ? p.json : p.api)).join("")

/** The field at fault: the one the words start with, if they start with one. */
export const fieldAtFault = (w: Words): FieldName | undefined => {
  const first = w[0]
  return first !== undefined && typeof first !== "string" && isField(first) ? first : undefined
}
