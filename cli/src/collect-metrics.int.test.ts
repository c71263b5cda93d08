/**
 * The Prometheus metrics collector (producers/src/metrics) against a real Prometheus scraping the
 * exporter fixture, appending to an embedded log with the embedded schema registry.
 *
 * Exact values: every counter the fixture serves is 0 in the first scrapes, then jumps by a known
 * delta, and the collector evaluates at the timestamp of the scrape that served the jump. Then
 * Prometheus' rate() over [5m] does not extrapolate (the series starts at 0, and the evaluation
 * time is its last sample): rate = delta ÷ 300 s, exactly. Deltas are chosen so that the rates
 * are sums of powers of two where series are added, so the order of a sum does not matter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicSpec, type MetricSampled } from '@hetu/schemas';
import {
  METRIC_NAMES,
  createMetricsCollector,
  type MetricName,
  type MetricsCollector,
} from '@hetu/producers/metrics';
import {
  killStaleProcesses,
  locatePrometheus,
  prometheusConfig,
  startExporterFixture,
  startProcess,
  startPrometheus,
  waitUntil,
  type ExporterFixture,
  type MetricFamily,
  type PrometheusHandle,
  type SupervisedProcess,
} from '@hetu/infra';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PID_DIR = join(ROOT, '.cache/infra/pids');
const TOPIC = 'hetu.raw.metrics';
const WINDOW_S = 300;

const API = { namespace: 'shop', pod: 'api-0', container: 'api' };
const WORKER = { namespace: 'shop', pod: 'worker-0', container: 'worker' };
const NODE = 'kwok-node-0';

/** What the fixture serves: counters at `k` × their delta (k = 0 first, then 1), gauges fixed. */
function families(k: 0 | 1, omit: readonly string[] = []): MetricFamily[] {
  const c = (n: number): number => k * n;
  const cadvisor = (extra: Record<string, string>) => ({
    ...extra,
    image: 'registry/x:1',
    id: '/kubepods/x',
  });
  const all: MetricFamily[] = [
    {
      name: 'container_cpu_usage_seconds_total',
      type: 'counter',
      help: 'cpu',
      samples: [
        { labels: cadvisor(API), value: c(150) },
        { labels: cadvisor(WORKER), value: c(37.5) },
        // cAdvisor's pod-level cgroup and the sandbox: never a sample
        { labels: cadvisor({ namespace: 'shop', pod: 'api-0', container: '' }), value: c(180) },
        { labels: cadvisor({ namespace: 'shop', pod: 'api-0', container: 'POD' }), value: c(3) },
      ],
    },
    {
      name: 'container_memory_working_set_bytes',
      type: 'gauge',
      help: 'mem',
      samples: [
        { labels: cadvisor(API), value: 268435456 },
        ...(omit.includes('worker-memory') ? [] : [{ labels: cadvisor(WORKER), value: 134217728 }]),
        { labels: cadvisor({ namespace: 'shop', pod: 'api-0', container: '' }), value: 402653184 },
        { labels: cadvisor({ namespace: 'shop', pod: 'api-0', container: 'POD' }), value: 1048576 },
      ],
    },
    // Only api has a CPU limit: worker has no CFS series, so no cpu_throttled_ratio.
    {
      name: 'container_cpu_cfs_periods_total',
      type: 'counter',
      help: 'p',
      samples: [{ labels: cadvisor(API), value: c(3000) }],
    },
    {
      name: 'container_cpu_cfs_throttled_periods_total',
      type: 'counter',
      help: 't',
      samples: [{ labels: cadvisor(API), value: c(750) }],
    },
    {
      name: 'http_requests_total',
      type: 'counter',
      help: 'h',
      samples: [
        { labels: { namespace: 'shop', service: 'api', code: '200', method: 'GET' }, value: c(2850) },
        { labels: { namespace: 'shop', service: 'api', code: '503', method: 'GET' }, value: c(150) },
        { labels: { namespace: 'shop', service: 'cart', code: '200', method: 'GET' }, value: c(600) },
      ],
    },
    {
      name: 'http_request_duration_seconds',
      type: 'histogram',
      help: 'd',
      samples: [
        ...(
          [
            ['0.1', 1800],
            ['0.25', 2700],
            ['0.5', 2925],
            ['1', 3000],
            ['+Inf', 3000],
          ] as const
        ).map(([le, n]) => ({
          suffix: '_bucket',
          labels: { namespace: 'shop', service: 'api', le },
          value: c(n),
        })),
        { suffix: '_sum', labels: { namespace: 'shop', service: 'api' }, value: c(540) },
        { suffix: '_count', labels: { namespace: 'shop', service: 'api' }, value: c(3000) },
      ],
    },
    {
      name: 'node_cpu_seconds_total',
      type: 'counter',
      help: 'n',
      samples: [
        { labels: { node: NODE, cpu: '0', mode: 'idle' }, value: c(225) },
        { labels: { node: NODE, cpu: '0', mode: 'user' }, value: c(75) },
        { labels: { node: NODE, cpu: '1', mode: 'idle' }, value: c(150) },
        { labels: { node: NODE, cpu: '1', mode: 'system' }, value: c(150) },
      ],
    },
    {
      name: 'node_memory_MemAvailable_bytes',
      type: 'gauge',
      help: 'a',
      samples: [{ labels: { node: NODE }, value: 4294967296 }],
    },
    {
      name: 'node_memory_MemTotal_bytes',
      type: 'gauge',
      help: 't',
      samples: [{ labels: { node: NODE }, value: 17179869184 }],
    },
    {
      name: 'kubelet_volume_stats_used_bytes',
      type: 'gauge',
      help: 'u',
      samples: [{ labels: { namespace: 'shop', persistentvolumeclaim: 'data-db-0' }, value: 8589934592 }],
    },
    {
      name: 'kubelet_volume_stats_capacity_bytes',
      type: 'gauge',
      help: 'c',
      samples: [{ labels: { namespace: 'shop', persistentvolumeclaim: 'data-db-0' }, value: 10737418240 }],
    },
    {
      name: 'coredns_dns_responses_total',
      type: 'counter',
      help: 'r',
      samples: [
        { labels: { server: 'dns://:53', zone: '.', rcode: 'NOERROR' }, value: c(262.5) },
        { labels: { server: 'dns://:53', zone: '.', rcode: 'NXDOMAIN' }, value: c(37.5) },
      ],
    },
    {
      name: 'coredns_cache_hits_total',
      type: 'counter',
      help: 'h',
      samples: [{ labels: { server: 'dns://:53', type: 'success' }, value: c(225) }],
    },
    {
      name: 'coredns_cache_misses_total',
      type: 'counter',
      help: 'm',
      samples: [{ labels: { server: 'dns://:53' }, value: c(75) }],
    },
    {
      name: 'go_gc_duration_seconds',
      type: 'summary',
      help: 'g',
      samples: [
        { labels: { namespace: 'shop', pod: 'api-0', quantile: '0.5' }, value: 0.0002 },
        { suffix: '_sum', labels: { namespace: 'shop', pod: 'api-0' }, value: c(0.375) },
        { suffix: '_count', labels: { namespace: 'shop', pod: 'api-0' }, value: c(1500) },
      ],
    },
    {
      name: 'jvm_gc_pause_seconds',
      type: 'summary',
      help: 'j',
      samples: [
        ...(
          [
            ['end of minor GC', 75, 3000],
            ['end of major GC', 37.5, 1500],
          ] as const
        ).flatMap(([action, sum, count]) => [
          { suffix: '_sum', labels: { namespace: 'shop', pod: 'ledger-0', action }, value: c(sum) },
          { suffix: '_count', labels: { namespace: 'shop', pod: 'ledger-0', action }, value: c(count) },
        ]),
        // No collection in the window: 0 ÷ 0 = NaN, skipped and counted.
        { suffix: '_sum', labels: { namespace: 'shop', pod: 'idle-0', action: 'end of minor GC' }, value: 0 },
        {
          suffix: '_count',
          labels: { namespace: 'shop', pod: 'idle-0', action: 'end of minor GC' },
          value: 0,
        },
      ],
    },
  ];
  return all.filter((f) => !omit.includes(f.name));
}

const r = (delta: number): number => delta / WINDOW_S;
/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the rank. */
function quantile(q: number, buckets: readonly [number, number][]): number {
  const total = buckets.at(-1)![1];
  let rank = q * total;
  const b = buckets.findIndex(([, n]) => n >= rank);
  let start = 0;
  let count = buckets[b]![1];
  if (b > 0) {
    start = buckets[b - 1]![0];
    count -= buckets[b - 1]![1];
    rank -= buckets[b - 1]![1];
  }
  return start + (buckets[b]![0] - start) * (rank / count);
}

type Expected = [name: MetricName, key: string, labels: Record<string, string>, value: number];

/** Every sample the default queries give for families(1) at the jump's scrape, in collector order. */
function expected(cluster: string, drop: (e: Expected) => boolean = () => false): Expected[] {
  const pvc = { namespace: 'shop', persistentvolumeclaim: 'data-db-0' };
  const all: Expected[] = [
    ['cpu_usage_cores', `${cluster}/shop/api-0`, API, r(150)],
    ['cpu_usage_cores', `${cluster}/shop/worker-0`, WORKER, r(37.5)],
    ['memory_working_set_bytes', `${cluster}/shop/api-0`, API, 268435456],
    ['memory_working_set_bytes', `${cluster}/shop/worker-0`, WORKER, 134217728],
    ['cpu_throttled_ratio', `${cluster}/shop/api-0`, API, r(750) / r(3000)],
    ['http_request_rate', `${cluster}/shop/api`, { namespace: 'shop', service: 'api' }, r(2850) + r(150)],
    ['http_request_rate', `${cluster}/shop/cart`, { namespace: 'shop', service: 'cart' }, r(600)],
    [
      'http_error_ratio',
      `${cluster}/shop/api`,
      { namespace: 'shop', service: 'api' },
      r(150) / (r(2850) + r(150)),
    ],
    ['http_error_ratio', `${cluster}/shop/cart`, { namespace: 'shop', service: 'cart' }, 0],
    [
      'http_p95_latency_seconds',
      `${cluster}/shop/api`,
      { namespace: 'shop', service: 'api' },
      quantile(0.95, [
        [0.1, r(1800)],
        [0.25, r(2700)],
        [0.5, r(2925)],
        [1, r(3000)],
        [Infinity, r(3000)],
      ]),
    ],
    ['node_cpu_utilisation', `${cluster}/node/${NODE}`, { node: NODE }, 1 - (r(225) + r(150)) / r(600)],
    ['node_memory_utilisation', `${cluster}/node/${NODE}`, { node: NODE }, 1 - 4294967296 / 17179869184],
    ['pvc_used_bytes', `${cluster}/shop/data-db-0`, pvc, 8589934592],
    ['pvc_capacity_bytes', `${cluster}/shop/data-db-0`, pvc, 10737418240],
    ['coredns_nxdomain_ratio', cluster, {}, r(37.5) / (r(262.5) + r(37.5))],
    ['coredns_cache_hit_ratio', cluster, {}, r(225) / (r(225) + r(75))],
    [
      'gc_pause_seconds',
      `${cluster}/shop/api-0`,
      { namespace: 'shop', pod: 'api-0', runtime: 'go' },
      r(0.375) / r(1500),
    ],
    [
      'gc_pause_seconds',
      `${cluster}/shop/ledger-0`,
      { namespace: 'shop', pod: 'ledger-0', runtime: 'jvm' },
      (r(75) + r(37.5)) / (r(3000) + r(1500)),
    ],
  ];
  return all.filter((e) => !drop(e));
}

const asSample = (cluster: string, ts: number, [name, , labels, value]: Expected): MetricSampled => ({
  ts,
  cluster,
  name,
  labels,
  value,
});

/** Every record of the topic for `cluster`: key, partition and the decoded value. */
async function readBack(backend: Backend, cluster: string) {
  const out: { key: string; partition: number; timestamp: number; value: MetricSampled }[] = [];
  const [info] = await backend.log.describeTopics([TOPIC]);
  for (const p of info!.partitions) {
    for (const rec of await backend.log.read(TOPIC, p.partition)) {
      const value = await backend.serde.decode(rec.value!, 'MetricSampled');
      if (value.cluster === cluster) {
        out.push({ key: rec.key!.toString(), partition: p.partition, timestamp: rec.timestamp, value });
      }
    }
  }
  return out;
}

describe('the metrics collector against a real Prometheus', () => {
  let fixture: ExporterFixture;
  let prom: PrometheusHandle;
  let restarted: SupervisedProcess | undefined;
  let backend: Backend;
  const collectors: MetricsCollector[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hetu-collect-metrics-'));
  let command = 'prometheus';

  /** The timestamp (epoch ms) of the newest scrape of `series` that shows `value`. */
  async function scrapeTime(series: string, value: string): Promise<number> {
    let at = 0;
    await waitUntil(
      `${series} = ${value} in Prometheus`,
      async () => {
        const [s] = await prom.query(series);
        if (s?.value[1] !== value) return false;
        const [t] = await prom.query(`timestamp(${series})`);
        at = Math.round(Number(t!.value[1]) * 1000);
        return true;
      },
      { timeoutMs: 20_000 },
    );
    return at;
  }

  beforeAll(async () => {
    command = locatePrometheus().command; // without `npm run infra:fetch`: one sentence saying to run it
    killStaleProcesses(PID_DIR);
    backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'data') }, {}));
    await backend.log.ensureTopics([topicSpec(TOPIC)]);
    fixture = await startExporterFixture(families(0));
    // Resolves once the target has been scraped: the counters' first samples are 0.
    prom = await startPrometheus({
      targets: [fixture.target],
      pidDir: PID_DIR,
      command,
      scrapeIntervalMs: 1000,
    });
  });

  afterAll(async () => {
    for (const c of collectors) await c.close();
    await restarted?.stop(10_000);
    await prom?.stop();
    await fixture?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const collector = (cluster: string, extra: Partial<Parameters<typeof createMetricsCollector>[0]> = {}) => {
    const c = createMetricsCollector({
      prometheusUrl: prom.url,
      cluster,
      log: backend.log,
      serde: backend.serde,
      ...extra,
    });
    collectors.push(c);
    return c;
  };

  it('maps every vocabulary name to exact values, labels and keys, and appends Avro that decodes', async () => {
    await scrapeTime(`container_cpu_usage_seconds_total{container="api"}`, '0');
    fixture.setFamilies(families(1));
    const at = await scrapeTime(`container_cpu_usage_seconds_total{container="api"}`, '150');

    const c = collector('g2');
    const result = await c.collectOnce(at);
    const want = expected('g2').map((e) => asSample('g2', at, e));
    expect(result).toEqual({ at, samples: want, appended: true });
    expect(new Set(result.samples.map((s) => s.name))).toEqual(new Set(METRIC_NAMES));
    // Spot values, written out: the formulas above are Prometheus' own arithmetic.
    const value = (name: string, key: string) =>
      result.samples.find((s) => s.name === name && JSON.stringify(s.labels).includes(key))?.value;
    expect(value('cpu_usage_cores', '"api-0"')).toBe(0.5);
    expect(value('cpu_throttled_ratio', '"api-0"')).toBe(0.25);
    expect(value('http_request_rate', '"api"')).toBe(10);
    expect(value('http_error_ratio', '"api"')).toBe(0.05);
    expect(value('http_p95_latency_seconds', '"api"')).toBe(0.25 + 0.25 * (0.5 / 0.75));
    expect(value('node_cpu_utilisation', NODE)).toBe(0.375);
    expect(value('node_memory_utilisation', NODE)).toBe(0.75);
    expect(value('coredns_nxdomain_ratio', '{}')).toBe(0.125);
    expect(value('coredns_cache_hit_ratio', '{}')).toBe(0.75);
    expect(value('gc_pause_seconds', '"jvm"')).toBe(0.025);

    const status = c.status();
    expect(status).toMatchObject({
      prometheus: 'reachable',
      running: false,
      cycles: 1,
      lastCycleAt: at,
      samplesAppended: 18,
      skippedNonFinite: 1, // shop/idle-0: no GC in the window
    });
    expect(status.appendError).toBeUndefined();
    expect(status.queries.map((q) => [q.name, q.state, q.samples, q.lastSuccessAt, q.dropped])).toEqual(
      METRIC_NAMES.map((n) => [n, 'ok', want.filter((s) => s.name === n).length, at, 0]),
    );
    expect(status.queries.find((q) => q.name === 'gc_pause_seconds')?.skippedNonFinite).toBe(1);

    const records = await readBack(backend, 'g2');
    const order = (a: MetricSampled, b: MetricSampled) =>
      `${a.name} ${JSON.stringify(a.labels)}`.localeCompare(`${b.name} ${JSON.stringify(b.labels)}`);
    expect(records.map((x) => x.value).sort(order)).toEqual([...want].sort(order));
    expect(new Set(records.map((x) => x.timestamp))).toEqual(new Set([at]));
    expect(records.map((x) => `${x.value.name} ${x.key}`).sort()).toEqual(
      expected('g2')
        .map(([name, key]) => `${name} ${key}`)
        .sort(),
    );
    // One series, one partition: every key's records sit together.
    const partitionOf = new Map<string, Set<number>>();
    for (const x of records) partitionOf.set(x.key, (partitionOf.get(x.key) ?? new Set()).add(x.partition));
    expect([...partitionOf.values()].every((s) => s.size === 1)).toBe(true);
    expect([...partitionOf.keys()].sort()).toEqual([
      'g2',
      'g2/node/kwok-node-0',
      'g2/shop/api',
      'g2/shop/api-0',
      'g2/shop/cart',
      'g2/shop/data-db-0',
      'g2/shop/ledger-0',
      'g2/shop/worker-0',
    ]);
  });

  it('keeps exactly the vocabulary labels of a raw query and drops pod-level and POD series', async () => {
    const at = await scrapeTime(`container_cpu_usage_seconds_total{container="api"}`, '150');
    const c = collector('g2-raw', {
      queries: { memory_working_set_bytes: 'container_memory_working_set_bytes', cpu_usage_cores: null },
    });
    const result = await c.collectOnce(at);
    expect(result.samples.filter((s) => s.name === 'memory_working_set_bytes')).toEqual([
      { ts: at, cluster: 'g2-raw', name: 'memory_working_set_bytes', labels: API, value: 268435456 },
      { ts: at, cluster: 'g2-raw', name: 'memory_working_set_bytes', labels: WORKER, value: 134217728 },
    ]);
    expect(result.samples.some((s) => s.name === 'cpu_usage_cores')).toBe(false);
    const q = c.status().queries.find((x) => x.name === 'memory_working_set_bytes');
    expect(q).toMatchObject({
      state: 'ok',
      samples: 2,
      dropped: 2,
      query: 'container_memory_working_set_bytes',
    });
    expect(c.status().queries.map((x) => x.name)).not.toContain('cpu_usage_cores');
  });

  it('gives no sample and no error for series the exporter stopped serving', async () => {
    fixture.setFamilies(
      families(1, [
        'kubelet_volume_stats_used_bytes',
        'kubelet_volume_stats_capacity_bytes',
        'worker-memory',
      ]),
    );
    await waitUntil(
      'the volume series stale in Prometheus',
      async () => (await prom.query('kubelet_volume_stats_used_bytes')).length === 0,
      { timeoutMs: 20_000 },
    );
    const at = await scrapeTime(`container_cpu_usage_seconds_total{container="api"}`, '150');
    const c = collector('g2-gone');
    const result = await c.collectOnce(at);
    const want = expected(
      'g2-gone',
      ([name, key]) =>
        name.startsWith('pvc_') || (name === 'memory_working_set_bytes' && key === 'g2-gone/shop/worker-0'),
    ).map((e) => asSample('g2-gone', at, e));
    expect(result.samples).toEqual(want);
    const states = Object.fromEntries(c.status().queries.map((q) => [q.name, q.state]));
    expect(states).toEqual({
      ...Object.fromEntries(METRIC_NAMES.map((n) => [n, 'ok'])),
      pvc_used_bytes: 'empty',
      pvc_capacity_bytes: 'empty',
    });
    expect(c.status().queries.every((q) => q.message === undefined)).toBe(true);
  });

  it('reports a stopped Prometheus as unreachable, keeps running, and collects again once it is back', async () => {
    const c = collector('g2-outage', { intervalMs: 1000, queryTimeoutMs: 2000 });
    c.start();
    await waitUntil('a first cycle', () => c.status().cycles >= 1 && c.status().prometheus === 'reachable', {
      timeoutMs: 20_000,
    });
    const port = new URL(prom.url).port;
    const lastGood = c.status().lastCycleAt!;
    await prom.stop();

    await waitUntil('status unreachable', () => c.status().prometheus === 'unreachable', {
      timeoutMs: 20_000,
    });
    const cyclesDown = c.status().cycles;
    await waitUntil('two more cycles while down', () => c.status().cycles >= cyclesDown + 2, {
      timeoutMs: 20_000,
    });
    const down = c.status();
    expect(down.running).toBe(true);
    expect(down.prometheus).toBe('unreachable');
    expect(down.message).toMatch(
      new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable \\(.*ECONNREFUSED`),
    );
    expect(down.queries.map((q) => q.state)).toEqual(METRIC_NAMES.map(() => 'error'));
    expect(down.queries.every((q) => q.message === down.message)).toBe(true);
    // The last success is kept while Prometheus is down.
    expect(
      down.queries.find((q) => q.name === 'memory_working_set_bytes')?.lastSuccessAt,
    ).toBeGreaterThanOrEqual(lastGood);
    const appendedWhileDown = down.samplesAppended;

    // Prometheus comes back at the same address (a fresh TSDB, like a restarted pod without a volume).
    const runDir = mkdtempSync(join(dir, 'prometheus-'));
    const config = join(runDir, 'prometheus.yml');
    writeFileSync(config, prometheusConfig('hetu-fixture', [fixture.target], 1000));
    restarted = startProcess({
      name: 'prometheus',
      command,
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(runDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      runDir,
      pidDir: PID_DIR,
    });
    const back = Date.now();
    await waitUntil(
      'samples flowing again',
      () =>
        c.status().prometheus === 'reachable' &&
        c.status().queries.find((q) => q.name === 'memory_working_set_bytes')?.state === 'ok',
      { timeoutMs: 30_000, process: restarted },
    );
    const up = c.status();
    expect(up.running).toBe(true);
    expect(up.message).toBeUndefined();
    expect(up.samplesAppended).toBeGreaterThan(appendedWhileDown);
    const memory = (await readBack(backend, 'g2-outage')).filter(
      (x) => x.value.name === 'memory_working_set_bytes' && x.value.ts >= back - 1000,
    );
    expect(memory.length).toBeGreaterThan(0);
    expect(memory.at(-1)).toMatchObject({
      key: 'g2-outage/shop/api-0',
      value: { cluster: 'g2-outage', labels: API, value: 268435456 },
    });
    await c.close();
    expect(c.status().running).toBe(false);
  });
});
