/**
 * What a report request must be, for both doors (`billcycle report` and
 * `GET /v1/reports/:name`): the report's name, the months `from`…`to`
 * (YYYY-MM), an ISO 4217 currency, and `details` only for movements. Each
 * problem is worded with the CLI's flag; the HTTP API names the field after it.
 */
import { isCurrencyCode } from "../engine/domain/index.ts"
import type { ReportKind } from "./revenue.ts"
import { reportKinds } from "./revenue.ts"

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/

export interface ReportRequest {
  readonly kind: ReportKind
  readonly from: string
  readonly to: string
  readonly currency: string
  readonly details: boolean
}

/** The request, or the first problem with it (`--from: expected a month YYYY-MM, got "2026"`). */
export const readReportRequest = (input: { readonly kind: string; readonly from: string; readonly to: string; readonly currency: string; readonly details: boolean }): ReportRequest | { readonly problem: string } => {
  if (!(reportKinds as ReadonlyArray<string>).includes(input.kind)) return { problem: `KIND: expected one of ${reportKinds.join(", ")}, got "${input.kind}"` }
  if (!monthPattern.test(input.from)) return { problem: `--from: expected a month YYYY-MM, got "${input.from}"` }
  if (!monthPattern.test(input.to)) return { problem: `--to: expected a month YYYY-MM, got "${input.to}"` }
  if (input.from > input.to) return { problem: `--from: ${input.from} is after --to ${input.to}` }
  const currency = input.currency.toUpperCase()
  if (!isCurrencyCode(currency)) return { problem: `--currency: "${currency}" is not an ISO 4217 code` }
  if (input.details && input.kind !== "movements") return { problem: "--details: only the movements report has details" }
  return { kind: input.kind as ReportKind, from: input.from, to: input.to, currency, details: input.details }
}

/** A report's columns, in the order the CLI prints them. */
export const reportColumns = (rows: ReadonlyArray<Record<string, unknown>>): Array<string> => [...new Set(rows.flatMap((r) => Object.keys(r)))]
