/** The reports room's door: reads the store, never writes it. */
export * from "./mrrSeries.ts"
export * from "./htmlReport.ts"
export * from "./revenue.ts"
export * from "./fx.ts"
export * from "./load.ts"
export * from "./metricSql.ts"
export { readReportRequest, reportColumns } from "./reportRequest.ts"
export type { ReportRequest } from "./reportRequest.ts"
