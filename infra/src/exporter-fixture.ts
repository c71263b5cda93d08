/**
 * A small Prometheus exporter for the tests: serves `/metrics` in the text exposition format (0.0.4)
 * on a free loopback port, with the series that hetu's metrics collector queries (SPEC §1's
 * vocabulary: cAdvisor container series, HTTP request counters and histograms, node-exporter,
 * kubelet volume stats, CoreDNS, Go GC). A test sets the values; a real Prometheus scrapes them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface MetricSample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
  /** Appended to the family name (`_bucket`, `_sum`, `_count` of histograms and summaries). */
  readonly suffix?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly MetricSample[];
}

export interface ExporterFixture {
  /** `127.0.0.1:<port>`: a Prometheus scrape target. */
  readonly target: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;
  /** How many times `/metrics` has been served. */
  scrapes(): number;
  /** Replaces every family (what the next scrape serves). */
  setFamilies(families: readonly MetricFamily[]): void;
  /** Sets one sample's value (adds the sample, or the family as untyped, when it is not there). */
  set(name: string, labels: Readonly<Record<string, string>>, value: number, suffix?: string): void;
  /** The text the next scrape serves. */
  render(): string;
  stop(): Promise<void>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelKey(labels: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The text exposition format of `families` (one HELP and TYPE line per family, then its samples). */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const entries = Object.entries(s.labels ?? {});
      const labels =
        entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
      out.push(`${f.name}${s.suffix ?? ''}${labels} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

function histogram(
  name: string,
  help: string,
  labels: Record<string, string>,
  buckets: readonly [number, number][],
  sum: number,
): MetricFamily {
  const count = buckets.at(-1)?.[1] ?? 0;
  return {
    name,
    type: 'histogram',
    help,
    samples: [
      ...buckets.map(([le, n]) => ({
        suffix: '_bucket',
        labels: { ...labels, le: formatValue(le) },
        value: n,
      })),
      { suffix: '_sum', labels, value: sum },
      { suffix: '_count', labels, value: count },
    ],
  };
}

/**
 * One example of every source series of SPEC §1's metric vocabulary, for namespace `shop`
 * (pod `api-0`, container `api`, service `api`, PVC `data-db-0`) and node `kwok-node-0`.
 * The values are fixed, so a query's result is known exactly.
 */
export function hetuExampleMetrics(): MetricFamily[] {
  const c = { namespace: 'shop', pod: 'api-0', container: 'api' };
  const svc = { namespace: 'shop', service: 'api' };
  const node = 'kwok-node-0';
  return [
    {
      name: 'container_cpu_usage_seconds_total',
      type: 'counter',
      help: 'Cumulative cpu time consumed in seconds.',
      samples: [{ labels: c, value: 1234.5 }],
    },
    {
      name: 'container_memory_working_set_bytes',
      type: 'gauge',
      help: 'Current working set in bytes.',
      samples: [{ labels: c, value: 268435456 }],
    },
    {
      name: 'container_cpu_cfs_periods_total',
      type: 'counter',
      help: 'Number of elapsed enforcement period intervals.',
      samples: [{ labels: c, value: 1000 }],
    },
    {
      name: 'container_cpu_cfs_throttled_periods_total',
      type: 'counter',
      help: 'Number of throttled period intervals.',
      samples: [{ labels: c, value: 250 }],
    },
    {
      name: 'http_requests_total',
      type: 'counter',
      help: 'HTTP requests by status code.',
      samples: [
        { labels: { ...svc, code: '200' }, value: 950 },
        { labels: { ...svc, code: '503' }, value: 50 },
      ],
    },
    histogram(
      'http_request_duration_seconds',
      'HTTP request latency.',
      svc,
      [
        [0.1, 600],
        [0.25, 900],
        [0.5, 980],
        [1, 1000],
        [Infinity, 1000],
      ],
      180,
    ),
    {
      name: 'node_cpu_seconds_total',
      type: 'counter',
      help: 'Seconds the CPUs spent in each mode.',
      samples: [
        { labels: { node, cpu: '0', mode: 'idle' }, value: 7000 },
        { labels: { node, cpu: '0', mode: 'user' }, value: 3000 },
      ],
    },
    {
      name: 'node_memory_MemAvailable_bytes',
      type: 'gauge',
      help: 'Memory information field MemAvailable_bytes.',
      samples: [{ labels: { node }, value: 4294967296 }],
    },
    {
      name: 'node_memory_MemTotal_bytes',
      type: 'gauge',
      help: 'Memory information field MemTotal_bytes.',
      samples: [{ labels: { node }, value: 17179869184 }],
    },
    {
      name: 'kubelet_volume_stats_used_bytes',
      type: 'gauge',
      help: 'Number of used bytes in the volume.',
      samples: [{ labels: { namespace: 'shop', persistentvolumeclaim: 'data-db-0' }, value: 8589934592 }],
    },
    {
      name: 'kubelet_volume_stats_capacity_bytes',
      type: 'gauge',
      help: 'Capacity in bytes of the volume.',
      samples: [{ labels: { namespace: 'shop', persistentvolumeclaim: 'data-db-0' }, value: 10737418240 }],
    },
    {
      name: 'coredns_dns_responses_total',
      type: 'counter',
      help: 'Counter of response status codes.',
      samples: [
        { labels: { server: 'dns://:53', zone: '.', rcode: 'NOERROR' }, value: 900 },
        { labels: { server: 'dns://:53', zone: '.', rcode: 'NXDOMAIN' }, value: 100 },
      ],
    },
    {
      name: 'coredns_cache_hits_total',
      type: 'counter',
      help: 'The count of cache hits.',
      samples: [{ labels: { server: 'dns://:53', type: 'success' }, value: 400 }],
    },
    {
      name: 'coredns_cache_misses_total',
      type: 'counter',
      help: 'The count of cache misses.',
      samples: [{ labels: { server: 'dns://:53' }, value: 600 }],
    },
    {
      name: 'go_gc_duration_seconds',
      type: 'summary',
      help: 'A summary of the pause duration of garbage collection cycles.',
      samples: [
        { labels: { namespace: 'shop', pod: 'api-0', quantile: '0.5' }, value: 0.0002 },
        { suffix: '_sum', labels: { namespace: 'shop', pod: 'api-0' }, value: 0.5 },
        { suffix: '_count', labels: { namespace: 'shop', pod: 'api-0' }, value: 1000 },
      ],
    },
  ];
}

/** Serves `families` (default {@link hetuExampleMetrics}) on a free loopback port. */
export async function startExporterFixture(
  families: readonly MetricFamily[] = hetuExampleMetrics(),
): Promise<ExporterFixture> {
  let current: MetricFamily[] = families.map((f) => ({ ...f, samples: [...f.samples] }));
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
      served++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderMetrics(current));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | null = null;
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    scrapes: () => served,
    setFamilies(next) {
      current = next.map((f) => ({ ...f, samples: [...f.samples] }));
    },
    set(name, labels, value, suffix) {
      const key = labelKey(labels);
      const i = current.findIndex((f) => f.name === name);
      const family: MetricFamily = current[i] ?? { name, type: 'untyped', help: name, samples: [] };
      const samples = [...family.samples];
      const j = samples.findIndex((s) => (s.suffix ?? '') === (suffix ?? '') && labelKey(s.labels) === key);
      const sample: MetricSample = { labels, value, ...(suffix ? { suffix } : {}) };
      if (j >= 0) samples[j] = sample;
      else samples.push(sample);
      const updated = { ...family, samples };
      if (i >= 0) current[i] = updated;
      else current.push(updated);
    },
    render: () => renderMetrics(current),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return stopped;
    },
  };
}
