/**
 * The billing room's door: pure calendar, zone and pricing math, and the SQL text
 * of the pricing rules (pricingSql.ts, strings only). No connection, no
 * clock, no services.
 */
export * from "./calendar.ts"
export * from "./zone.ts"
export * from "./pricing.ts"
export * from "./grouping.ts"
export * from "./itemVersions.ts"
export type { LineColumns } from "./pricingSql.ts"
export { lineNetSql, monthlyAmountSql } from "./pricingSql.ts"
export { versionInForceSql, versionsTakingForceSql } from "./itemVersionsSql.ts"
