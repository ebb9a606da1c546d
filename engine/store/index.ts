/**
 * The store room's door: the database connection, migrations and the SQL of
 * every table, grouped by use. Only this room writes SQL.
 */
export * from "./Database.ts"
export * from "./makeDirs.ts"
export * from "./migrate.ts"
export * from "./InputError.ts"
export * from "./runSql.ts"
export * from "./settings.ts"
export * from "./history.ts"
export * from "./journalBatch.ts"
export * from "./billingRun.ts"
export * from "./lifecycleRun.ts"
export * from "./invoiceQueries.ts"
export * from "./refunds.ts"
export * from "./catalogue.ts"
export * from "./subscriptionWrites.ts"
export * from "./outboxQueue.ts"
export * from "./csv.ts"
export * from "./imports.ts"
export * from "./exportSubscriptions.ts"
export * from "./documentData.ts"
export * from "./rulesRun.ts"
