/**
 * Fault and multi-process harness: start real engine processes on one
 * database schema, kill them with SIGKILL at chosen moments, wait for them,
 * and check the billing invariants in SQL afterwards.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import type { Sql } from "../../../engine/sql/index.ts"
import { billcyclePath, repoRoot } from "../../cliRunner.ts"

export interface EngineProcess {
  readonly child: ChildProcess
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

export const startEngine = (args: ReadonlyArray<string>, env: Record<string, string>): EngineProcess => {
  const child = spawn(billcyclePath, ["engine", "--once", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (d) => { stderr += String(d) })
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stderr })))
  return { child, done }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The invariants every crash or race must leave intact; returns a list of violations (empty when all hold). */
export const checkBillingInvariants = async (sql: Sql): Promise<Array<string>> => {
  const problems: Array<string> = []
  const q = async (label: string, query: Promise<ReadonlyArray<Record<string, unknown>>>) => {
    const rows = await query
    if (rows.length > 0) problems.push(`${label}: ${JSON.stringify(rows.slice(0, 5))}`)
  }
  await q("two invoices for one period", sql`select subscription_id, period_start, count(*) from invoices group by 1, 2 having count(*) > 1`)
  await q("more than one successful gateway charge for an invoice", sql`
    select merchant_reference, count(*) from sim_gateway_ledger where kind = 'charge' and outcome = 'succeeded' group by 1 having count(*) > 1`)
  await q("a paid invoice without exactly one gateway charge", sql`
    select i.number from invoices i where i.status = 'paid' and i.total > 0 and i.collection_method = 'charge'
      and (select count(*) from sim_gateway_ledger l where l.merchant_reference = i.number and l.kind = 'charge' and l.outcome = 'succeeded') <> 1`)
  await q("a gateway charge for an invoice that is not paid", sql`
    select l.merchant_reference from sim_gateway_ledger l join invoices i on i.number = l.merchant_reference
    where l.kind = 'charge' and l.outcome = 'succeeded' and i.status <> 'paid'`)
  await q("an attempt still pending or unknown", sql`select id, status from payment_attempts where status in ('pending', 'unknown')`)
  await q("payments made differ from paid invoices", sql`
    select s.id from subscriptions s where s.payments_made <> (select count(*) from invoices i where i.subscription_id = s.id and i.status = 'paid')`)
  await q("a receipt queued other than once per paid invoice", sql`
    select i.id from invoices i where i.status = 'paid' and i.total > 0
      and (select count(*) from outbox o where o.template = 'receipt' and o.invoice_id = i.id) <> 1`)
  await q("invoiced differs from paid + open + uncollectible", sql`
    select sum(total) as invoiced, sum(total) filter (where status in ('paid', 'open', 'uncollectible')) as accounted from invoices
    having sum(total) <> sum(total) filter (where status in ('paid', 'open', 'uncollectible'))`)
  await q("invoice numbers with a gap", sql`
    select count(*), min(n), max(n) from (select substring(number from '[0-9]+$')::int as n from invoices) x having max(n) - min(n) + 1 <> count(*)`)
  await q("a subscription left claimed", sql`select id from subscriptions where lease_owner is not null`)
  return problems
}
