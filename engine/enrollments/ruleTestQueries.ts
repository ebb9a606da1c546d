/**
 * What `rules test` reads back after a case has run: the enrollments and
 * everything the rules did (their messages, property changes, tasks, list
 * memberships), in the order they happened.
 */
import type { Sql } from "../sql/index.ts"

export const ruleEffects = async (sql: Sql) => ({
  enrollments: await sql<Array<{ rule_id: string; status: string }>>`select rule_id, status from enrollments order by id`,
  messages: await sql<Array<{ kind: string; template: string | null; recipient: string; payload: Record<string, any>; created_on: string }>>`
    select kind, template, recipient, payload, created_on::text as created_on from outbox where payload ? 'rule_id' order by id`,
  propertyChanges: await sql<Array<{ data: Record<string, any>; occurred_on: string }>>`
    select data, occurred_on::text as occurred_on from events where source = 'rule' and type = 'subscription.property_changed' order by id`,
  tasks: await sql<Array<{ title: string; due_on: string | null }>>`select title, due_on::text as due_on from tasks order by id`,
  lists: await sql<Array<{ list_name: string; added_on: string }>>`select list_name, added_on::text as added_on from list_members order by list_name`
})
