/**
 * A real Prometheus (Debian's `prometheus` package, installed by `npm run infra:fetch`) on a free
 * loopback port, with its own config and data dir per run, scraping the targets it is given.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, InfraError, retryOnPortClash, startProcess, waitUntil } from './supervisor.ts';

export interface PrometheusLayout {
  /** The executable (a name looked up on PATH, or a path). */
  readonly command: string;
  /** First line of `prometheus --version`. */
  readonly version: string;
}

/** Checks that `prometheus` runs, or throws one sentence that says to run `npm run infra:fetch`. */
export function locatePrometheus(command = 'prometheus'): PrometheusLayout {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0 || !/prometheus, version/.test(out)) {
    throw new InfraError(
      'HETU_INFRA_NOT_FETCHED',
      `Prometheus (${command}) not found or not runnable: run npm run infra:fetch.`,
    );
  }
  return { command, version: out.split('\n')[0]?.trim() ?? '' };
}

export interface PrometheusOptions {
  /** Scrape targets, `host:port` (e.g. an `ExporterFixture`'s `target`). */
  readonly targets: readonly string[];
  /** Folder of pid files shared by all runs (see `killStaleProcesses`). */
  readonly pidDir: string;
  /** Default `prometheus` (on PATH). */
  readonly command?: string;
  /** The job label of the targets. Default `hetu-fixture`. */
  readonly job?: string;
  /** Scrape and rule evaluation interval. Default 1 s. */
  readonly scrapeIntervalMs?: number;
  /** Where the per-run directory is made. Default the OS temp dir. */
  readonly baseDir?: string;
  /** Deadline until `/-/ready` and every target scraped successfully once. Default 30 000 ms. */
  readonly readyTimeoutMs?: number;
}

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** [unix seconds, value as Prometheus writes it] */
  readonly value: readonly [number, string];
}

export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly job: string;
  readonly runDir: string;
  readonly logFile: string;
  readonly pid: number;
  /** An instant query (`POST /api/v1/query`); throws unless the status is success and the result a vector. */
  query(promql: string, time?: number): Promise<PromSample[]>;
  /** Stops Prometheus (SIGTERM, SIGKILL after 10 s) and removes the run directory. Idempotent. */
  stop(): Promise<void>;
}

/** The config file: one job scraping `targets` every `intervalMs`. */
export function prometheusConfig(job: string, targets: readonly string[], intervalMs: number): string {
  const every = `${Math.max(1, Math.round(intervalMs / 1000))}s`;
  return [
    'global:',
    `  scrape_interval: ${every}`,
    `  scrape_timeout: ${every}`,
    `  evaluation_interval: ${every}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(job)}`,
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

interface ApiAnswer<T> {
  status: string;
  data?: T;
  error?: string;
  errorType?: string;
}

async function promApi<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success' || body.data === undefined) {
    throw new InfraError(
      'HETU_INFRA_PROMETHEUS_QUERY',
      `Prometheus ${url}: HTTP ${res.status}, ${body.errorType ?? 'error'}: ${body.error ?? 'no data'}`,
    );
  }
  return body.data;
}

async function targetsUp(url: string, targets: readonly string[]): Promise<boolean> {
  const data = await promApi<{ activeTargets: { scrapeUrl: string; health: string }[] }>(
    `${url}/api/v1/targets?state=active`,
  );
  return targets.every((t) =>
    data.activeTargets.some((a) => a.health === 'up' && new URL(a.scrapeUrl).host === t),
  );
}

/**
 * Starts Prometheus on a free loopback port scraping `targets`; resolves once every target has been
 * scraped successfully (Prometheus applies new targets up to 5 s after it is ready).
 */
export function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  return retryOnPortClash(() => startPrometheusOnce(opts));
}

async function startPrometheusOnce(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const job = opts.job ?? 'hetu-fixture';
  const runDir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'hetu-prometheus-'));
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('freePorts(1)');
  const configFile = join(runDir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(job, opts.targets, opts.scrapeIntervalMs ?? 1000));
  const proc = startProcess({
    name: 'prometheus',
    command: opts.command ?? 'prometheus',
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(runDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    runDir,
    pidDir: opts.pidDir,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    await waitUntil(
      'Prometheus',
      async () => {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs, process: proc },
    );
    if (opts.targets.length > 0) {
      await waitUntil(
        `Prometheus targets ${opts.targets.join(', ')} up`,
        () => targetsUp(url, opts.targets),
        {
          timeoutMs,
          process: proc,
        },
      );
    }
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    url,
    job,
    runDir,
    logFile: proc.logFile,
    pid: proc.pid,
    async query(promql, time) {
      const form = new URLSearchParams({ query: promql });
      if (time !== undefined) form.set('time', String(time));
      const data = await promApi<{ resultType: string; result: PromSample[] }>(`${url}/api/v1/query`, {
        method: 'POST',
        body: form,
      });
      if (data.resultType !== 'vector') {
        throw new InfraError(
          'HETU_INFRA_PROMETHEUS_QUERY',
          `Prometheus query ${promql}: result type ${data.resultType}, not vector.`,
        );
      }
      return data.result;
    },
    stop() {
      stopped ??= (async () => {
        await proc.stop(10_000);
        rmSync(runDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
