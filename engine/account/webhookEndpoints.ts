/**
 * Webhook endpoints: URLs that receive every journal event of the types they
 * subscribe to, through the outbox (signed, retried, visible in `outbox
 * list`). The messages are queued by the journal's one writer
 * (journal.ts), in the statement that writes the events.
 */
import { eventPatternProblem, WebhookEndpointNotFound, WebhookEndpointRefused } from "../domain/index.ts"
import type { Sql } from "../sql/index.ts"
import { refuseAccount } from "./apiKeys.ts"

export interface WebhookEndpointRow {
  id: number
  url: string
  events: Array<string>
  created_on: string
}

/** An endpoint's URL: https, or http to this machine (a local receiver while testing). */
const urlProblem = (url: string): string | undefined => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `"${url}" is not a URL`
  }
  if (u.protocol === "https:") return undefined
  if (u.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname)) return undefined
  return `expected an https:// URL (http:// only to localhost), got "${url}"`
}

export const addWebhookEndpoint = async (sql: Sql, url: string, events: string, today: string): Promise<WebhookEndpointRow> => {
  const problem = urlProblem(url)
  if (problem !== undefined) refuseAccount(new WebhookEndpointRefused({ field: "url", problem }))
  const patterns = [...new Set(events.split(",").map((e) => e.trim()).filter((e) => e !== ""))]
  if (patterns.length === 0) refuseAccount(new WebhookEndpointRefused({ field: "events", problem: "give at least one event type, such as invoice.paid or subscription.*" }))
  for (const p of patterns) {
    const bad = eventPatternProblem(p)
    if (bad !== undefined) refuseAccount(new WebhookEndpointRefused({ field: "events", problem: bad }))
  }
  // The URL as the URL standard writes it (scheme and host in lower case, no default port): `HTTPS://Hooks.Example.com`
  // and `https://hooks.example.com:443/` are one receiver.
  const href = new URL(url).href
  return sql.begin(async (tx) => {
    // One endpoint per URL: a second one made every event of both their types reach that receiver twice. Adds take
    // turns (a lock to the commit), so two adds of one URL at once cannot both find it free.
    await tx`select pg_advisory_xact_lock(hashtextextended(current_schema() || ':billcycle:webhook_endpoints', 0))`
    const [same] = await tx<Array<{ id: number; events: Array<string> }>>`
      select id::int as id, events from webhook_endpoints where url = ${href} and removed_on is null order by id limit 1`
    if (same !== undefined) {
      refuseAccount(new WebhookEndpointRefused({
        field: "url", taken: true,
        problem: `webhook endpoint ${same.id} (${same.events.join(",")}) receives ${href} already: one endpoint per URL, else each event reaches it twice (remove that one and add the URL again with every event type it needs)`
      }))
    }
    const [row] = await tx<Array<WebhookEndpointRow>>`
      insert into webhook_endpoints (url, events, created_on) values (${href}, ${patterns}::text[], ${today})
      returning id::int as id, url, events, created_on::text as created_on`
    return row!
  })
}

export const listWebhookEndpoints = (sql: Sql) =>
  sql<Array<WebhookEndpointRow>>`
    select id::int as id, url, events, created_on::text as created_on from webhook_endpoints where removed_on is null order by id`

/** Stops an endpoint receiving new events; messages already queued for it are still delivered. */
export const removeWebhookEndpoint = async (sql: Sql, id: number, today: string): Promise<void> => {
  const rows = await sql`update webhook_endpoints set removed_on = ${today} where id = ${id} and removed_on is null returning id`
  if (rows.length === 0) refuseAccount(new WebhookEndpointNotFound({ id }))
}
