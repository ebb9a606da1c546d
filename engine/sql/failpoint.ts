/**
 * Named failpoints for crash tests. `BILLCYCLE_FAILPOINT=name` (or
 * `name:N`, the N-th time it is reached; several separated by commas) kills
 * the process with SIGKILL at that point, exactly as a power cut would: no
 * finalizer runs, no transaction in flight commits. `name@stop` stops it
 * with SIGSTOP instead (a zombie, until SIGCONT), holding what it holds.
 */
const spec = process.env["BILLCYCLE_FAILPOINT"] ?? ""
const armed = new Map<string, number>()
const stopping = new Set<string>()
for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
  const [point, mode] = part.split("@")
  const [name, n] = point!.split(":")
  armed.set(name!, n === undefined ? 1 : Math.max(1, Number(n) || 1))
  if (mode === "stop") stopping.add(name!)
}

export const failpoint = (name: string): void => {
  const left = armed.get(name)
  if (left === undefined) return
  if (left > 1) {
    armed.set(name, left - 1)
    return
  }
  if (stopping.has(name)) {
    armed.delete(name)
    process.stderr.write(`billcycle: failpoint ${name} reached: stopping the process\n`)
    process.kill(process.pid, "SIGSTOP")
    return
  }
  process.stderr.write(`billcycle: failpoint ${name} reached: killing the process\n`)
  process.kill(process.pid, "SIGKILL")
  // The signal lands asynchronously: freeze until it does, so nothing after the point runs.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000)
}
