/**
 * Runs the real `bin/billcycle` as a child process, as a user or an
 * acceptance test would, and returns its exit code and output.
 */
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("..", import.meta.url))
export const billcyclePath = fileURLToPath(new URL("../bin/billcycle", import.meta.url))

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const runCli = (args: ReadonlyArray<string>, options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {}): CliResult => {
  const r = spawnSync(billcyclePath, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    input: options.input ?? "",
    timeout: 120_000
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/**
 * The same, spawned asynchronously: for a test that serves something in its
 * own event loop (a TCP proxy, a webhook receiver), which `runCli` would freeze.
 */
export const runCliAsync = (args: ReadonlyArray<string>, options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> =>
  new Promise((resolve) => {
    const child = spawn(billcyclePath, args, { cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
