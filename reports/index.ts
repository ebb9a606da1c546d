/** The reports room's door: reads the store, never writes it. */
export * from "./mrrSeries.ts"
export * from "./htmlReport.ts"
export * from "./revenue.ts"
export * from "./fx.ts"
export * from "./load.ts"
export * from "./metricSql.ts"
export { analyticsFileName, buildReportsFromCopy, openCopy, readMeta, rebuildCopy, refreshCopy } from "./analyticsCopy.ts"
export type { CopyMeta, RefreshResult, ReportsFromCopy } from "./analyticsCopy.ts"
