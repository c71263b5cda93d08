import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeCollector } from '@hetu/producers/kube';
import { createMetricsCollector } from '@hetu/producers/metrics';
import { createLogCollector } from '@hetu/producers/logs';
import { createRecordingWriter, type Observation } from '@hetu/producers/recording';
import type { LogLineObserved, MetricSampled, RecordName, WatchObserved } from '@hetu/schemas';
import type { LogRecord } from '@hetu/streams';
import { createCatalogueTopics, openBackend, type Backend } from '../backend.ts';
import { parseGlobalConfig } from '../config.ts';
import { kubeSource, loadKube, type KubeTarget } from '../kube.ts';

export interface RecordOptions {
  /** The recording to write (JSON Lines; gzip when it ends in `.gz`). */
  readonly out: string;
  readonly kube: KubeTarget;
  /** Name stamped on every observation; default the context name. */
  readonly cluster?: string;
  readonly prometheus?: string;
  /** Stop after this long; default: until `signal` aborts (Ctrl-C). */
  readonly durationMs?: number;
  readonly signal?: AbortSignal;
  /** Called about once a second with what was observed so far. */
  readonly progress?: (p: RecordProgress) => void;
}

export interface RecordProgress {
  readonly elapsedMs: number;
  readonly watch: number;
  readonly metric: number;
  readonly log: number;
}

export interface RecordSummary extends RecordProgress {
  /** Lines written (list markers of the log are not observations and are left out). */
  readonly lines: number;
  readonly cluster: string;
}

const RAW: readonly [string, RecordName][] = [
  ['hetu.raw.kube', 'WatchObserved'],
  ['hetu.raw.metrics', 'MetricSampled'],
  ['hetu.raw.logs', 'LogLineObserved'],
];

async function counts(backend: Backend): Promise<{ watch: number; metric: number; log: number }> {
  const n = async (topic: string) => {
    const [info] = await backend.log.describeTopics([topic]);
    return (info?.partitions ?? []).reduce((a, p) => a + Number(p.high - p.low), 0);
  };
  return {
    watch: await n('hetu.raw.kube'),
    metric: await n('hetu.raw.metrics'),
    log: await n('hetu.raw.logs'),
  };
}

/** The recording observation of a raw record; null for the log's list markers. */
function observationOf(name: RecordName, v: unknown): Observation | null {
  if (name === 'WatchObserved') {
    const w = v as WatchObserved;
    if (w.object === null || !['ADDED', 'MODIFIED', 'DELETED', 'SYNCED'].includes(w.type)) return null;
    return { ts: w.ts, cluster: w.cluster, kind: 'watch', type: w.type as 'ADDED', object: w.object };
  }
  if (name === 'MetricSampled') {
    const m = v as MetricSampled;
    return { ts: m.ts, cluster: m.cluster, kind: 'metric', name: m.name, labels: m.labels, value: m.value };
  }
  const l = v as LogLineObserved;
  return {
    ts: l.ts,
    cluster: l.cluster,
    kind: 'log',
    namespace: l.namespace,
    pod: l.pod,
    container: l.container,
    line: l.line,
    ...(l.truncated ? { truncated: true } : {}),
    ...(l.gap ? { gap: true } : {}),
  };
}

/**
 * Every raw partition merged by time (each is in observation order), as recording lines: a cursor
 * per partition reading chunks, the oldest head next — memory stays at a chunk per partition.
 */
async function writeMerged(backend: Backend, out: string): Promise<number> {
  const cursors: {
    topic: string;
    name: RecordName;
    partition: number;
    next: bigint;
    end: bigint;
    buf: LogRecord[];
  }[] = [];
  for (const [topic, name] of RAW) {
    const [info] = await backend.log.describeTopics([topic]);
    for (const p of info?.partitions ?? [])
      cursors.push({ topic, name, partition: p.partition, next: p.low, end: p.high, buf: [] });
  }
  const writer = createRecordingWriter(out);
  let lines = 0;
  try {
    for (;;) {
      for (const c of cursors)
        if (c.buf.length === 0 && c.next < c.end) {
          c.buf = await backend.log.read(c.topic, c.partition, { fromOffset: c.next, maxRecords: 5_000 });
          c.next = c.buf.length === 0 ? c.end : c.buf[c.buf.length - 1]!.offset + 1n;
        }
      let best: (typeof cursors)[number] | undefined;
      for (const c of cursors)
        if (c.buf.length > 0 && (best === undefined || c.buf[0]!.timestamp < best.buf[0]!.timestamp))
          best = c;
      if (best === undefined) break;
      const r = best.buf.shift()!;
      if (r.value === null) continue;
      const obs = observationOf(best.name, await backend.serde.decode(r.value, best.name));
      if (obs === null) continue;
      await writer.write(obs);
      lines++;
    }
  } finally {
    await writer.close();
  }
  return lines;
}

/**
 * `hetu record --out <file> [--duration 10m]`: runs the collectors against the cluster into a
 * temporary embedded log, then writes what they observed as a recording (SPEC §1.1) in time order.
 * A recording it writes replays through `hetu analyze`.
 */
export async function runRecord(opts: RecordOptions): Promise<RecordSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-record-'));
  const backend = await openBackend(parseGlobalConfig({ dataDir: dir }, {}));
  try {
    await createCatalogueTopics(backend.log);
    const source = kubeSource(opts.kube);
    const cluster = opts.cluster ?? (loadKube(opts.kube).context || 'cluster');
    const collectors: { start(): Promise<void> | void; close(): Promise<void> }[] = [
      createKubeCollector({ ...source, cluster, log: backend.log, serde: backend.serde }),
      createLogCollector({ ...source, cluster, log: backend.log, serde: backend.serde }),
    ];
    if (opts.prometheus)
      collectors.push(
        createMetricsCollector({
          prometheusUrl: opts.prometheus,
          cluster,
          log: backend.log,
          serde: backend.serde,
        }),
      );
    const t0 = Date.now();
    for (const c of collectors) await c.start();
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const tick = setInterval(() => {
        void counts(backend).then((n) => opts.progress?.({ elapsedMs: Date.now() - t0, ...n }));
      }, 1_000);
      const done = () => {
        clearTimeout(timer);
        clearInterval(tick);
        resolve();
      };
      if (opts.durationMs !== undefined) timer = setTimeout(done, opts.durationMs);
      if (opts.signal?.aborted) done();
      opts.signal?.addEventListener('abort', done, { once: true });
    });
    for (const c of collectors) await c.close();
    const n = await counts(backend);
    const lines = await writeMerged(backend, opts.out);
    return { elapsedMs: Date.now() - t0, ...n, lines, cluster };
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
