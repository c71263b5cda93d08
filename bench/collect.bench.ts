// The three collectors on a cluster of HETU_BENCH_PODS pods (default 10 000), each as its own
// process the way users run them (issue G, "bench: 10 000 pods, memory of each collector"; issue I,
// "peak memory per role for a 10 000-pod cluster, target collector ≤ 256 Mi"):
//
//   hetu run collect-kube     against the real API server + kwok (`npm run infra:fetch`), the pods
//                             created through the API and Running;
//   hetu run collect-logs     the same cluster; every pod's container logs HETU_BENCH_LOG_LINES
//                             lines (default 10), served by kwok from one CRI file;
//   hetu run collect-metrics  a real Prometheus scraping an exporter fixture that serves SPEC §1's
//                             source series for every pod (bench/pod-metrics.ts), for
//                             HETU_BENCH_METRIC_CYCLES cycles of 30 s (default 3).
//
// `hetu run` writes to Kafka (it refuses the embedded log): KAFKA_BROKERS / SCHEMA_REGISTRY_URL
// when set, else the broker and Apicurio from .cache/infra are started. Every topic is under a
// fresh prefix; the raw topics keep their records 10 minutes. The bench reads the topics to see
// when each collector has done its first complete pass, and samples each child's VmRSS from
// /proc/<pid>/status every 100 ms, VmHWM (the kernel's peak RSS of the process) at the end. The children's V8 is sized as in a
// 256 Mi pod (CONTAINER_V8) unless HETU_BENCH_ROLE_NODE_OPTIONS says otherwise (empty: V8's own
// sizing for this machine); HETU_BENCH_COLLECTORS picks some (kube,logs,metrics — the default —
// and start: the chart's all-in-one `hetu start` on the embedded log with all three collectors on
// the same cluster, its V8 as in a 1536 Mi pod unless HETU_BENCH_START_NODE_OPTIONS says otherwise;
// run it alone, as the collectors share one log file); HETU_BENCH_LOG_SHARDS=N runs collect-logs
// as N processes sharing the pods (--shard i/N), each measured;
// HETU_BENCH_HEAP_SNAPSHOTS=<dir> has each child write a heap snapshot there before it stops.
// kwok needs an inotify instance per followed log: fs.inotify.max_user_instances must exceed the
// pod count, or kwok answers most follows with "too many open files" (the bench counts those);
// and about 3 file descriptors per follow (at 20 000 open files it holds about 6 600).
// Figures only: nothing is asserted.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { createRegistryClient, createSerde, topicSpecs, type Serde } from '@hetu/schemas';
import { LOG_COLLECTOR_DEFAULTS } from '@hetu/producers/logs';
import { KafkaLog, prefixedLog, type LogRecord, type TopicSpec } from '@hetu/streams';
import {
  freePort,
  killStaleProcesses,
  locateKube,
  locatePrometheus,
  parseExposition,
  startExporterFixture,
  startKube,
  startPrometheus,
  type KubeHandle,
} from '../infra/src/index.ts';
import { startHetu, startRole, until, type RoleProcess } from './role-process.ts';
import { BENCH_NAMESPACE, expectedSamplesPerCycle, podMetricFamilies } from './pod-metrics.ts';
import { envInt, kafkaServices, loads, mib, secs } from './util.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_MIB = 256;
/**
 * The children's V8 flags by default: the heap Node sizes for itself in a container limited to
 * 256 MiB (the chart's collector pod) — a 256 MiB old generation, 2 MiB semi-spaces (see
 * test/faults/hostile-logs.int.test.ts and docs/reliability.md). Without them, on a 24 GiB
 * machine, V8 sizes its heap for 24 GiB and keeps garbage no 256 Mi pod would keep.
 */
const CONTAINER_V8 = '--max-old-space-size=256 --max-semi-space-size=2';
const CLUSTER = 'bench';
/** How long each collector runs on after its first complete pass, before SIGTERM. */
const SETTLE_MS = 10_000;
/** SIGKILL when a role has not exited this long after SIGTERM. */
const STOP_GRACE_MS = 60_000;

interface Watch {
  /**
   * When the records up to `offsets` (partition → offset) were first seen in the log: the time
   * (performance.now()) of the first answer of the high-water-mark poll, every 200 ms, that held
   * them. The subscription itself runs a little behind (a transaction per batch).
   */
  seenAt(offsets: ReadonlyMap<number, bigint>): number;
  stop(): Promise<void>;
}

/**
 * Reads `topic` (the full name, prefix included) from its start through a subscription of a
 * throw-away group, calling `onRecord` for each record in offset order per partition, and polls
 * the partitions' ends so that the time a record reached the log can be told afterwards.
 */
async function watchTopic(
  log: KafkaLog,
  topic: string,
  onRecord: (r: LogRecord) => Promise<void> | void,
): Promise<Watch> {
  const history: { at: number; highs: Map<number, bigint> }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const [info] = await log.describeTopics([topic]);
      history.push({
        at: performance.now(),
        highs: new Map(info?.partitions.map((p) => [p.partition, p.high])),
      });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const sub = await log.subscribe({
    group: `hetu-bench-watch-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    maxBatchRecords: 5000,
    handler: async (batch) => {
      for (const r of batch.records) await onRecord(r);
    },
  });
  return {
    seenAt(offsets) {
      const h = history.find((e) => [...offsets].every(([p, o]) => (e.highs.get(p) ?? 0n) > o));
      return h?.at ?? performance.now();
    },
    async stop() {
      polling = false;
      await poller;
      await sub.close();
    },
  };
}

/** The highest offset per partition of the records passed to `add`. */
class LastOffsets {
  readonly map = new Map<number, bigint>();
  add(r: LogRecord): void {
    const o = this.map.get(r.partition);
    if (o === undefined || r.offset > o) this.map.set(r.partition, r.offset);
  }
}

interface RoleFigures {
  /** Seconds from spawn to the first complete pass. */
  firstPassS: number;
  rssReadyMiB: number;
  peakSampledRssMiB: number;
  vmHwmMiB: number;
  rssEndMiB: number;
  samples: number;
  /** Seconds from SIGTERM to the exit. */
  stopS?: number;
}

/** Memory at the end (before SIGTERM), then stops the role. */
async function finish(
  role: RoleProcess,
  firstPassAt: number,
  print: (line: string) => void,
): Promise<RoleFigures> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const m = role.memory();
  const figures: RoleFigures = {
    firstPassS: secs(firstPassAt - role.startedAt),
    rssReadyMiB: mib(role.rssAtReady()),
    peakSampledRssMiB: mib(role.peakSampledRss()),
    vmHwmMiB: mib(m?.hwm ?? 0),
    rssEndMiB: mib(m?.rss ?? 0),
    samples: role.samples(),
  };
  if (m === null)
    throw new Error(`${role.role} ended before the end of the bench; its output:\n${role.output()}`);
  const snapshots = process.env.HETU_BENCH_HEAP_SNAPSHOTS;
  if (snapshots) {
    const file = await role.heapSnapshot(snapshots);
    print(`${role.role}: heap snapshot ${file ?? 'not written within 5 minutes'}`);
  }
  const t = performance.now();
  const exit = await role.stop(STOP_GRACE_MS);
  figures.stopS = secs(performance.now() - t);
  if (exit.code !== 0)
    print(
      `${role.role} did not stop cleanly: code ${exit.code}, signal ${exit.signal}, ${figures.stopS} s after SIGTERM (SIGKILL after ${STOP_GRACE_MS / 1000} s); its output:\n${role.output()}`,
    );
  return figures;
}

function memoryLine(name: string, f: RoleFigures): string {
  return `${name}: peak RSS (VmHWM) ${f.vmHwmMiB} MiB (VmRSS ${f.rssReadyMiB} MiB once started, highest 100 ms sample ${f.peakSampledRssMiB} MiB of ${f.samples}, ${f.rssEndMiB} MiB at the end) — ${f.vmHwmMiB <= TARGET_MIB ? 'within' : 'OVER'} the ${TARGET_MIB} MiB target`;
}

async function createPods(core: k8s.CoreV1Api, kube: KubeHandle, pods: number): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: BENCH_NAMESPACE } } });
  for (let i = 0; i < pods; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, pods - i) }, (_, j) =>
        core.createNamespacedPod({
          namespace: BENCH_NAMESPACE,
          body: {
            metadata: { name: `p-${i + j}`, labels: { app: `w-${(i + j) % 200}` } },
            spec: {
              nodeName: kube.nodes[0]!,
              containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
            },
          },
        }),
      ),
    );
}

async function runningPods(core: k8s.CoreV1Api): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const page = await core.listNamespacedPod({
      namespace: BENCH_NAMESPACE,
      fieldSelector: 'status.phase=Running',
      limit: 2000,
      ...(cont ? { _continue: cont } : {}),
    });
    n += page.items.length;
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return n;
}

/** A CRI log line as the kubelet writes it (nanosecond time). */
function criLine(ms: number, nano: number, text: string): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${String((ms % 1000) * 1_000_000 + nano).padStart(9, '0')}Z stdout F ${text}\n`;
}

/**
 * Appends `linesPerPod` lines, stamped now, to the CRI file kwok serves for every pod: each
 * container logs them. Returns when (performance.now()).
 */
function writeLines(ctx: { readonly kube: KubeHandle }, linesPerPod: number): number {
  const t = Date.now();
  const pad = 'x'.repeat(60);
  let text = '';
  for (let i = 0; i < linesPerPod; i++) text += criLine(t, i, `INFO bench line ${i} ${pad}`);
  appendFileSync(ctx.kube.logFile, text);
  return performance.now();
}

/** Follows the collector opens a second. */
const LOG_QPS = LOG_COLLECTOR_DEFAULTS.qps;
const STALL_MS = 60_000;

/** Open file descriptors of a process and its limit (Linux). */
function openFiles(pid: number): { open: number; limit: string } {
  try {
    const open = readdirSync(`/proc/${pid}/fd`).length;
    const limit = /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? '?';
    return { open, limit };
  } catch {
    return { open: -1, limit: '?' };
  }
}

interface Ctx {
  readonly print: (line: string) => void;
  readonly pods: number;
  readonly log: KafkaLog;
  readonly serde: Serde;
  readonly prefix: string;
  readonly env: NodeJS.ProcessEnv;
  readonly kube: KubeHandle;
}

async function benchKube(ctx: Ctx): Promise<Record<string, number>> {
  const { pods, print } = ctx;
  const podNames = new Set<string>();
  const begun = new Map<string, Set<number>>();
  const ended = new Map<string, Set<number>>();
  const last = new LastOffsets();
  let records = 0;
  let first: LogRecord | undefined;
  const watch = await watchTopic(ctx.log, `${ctx.prefix}hetu.raw.kube`, async (r) => {
    records++;
    first ??= r;
    last.add(r);
    const v = await ctx.serde.decode(r.value!, 'WatchObserved');
    if (v.type === 'SYNC_BEGIN' || v.type === 'SYNC_END') {
      const map = v.type === 'SYNC_BEGIN' ? begun : ended;
      const set = map.get(v.kind) ?? new Set<number>();
      set.add(r.partition);
      map.set(v.kind, set);
    } else if (v.kind === 'Pod' && v.namespace === BENCH_NAMESPACE && v.name !== null) podNames.add(v.name);
  });
  try {
    const role = startRole(
      ROOT,
      'collect-kube',
      ['--kubeconfig', ctx.kube.kubeconfig, '--cluster', CLUSTER],
      ctx.env,
    );
    const complete = (): boolean =>
      podNames.size >= pods &&
      (ended.get('Pod')?.size ?? 0) === 3 &&
      [...begun.keys()].every((k) => (ended.get(k)?.size ?? 0) === 3);
    await until('complete first list of every kind', complete, {
      timeoutMs: 20 * 60_000,
      role,
      state: () =>
        `${podNames.size} pods seen, ${records} records, kinds listed ${[...ended.keys()].join(',')}`,
    });
    const atPass = records;
    const doneAt = watch.seenAt(last.map);
    const firstAt = watch.seenAt(new Map([[first!.partition, first!.offset]]));
    const f = await finish(role, doneAt, print);
    const perS = Math.round(atPass / ((doneAt - firstAt) / 1000));
    print(
      `collect-kube: first list of every kind (${begun.size} kinds) in the log ${f.firstPassS} s after the spawn (first record after ${secs(firstAt - role.startedAt)} s): ${atPass} observations, ${perS}/s; ${podNames.size} pods`,
    );
    print(memoryLine('collect-kube', f));
    return {
      kubeFirstPassS: f.firstPassS,
      kubeObservations: atPass,
      kubeObservationsPerS: perS,
      kubeStopS: f.stopS ?? -1,
      kubeRssReadyMiB: f.rssReadyMiB,
      kubeVmHwmMiB: f.vmHwmMiB,
      kubePeakSampledRssMiB: f.peakSampledRssMiB,
      kubeRssEndMiB: f.rssEndMiB,
    };
  } finally {
    await watch.stop();
  }
}

async function benchLogs(ctx: Ctx, linesPerPod: number): Promise<Record<string, number>> {
  const { pods, print } = ctx;
  let gaps = 0;
  let lines = 0;
  const perSource = new Map<string, number>();
  let complete = 0;
  /** Lines without a kubelet timestamp: here only kwok's own errors (e.g. no inotify instance left). */
  const untimed = new Map<string, number>();
  const lastGap = new LastOffsets();
  const lastComplete = new LastOffsets();
  const watch = await watchTopic(ctx.log, `${ctx.prefix}hetu.raw.logs`, async (r) => {
    const source = r.headers['hetu-log-source'];
    if (source === undefined) {
      const v = await ctx.serde.decode(r.value!, 'LogLineObserved');
      if (v.gap) {
        gaps++;
        lastGap.add(r);
      } else untimed.set(v.line, (untimed.get(v.line) ?? 0) + 1);
      return;
    }
    lines++;
    const s = source.toString();
    const n = (perSource.get(s) ?? 0) + 1;
    perSource.set(s, n);
    if (n === linesPerPod) {
      complete++;
      lastComplete.add(r);
    }
  });
  try {
    // One collect-logs process, or HETU_BENCH_LOG_SHARDS of them, each with --shard i/N.
    const shards = envInt('HETU_BENCH_LOG_SHARDS', 1, 1);
    const roles = Array.from({ length: shards }, (_, i) =>
      startRole(
        ROOT,
        'collect-logs',
        [
          '--kubeconfig',
          ctx.kube.kubeconfig,
          '--cluster',
          CLUSTER,
          ...(shards > 1 ? ['--shard', `${i}/${shards}`] : []),
        ],
        ctx.env,
      ),
    );
    const role = roles[0]!;
    // Every container found (a gap record each: it was running before the collector started,
    // written when the pod list names it) and every follow opened (LOG_QPS a second per
    // process), so that the lines below come as one burst to open streams...
    const opened = (pods / shards / LOG_QPS) * 1000 + 5000;
    await until(
      'a gap record for every container',
      () => gaps >= pods && performance.now() - role.startedAt >= opened,
      {
        timeoutMs: 10 * 60_000,
        role,
        state: () => `${gaps} gap records`,
      },
    );
    const foundAt = watch.seenAt(lastGap.map);
    // ...then every container logs its lines (one CRI file that kwok serves for every pod).
    const writtenAt = writeLines(ctx, linesPerPod);
    // Every container's lines, or no progress for STALL_MS once every follow had its turn (the
    // collector opens LOG_QPS follows a second): kwok, one process serving every pod's log with
    // about 3 file descriptors per follow, may run out of them (it says how many it holds below).
    let progress = { complete: 0, at: performance.now() };
    const stalled = (): boolean => {
      const t = performance.now();
      if (complete !== progress.complete) progress = { complete, at: t };
      return t - writtenAt > (pods / LOG_QPS) * 1000 + STALL_MS && t - progress.at > STALL_MS;
    };
    await until(`${linesPerPod} lines of every container`, () => complete >= pods || stalled(), {
      timeoutMs: 30 * 60_000,
      role,
      state: () => `${lines} lines, ${complete} containers complete, ${gaps} gaps`,
    });
    const doneAt = complete > 0 ? watch.seenAt(lastComplete.map) : performance.now();
    const kwokFds = openFiles(ctx.kube.pids.kwok);
    for (const r of roles.slice(1))
      if (r.exited()) throw new Error(`a collect-logs shard exited early; its output:\n${r.output()}`);
    const all = await Promise.all(roles.map((r) => finish(r, doneAt, print)));
    // the figures of the shard with the highest peak
    const f = all.reduce((a, b) => (b.vmHwmMiB > a.vmHwmMiB ? b : a));
    const perS = Math.round((complete * linesPerPod) / ((doneAt - writtenAt) / 1000));
    print(
      `collect-logs: ${pods} containers found (a gap record each) ${secs(foundAt - role.startedAt)} s after the spawn; ${linesPerPod} lines each written then; ${complete === pods ? 'all' : `only ${complete} of the`} ${pods} containers' lines in the log ${secs(doneAt - writtenAt)} s later (${perS} lines/s; ${complete === pods ? 'first complete pass' : 'last progress'} ${f.firstPassS} s after the spawn); ${lines} lines and ${gaps} gap records in all; kwok held ${kwokFds.open} file descriptors (limit ${kwokFds.limit})`,
    );
    for (const [line, n] of untimed) print(`  ${n} lines without a timestamp (kwok's own answer): ${line}`);
    if (shards === 1) print(memoryLine('collect-logs', f));
    else for (const [i, g] of all.entries()) print(memoryLine(`collect-logs --shard ${i}/${shards}`, g));
    return {
      ...(shards > 1 ? Object.fromEntries(all.map((g, i) => [`logsShard${i}VmHwmMiB`, g.vmHwmMiB])) : {}),
      logsFoundS: secs(foundAt - role.startedAt),
      logsFirstPassS: f.firstPassS,
      logsContainersComplete: complete,
      logsLines: lines,
      logsUntimedLines: [...untimed.values()].reduce((a, b) => a + b, 0),
      logsLinesPerS: perS,
      logsStopS: f.stopS ?? -1,
      logsRssReadyMiB: f.rssReadyMiB,
      logsVmHwmMiB: f.vmHwmMiB,
      logsPeakSampledRssMiB: f.peakSampledRssMiB,
      logsRssEndMiB: f.rssEndMiB,
    };
  } finally {
    await watch.stop();
  }
}

/** A real Prometheus scraping the exporter fixture's series of `pods` pods every 15 s. */
async function startMetricSource(pods: number) {
  const prom = locatePrometheus();
  const pidDir = locateKube(ROOT).pidDir;
  const t0 = performance.now();
  const fixture = await startExporterFixture(podMetricFamilies(pods, 0));
  const counters = setInterval(
    () => fixture.setFamilies(podMetricFamilies(pods, Math.round((performance.now() - t0) / 1000))),
    5000,
  );
  const prometheus = await startPrometheus({
    targets: [fixture.target],
    pidDir,
    command: prom.command,
    scrapeIntervalMs: 15_000,
    readyTimeoutMs: 180_000,
  }).catch(async (err: unknown) => {
    clearInterval(counters);
    await fixture.stop();
    throw err;
  });
  return {
    prom,
    fixture,
    prometheus,
    async stop(): Promise<void> {
      clearInterval(counters);
      await prometheus.stop();
      await fixture.stop();
    },
  };
}

async function benchMetrics(ctx: Ctx, cycles: number): Promise<Record<string, number>> {
  const { pods, print } = ctx;
  const expected = expectedSamplesPerCycle(pods);
  const source = await startMetricSource(pods);
  const { prom, fixture, prometheus } = source;
  const bytes = fixture.render().length;
  const counts = new Map<number, number>();
  const lastOf = new Map<number, LastOffsets>();
  const complete: number[] = [];
  const watch = await watchTopic(ctx.log, `${ctx.prefix}hetu.raw.metrics`, (r) => {
    const n = (counts.get(r.timestamp) ?? 0) + 1;
    counts.set(r.timestamp, n);
    const last = lastOf.get(r.timestamp) ?? new LastOffsets();
    last.add(r);
    lastOf.set(r.timestamp, last);
    if (n === expected) complete.push(r.timestamp);
  });
  try {
    print(
      `Prometheus (${prom.version}) scraping ${Math.round(bytes / 1024)} KiB of series every 15 s; waiting for 3 scrapes`,
    );
    await until('3 scrapes of the fixture', () => fixture.scrapes() >= 3, { timeoutMs: 180_000 });
    const role = startRole(
      ROOT,
      'collect-metrics',
      ['--prometheus', prometheus.url, '--cluster', CLUSTER],
      ctx.env,
    );
    await until(`${cycles} complete cycles of ${expected} samples`, () => complete.length >= cycles, {
      timeoutMs: (cycles + 4) * 30_000 + 120_000,
      role,
      state: () =>
        `samples per evaluation time: ${
          [...counts.entries()].map(([ts, n]) => `${new Date(ts).toISOString()} ${n}`).join(', ') || 'none'
        }`,
    });
    const done = complete
      .slice(0, cycles)
      .sort((a, b) => a - b)
      .map((ts) => ({ ts, at: watch.seenAt(lastOf.get(ts)!.map) }));
    const f = await finish(role, done[0]!.at, print);
    // a cycle's latency: from its evaluation time (the 30 s tick, by the wall clock) to its last
    // sample in the log
    const latencies = done.map(({ ts, at }) => (performance.timeOrigin + at - ts) / 1000);
    const worst = Math.max(...latencies);
    const perS = Math.round(expected / worst);
    const partial = [...counts.entries()].filter(([, n]) => n !== expected).map(([, n]) => n);
    print(
      `collect-metrics: ${expected} samples per cycle (${pods} pods); first complete cycle in the log ${f.firstPassS} s after the spawn (the first 30 s tick comes up to 30 s after it); cycles in the log ${latencies.map((l) => `${l.toFixed(1)} s`).join(', ')} after their tick (${perS} samples/s at the slowest); incomplete cycles: ${partial.join(', ') || 'none'}`,
    );
    print(memoryLine('collect-metrics', f));
    return {
      metricsSamplesPerCycle: expected,
      metricsFirstPassS: f.firstPassS,
      metricsCycles: done.length,
      metricsWorstCycleS: Math.round(worst * 10) / 10,
      metricsSamplesPerS: perS,
      metricsStopS: f.stopS ?? -1,
      metricsRssReadyMiB: f.rssReadyMiB,
      metricsVmHwmMiB: f.vmHwmMiB,
      metricsPeakSampledRssMiB: f.peakSampledRssMiB,
      metricsRssEndMiB: f.rssEndMiB,
    };
  } finally {
    await watch.stop();
    await source.stop();
  }
}

/**
 * V8 of `hetu start` by default: as Node sizes it in the chart's all-in-one pod (1536 Mi): half the
 * limit for the old generation and 16 MiB semi-spaces, the rule measured under 1 GiB (560 MiB of
 * heap) and 2 GiB (1 120 MiB) — see bench/roles.bench.ts.
 */
const ALL_IN_ONE_V8 = '--max-old-space-size=768 --max-semi-space-size=16';
/** The chart's all-in-one limit (infra/helm/hetu/values.yaml, resources.allInOne). */
const ALL_IN_ONE_MIB = 1536;

/**
 * The chart's default deployment (`mode: allInOne`): `hetu start` — every collector, every stage,
 * the projections and the API in one process, on the embedded log — watching the same cluster,
 * its logs (the lines written once every container was found, as for collect-logs) and
 * Prometheus. Read from its own /metrics every 2 s: the records each stage took in per raw topic
 * and the lag of the stages and the projections. Done after `cycles` metric cycles went through
 * the stages and 60 s more (HETU_BENCH_START_SETTLE_S); VmHWM against the chart's all-in-one limit.
 */
async function benchStart(ctx: Ctx, linesPerPod: number, cycles: number): Promise<Record<string, number>> {
  const { pods, print } = ctx;
  const expected = expectedSamplesPerCycle(pods);
  const source = await startMetricSource(pods);
  const dataDir = mkdtempSync(join(tmpdir(), 'hetu-bench-start-'));
  try {
    await until('3 scrapes of the fixture', () => source.fixture.scrapes() >= 3, { timeoutMs: 180_000 });
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...ctx.env, HETU_DATA_DIR: dataDir };
    // the embedded log, as the chart's all-in-one default (no kafka.brokers)
    delete env.HETU_KAFKA_BROKERS;
    delete env.HETU_SCHEMA_REGISTRY_URL;
    delete env.HETU_TOPIC_PREFIX;
    env.NODE_OPTIONS = [
      process.env.HETU_BENCH_START_NODE_OPTIONS ?? ALL_IN_ONE_V8,
      process.env.HETU_BENCH_HEAP_SNAPSHOTS
        ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${process.env.HETU_BENCH_HEAP_SNAPSHOTS}`
        : '',
    ]
      .join(' ')
      .trim();
    print(`hetu start: NODE_OPTIONS ${env.NODE_OPTIONS || '(none)'}, data directory ${dataDir}`);
    const role = startHetu(
      ROOT,
      'hetu start',
      [
        'start',
        '--no-demo',
        '--kubeconfig',
        ctx.kube.kubeconfig,
        '--cluster',
        CLUSTER,
        '--prometheus',
        source.prometheus.url,
        '--port',
        String(port),
      ],
      env,
    );
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    /** Records the stages took in per raw topic (the most any one stage took), and the lag. */
    let seen = { kube: 0, logs: 0, metrics: 0, stageLag: 0, projectionLag: 0, at: 0 };
    let scrapeError = '';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const res = await fetch(metricsUrl);
          const samples = parseExposition(await res.text());
          const of = (name: string) => samples.filter((x) => x.name === name);
          const most = (topic: string) =>
            Math.max(
              0,
              ...of('hetu_processor_records_in_total')
                .filter((x) => x.labels.topic === topic)
                .map((x) => x.value),
            );
          const sum = (name: string) => of(name).reduce((a, x) => a + x.value, 0);
          seen = {
            kube: most('hetu.raw.kube'),
            logs: most('hetu.raw.logs'),
            metrics: most('hetu.raw.metrics'),
            stageLag: sum('hetu_consumer_lag_records'),
            projectionLag: sum('hetu_projection_lag_records'),
            at: performance.now(),
          };
          scrapeError = '';
        } catch (err) {
          scrapeError = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const state = () =>
      `stages took in ${seen.kube} kube, ${seen.logs} log, ${seen.metrics} metric records; lag: stages ${seen.stageLag}, projections ${seen.projectionLag}${scrapeError ? `; /metrics: ${scrapeError}` : ''}`;
    const progress = setInterval(() => {
      const mem = role.memory();
      print(
        `  hetu start ${secs(performance.now() - role.startedAt)} s: VmRSS ${mib(mem?.rss ?? 0)} MiB, VmHWM ${mib(mem?.hwm ?? 0)} MiB; ${state()}`,
      );
    }, 30_000);
    try {
      const opts = { timeoutMs: 20 * 60_000, role, state };
      await until('the pods through the kube stage', () => seen.kube >= pods, opts);
      const kubeAt = performance.now();
      // a gap record per container (each was running before hetu started), and the time the
      // collector takes to open every follow (LOG_QPS a second)
      await until(
        'a log record of every container',
        () => seen.logs >= pods && performance.now() - role.startedAt >= (pods / LOG_QPS) * 1000,
        opts,
      );
      const foundAt = performance.now();
      const writtenAt = writeLines(ctx, linesPerPod);
      let last = { logs: seen.logs, at: writtenAt };
      await until(
        `${linesPerPod} lines of every container through the errors stage`,
        () => {
          if (seen.logs !== last.logs) last = { logs: seen.logs, at: performance.now() };
          // as for collect-logs: kwok serves about 6 600 follows here (its file descriptors)
          return seen.logs >= pods * (1 + linesPerPod) || performance.now() - last.at > STALL_MS;
        },
        opts,
      );
      const linesIn = seen.logs;
      await until(
        `${cycles} metric cycles through the stages`,
        () => seen.metrics >= cycles * expected,
        opts,
      );
      const metricsAt = performance.now();
      // then 60 s more, or HETU_BENCH_START_SETTLE_S (a longer run: the anomalies' windows fill
      // over 30 min of samples)
      const settleS = envInt('HETU_BENCH_START_SETTLE_S', 60, 0);
      await new Promise((r) => setTimeout(r, settleS * 1000));
      const end = seen;
      const mem = role.memory();
      if (mem === null)
        throw new Error(`hetu start ended before the end of the bench; its output:\n${role.output()}`);
      const snapshots = process.env.HETU_BENCH_HEAP_SNAPSHOTS;
      if (snapshots)
        print(
          `hetu start: heap snapshot ${(await role.heapSnapshot(snapshots)) ?? 'not written within 5 minutes'}`,
        );
      const t0 = performance.now();
      const exit = await role.stop(STOP_GRACE_MS);
      const stopS = secs(performance.now() - t0);
      if (exit.code !== 0)
        print(
          `hetu start did not stop cleanly: code ${exit.code}, signal ${exit.signal}, ${stopS} s after SIGTERM; its output:\n${role.output()}`,
        );
      const since = (at: number) => secs(at - role.startedAt);
      print(
        `hetu start (embedded log, every collector, stage, projection and the API): the ${pods} pods through the kube stage ${since(kubeAt)} s after the spawn; every container's first log record ${since(foundAt)} s; ${linesIn} log records through the errors stage ${secs(last.at - writtenAt)} s after the lines were written (of ${pods * (1 + linesPerPod)} if every container delivered); ${cycles} metric cycles (${expected} samples each) ${since(metricsAt)} s; ${settleS} s later: lag of the stages ${end.stageLag} records, of the projections ${end.projectionLag}; stopped in ${stopS} s (exit ${exit.code})`,
      );
      print(
        `hetu start: peak RSS (VmHWM) ${mib(mem.hwm)} MiB (VmRSS ${mib(role.rssAtReady())} MiB once up, highest 100 ms sample ${mib(role.peakSampledRss())} MiB, ${mib(mem.rss)} MiB at the end) — ${mib(mem.hwm) <= ALL_IN_ONE_MIB ? 'within' : 'OVER'} the chart's all-in-one limit of ${ALL_IN_ONE_MIB} MiB`,
      );
      return {
        startKubeS: since(kubeAt),
        startLogsFoundS: since(foundAt),
        startLogRecords: linesIn,
        startMetricsS: since(metricsAt),
        startStageLag: end.stageLag,
        startProjectionLag: end.projectionLag,
        startStopS: stopS,
        startRssReadyMiB: mib(role.rssAtReady()),
        startVmHwmMiB: mib(mem.hwm),
        startPeakSampledRssMiB: mib(role.peakSampledRss()),
        startRssEndMiB: mib(mem.rss),
      };
    } finally {
      clearInterval(progress);
      polling = false;
      await poller;
      await role.stop(STOP_GRACE_MS);
    }
  } finally {
    await source.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The raw topics keep the bench's records 10 minutes (a shared broker is not filled up). */
function benchTopicSpecs(): TopicSpec[] {
  return topicSpecs().map((s) =>
    s.name.startsWith('hetu.raw.') ? { ...s, retentionMs: 600_000, segmentMs: 60_000 } : s,
  );
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const pods = Number(process.env.HETU_BENCH_PODS ?? 10_000);
  const linesPerPod = Number(process.env.HETU_BENCH_LOG_LINES ?? 10);
  const cycles = Number(process.env.HETU_BENCH_METRIC_CYCLES ?? 3);
  const only = (process.env.HETU_BENCH_COLLECTORS ?? 'kube,logs,metrics').split(',');
  print(`load average before: ${loads()}`);
  print(`NODE_OPTIONS of the collectors: ${process.env.HETU_BENCH_ROLE_NODE_OPTIONS ?? CONTAINER_V8}`);
  let inotify = 'unknown';
  try {
    inotify = readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim();
  } catch {
    // not Linux
  }
  print(
    `fs.inotify.max_user_instances ${inotify} (kwok follows at most that many logs at once; ${pods} needed)`,
  );
  const services = await kafkaServices(print);
  const layout = locateKube(ROOT);
  killStaleProcesses(layout.pidDir);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-collect-'));
  const prefix = `bench-collect-${randomUUID().slice(0, 8)}.`;
  const log = new KafkaLog({ brokers: services.brokers, clientId: 'hetu-bench-collect' });
  let kube: KubeHandle | undefined;
  try {
    kube = await startKube({ binDir: layout.binDir, pidDir: layout.pidDir, stagesDir: layout.stagesDir });
    // the topics exist before the roles start (each role creates what else it needs)
    await prefixedLog(log, prefix).ensureTopics(benchTopicSpecs());
    print(`topics under the prefix ${prefix} (raw topics kept 10 minutes)`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    let t = performance.now();
    await createPods(core, kube, pods);
    print(`${pods} pods created through the API in ${secs(performance.now() - t)} s`);
    t = performance.now();
    let running = 0;
    while ((running = await runningPods(core)) < pods) await new Promise((r) => setTimeout(r, 3000));
    print(`${running} pods Running ${secs(performance.now() - t)} s later; load average ${loads()}`);
    const ctx: Ctx = {
      print,
      pods,
      log,
      serde: createSerde(createRegistryClient({ url: services.registryUrl })),
      prefix,
      env: {
        ...process.env,
        HETU_KAFKA_BROKERS: services.brokers.join(','),
        HETU_SCHEMA_REGISTRY_URL: services.registryUrl,
        HETU_TOPIC_PREFIX: prefix,
        HETU_DATA_DIR: join(dir, 'data'),
        // V8 sized as in the chart's 256 Mi collector pod (CONTAINER_V8), and the signal for
        // HETU_BENCH_HEAP_SNAPSHOTS (taken after VmHWM is read)
        NODE_OPTIONS: [
          process.env.HETU_BENCH_ROLE_NODE_OPTIONS ?? CONTAINER_V8,
          process.env.HETU_BENCH_HEAP_SNAPSHOTS
            ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${process.env.HETU_BENCH_HEAP_SNAPSHOTS}`
            : '',
        ]
          .join(' ')
          .trim(),
      },
      kube,
    };
    const figures: Record<string, number> = { pods };
    for (const [name, run] of [
      ['kube', () => benchKube(ctx)],
      ['logs', () => benchLogs(ctx, linesPerPod)],
      ['metrics', () => benchMetrics(ctx, cycles)],
      ['start', () => benchStart(ctx, linesPerPod, cycles)],
    ] as const) {
      if (!only.includes(name)) continue;
      Object.assign(figures, await run());
      print(`load average: ${loads()}`);
    }
    return figures;
  } finally {
    await kube?.stop();
    await log.close();
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
