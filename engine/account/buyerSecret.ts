/**
 * The secret the buyer's links and forms are signed with: 32 random bytes
 * made once per database by whichever process reads it first (the insert
 * races are settled by the primary key: every process then reads the same
 * row). It never leaves the server.
 */
import { randomBytes } from "node:crypto"
import type { Sql, TransactionSql } from "../sql/index.ts"

/** Per connection pool: a database's secret is made once and never changes, so a server asks for it once. */
const known = new WeakMap<object, Uint8Array>()

export const buyerSecret = async (sql: Sql | TransactionSql): Promise<Uint8Array> => {
  const cached = known.get(sql)
  if (cached !== undefined) return cached
  const secret = await readOrMakeSecret(sql)
  known.set(sql, secret)
  return secret
}

const readOrMakeSecret = async (sql: Sql | TransactionSql): Promise<Uint8Array> => {
  const [row] = await sql<Array<{ secret: Uint8Array }>>`
    with made as (
      insert into buyer_secrets (name, secret) values ('buyer-links', ${randomBytes(32)})
      on conflict (name) do nothing returning secret)
    select secret from made union all select secret from buyer_secrets where name = 'buyer-links' limit 1`
  if (row !== undefined) return new Uint8Array(row.secret)
  // Another process made it at the same moment: this insert waited for that commit and stood back, and the
  // statement's own read, from before it, does not see the row. A statement of its own does.
  const [made] = await sql<Array<{ secret: Uint8Array }>>`select secret from buyer_secrets where name = 'buyer-links'`
  return new Uint8Array(made!.secret)
}
