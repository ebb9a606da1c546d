/**
 * A room's list query, paged or counted (the `… list` commands, the HTTP
 * API's lists). The doors hand the query in unawaited and these wrap it, so
 * no SQL is written at the doors.
 */
import type { PendingQuery } from "postgres"
import type { Sql } from "./Database.ts"

/** A list query of a room, not yet awaited. */
export type ListQuery<R extends object> = (sql: Sql) => PendingQuery<Array<R>>

/** At most `limit` rows of `query` with an id after `after`, by id (ids only grow: a page is stable while rows are added). */
export const listedAfter = async <R extends { id: number }>(sql: Sql, query: ListQuery<R>, after: number, limit: number): Promise<Array<R>> =>
  await sql<Array<R>>`select * from (${query(sql)}) as listed where id > ${after} order by id limit ${limit}`

/** How many rows `query` lists. */
export const countListed = async <R extends object>(sql: Sql, query: ListQuery<R>): Promise<number> => {
  const [{ n }] = await sql<[{ n: number }]>`select count(*)::int as n from (${query(sql)}) as listed`
  return n
}
