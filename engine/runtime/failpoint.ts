/**
 * Named failpoints for crash tests. `BILLCYCLE_FAILPOINT=name` (or
 * `name:N`, the N-th time it is reached; several separated by commas) kills
 * the process with SIGKILL at that point, exactly as a power cut would: no
 * finalizer runs, no transaction in flight commits.
 */
const spec = process.env["BILLCYCLE_FAILPOINT"] ?? ""
const armed = new Map<string, number>()
for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
  const [name, n] = part.split(":")
  armed.set(name!, n === undefined ? 1 : Math.max(1, Number(n) || 1))
}

export const failpoint = (name: string): void => {
  const left = armed.get(name)
  if (left === undefined) return
  if (left > 1) {
    armed.set(name, left - 1)
    return
  }
  process.stderr.write(`billcycle: failpoint ${name} reached: killing the process\n`)
  process.kill(process.pid, "SIGKILL")
  // The signal lands asynchronously: freeze until it does, so nothing after the point runs.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000)
}
