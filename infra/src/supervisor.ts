/**
 * A small process supervisor for the test services (Kafka, Apicurio): spawn with stdout and stderr
 * appended to a log file, a pid file so that a later run can kill orphans that a killed run left
 * behind, stop by SIGTERM then SIGKILL after a grace period, and deadlines on every wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Thrown when a service cannot be started, with the tail of its log in the message. */
export class InfraError extends Error {
  readonly code: string;
  /** The log of the process that failed, when there is one. */
  readonly logFile: string | undefined;
  constructor(code: string, message: string, logFile?: string) {
    super(message);
    this.name = 'InfraError';
    this.code = code;
    this.logFile = logFile;
  }
}

export interface ProcessSpec {
  /** Short name: used for the log file (`<runDir>/<name>.log`) and the pid file. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Per-run directory: holds the log file; the process's working directory too. */
  readonly runDir: string;
  /** Directory of pid files, shared by all runs, so a later run finds orphans of an earlier one. */
  readonly pidDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** null while running; otherwise the exit code or the signal that ended it. */
  exitStatus(): string | null;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** The last `lines` lines of the log file. */
  tail(lines?: number): string;
}

interface PidRecord {
  readonly name: string;
  readonly pid: number;
  /** `/proc/<pid>/cmdline` of the child, so a recycled pid is never killed. */
  readonly cmdline: string;
  readonly ownerPid: number;
  readonly ownerCmdline: string;
  /** The orphan's run directory, removed with it. */
  readonly runDir: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: when this Node process exits without a teardown, take the children with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function readCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
}

function pidFileName(name: string, ownerPid: number, pid: number): string {
  return `${name}.${ownerPid}.${pid}.pid.json`;
}

/**
 * Kills processes recorded in `pidDir` whose owner (the Node process that started them) is gone,
 * and removes their pid files. Processes of another run that is still alive, and this process's
 * own, are left alone.
 * Returns the names and pids it killed.
 */
export function killStaleProcesses(pidDir: string): { name: string; pid: number }[] {
  const killed: { name: string; pid: number }[] = [];
  let files: string[];
  try {
    files = readdirSync(pidDir).filter((f) => f.endsWith('.pid.json'));
  } catch {
    return killed;
  }
  for (const file of files) {
    const path = join(pidDir, file);
    let rec: PidRecord;
    try {
      rec = JSON.parse(readFileSync(path, 'utf8')) as PidRecord;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    // This process's own children are not stale (a bench that started Kafka, then cleans up
    // before it starts the Kubernetes stack); a record naming this pid as owner but not one of its
    // children is left by an earlier process that had the same pid.
    if (rec.ownerPid === process.pid && [...live].some((c) => c.pid === rec.pid)) continue;
    const ownerAlive = rec.ownerPid !== process.pid && readCmdline(rec.ownerPid) === rec.ownerCmdline;
    if (ownerAlive) continue;
    if (readCmdline(rec.pid) === rec.cmdline) {
      try {
        process.kill(rec.pid, 'SIGKILL');
        killed.push({ name: rec.name, pid: rec.pid });
      } catch {
        // gone meanwhile
      }
    }
    if (rec.runDir) rmSync(rec.runDir, { recursive: true, force: true });
    rmSync(path, { force: true });
  }
  return killed;
}

/** Reads the last `lines` lines of a file ('' when it does not exist). */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  }
}

/** A free TCP port on 127.0.0.1, found by listening on port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port from listen(0)'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** `n` distinct free ports (held open together so they differ). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const srv = createServer();
          srv.unref();
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port from listen(0)');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** Spawns `spec.command`, logging to `<runDir>/<name>.log`, and records it in a pid file. */
export function startProcess(spec: ProcessSpec): SupervisedProcess {
  installExitHook();
  mkdirSync(spec.runDir, { recursive: true });
  mkdirSync(spec.pidDir, { recursive: true });
  const logFile = join(spec.runDir, `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      cwd: spec.runDir,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env },
    });
  } finally {
    closeSync(fd);
  }
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new InfraError('HETU_INFRA_SPAWN', `${spec.name}: could not start ${spec.command}.`);
  }
  live.add(child);
  let status: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = code !== null ? `exit code ${code}` : `signal ${signal ?? '?'}`;
      live.delete(child);
      resolve();
    });
  });
  const pidFile = join(spec.pidDir, pidFileName(spec.name, process.pid, pid));
  const record: PidRecord = {
    name: spec.name,
    pid,
    cmdline: [spec.command, ...spec.args].join('\0') + '\0',
    ownerPid: process.pid,
    ownerCmdline: readCmdline(process.pid) ?? '',
    runDir: spec.runDir,
  };
  // Node passes `command` as argv[0] unchanged, so this is what /proc/<pid>/cmdline shows after exec.
  writeFileSync(pidFile, JSON.stringify(record));

  let stopping: Promise<void> | null = null;
  return {
    name: spec.name,
    pid,
    logFile,
    exitStatus: () => status ?? (spawnError ? `spawn error: ${(spawnError as Error).message}` : null),
    tail: (lines = 40) => tailFile(logFile, lines),
    stop(graceMs = 15_000): Promise<void> {
      stopping ??= (async () => {
        if (status === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        rmSync(pidFile, { force: true });
      })();
      return stopping;
    },
  };
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Fail at once, with the log's tail, when this process exits while waiting. */
  readonly process?: SupervisedProcess;
}

/**
 * Polls `probe` until it returns true, with a deadline. A probe that throws counts as "not yet";
 * the last error is reported when the deadline passes.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  opts: WaitOptions,
): Promise<void> {
  const started = performance.now();
  const interval = opts.intervalMs ?? 250;
  let lastError: unknown = null;
  for (;;) {
    const proc = opts.process;
    const st = proc?.exitStatus();
    if (proc && st) {
      throw new InfraError(
        'HETU_INFRA_EXITED',
        `${what}: ${proc.name} exited (${st}) before it was ready. Last lines of ${proc.logFile}:\n${proc.tail()}`,
        proc.logFile,
      );
    }
    try {
      if (await probe()) return;
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() - started > opts.timeoutMs) {
      const why = lastError instanceof Error ? ` Last error: ${lastError.message}` : '';
      const log = proc ? ` Last lines of ${proc.logFile}:\n${proc.tail()}` : '';
      throw new InfraError(
        'HETU_INFRA_TIMEOUT',
        `${what} was not ready within ${opts.timeoutMs} ms.${why}${log}`,
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * True when a start failed because a port taken by `freePorts` was grabbed by someone else before the
 * service bound it (the window between picking a port and binding it): worth one more try.
 */
export function isPortClash(err: unknown): boolean {
  if (!(err instanceof InfraError) || err.code !== 'HETU_INFRA_EXITED') return false;
  let log = err.message;
  try {
    if (err.logFile) log = readFileSync(err.logFile, 'utf8');
  } catch {
    // keep the message
  }
  return /Address already in use|BindException|Port already bound/i.test(log);
}

/** Runs `start` up to `attempts` times while it fails with a port clash. */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !isPortClash(err)) throw err;
    }
  }
}
