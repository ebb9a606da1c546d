/**
 * The sql room's door. The database: connection, migrations, the query helper, the journal's one writer, the outbox queue,
 * the crash tests' failpoints.
 * Named exports only: what other rooms use.
 */
export {
  cancelOwnLockWaits, connectionLost, Database, DatabaseError, defaultEmbeddedDir, messageOf, openDatabase,
  openReadReplica, resolveDatabaseTarget, serverConnection, statementCancelled, lockNotGranted
} from "./Database.ts"
export type { DatabaseService, DatabaseTarget, Sql, TransactionSql } from "./Database.ts"
export { claimEmbeddedDir, describeOwner, inspectEmbeddedDir, liveOwner, lockFileName, serveEmbedded } from "./embeddedOwner.ts"
export { failpoint } from "./failpoint.ts"
export { InputError, refuseWords, refusingTaken } from "./InputError.ts"
export { enqueueMessages, holdJournal, journalSource, statusChanged, writeJournal, writtenJournal } from "./journal.ts"
export type { JournalEvent, OutboxMessage } from "./journal.ts"
export { analyzeTarget, countChangesForVacuum, serverAutovacuums, useNewSchema, vacuumHotTables, vacuumStoreWhenDue } from "./maintenance.ts"
export { countListed, listedAfter } from "./listing.ts"
export type { ListQuery } from "./listing.ts"
export { makeDirs } from "./makeDirs.ts"
export { awaitByCommit, NestedFailureRolledBack, pipelinedTransaction, transactionBranch, transactionOn } from "./pipelinedTransaction.ts"
export { batchScheduler, groupCommit } from "./groupCommit.ts"
export type { BatchLimits, GroupWork, Waiting } from "./groupCommit.ts"
export type { PipelineOptions } from "./pipelinedTransaction.ts"
export { migrate, migrations } from "./migrate.ts"
export {
  claimOutbox, expireOutbox, holdsOutboxLease, maxRetryDelaySeconds, recordDeliveries, renewOutboxLeases,
  retryDelaySeconds, sendingLeaseOwners
} from "./outbox.ts"
export type { ClaimedMessage, DeliveryOutcome, RetryWindows } from "./outbox.ts"
export { BadInput, badInputWords, CurrentJournalSource, CurrentTransaction, readTogether, runSql, runUseCaseOn } from "./runSql.ts"
