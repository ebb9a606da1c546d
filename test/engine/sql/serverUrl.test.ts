/**
 * A server URL naming a Unix socket the way libpq does (a `host` parameter that is a directory, or the directory
 * percent-encoded as the host) reaches the driver as the socket's path and a URL it accepts; any other URL is
 * passed on as given.
 */
import { describe, expect, it } from "vitest"
import { serverConnection } from "../../../engine/sql/index.ts"

describe("a PostgreSQL URL naming a Unix socket", () => {
  it("takes the socket's directory from a host parameter", () => {
    expect(serverConnection("postgres://postgres@/billing?host=/var/run/postgresql")).toEqual({
      url: "postgres://postgres@localhost:5432/billing", path: "/var/run/postgresql/.s.PGSQL.5432"
    })
  })
  it("keeps the other parameters and takes the port from the URL or a port parameter", () => {
    expect(serverConnection("postgresql://ops:secret@/billing?host=/tmp/&port=5433&sslmode=disable")).toEqual({
      url: "postgresql://ops:secret@localhost:5433/billing?sslmode=disable", path: "/tmp/.s.PGSQL.5433"
    })
    expect(serverConnection("postgres://ops@:6543/billing?host=/run/pg")).toEqual({
      url: "postgres://ops@localhost:6543/billing", path: "/run/pg/.s.PGSQL.6543"
    })
  })
  it("takes a percent-encoded directory as the host", () => {
    expect(serverConnection("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test")).toEqual({
      url: "postgres://postgres@localhost:5432/test", path: "/var/run/postgresql/.s.PGSQL.5432"
    })
  })
  it("passes a TCP URL on as it is", () => {
    for (const url of ["postgres://postgres@127.0.0.1:5432/test", "postgres://u:p@db.example.com/app?sslmode=require", "postgres://u@h/app?host=db2"]) {
      expect(serverConnection(url)).toEqual({ url })
    }
  })
})
