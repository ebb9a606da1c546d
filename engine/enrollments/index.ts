/**
 * The enrollments room's door. Runs the rules (dsl programs) against the journal: enrollments and their steps.
 * Named exports only: what other rooms use.
 */
export {
  activateRules, enrollDateTriggers, enrollFromJournal, enrollmentRecordOf, enrollmentsQuery, explainContexts,
  maxRuleDepth, runDueEnrollments
} from "./rulesRun.ts"
export { ruleEffects } from "./ruleTestQueries.ts"
export { Enrollments } from "./Enrollments.ts"
