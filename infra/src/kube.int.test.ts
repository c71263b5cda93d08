/**
 * The Kubernetes test stack (etcd + kube-apiserver + kwok) and Prometheus, for real: objects created
 * through `@kubernetes/client-node`, pods driven by the kwok stages of `infra/kube/stages/`, pod logs
 * through the API, PromQL over an exporter fixture. Needs `npm run infra:fetch`.
 */
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporterFixture, type ExporterFixture } from './exporter-fixture.ts';
import { locateKube, SIM_ANNOTATIONS, SIM_MODE_LABEL, startKube, type KubeHandle } from './kube.ts';
import { locatePrometheus, startPrometheus, type PrometheusHandle } from './prometheus.ts';
import { killStaleProcesses, waitUntil } from './supervisor.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = 'kwok-node-0';
const LOGS_NS = 'hetu-logs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `read` until `done(value)` holds, with a deadline; returns the value that satisfied it. */
async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 60_000,
) {
  let last: T | undefined;
  await waitUntil(
    what,
    async () => {
      last = await read();
      return done(last);
    },
    { timeoutMs, intervalMs: 200 },
  );
  return last as T;
}

function pod(
  name: string,
  namespace: string,
  opts: {
    mode?: string;
    annotations?: Record<string, string>;
    restartPolicy?: string;
    containers?: string[];
    initContainers?: string[];
  } = {},
): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: name, ...(opts.mode ? { [SIM_MODE_LABEL]: opts.mode } : {}) },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      nodeName: NODE,
      ...(opts.restartPolicy ? { restartPolicy: opts.restartPolicy } : {}),
      containers: (opts.containers ?? ['app']).map((c) => ({ name: c, image: `registry.example/${c}:1.0` })),
      ...(opts.initContainers
        ? {
            initContainers: opts.initContainers.map((c) => ({ name: c, image: `registry.example/${c}:1.0` })),
          }
        : {}),
    },
  };
}

describe('Kubernetes API server + kwok', () => {
  let kube: KubeHandle;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let kc: k8s.KubeConfig;
  let logsDir: string;
  const ns = 'hetu-kube-it';

  beforeAll(async () => {
    const layout = locateKube(ROOT); // without `npm run infra:fetch`: one sentence saying to run it
    killStaleProcesses(layout.pidDir);
    logsDir = mkdtempSync(join(tmpdir(), 'hetu-kube-it-logs-'));
    writeFileSync(
      join(logsDir, 'ns.log'),
      '2026-11-26T10:00:00.000000001Z stdout F from the hetu-logs namespace\n',
    );
    writeFileSync(join(logsDir, 'special.log'), '2026-11-26T10:00:00.000000001Z stdout F only pod special\n');
    kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
      logs: [
        { namespace: LOGS_NS, pod: 'special', containers: ['app'], file: join(logsDir, 'special.log') },
        { namespace: LOGS_NS, file: join(logsDir, 'ns.log') },
      ],
    });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespace({ body: { metadata: { name: LOGS_NS } } });
  }, 300_000);

  afterAll(async () => {
    await kube?.stop();
    if (logsDir) rmSync(logsDir, { recursive: true, force: true });
  }, 60_000);

  it('serves the API to @kubernetes/client-node: version, the kwok node Ready, a Namespace and a Deployment', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(`v${locateKube(ROOT).kubeVersion}`);
    const node = await core.readNode({ name: NODE });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });

    const ns2 = await core.readNamespace({ name: ns });
    expect(ns2.status?.phase).toBe('Active');
    const dep = await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: { containers: [{ name: 'api', image: 'registry.example/api:1.0' }] },
          },
        },
      },
    });
    expect(dep.metadata?.uid).toBeTruthy();
    const list = await apps.listNamespacedDeployment({ namespace: ns });
    expect(list.items.map((d) => [d.metadata?.name, d.spec?.replicas])).toEqual([['api', 2]]);
  });

  it('drives an ordinary pod to Running and ready', async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod('web', ns, { initContainers: ['migrate'] }) });
    const p = await eventually(
      'pod web Running',
      () => core.readNamespacedPod({ name: 'web', namespace: ns }),
      (p) => p.status?.phase === 'Running',
    );
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const cs = p.status?.containerStatuses ?? [];
    expect(cs.map((c) => [c.name, c.ready, c.restartCount, c.state?.running !== undefined])).toEqual([
      ['app', true, 0, true],
    ]);
    const init = p.status?.initContainerStatuses ?? [];
    expect(init.map((c) => [c.name, c.state?.terminated?.reason, c.state?.terminated?.exitCode])).toEqual([
      ['migrate', 'Completed', 0],
    ]);
    expect(p.status?.podIP).toMatch(/^10\.244\./);
    expect(p.status?.hostIP).toBe('127.0.0.1');
  });

  it('drives a crash-looping pod: CrashLoopBackOff, exit code 1, restarts rising', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('crash', ns, { mode: 'crashloop', annotations: { [SIM_ANNOTATIONS.restartEvery]: '1s' } }),
    });
    const p = await eventually(
      'pod crash restarted three times',
      () => core.readNamespacedPod({ name: 'crash', namespace: ns }),
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3,
    );
    const c = p.status?.containerStatuses?.[0];
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False');
    expect(c?.ready).toBe(false);
    expect(c?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(c?.lastState?.terminated?.exitCode).toBe(1);
    expect(c?.lastState?.terminated?.reason).toBe('Error');
    const events = await eventually(
      'BackOff events of pod crash',
      () => core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=crash' }),
      (l) => l.items.some((e) => e.reason === 'BackOff'),
    );
    expect(events.items.find((e) => e.reason === 'BackOff')?.type).toBe('Warning');
  });

  it('drives OOMKilled: exit code 137 in CrashLoopBackOff, and Failed under restartPolicy Never', async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod('oom', ns, { mode: 'oomkilled' }) });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('oom-once', ns, { mode: 'oomkilled', restartPolicy: 'Never' }),
    });
    const looping = await eventually(
      'pod oom in CrashLoopBackOff',
      () => core.readNamespacedPod({ name: 'oom', namespace: ns }),
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const lc = looping.status?.containerStatuses?.[0];
    expect(lc?.lastState?.terminated?.exitCode).toBe(137);
    expect(lc?.lastState?.terminated?.reason).toBe('OOMKilled');
    expect(lc?.restartCount).toBeGreaterThanOrEqual(1);

    const once = await eventually(
      'pod oom-once Failed',
      () => core.readNamespacedPod({ name: 'oom-once', namespace: ns }),
      (p) => p.status?.phase === 'Failed',
    );
    const oc = once.status?.containerStatuses?.[0];
    expect([oc?.state?.terminated?.reason, oc?.state?.terminated?.exitCode, oc?.restartCount]).toEqual([
      'OOMKilled',
      137,
      0,
    ]);
  });

  it('drives image-pull failures: ErrImagePull, then ImagePullBackOff, with their events', async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod('pull', ns, { mode: 'imagepull' }) });
    const p = await eventually(
      'pod pull in ImagePullBackOff',
      () => core.readNamespacedPod({ name: 'pull', namespace: ns }),
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe(
      'Back-off pulling image "registry.example/app:1.0"',
    );
    const events = await eventually(
      'events of pod pull',
      () => core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=pull' }),
      (l) => ['Failed', 'BackOff'].every((r) => l.items.some((e) => e.reason === r)),
    );
    expect(events.items.find((e) => e.reason === 'Failed')?.message).toBe('Error: ErrImagePull');
  });

  it('fails only the annotated container of a two-container pod', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('sidecar', ns, {
        mode: 'crashloop',
        containers: ['app', 'proxy'],
        annotations: { [SIM_ANNOTATIONS.container]: 'proxy', [SIM_ANNOTATIONS.exitCode]: '2' },
      }),
    });
    const p = await eventually(
      'pod sidecar Running',
      () => core.readNamespacedPod({ name: 'sidecar', namespace: ns }),
      (p) => p.status?.phase === 'Running',
    );
    const byName = Object.fromEntries((p.status?.containerStatuses ?? []).map((c) => [c.name, c]));
    expect(byName['app']?.ready).toBe(true);
    expect(byName['app']?.state?.running).toBeDefined();
    expect(byName['proxy']?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(byName['proxy']?.lastState?.terminated?.exitCode).toBe(2);
  });

  it('deletes pods at once (no kubelet to confirm)', async () => {
    await core.deleteNamespacedPod({ name: 'web', namespace: ns });
    const names = await eventually(
      'pod web gone',
      async () => (await core.listNamespacedPod({ namespace: ns })).items.map((p) => p.metadata?.name),
      (n) => !n.includes('web'),
    );
    expect(names).not.toContain('web');
  });

  it('serves pod logs through the API from kwok log files, current, previous and followed', async () => {
    writeFileSync(
      kube.logFile,
      [
        '2026-11-26T10:00:00.000000001Z stdout F {"level":"info","msg":"started"}',
        '2026-11-26T10:00:01.000000001Z stderr F panic: runtime error: index out of range [3] with length 3',
        '2026-11-26T10:00:01.000000002Z stderr P partial line, ',
        '2026-11-26T10:00:01.000000003Z stderr F continued',
        '',
      ].join('\n'),
    );
    writeFileSync(kube.previousLogFile, '2026-11-26T09:59:00.000000001Z stdout F the run before\n');
    await core.createNamespacedPod({ namespace: ns, body: pod('logger', ns) });
    await core.createNamespacedPod({ namespace: LOGS_NS, body: pod('other', LOGS_NS) });
    await core.createNamespacedPod({ namespace: LOGS_NS, body: pod('special', LOGS_NS) });
    await eventually(
      'pods logger and other Running',
      async () => [
        await core.readNamespacedPod({ name: 'logger', namespace: ns }),
        await core.readNamespacedPod({ name: 'other', namespace: LOGS_NS }),
        await core.readNamespacedPod({ name: 'special', namespace: LOGS_NS }),
      ],
      (ps) => ps.every((p) => p.status?.phase === 'Running'),
    );

    const text = await core.readNamespacedPodLog({ name: 'logger', namespace: ns, container: 'app' });
    expect(text).toBe(
      '{"level":"info","msg":"started"}\npanic: runtime error: index out of range [3] with length 3\npartial line, continued\n',
    );
    const previous = await core.readNamespacedPodLog({ name: 'logger', namespace: ns, previous: true });
    expect(previous).toBe('the run before\n');
    const tail = await core.readNamespacedPodLog({
      name: 'logger',
      namespace: ns,
      tailLines: 1,
      timestamps: true,
    });
    // kubelet's log reader counts the file's lines: the last one holds only the end of the partial line
    expect(tail).toBe('2026-11-26T10:00:01.000000003Z continued\n');
    const other = await core.readNamespacedPodLog({ name: 'other', namespace: LOGS_NS });
    expect(other).toBe('from the hetu-logs namespace\n');
    const special = await core.readNamespacedPodLog({
      name: 'special',
      namespace: LOGS_NS,
      container: 'app',
    });
    expect(special).toBe('only pod special\n');

    // follow: a line appended to the file arrives on the open stream. (Plain HTTPS here: client-node
    // 2.0.1's Log pipes the response without an error listener, so aborting it throws an unhandled AbortError.)
    let got = '';
    const req = httpsRequest(
      new URL(`/api/v1/namespaces/${LOGS_NS}/pods/other/log?container=app&follow=true`, kube.server),
      { ca: kube.ca, headers: { authorization: `Bearer ${kube.token}` } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (got += chunk));
        res.on('error', () => {}); // the destroy below
      },
    );
    req.on('error', () => {}); // the destroy below
    req.end();
    try {
      await eventually(
        'the followed log starts',
        async () => got,
        (g) => g.includes('from the hetu-logs namespace'),
      );
      appendFileSync(
        join(logsDir, 'ns.log'),
        '2026-11-26T10:00:05.000000001Z stdout F appended while following\n',
      );
      await eventually(
        'the appended line',
        async () => got,
        (g) => g.includes('appended while following'),
      );
    } finally {
      req.destroy();
    }
    expect(got).toBe('from the hetu-logs namespace\nappended while following\n');
  });

  it('stops etcd, the API server and kwok and removes the run dir', async () => {
    const pids = Object.values(kube.pids);
    expect(pids.every(alive)).toBe(true);
    await kube.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(kube.runDir)).toBe(false);
  });
});

describe('Prometheus scraping the exporter fixture', () => {
  let fixture: ExporterFixture;
  let prom: PrometheusHandle;

  beforeAll(async () => {
    const { command } = locatePrometheus(); // without `npm run infra:fetch`: one sentence saying to run it
    const pidDir = join(ROOT, '.cache/infra/pids');
    fixture = await startExporterFixture();
    prom = await startPrometheus({ targets: [fixture.target], pidDir, command });
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await fixture?.stop();
  }, 30_000);

  const value = async (q: string): Promise<string[]> => (await prom.query(q)).map((s) => s.value[1]);

  it('has scraped the fixture', async () => {
    expect(fixture.scrapes()).toBeGreaterThanOrEqual(1);
    const up = await prom.query(`up{job="${prom.job}"}`);
    expect(up.map((s) => [s.metric['instance'], s.value[1]])).toEqual([[fixture.target, '1']]);
  });

  it('answers instant queries over the vocabulary series with the exact values', async () => {
    expect(
      await value('container_memory_working_set_bytes{namespace="shop",pod="api-0",container="api"}'),
    ).toEqual(['268435456']);
    expect(await value('container_cpu_usage_seconds_total{container="api"}')).toEqual(['1234.5']);
    expect(
      await value(
        'container_cpu_cfs_throttled_periods_total{container="api"} / container_cpu_cfs_periods_total{container="api"}',
      ),
    ).toEqual(['0.25']);
    expect(
      await value(
        'sum(http_requests_total{namespace="shop",service="api",code=~"5.."}) / sum(http_requests_total{namespace="shop",service="api"})',
      ),
    ).toEqual(['0.05']);
    expect(
      await value(
        'histogram_quantile(0.95, sum by (le) (http_request_duration_seconds_bucket{service="api"}))',
      ),
    ).toEqual(['0.40625']);
    expect(
      await value(
        '1 - node_memory_MemAvailable_bytes{node="kwok-node-0"} / node_memory_MemTotal_bytes{node="kwok-node-0"}',
      ),
    ).toEqual(['0.75']);
    expect(
      await value(
        'kubelet_volume_stats_used_bytes{persistentvolumeclaim="data-db-0"} / kubelet_volume_stats_capacity_bytes{persistentvolumeclaim="data-db-0"}',
      ),
    ).toEqual(['0.8']);
    expect(
      await value('sum(coredns_dns_responses_total{rcode="NXDOMAIN"}) / sum(coredns_dns_responses_total)'),
    ).toEqual(['0.1']);
    expect(
      await value(
        'sum(coredns_cache_hits_total) / (sum(coredns_cache_hits_total) + sum(coredns_cache_misses_total))',
      ),
    ).toEqual(['0.4']);
    expect(
      await value('go_gc_duration_seconds_sum{pod="api-0"} / go_gc_duration_seconds_count{pod="api-0"}'),
    ).toEqual(['0.0005']);
  });

  it('sees a value the fixture changes on a later scrape', async () => {
    fixture.set(
      'container_memory_working_set_bytes',
      { namespace: 'shop', pod: 'api-0', container: 'api' },
      536870912,
    );
    const v = await eventually(
      'the new working set in Prometheus',
      () => value('container_memory_working_set_bytes{container="api"}'),
      (v) => v[0] === '536870912',
      30_000,
    );
    expect(v).toEqual(['536870912']);
  });

  it('stops Prometheus', async () => {
    await prom.stop();
    expect(alive(prom.pid)).toBe(false);
    expect(existsSync(prom.runDir)).toBe(false);
  });
});
