/**
 * What the rules did, as lists the doors page: the enrollments (which rule
 * enrolled which subscription, when, on which event, and where it is now),
 * the tasks rules created and the members of the contact lists they keep.
 */
import { Context, Layer } from "effect"
import type { ListQuery } from "../sql/index.ts"
import { listMembers, listTasks } from "../invoicing/index.ts"
import { enrollmentsQuery } from "./rulesRun.ts"

type RowOf<Q> = Q extends (...args: Array<any>) => PromiseLike<Array<infer R>> ? R : never

export class Enrollments extends Context.Service<Enrollments, {
  /** Enrollments, newest first, of one subscription or one rule (rows for `enrollmentRecordOf`). */
  readonly list: (filter: { readonly subscriptionId?: number | undefined; readonly ruleId?: string | undefined }) => ListQuery<RowOf<typeof enrollmentsQuery>>
  readonly tasks: ListQuery<RowOf<typeof listTasks>>
  /** A list's members; a list no rule has added anyone to yet is empty. */
  readonly listMembers: (list: string) => ListQuery<RowOf<typeof listMembers>>
}>()("billcycle/engine/enrollments/Enrollments") {
  static readonly layer = Layer.succeed(Enrollments, Enrollments.of({
    list: (filter) => (sql) => enrollmentsQuery(sql, filter),
    tasks: listTasks,
    listMembers: (list) => (sql) => listMembers(sql, list)
  }))
}
