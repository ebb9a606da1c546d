/**
 * Runs `billcycle serve --port 0` as a child process and waits for its
 * "listening on" line: for tests that stop it (SIGTERM) or crash it (a failpoint).
 */
import { spawn } from "node:child_process"
import { billcyclePath, repoRoot } from "../../cliRunner.ts"

export interface ServeProcess {
  readonly url: string
  /** Resolves with the exit code, or null when killed by a signal. */
  readonly exited: Promise<number | null>
  readonly stop: () => Promise<number | null>
}

export const startServe = async (args: ReadonlyArray<string>, env: Record<string, string>): Promise<ServeProcess> => {
  const child = spawn(billcyclePath, ["serve", "--port", "0", ...args], { cwd: repoRoot, env: { ...process.env, ...env } })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  let out = ""
  child.stdout.on("data", (d) => (out += String(d)))
  child.stderr.on("data", (d) => (out += String(d)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 90_000)
    child.stdout.on("data", () => {
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
  return { url, exited, stop: () => (child.kill("SIGTERM"), exited) }
}
