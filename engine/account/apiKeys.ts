/**
 * API keys and idempotency keys of the HTTP API (engine/api). A key is
 * random, shown once, and kept only as its SHA-256 hash: a stolen database
 * does not give working keys. Lookup is by the hash (a unique index), so
 * the secret itself is never compared byte by byte in JavaScript.
 * Idempotency keys are in idempotencyKeys.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { Sql } from "../sql/index.ts"
import type { AccountError } from "../domain/index.ts"
import { ApiKeyNameRefused, ApiKeyNotFound, ApiKeyRevokedAlready, describeAccountError } from "../domain/index.ts"
import { InputError } from "../sql/index.ts"

/** A rule refused: the typed error travels as the `cause` of an InputError (the doors word it). */
export const refuseAccount = (error: AccountError): never => {
  throw new InputError(describeAccountError(error), { cause: error })
}

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
  if (name.trim() === "" || name.length > 100) refuseAccount(new ApiKeyNameRefused({ name, reason: "Length" }))
  const key = `bc_${readOnly ? "ro" : "rw"}_${randomBytes(24).toString("base64url")}`
  const [taken] = await sql`select 1 from api_keys where name = ${name}`
  if (taken !== undefined) refuseAccount(new ApiKeyNameRefused({ name, reason: "Taken" }))
  const [row] = await sql<[ApiKeyRow]>`
    insert into api_keys (name, key_hash, read_only) values (${name}, ${hashApiKey(key)}, ${readOnly})
    returning id, name, read_only, created_at::text, revoked_at::text`
  return { ...row, key }
}

export const listApiKeys = (sql: Sql) =>
  sql<Array<ApiKeyRow>>`select id, name, read_only, created_at::text, revoked_at::text from api_keys order by id`

/** Revokes a key by name or id; revoking twice is refused, naming when. */
export const revokeApiKey = async (sql: Sql, ref: string): Promise<ApiKeyRow> => {
  // An id only when it can be one: a number past bigint came back as the database's error (22003); such digits are a name.
  const byId = /^\d+$/.test(ref) && Number.isSafeInteger(Number(ref))
  const [row] = await sql<Array<ApiKeyRow>>`
    select id, name, read_only, created_at::text, revoked_at::text from api_keys
    where ${byId ? sql`id = ${Number(ref)}` : sql`name = ${ref}`}`
  if (row === undefined) return refuseAccount(new ApiKeyNotFound({ ref, byId }))
  if (row.revoked_at !== null) refuseAccount(new ApiKeyRevokedAlready({ name: row.name, revokedAt: row.revoked_at }))
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
