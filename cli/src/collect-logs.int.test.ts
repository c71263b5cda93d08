/**
 * The pod-log collector (producers/src/logs) against a real API server + kwok (infra/src/kube.ts):
 * lines written to kwok's log files arrive once each in `hetu.raw.logs` of an embedded log with the
 * catalogue's key and the workload fields; across cut connections, a container restart and a
 * collector restart no line is lost or repeated; a 20 KiB line arrives cut and flagged; a log
 * rotated while the collector was down, and a collector with no position, give gap records.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLineObserved } from '@hetu/schemas';
import { createLogCollector, logShardOf, type LogCollector } from '@hetu/producers/logs';
import {
  killStaleProcesses,
  locateKube,
  SIM_ANNOTATIONS,
  SIM_MODE_LABEL,
  startKube,
  waitUntil,
  type KubeHandle,
} from '../../infra/src/index.ts';
import { createCatalogueTopics, openBackend, type Backend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'logs';
const CLUSTER = 'it';
const NODE = 'kwok-node-0';

interface Raw {
  key: string;
  value: LogLineObserved;
}

/** A time with nine fraction digits, as these tests write it in the CRI files (kwok serves it so). */
function criTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(sec) * 1000).toISOString().replace('.000Z', `.${frac}Z`);
}

/** A CRI log line as the kubelet writes it. */
function cri(ns: bigint, text: string): string {
  return `${criTime(ns)} stdout F ${text}\n`;
}

describe('the pod-log collector against a real API server + kwok', () => {
  let kube: KubeHandle;
  let dir: string;
  let backend: Backend;
  let core: k8s.CoreV1Api;
  let collector: LogCollector | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  let files: { web: string; crash: string; rot: string };
  // Line times: a fixed base in the recent past, one second apart (nanoseconds).
  const base = BigInt(Math.floor(Date.now() / 1000) - 600) * 1_000_000_000n;
  const at = (s: number, nano = 0) => base + BigInt(s) * 1_000_000_000n + BigInt(nano);
  const msOf = (ns: bigint) => Number(ns / 1_000_000n);

  async function readRaw(): Promise<Raw[]> {
    const out: Raw[] = [];
    const [info] = await backend.log.describeTopics(['hetu.raw.logs']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.raw.logs', p.partition))
        out.push({ key: r.key!.toString(), value: await backend.serde.decode(r.value!, 'LogLineObserved') });
    return out;
  }

  /** `[container, line]` of the non-gap records of a pod, in the order appended per container. */
  async function linesOf(pod: string): Promise<[string, string][]> {
    return (await readRaw())
      .filter((r) => r.value.pod === pod && !r.value.gap)
      .map((r) => [r.value.container, r.value.line] as [string, string]);
  }

  function newCollector(extra: { resumeScanRecords?: number } = {}): LogCollector {
    return createLogCollector({
      kubeconfig: kube.kubeconfig,
      cluster: CLUSTER,
      log: backend.log,
      serde: backend.serde,
      namespace: NS,
      ...extra,
    });
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = mkdtempSync(join(tmpdir(), 'hetu-collect-logs-'));
    files = { web: join(dir, 'web.log'), crash: join(dir, 'crash.log'), rot: join(dir, 'rot.log') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    writeFileSync(join(dir, 'crash-previous.log'), '');
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
      logs: [
        { namespace: NS, pod: 'api-5d8f7-x2k9q', file: files.web },
        {
          namespace: NS,
          pod: 'crash',
          file: files.crash,
          previousFile: join(dir, 'crash-previous.log'),
        },
        { namespace: NS, pod: 'rot', file: files.rot },
      ],
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'data'), output: 'json' }, {}));
    await createCatalogueTopics(backend.log);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  }, 300_000);

  afterAll(async () => {
    await collector?.close();
    await backend?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.off('unhandledRejection', onUnhandled);
  }, 60_000);

  it('follows every started container (init too) of a pod created while it runs: each line once, with key and workload', async () => {
    appendFileSync(files.web, cri(at(0), 'first') + cri(at(1), 'second') + cri(at(1), 'second again'));
    collector = newCollector();
    await collector.start();
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: {
          name: 'api-5d8f7-x2k9q',
          labels: { app: 'api', 'pod-template-hash': '5d8f7', [SIM_MODE_LABEL]: 'running' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'api-5d8f7',
              uid: '00000000-0000-0000-0000-000000000001',
              controller: true,
            },
          ],
        },
        spec: {
          nodeName: NODE,
          initContainers: [{ name: 'setup', image: 'registry.example/setup:1.0' }],
          containers: [{ name: 'api', image: 'registry.example/api:1.0' }],
        },
      },
    });
    const expected = ['first', 'second', 'second again'];
    await waitFor(
      '3 lines of each container',
      () => linesOf('api-5d8f7-x2k9q'),
      (ls) => ls.length >= 6,
    );
    appendFileSync(files.web, cri(at(2), 'third'));
    const lines = await waitFor(
      '4 lines of each container',
      () => linesOf('api-5d8f7-x2k9q'),
      (ls) => ls.length >= 8,
    );
    expected.push('third');
    for (const c of ['setup', 'api'])
      expect(lines.filter(([cn]) => cn === c).map(([, l]) => l)).toEqual(expected);
    expect(lines.length).toBe(8);

    const raw = (await readRaw()).filter((r) => r.value.pod === 'api-5d8f7-x2k9q');
    expect(raw.some((r) => r.value.gap)).toBe(false);
    const one = raw.find((r) => r.value.container === 'api' && r.value.line === 'second again')!;
    expect(one.key).toBe('it/logs/api');
    expect(one.value).toEqual({
      ts: msOf(at(1)),
      cluster: CLUSTER,
      namespace: NS,
      pod: 'api-5d8f7-x2k9q',
      container: 'api',
      line: 'second again',
      truncated: false,
      gap: false,
      workload: 'api',
      workloadKind: 'Deployment',
    });
    const st = collector.status();
    expect(st.containers.map((c) => [c.container, c.init, c.state, c.lines, c.gaps]).sort()).toEqual([
      ['api', false, 'following', 4, 0],
      ['setup', true, 'following', 4, 0],
    ]);
    expect(unhandled).toEqual([]);
  });

  it('resumes cut connections with no line lost or repeated, identical timestamps included; caps a 20 KiB line', async () => {
    const before = collector!.status().containers.map((c) => c.connects);
    collector!.cutStreams();
    // written while the connections are down: one more line at the cursor's exact timestamp
    appendFileSync(files.web, cri(at(2), 'third twin') + cri(at(3, 500), 'fourth'));
    const big = 'x'.repeat(20 * 1024);
    appendFileSync(files.web, cri(at(4), big));
    // invalid UTF-8: "bad \xff\xfe"
    appendFileSync(
      files.web,
      Buffer.concat([Buffer.from(cri(at(4, 500), 'bad ').slice(0, -1)), Buffer.from([0xff, 0xfe, 0x0a])]),
    );
    appendFileSync(files.web, cri(at(5), 'after'));
    const lines = await waitFor(
      '8 lines of each container',
      () => linesOf('api-5d8f7-x2k9q'),
      (ls) => ls.length >= 18,
    );
    await collector!.flushed();
    const api = (await linesOf('api-5d8f7-x2k9q')).filter(([c]) => c === 'api').map(([, l]) => l);
    expect(api.map((l) => (l.length > 100 ? `${l.slice(0, 3)}…${l.length}` : l))).toEqual([
      'first',
      'second',
      'second again',
      'third',
      'third twin',
      'fourth',
      `xxx…16384`,
      'bad \ufffd\ufffd',
      'after',
    ]);
    expect(lines.length).toBe(18);
    const raw = (await readRaw()).filter(
      (r) => r.value.pod === 'api-5d8f7-x2k9q' && r.value.container === 'api',
    );
    expect(raw.map((r) => r.value.truncated)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(raw.some((r) => r.value.gap)).toBe(false);
    const st = collector!.status().containers;
    expect(st.every((c, i) => c.connects > before[i]!)).toBe(true);
    expect(st.every((c) => c.skipped > 0 && c.gaps === 0 && c.state === 'following')).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('follows a crash-looping container again after each restart, without repeating a line', async () => {
    appendFileSync(files.crash, cri(at(10), 'boot 1'));
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: {
          name: 'crash',
          labels: { [SIM_MODE_LABEL]: 'crashloop' },
          annotations: { [SIM_ANNOTATIONS.restartEvery]: '1s' },
        },
        spec: { nodeName: NODE, containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
      },
    });
    await waitFor(
      'boot 1',
      () => linesOf('crash'),
      (ls) => ls.length >= 1,
    );
    const restarts = () => collector!.status().containers.find((c) => c.pod === 'crash')?.restartCount ?? 0;
    const r0 = restarts();
    await waitFor(
      'two more restarts seen',
      async () => restarts(),
      (n) => n >= r0 + 2,
    );
    appendFileSync(files.crash, cri(at(11), 'boot 2'));
    await waitFor(
      'boot 2',
      () => linesOf('crash'),
      (ls) => ls.length >= 2,
    );
    await collector!.flushed();
    expect(await linesOf('crash')).toEqual([
      ['app', 'boot 1'],
      ['app', 'boot 2'],
    ]);
    const c = collector!.status().containers.find((x) => x.pod === 'crash')!;
    expect(c.connects).toBeGreaterThanOrEqual(3);
    expect([c.lines, c.gaps]).toEqual([2, 0]);
    expect((await readRaw()).find((r) => r.value.pod === 'crash')!.key).toBe('it/logs/crash');
    await core.deleteNamespacedPod({ namespace: NS, name: 'crash', gracePeriodSeconds: 0 });
    await waitFor(
      'crash follow stopped',
      async () => collector!.status().containers,
      (cs) => cs.every((x) => x.pod !== 'crash'),
    );
    expect(unhandled).toEqual([]);
  });

  it('after a collector restart: catches up what was written meanwhile, marks a rotated log and an unknown position as gaps', async () => {
    appendFileSync(files.rot, cri(at(20), 'rot old 1') + cri(at(21), 'rot old 2'));
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'rot' },
        spec: { nodeName: NODE, containers: [{ name: 'app', image: 'r/a:1' }] },
      },
    });
    await waitFor(
      'rot lines',
      () => linesOf('rot'),
      (ls) => ls.length >= 2,
    );
    await collector!.close();
    // while no collector runs: web gets two lines, rot is rotated (its old lines are gone)
    appendFileSync(files.web, cri(at(6), 'while down 1') + cri(at(7), 'while down 2'));
    writeFileSync(files.rot, cri(at(22), 'rot new 1'));
    collector = newCollector();
    await collector.start();
    await waitFor(
      'web caught up and rot new line',
      async () => [await linesOf('api-5d8f7-x2k9q'), await linesOf('rot')] as const,
      ([w, r]) => w.length >= 22 && r.length >= 3,
    );
    await collector.flushed();
    const api = (await linesOf('api-5d8f7-x2k9q')).filter(([c]) => c === 'api').map(([, l]) => l);
    expect(api.slice(-4)).toEqual(['bad \ufffd\ufffd', 'after', 'while down 1', 'while down 2']);
    expect(api.length).toBe(11);
    const rot = (await readRaw()).filter((r) => r.value.pod === 'rot');
    expect(rot.map((r) => [r.value.gap, r.value.line])).toEqual([
      [false, 'rot old 1'],
      [false, 'rot old 2'],
      [
        true,
        `The log no longer holds the lines at ${criTime(at(21))} where reading resumed (rotated away, or a new container instance): lines written before ${criTime(at(22))} may be missing.`,
      ],
      [false, 'rot new 1'],
    ]);
    expect(rot[2]!.value.ts).toBe(msOf(at(22)));
    expect((await readRaw()).some((r) => r.value.pod === 'api-5d8f7-x2k9q' && r.value.gap)).toBe(false);

    // A collector that finds no position (no scan of the log): a gap per container, then new lines only.
    await collector.close();
    collector = newCollector({ resumeScanRecords: 0 });
    await collector.start();
    await waitFor(
      'following again',
      async () => collector!.status().containers,
      (cs) => cs.length === 3 && cs.every((c) => c.connects === 1),
    );
    // stamped now: a collector with no position reads from the second it found the container on
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    appendFileSync(files.rot, cri(nowNs, 'rot new 2'));
    await waitFor(
      'rot new 2',
      () => linesOf('rot'),
      (ls) => ls.length >= 4,
    );
    await collector.flushed();
    const rot2 = (await readRaw()).filter((r) => r.value.pod === 'rot');
    expect(
      rot2.map((r) => [r.value.gap, r.value.gap ? r.value.line.slice(0, 50) : r.value.line]).slice(4),
    ).toEqual([
      [true, 'The collector started with no position for this co'],
      [false, 'rot new 2'],
    ]);
    expect(collector.status().containers.map((c) => c.gaps)).toEqual([1, 1, 1]);
    await collector.close();
    collector = undefined;
    expect(unhandled).toEqual([]);
  });

  it('finishes its first list of many pods without waiting for their follows to open', async () => {
    // 600 pods: two list pages of 500. The follows open at `qps` (10 a second here); the list has
    // its own bucket. When its pages queued behind the follows, start() waited for the 500 follows
    // of the first page (50 s here; ~200 s at 10 000 pods, and `hetu start` waited with it).
    const many = 'logs-many';
    await core.createNamespace({ body: { metadata: { name: many } } });
    const names = Array.from({ length: 600 }, (_, i) => `m-${i}`);
    for (let i = 0; i < names.length; i += 50)
      await Promise.all(
        names.slice(i, i + 50).map((name) =>
          core.createNamespacedPod({
            namespace: many,
            body: {
              metadata: { name },
              spec: { nodeName: NODE, containers: [{ name: 'app', image: 'r/a:1' }] },
            },
          }),
        ),
      );
    await waitUntil(
      'the 600 pods running',
      async () =>
        (await core.listNamespacedPod({ namespace: many, fieldSelector: 'status.phase=Running' })).items
          .length === 600,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const c = createLogCollector({
      kubeconfig: kube.kubeconfig,
      cluster: CLUSTER,
      log: backend.log,
      serde: backend.serde,
      namespace: many,
      qps: 10,
      burst: 20,
    });
    try {
      await c.start();
      const containers = c.status().containers;
      // every container known from the list; far fewer than one page's follows opened yet
      expect(containers.length).toBe(600);
      expect(containers.reduce((n, x) => n + x.connects, 0)).toBeLessThan(250);
    } finally {
      await c.close();
    }
  });

  it('two collectors sharing the pods (shards 0/2 and 1/2): each follows its own pods, every line arrives once', async () => {
    const pods = ['shard-a', 'shard-b', 'shard-c', 'shard-d', 'shard-e', 'shard-f'];
    const shardOf = (pod: string) => logShardOf(NS, pod, 2);
    // both shards have some of these pods (the function is fixed: this holds or never does)
    expect(new Set(pods.map(shardOf)).size).toBe(2);
    for (const name of pods)
      await core.createNamespacedPod({
        namespace: NS,
        body: { metadata: { name }, spec: { nodeName: NODE, containers: [{ name: 'app', image: 'r/a:1' }] } },
      });
    const shards = [0, 1].map((index) =>
      createLogCollector({
        kubeconfig: kube.kubeconfig,
        cluster: CLUSTER,
        log: backend.log,
        serde: backend.serde,
        namespace: NS,
        shard: { index, count: 2 },
      }),
    );
    try {
      for (const c of shards) await c.start();
      const { items } = await core.listNamespacedPod({ namespace: NS });
      const everyPod = items.map((p) => p.metadata!.name!).sort();
      const followed = await waitFor(
        'each shard connected to its pods',
        async () => shards.map((c) => c.status().containers),
        // a follow is 'reconnecting' until its first bytes: connected is enough here
        (lists) => pods.every((p) => lists.some((l) => l.some((c) => c.pod === p && c.connects >= 1))),
      );
      // each pod of the namespace (the earlier tests' too) followed by its shard, and only there
      for (const [index, list] of followed.entries())
        for (const c of list) expect(shardOf(c.pod), `${c.pod} followed by shard ${index}`).toBe(index);
      expect([...new Set(followed.flat().map((c) => c.pod))].sort()).toEqual(everyPod);
      // stamped now: collectors with no position for a container read from the second they found it
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      appendFileSync(kube.logFile, cri(nowNs, 'shared one') + cri(nowNs + 1n, 'shared two'));
      const lines = await waitFor(
        'two lines of every shard pod',
        async () => Promise.all(pods.map((p) => linesOf(p))),
        (all) => all.every((l) => l.length >= 2),
      );
      for (const c of shards) await c.flushed();
      for (const p of pods)
        expect(
          (await linesOf(p)).map(([, l]) => l),
          p,
        ).toEqual(['shared one', 'shared two']);
      expect(lines.length).toBe(pods.length);
      // a gap record each (already running when the collectors started), from its own shard
      const gaps = (await readRaw()).filter((r) => pods.includes(r.value.pod) && r.value.gap);
      expect(gaps.map((r) => r.value.pod).sort()).toEqual(pods);
    } finally {
      for (const c of shards) await c.close();
    }
    expect(unhandled).toEqual([]);
  });
});

/** Polls `read` until `done` holds (deadline 60 s); returns the satisfying value. */
async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  await waitUntil(
    what,
    async () => {
      last = await read();
      return done(last);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return last as T;
}
