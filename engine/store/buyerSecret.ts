/**
 * The secret the buyer's links and forms are signed with: 32 random bytes
 * made once per database by whichever process reads it first (the insert
 * races are settled by the primary key: every process then reads the same
 * row). It never leaves the server.
 */
import { randomBytes } from "node:crypto"
import type { Sql, TransactionSql } from "./Database.ts"

export const buyerSecret = async (sql: Sql | TransactionSql): Promise<Uint8Array> => {
  const [row] = await sql<Array<{ secret: Uint8Array }>>`
    with made as (
      insert into buyer_secrets (name, secret) values ('buyer-links', ${randomBytes(32)})
      on conflict (name) do nothing returning secret)
    select secret from made union all select secret from buyer_secrets where name = 'buyer-links' limit 1`
  return new Uint8Array(row!.secret)
}
