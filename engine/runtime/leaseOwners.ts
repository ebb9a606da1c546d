/**
 * Who holds a lease, and whether it is dead. A lease owner is `host/pid/token`
 * (one token per engine instance). A process on this host that no longer
 * exists cannot finish its work, so its leases are taken over at once instead
 * of after they expire; an owner on another host is trusted until its lease
 * runs out (we cannot see its processes). The one home of this rule: payment
 * attempts and outbox messages both ask it.
 */
import { hostname } from "node:os"

const hostName = hostname()

export const deadLocalOwner = (owner: string, self: string): boolean => {
  const [host, pidText, token] = owner.split("/")
  if (host !== hostName) return false
  const pid = Number(pidText)
  // An earlier engine instance of this very process (a test, `serve --engine` restarted) left it behind.
  if (pid === process.pid) return owner !== self && token !== undefined
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"
  }
}
