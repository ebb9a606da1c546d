/**
 * What a report request must be, for both doors (`billcycle report` and
 * `GET /v1/reports/:name`): the report's name, the months `from`…`to`
 * (YYYY-MM), an ISO 4217 currency, and `details` only for movements. Each
 * problem names its field: each door renders it (`--from` on the command
 * line, `from` over HTTP; engine/domain/fieldNames.ts).
 */
import type { CalendarDate, Words } from "../engine/domain/index.ts"
import { flagField, isCurrencyCode, words } from "../engine/domain/index.ts"
import { inputDateProblem, inputYears } from "../engine/billing/index.ts"
import type { ReportKind } from "./revenue.ts"
import { reportKinds } from "./revenue.ts"
import { monthIndex } from "./fx.ts"
import { countColumn, rateColumn } from "./htmlReport.ts"

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/

/** Whether a month's first day is a date input may name (`inputDateProblem`, the one home of that range). */
const monthInRange = (month: string) => inputDateProblem(`${month}-01` as CalendarDate) === undefined

export interface ReportRequest {
  readonly kind: ReportKind
  readonly from: string
  readonly to: string
  readonly currency: string
  readonly details: boolean
}

const from = flagField("from")
const to = flagField("to")

/** The request, or the first problem with it (`--from: expected a month YYYY-MM, got "2026"`); `unknownKind` when the name is not a report's. */
export const readReportRequest = (input: { readonly kind: string; readonly from: string; readonly to: string; readonly currency: string; readonly details: boolean }): ReportRequest | { readonly problem: Words; readonly unknownKind?: true } => {
  if (!(reportKinds as ReadonlyArray<string>).includes(input.kind)) return { problem: [`KIND: expected one of ${reportKinds.join(", ")}, got "${input.kind}"`], unknownKind: true }
  if (!monthPattern.test(input.from)) return { problem: words`${from}: expected a month YYYY-MM, got "${input.from}"` }
  if (!monthPattern.test(input.to)) return { problem: words`${to}: expected a month YYYY-MM, got "${input.to}"` }
  // The years a date may be given in (`inputYears`): `from=0000-01` read 24,000 months of nothing, labelled "0-01".
  if (!monthInRange(input.from)) return { problem: words`${from}: ${input.from} is out of range (years ${inputYears.min} to ${inputYears.max})` }
  if (!monthInRange(input.to)) return { problem: words`${to}: ${input.to} is out of range (years ${inputYears.min} to ${inputYears.max})` }
  if (input.from > input.to) return { problem: words`${from}: ${input.from} is after ${to} ${input.to}` }
  const currency = input.currency.toUpperCase()
  if (!isCurrencyCode(currency)) return { problem: words`${flagField("currency")}: "${currency}" is not an ISO 4217 code` }
  if (input.details && input.kind !== "movements") return { problem: words`${flagField("details")}: only the movements report has details` }
  return { kind: input.kind as ReportKind, from: input.from, to: input.to, currency, details: input.details }
}

const fixedColumns: Record<Exclude<ReportKind, "cohorts"> | "details", ReadonlyArray<string>> = {
  mrr: ["month", "mrr", "arr", "subscribers", "arpa", "paused", "ltv"],
  movements: ["month", "mrr_start", "new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment", "net_new_mrr", "mrr_end"],
  churn: ["month", "subscribers_start", "subscribers_end", "logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate", "cancellation_rate"],
  retention: ["month", "nrr", "grr"],
  growth: ["month", "subscriptions_start", "new_subscriptions", "canceled", "expired", "subscriptions_end"],
  details: ["date", "customer", "kind", "amount"]
}

/**
 * A report's columns, in the order the CLI prints them (`details`: the
 * movements' drill-down). They are the report's and its months', never its
 * rows': an empty result prints the same header, and a Parquet file the same
 * schema. Cohorts have `m0`… and `mrr_m0`… for every month of the period, as
 * many as the first month's cohort has (a later cohort leaves its last ones empty).
 */
export const reportColumns = (kind: ReportKind | "details", from: string, to: string): Array<string> => {
  if (kind !== "cohorts") return [...fixedColumns[kind]]
  const months = Array.from({ length: Math.max(0, monthIndex(to) - monthIndex(from) + 1) }, (_, j) => j)
  return ["cohort", "size", ...months.map((j) => `m${j}`), ...months.map((j) => `mrr_m${j}`)]
}

/**
 * What a report column holds, for the outputs that type their cells
 * (Parquet's types, the table's alignment): a text, a day, a count, a rate
 * (a fraction) or an amount of money (major units of the report currency).
 */
export const reportColumnKind = (column: string): "text" | "day" | "count" | "rate" | "money" =>
  column === "month" || column === "cohort" || column === "customer" || column === "kind" ? "text"
    : column === "date" ? "day"
    : countColumn.test(column) ? "count"
    : rateColumn.test(column) ? "rate"
    : "money"
