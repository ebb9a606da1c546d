/**
 * API keys and idempotency keys of the HTTP API (engine/api). A key is
 * random, shown once, and kept only as its SHA-256 hash: a stolen database
 * does not give working keys. Lookup is by the hash (a unique index), so
 * the secret itself is never compared byte by byte in JavaScript.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { Sql } from "./Database.ts"
import { InputError } from "./InputError.ts"

export interface ApiKeyRow {
  readonly id: number
  readonly name: string
  readonly read_only: boolean
  readonly created_at: string
  readonly revoked_at: string | null
}

export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("hex")

/** Makes a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export const createApiKey = async (sql: Sql, name: string, readOnly: boolean): Promise<ApiKeyRow & { readonly key: string }> => {
  if (name.trim() === "" || name.length > 100) throw new InputError(`--name: a key needs a name of 1 to 100 characters`)
  const key = `bc_${readOnly ? "ro" : "rw"}_${randomBytes(24).toString("base64url")}`
  const [taken] = await sql`select 1 from api_keys where name = ${name}`
  if (taken !== undefined) throw new InputError(`--name: an API key named "${name}" exists already`)
  const [row] = await sql<[ApiKeyRow]>`
    insert into api_keys (name, key_hash, read_only) values (${name}, ${hashApiKey(key)}, ${readOnly})
    returning id, name, read_only, created_at::text, revoked_at::text`
  return { ...row, key }
}

export const listApiKeys = (sql: Sql) =>
  sql<Array<ApiKeyRow>>`select id, name, read_only, created_at::text, revoked_at::text from api_keys order by id`

/** Revokes a key by name or id; revoking twice is refused, naming when. */
export const revokeApiKey = async (sql: Sql, ref: string): Promise<ApiKeyRow> => {
  const byId = /^\d+$/.test(ref)
  const [row] = await sql<Array<ApiKeyRow>>`
    select id, name, read_only, created_at::text, revoked_at::text from api_keys
    where ${byId ? sql`id = ${Number(ref)}` : sql`name = ${ref}`}`
  if (row === undefined) throw new InputError(`KEY: no API key ${byId ? `with id ${ref}` : `named "${ref}"`} (billcycle api-keys list)`)
  if (row.revoked_at !== null) throw new InputError(`KEY: API key "${row.name}" was revoked already at ${row.revoked_at}`)
  const [done] = await sql<[ApiKeyRow]>`
    update api_keys set revoked_at = now() where id = ${row.id}
    returning id, name, read_only, created_at::text, revoked_at::text`
  return done
}

/**
 * The live key a bearer token names, if any. Found by its hash through the
 * unique index; the hashes are then compared in constant time as well.
 */
export const findApiKey = async (sql: Sql, token: string): Promise<ApiKeyRow | undefined> => {
  const hash = hashApiKey(token)
  const [row] = await sql<Array<ApiKeyRow & { key_hash: string }>>`
    select id, name, read_only, created_at::text, revoked_at::text, key_hash from api_keys where key_hash = ${hash}`
  if (row === undefined || row.revoked_at !== null) return undefined
  if (!timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(hash))) return undefined
  const { key_hash: _, ...key } = row
  return key
}

export type IdempotencyClaim =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Replay"; readonly status: number; readonly body: string }
  | { readonly _tag: "InProgress" }
  | { readonly _tag: "Mismatch" }

/**
 * Claims an idempotency key for a request: the insert either wins (run the
 * request), or finds the first request's row: its stored response (replay),
 * still running (409), or made for a different request (422). A row past
 * 24 hours is expired and taken over.
 */
export const claimIdempotencyKey = async (sql: Sql, apiKeyId: number, key: string, requestHash: string): Promise<IdempotencyClaim> => {
  // The unique primary key decides between two concurrent requests: exactly one insert wins.
  const inserted = await sql`
    insert into idempotency_keys (api_key_id, key, request_hash) values (${apiKeyId}, ${key}, ${requestHash})
    on conflict (api_key_id, key) do update set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now()
      where idempotency_keys.created_at < now() - interval '24 hours'
    returning 1`
  if (inserted.length > 0) return { _tag: "Claimed" }
  const [row] = await sql<Array<{ request_hash: string; response_status: number | null; response_body: string | null }>>`
    select request_hash, response_status, response_body from idempotency_keys where api_key_id = ${apiKeyId} and key = ${key}`
  if (row === undefined) return { _tag: "InProgress" }
  if (row.request_hash !== requestHash) return { _tag: "Mismatch" }
  if (row.response_status === null) return { _tag: "InProgress" }
  return { _tag: "Replay", status: row.response_status, body: row.response_body ?? "" }
}

/** Stores the response a claimed key answered with: later requests with the key replay it. */
export const finishIdempotencyKey = async (sql: Sql, apiKeyId: number, key: string, status: number, body: string): Promise<void> => {
  await sql`update idempotency_keys set response_status = ${status}, response_body = ${body} where api_key_id = ${apiKeyId} and key = ${key}`
}

/** Lets a claimed key go when its request died without an answer (a defect): a retry may run it. */
export const releaseIdempotencyKey = async (sql: Sql, apiKeyId: number, key: string): Promise<void> => {
  await sql`delete from idempotency_keys where api_key_id = ${apiKeyId} and key = ${key} and response_status is null`
}
