/**
 * How a command stopped by a signal (SIGINT, SIGTERM) exits. `engine` and `serve` run until they are stopped: a
 * signal is how they end, once the batch in hand is done, and that is a clean exit (0). Any other command stopped so
 * has not done what it was asked (a report half printed, an export cut short, an import rolled back): it exits as
 * shells report a command ended by that signal, 130 for SIGINT and 143 for SIGTERM, so that a script's
 * `billcycle export … && upload` does not go on as if it had succeeded. A command that words its own stop (`simulate`
 * says where it stopped) sets its exit code itself, and that code is kept.
 */
let runsUntilStopped = false
let received: "SIGINT" | "SIGTERM" | undefined

/** Said by a command that runs until a signal stops it (`engine`, `serve`). */
export const runsUntilSignalled = (): void => {
  runsUntilStopped = true
}

/**
 * Notes which signal came first. Called right before the main fiber starts (in the same turn as `runMain`, which
 * listens for the same signals and interrupts the fiber): a listener added earlier would keep Node from ending a
 * process signalled while its modules load.
 */
export const noteStopSignals = (): void => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => { received ??= signal })
}

/** The exit code of a command whose main fiber was interrupted by a stop signal (none came: 0). */
export const stoppedExitCode = (): number =>
  runsUntilStopped || received === undefined ? 0 : received === "SIGINT" ? 130 : 143
