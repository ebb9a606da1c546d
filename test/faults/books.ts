/**
 * The books' invariants after a fault, read straight from a schema on the
 * PostgreSQL server (test/faults/README.md lists them). `violations` names
 * each broken invariant with the rows at fault, so a failing test says what
 * went wrong; a clean book gives [].
 *
 * `stall` prints how long a fault kept billing waiting, for the fault
 * table's figures (the longest stall): a line per measurement in the test's
 * output, never an assertion on speed.
 */
import postgres from "postgres"

export interface BooksOptions {
  /** After a clean rerun nothing may be left pending (payment attempts, outbox messages). */
  readonly settled: boolean
}

export const violations = async (serverUrl: string, schema: string, options: BooksOptions): Promise<Array<string>> => {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
  try {
    const found: Array<string> = []
    const twice = await sql<Array<{ subscription_id: number; period_index: number; n: number }>>`
      select subscription_id, period_index, count(*)::int as n from invoices where status <> 'void'
      group by subscription_id, period_index having count(*) > 1`
    for (const r of twice) found.push(`subscription ${r.subscription_id} period ${r.period_index}: ${r.n} invoices`)
    const charged = await sql<Array<{ invoice_id: number; n: number }>>`
      select invoice_id, count(*)::int as n from payment_attempts where kind = 'charge' and status = 'succeeded'
      group by invoice_id having count(*) > 1`
    for (const r of charged) found.push(`invoice ${r.invoice_id}: ${r.n} successful charges`)
    const over = await sql<Array<{ id: number; total: number; collected: number }>>`
      select i.id, i.total::float8 as total, sum(p.amount)::float8 as collected from invoices i join payment_attempts p on p.invoice_id = i.id
      where p.kind = 'charge' and p.status = 'succeeded' group by i.id, i.total having sum(p.amount) > i.total`
    for (const r of over) found.push(`invoice ${r.id}: collected ${r.collected} of a total of ${r.total}`)
    const [sums] = await sql<Array<{ invoiced: number; paid: number; open: number; uncollectible: number }>>`
      select coalesce(sum(total) filter (where status <> 'void'), 0)::float8 as invoiced,
             coalesce(sum(amount_paid) filter (where status = 'paid'), 0)::float8 as paid,
             coalesce(sum(total) filter (where status = 'open'), 0)::float8 as open,
             coalesce(sum(total) filter (where status = 'uncollectible'), 0)::float8 as uncollectible
      from invoices`
    if (sums!.invoiced !== sums!.paid + sums!.open + sums!.uncollectible) {
      found.push(`invoiced ${sums!.invoiced} ≠ paid ${sums!.paid} + open ${sums!.open} + uncollectible ${sums!.uncollectible}`)
    }
    const numbers = (await sql<Array<{ number: string }>>`select number from invoices where number is not null order by number`).map((r) => r.number)
    const expected = numbers.map((_, i) => `INV-${String(i + 1).padStart(6, "0")}`)
    if (numbers.join() !== expected.join()) found.push(`invoice numbers not gapless: ${numbers.join(", ")}`)
    const unnumbered = await sql<Array<{ n: number }>>`select count(*)::int as n from invoices where number is null`
    if (unnumbered[0]!.n > 0) found.push(`${unnumbered[0]!.n} invoice(s) without a number`)
    if (options.settled) {
      const [left] = await sql<Array<{ attempts: number; messages: number }>>`
        select (select count(*)::int from payment_attempts where status in ('pending', 'unknown')) as attempts,
               (select count(*)::int from outbox where status in ('queued', 'sending')) as messages`
      if (left!.attempts > 0) found.push(`${left!.attempts} payment attempt(s) still pending after a clean rerun`)
      if (left!.messages > 0) found.push(`${left!.messages} outbox message(s) still to send after a clean rerun`)
    }
    return found
  } finally {
    await sql.end()
  }
}

/** One line of the fault table's figures: how long this fault kept billing waiting. */
export const stall = (fault: string, ms: number): void => {
  console.log(`fault stall: ${fault}: ${(ms / 1000).toFixed(1)} s`)
}
