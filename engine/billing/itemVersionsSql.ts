/**
 * The SQL twin of itemVersions.ts's rule, for the queries that read item
 * versions in bulk (the reports, in PostgreSQL/PGlite and in DuckDB): the
 * period starting on day D bills the highest version effective on or before D
 * (`versionInForce`). Strings of SQL over a table shaped like `item_versions`
 * (subscription_id, version, effective_from); test/engine/billing/
 * itemVersionsSql.test.ts checks both against `versionInForce` in both engines.
 */

/** Per subscription, the version in force on `day` (a date expression), as `versionInForce`: rows (subscription_id, version). */
export const versionInForceSql = (itemVersions: string, day: string): string =>
  `select subscription_id, max(version) as version from ${itemVersions} where effective_from <= ${day} group by subscription_id`

/**
 * Every version that ever comes into force, with the day it does: rows (subscription_id, version, effective_from).
 * A version is left out when a higher one is effective on or before its day (changed again before its date came:
 * it never bills). Ordered by day, each row is the version in force from its day until the next row's.
 */
export const versionsTakingForceSql = (itemVersions: string): string =>
  `select subscription_id, version, effective_from
   from (select subscription_id, version, effective_from,
                max(version) over (partition by subscription_id order by effective_from) as top
         from ${itemVersions}) versions_in_force
   where version = top`
