/**
 * A long-running command (`hetu run`, `hetu start`) that has stopped cleanly — its last batch
 * committed, its connections closed — ends its process then, even if something it used left a
 * handle open (a socket, a timer), instead of hanging until the orchestrator kills it at the end of
 * the grace period. What was still open is named on stderr, so the leak can be found and fixed.
 */

/** How long a cleanly stopped process may take to end by itself. */
export const EXIT_AFTER_STOP_MS = 5_000;

/** How long one closing step after a clean stop may take (frontiers, metrics, the connections). */
export const CLOSE_STEP_MS = 10_000;

/**
 * Awaits one closing step that comes after everything was committed; if it has not finished in
 * `ms`, says so on `err` (which step, so it can be found) and goes on, so the process can end.
 */
export async function boundedClose(
  command: string,
  what: string,
  step: Promise<unknown> | undefined,
  err: NodeJS.WritableStream = process.stderr,
  ms = CLOSE_STEP_MS,
): Promise<void> {
  if (step === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    if ((await Promise.race([step, late])) === 'late')
      err.write(
        `hetu ${command}: closing ${what} did not finish within ${ms / 1000} s after the stop; going on without it (please report).\n`,
      );
  } finally {
    clearTimeout(timer);
  }
}

/** One line per handle still open: its kind, and for a socket its two ends. */
export function openHandles(): string[] {
  const get = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const handles = typeof get === 'function' ? get.call(process) : [];
  const out: string[] = [];
  for (const h of handles) {
    const o = h as {
      constructor?: { name?: string };
      remoteAddress?: string;
      remotePort?: number;
      localPort?: number;
    };
    const kind = o.constructor?.name ?? typeof h;
    // The standard streams are always open.
    if (h === process.stdout || h === process.stderr || h === process.stdin) continue;
    out.push(
      o.remotePort !== undefined
        ? `${kind} to ${o.remoteAddress}:${o.remotePort} (from :${o.localPort})`
        : kind,
    );
  }
  const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
  out.push(`resources: ${resources.join(', ')}`);
  return out;
}

/**
 * Arms an unreferenced timer: if the process is still there `ms` after a clean stop, it writes
 * what is open to `err` and exits with `process.exitCode` (0 unless set).
 */
export function exitAfterStop(
  command: string,
  err: NodeJS.WritableStream = process.stderr,
  ms = EXIT_AFTER_STOP_MS,
): void {
  setTimeout(() => {
    err.write(
      `hetu ${command}: stopped cleanly, but the process had not ended ${ms / 1000} s later; ending it. Still open (please report): ${openHandles().join('; ')}\n`,
    );
    process.exit(process.exitCode ?? 0);
  }, ms).unref();
}
