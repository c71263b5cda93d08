/**
 * Apicurio Registry 3.x with its Confluent-compatible API, in-memory storage, on loopback, run
 * from the Quarkus app that `infra/fetch.sh` extracted out of Maven Central.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, InfraError, retryOnPortClash, startProcess, waitUntil } from './supervisor.ts';

export interface RegistryOptions {
  /** Folder holding `quarkus-run.jar` (`.cache/infra/apicurio-<version>`). */
  readonly home: string;
  /** Folder of pid files shared by all runs (see `killStaleProcesses`). */
  readonly pidDir: string;
  /** A `java` executable of version 21 or newer (Apicurio 3.3 is built for Java 21). */
  readonly java: string;
  /** Maximum heap in MiB. Default 384. */
  readonly heapMb?: number;
  /** Where the per-run directory is made. Default the OS temp dir. */
  readonly baseDir?: string;
  /** Deadline from launch until `GET <url>/subjects` answers 200. Default 90 000 ms. */
  readonly readyTimeoutMs?: number;
}

export interface RegistryHandle {
  /** Base URL of the Confluent-compatible API, ending in `/apis/ccompat/v7`. */
  readonly url: string;
  readonly runDir: string;
  readonly logFile: string;
  readonly pid: number;
  /** Stops the registry (SIGTERM, SIGKILL after 10 s) and removes the run directory. Idempotent. */
  stop(): Promise<void>;
}

async function answers200(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * Starts Apicurio Registry on free loopback ports; resolves once `GET <url>/subjects` answers 200.
 * On failure the process is stopped, its run directory kept, and the log's tail is in the error.
 */
export function startRegistry(opts: RegistryOptions): Promise<RegistryHandle> {
  return retryOnPortClash(() => startRegistryOnce(opts));
}

async function startRegistryOnce(opts: RegistryOptions): Promise<RegistryHandle> {
  const runJar = join(opts.home, 'quarkus-run.jar');
  if (!existsSync(runJar)) {
    throw new InfraError('HETU_INFRA_NOT_FETCHED', `${runJar} is missing: run npm run infra:fetch.`);
  }
  const runDir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'hetu-apicurio-'));
  const [httpPort, managementPort] = await freePorts(2);
  if (httpPort === undefined || managementPort === undefined) throw new Error('freePorts(2)');
  const proc = startProcess({
    name: 'apicurio',
    command: opts.java,
    args: [
      '-Xms64m',
      `-Xmx${opts.heapMb ?? 384}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${httpPort}`,
      // the management interface (health, metrics) listens on 0.0.0.0:9000 by default
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${managementPort}`,
      `-Dapicurio.storage.snapshot.location=${runDir}`,
      `-Djava.io.tmpdir=${runDir}`,
      '-jar',
      runJar,
    ],
    runDir,
    pidDir: opts.pidDir,
  });
  const url = `http://127.0.0.1:${httpPort}/apis/ccompat/v7`;
  try {
    await waitUntil('Apicurio Registry', () => answers200(`${url}/subjects`), {
      timeoutMs: opts.readyTimeoutMs ?? 90_000,
      process: proc,
    });
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    url,
    runDir,
    logFile: proc.logFile,
    pid: proc.pid,
    stop() {
      stopped ??= (async () => {
        await proc.stop(10_000);
        rmSync(runDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
