// One `hetu run <role>` child process for the collector bench, with its memory sampled from
// /proc/<pid>/status: VmRSS every `sampleMs` (the peak of the samples is kept) and VmHWM (the
// kernel's own peak RSS of the process) whenever asked. Linux only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcMemory {
  /** KiB */
  readonly rss: number;
  /** KiB */
  readonly hwm: number;
}

/** VmRSS and VmHWM of a process, in KiB; null once it is gone. */
export function procMemory(pid: number): ProcMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  const rss = field('VmRSS');
  const hwm = field('VmHWM');
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : null;
}

export interface RoleProcess {
  readonly role: string;
  readonly pid: number;
  /** performance.now() at spawn. */
  readonly startedAt: number;
  /** VmRSS when the role said it runs (its modules loaded, connected, started; KiB), 0 before. */
  rssAtReady(): number;
  /** The highest VmRSS sampled so far (KiB). */
  peakSampledRss(): number;
  /** Samples taken so far. */
  samples(): number;
  /** VmRSS and VmHWM now (null once exited). */
  memory(): ProcMemory | null;
  /** The exit, once it happened. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** performance.now() at the exit, once it happened. */
  exitedAt(): number | null;
  /** The last 8 KiB the process wrote to stdout and stderr. */
  output(): string;
  /**
   * SIGUSR2, for a role started with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>`:
   * resolves with the snapshot's path once written (null after 5 minutes).
   */
  heapSnapshot(dir: string): Promise<string | null>;
  /** SIGTERM (the role writes what it buffered and exits), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const warmed = new Set<string>();
/**
 * Fills the compile cache the roles start with (`cli/bin/warm-cache.js`), once per cache
 * directory, as the image does when it is built: a role then loads no TypeScript stripper.
 */
function warmCompileCache(root: string, env: NodeJS.ProcessEnv): void {
  const key = env['HETU_COMPILE_CACHE'] ?? '';
  if (warmed.has(key) || key === 'off') return;
  const r = spawnSync(process.execPath, [join(root, 'cli/bin/warm-cache.js')], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cli/bin/warm-cache.js failed (${r.status}): ${r.stderr}`);
  warmed.add(key);
}

/**
 * Spawns `node cli/bin/hetu.js run <role> <args>` (as the image runs it; the process itself is Node: its pid is the
 * role's) and samples its memory every `sampleMs` until it exits.
 */
export function startRole(
  root: string,
  role: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  sampleMs = 100,
): RoleProcess {
  return startHetu(root, role, ['run', role, ...args], env, sampleMs);
}

/**
 * Spawns `node cli/bin/hetu.js <argv>` (e.g. `start …`), with the compile cache warmed first, named `label` in the figures, and samples
 * its memory every `sampleMs` until it exits. Ready: once it printed `hetu run: … running.` or
 * `hetu is up:`.
 */
export function startHetu(
  root: string,
  label: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  sampleMs = 100,
): RoleProcess {
  const role = label;
  warmCompileCache(root, env);
  const child: ChildProcess = spawn(process.execPath, [join(root, 'cli/bin/hetu.js'), ...argv], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`hetu ${argv.join(' ')} did not start`);
  const pid = child.pid;
  const startedAt = performance.now();
  let tail = '';
  let ready = 0;
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8192);
    // `hetu run: <roles> running.` once every role started; `hetu is up:` for `hetu start`
    if (ready === 0 && /^(hetu run: .* running\.|hetu is up:)/m.test(tail)) ready = procMemory(pid)?.rss ?? 0;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let peak = 0;
  let count = 0;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let exitedAt: number | null = null;
  const sample = (): void => {
    const m = procMemory(pid);
    if (m === null) return;
    count++;
    if (m.rss > peak) peak = m.rss;
  };
  sample();
  const timer = setInterval(sample, sampleMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      clearInterval(timer);
      exitedAt = performance.now();
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    role,
    pid,
    startedAt,
    rssAtReady: () => ready,
    peakSampledRss: () => peak,
    samples: () => count,
    memory: () => (exit === null ? procMemory(pid) : null),
    exited: () => exit,
    exitedAt: () => exitedAt,
    output: () => tail,
    async heapSnapshot(dir) {
      const mine = (): string[] =>
        readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && f.includes(`.${pid}.`));
      const before = new Set(mine());
      child.kill('SIGUSR2');
      const t0 = performance.now();
      let last = -1;
      while (performance.now() - t0 < 300_000) {
        await new Promise((r) => setTimeout(r, 1000));
        const file = mine().find((f) => !before.has(f));
        if (file === undefined) continue;
        const size = statSync(join(dir, file)).size;
        // written once its size holds still and the process is back to its work
        if (size > 0 && size === last) return join(dir, file);
        last = size;
      }
      return null;
    },
    async stop(graceMs = 30_000) {
      if (exit !== null) return exit;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await done;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}

/**
 * Polls `done()` every 100 ms until it is true; throws (with `state()` and the role's output)
 * when the role exits first or after `timeoutMs`.
 */
export async function until(
  what: string,
  done: () => boolean,
  opts: { timeoutMs: number; role?: RoleProcess; state?: () => string },
): Promise<void> {
  const t0 = performance.now();
  while (!done()) {
    const exit = opts.role?.exited();
    const state = opts.state ? ` (${opts.state()})` : '';
    if (exit)
      throw new Error(
        `${opts.role!.role} exited (code ${exit.code}, signal ${exit.signal}) before ${what}${state}; its output:\n${opts.role!.output()}`,
      );
    if (performance.now() - t0 > opts.timeoutMs)
      throw new Error(
        `no ${what} within ${Math.round(opts.timeoutMs / 1000)} s${state}${opts.role ? `; output of ${opts.role.role}:\n${opts.role.output()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
