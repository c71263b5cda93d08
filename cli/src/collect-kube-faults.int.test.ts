/**
 * Issue G's watchdog and back-pressure paths of the Kubernetes collector, against the real API
 * server + etcd + kwok (infra/src/kube.ts), folded through the real kube processor:
 *
 * 1. **Watchdog**: a TCP relay (test/faults/tcp-relay.ts) between a Pod collector and the API server
 *    stalls — connections open, the server's bytes no longer forwarded — while pods are created,
 *    deleted and modified. The collector must take the silent watch for dead after `watchdogMs`,
 *    append a `GAP` with the watchdog's reason and relist Pods; once the relay forwards again, the
 *    processor's pods must equal the server's. Over the same time a second collector, same
 *    `watchdogMs`, watching quiet kinds through a relay that keeps forwarding, must not be
 *    restarted.
 * 2. **Back-pressure**: the collector appends through a log that waits before every append (a slow
 *    broker; the embedded log behind it is real), with a tiny `maxBuffered`, during a burst of
 *    pods. Watch events must be dropped, each drop followed by a `GAP` with the overflow reason and
 *    a relist, the queue must stay within its bound, and once appends are fast again the facts
 *    must equal the server's pods, no fact written twice.
 *
 * What the real server does about bookmarks (measured on this stack, kube-apiserver v1.37.2 with its
 * watch cache on, watches asking `allowWatchBookmarks` as the collector does): a quiet kind gets one
 * about every 60 s (the first after 60 to 120 s), so a quiet kind's watch is silent for a minute at
 * a time — fine for the default watchdog (5 min), far too long for a short test. So the API server
 * runs with `--min-request-timeout=3`: it ends every watch after 3 to 6 s (by default after 30 to
 * 60 min) and the collector resumes it from its resourceVersion (no list, no GAP); no bookmark came
 * before those short deadlines in the measurements. A quiet kind is "alive" here because each
 * resumed watch is answered, and the watchdog (8 s) is longer than the longest silence of such a
 * watch (6 s): the test shows that a quiet, answered watch is not restarted; it does not show a
 * bookmark keeping one alive.
 *
 * The first test stalls at an instant when no request through the relay waits for its answer; the
 * third stalls a resumed watch request before its answer: the watchdog counts silence from the
 * request on (it used to count only from the answer, so such a watch hung for good).
 *
 * Back-pressure needs `maxBuffered` 1 to drop anything: the watches pause at ¾ of the bound and an
 * event is dropped only when the chunk being read as they pause holds more events than the room
 * left. Measured on this server with these pods (1.4 to 2.9 KiB), a chunk of a watch answer
 * completed at most 2 events (2 to 4 % of the chunks completed 2), and with `maxBuffered` 4 nothing
 * was dropped. So the log stays slow until a first drop (within seconds in most runs, once after
 * 115 events).
 *
 * Prints one `[kube-faults] ...` line per test with the figures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type AppendRecord,
  type Log,
  type ReadOptions,
  type RecordPosition,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from '@hetu/streams';
import {
  createKubeCollector,
  KUBE_RAW_TOPIC,
  WATCHED_KINDS,
  type KindStatus,
  type KubeCollector,
} from '@hetu/producers/kube';
import {
  killStaleProcesses,
  kubeRequest,
  locateKube,
  startKube,
  type KubeHandle,
} from '../../infra/src/index.ts';
import { relay, type TcpRelay } from '../../test/faults/tcp-relay.ts';
import { createCatalogueTopics, openBackend, type Backend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';
import { kubeView, startKubeStage, type KubeView } from './testing-kube-view.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLUSTER = 'it';
/** The API server ends every watch after 3 to 6 s (see the header). */
const MIN_REQUEST_TIMEOUT_S = 3;
const WATCHDOG_MS = 8_000;
/** Quiet kinds: nothing in the test (and no controller: there is none) changes them. */
const QUIET_KINDS = ['Service', 'ServiceAccount', 'ClusterRole'];
const SLOW_APPEND_MS = 200;
const MAX_BUFFERED = 1;
const BURST = 300;
const CONCURRENCY = 25;

type Json = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real log, with a wait before every append while `delayMs` > 0: a slow broker. Everything
 * else goes straight through; closing it leaves the real log open (the backend owns it).
 */
class SlowLog implements Log {
  readonly kind: Log['kind'];
  delayMs = 0;
  private readonly inner: Log;
  constructor(inner: Log) {
    this.inner = inner;
    this.kind = inner.kind;
  }
  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(specs);
  }
  describeTopics(names?: readonly string[]) {
    return this.inner.describeTopics(names);
  }
  async append(topic: string, records: readonly AppendRecord[]): Promise<RecordPosition[]> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.inner.append(topic, records);
  }
  read(topic: string, partition: number, options?: ReadOptions) {
    return this.inner.read(topic, partition, options);
  }
  committed(group: string, topic: string) {
    return this.inner.committed(group, topic);
  }
  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }
  deleteTopics(names: readonly string[]): Promise<void> {
    return this.inner.deleteTopics(names);
  }
  deleteGroups(groups: readonly string[]): Promise<void> {
    return this.inner.deleteGroups(groups);
  }
  async close(): Promise<void> {
    // the backend closes the real log
  }
}

describe('the Kubernetes collector: watchdog and back-pressure against the real API server', () => {
  let kube: KubeHandle;
  let dir: string;
  let backend: Backend;
  let view: KubeView;
  let rt: Awaited<ReturnType<typeof startKubeStage>> | undefined;
  let sub: Subscription;
  const collectors: KubeCollector[] = [];
  const relays: TcpRelay[] = [];

  beforeAll(async () => {
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
      apiserverArgs: [`--min-request-timeout=${MIN_REQUEST_TIMEOUT_S}`],
    });
    dir = mkdtempSync(join(tmpdir(), 'hetu-kube-faults-'));
    backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    view = kubeView(backend, `${CLUSTER}/`);
    await createCatalogueTopics(backend.log);
    rt = await startKubeStage(backend);
    sub = rt.sub;
  }, 300_000);

  /** Each test's collectors and relays stop with it (a collector left running would write too). */
  const stopCollectors = async () => {
    for (const c of collectors.splice(0)) await c.close();
    for (const r of relays.splice(0)) await r.close();
  };
  afterEach(stopCollectors, 60_000);

  afterAll(async () => {
    await stopCollectors();
    await rt?.close();
    await backend?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  // ---- the API server

  const api = (method: string, path: string, body?: unknown) => kubeRequest(kube, method, path, body, 60_000);
  const expectStatus = async (p: Promise<{ status: number; text: string }>, ok: number[]) => {
    const res = await p;
    if (!ok.includes(res.status)) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  };
  const inBatches = async (items: string[], f: (name: string) => Promise<void>) => {
    for (let i = 0; i < items.length; i += CONCURRENCY)
      await Promise.all(items.slice(i, i + CONCURRENCY).map(f));
  };
  const createPod = (ns: string, name: string) =>
    expectStatus(
      api('POST', `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: 'faults', 'pod-template-hash': 'v1' } },
        spec: {
          nodeName: kube.nodes[0]!,
          containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
        },
      }),
      [201],
    );
  const deletePod = (ns: string, name: string) =>
    expectStatus(api('DELETE', `/api/v1/namespaces/${ns}/pods/${name}?gracePeriodSeconds=0`), [200, 202]);
  /** A new pod-template-hash: a label the kube processor keeps, so a lost MODIFIED would show. */
  const modifyPod = async (ns: string, name: string) => {
    for (;;) {
      const res = await api('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
      if (res.status !== 200) throw new Error(`GET pod ${name}: HTTP ${res.status}`);
      const pod = JSON.parse(res.text) as { metadata: { labels: Record<string, string> } };
      pod.metadata.labels['pod-template-hash'] = 'v2';
      const put = await api('PUT', `/api/v1/namespaces/${ns}/pods/${name}`, pod);
      if (put.status === 200) return;
      // 409: kwok updated its status meanwhile; read it again
      if (put.status !== 409)
        throw new Error(`PUT pod ${name}: HTTP ${put.status} ${put.text.slice(0, 300)}`);
    }
  };
  /** Every pod of the cluster, by `<namespace>/<name>`. */
  const serverPods = async (): Promise<Map<string, Json>> => {
    const out = new Map<string, Json>();
    let cont = '';
    do {
      const res = await api(
        'GET',
        `/api/v1/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      if (res.status !== 200) throw new Error(`list pods: HTTP ${res.status}`);
      const page = JSON.parse(res.text) as { items: Json[]; metadata: { continue?: string } };
      for (const p of page.items) {
        const m = p['metadata'] as { namespace: string; name: string };
        out.set(`${m.namespace}/${m.name}`, p);
      }
      cont = page.metadata.continue ?? '';
    } while (cont !== '');
    return out;
  };

  /** A collector through a relay of its own, on `log` (default the real one). */
  async function collectorThroughRelay(opts: {
    kinds: readonly string[];
    watchdogMs?: number;
    maxBuffered?: number;
    log?: Log;
  }): Promise<{ collector: KubeCollector; proxy: TcpRelay }> {
    const proxy = await relay(new URL(kube.server));
    relays.push(proxy);
    const kc = new KubeConfig();
    kc.loadFromString(
      readFileSync(kube.kubeconfig, 'utf8').replace(kube.server, `https://127.0.0.1:${proxy.port}`),
    );
    const collector = createKubeCollector({
      kubeConfig: kc,
      cluster: CLUSTER,
      log: opts.log ?? backend.log,
      serde: backend.serde,
      kinds: WATCHED_KINDS.filter((k) => opts.kinds.includes(k.kind)),
      ...(opts.watchdogMs === undefined ? {} : { watchdogMs: opts.watchdogMs }),
      ...(opts.maxBuffered === undefined ? {} : { maxBuffered: opts.maxBuffered }),
    });
    collectors.push(collector);
    await collector.start();
    return { collector, proxy };
  }

  const kindOf = (c: KubeCollector, kind: string): KindStatus =>
    c.status().kinds.find((k) => k.kind === kind)!;
  const waitFor = async (what: string, cond: () => boolean, timeoutMs = 60_000, tick = 50): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await sleep(tick);
    }
  };

  // ---- what the kube processor made of it: its state (changelog) and pod-health facts, read incrementally

  const refresh = async (collector: KubeCollector) => {
    await collector.flushed();
    await sub.whenCaughtUp(120_000);
    await view.refresh();
  };
  /** What differs between the server's pods of `ns` and the processor's state and facts, and the collector's cache. */
  const differences = (server: Map<string, Json>, ns: string, collector: KubeCollector): string[] =>
    view.differences(server, kindOf(collector, 'Pod').objects, (id) => id.startsWith(`${ns}/`));
  /** Waits until the processor's pods of `ns` equal the server's; returns the server's pods. */
  const converge = async (
    ns: string,
    collector: KubeCollector,
    timeoutMs = 90_000,
  ): Promise<Map<string, Json>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await refresh(collector);
      const server = await serverPods();
      const diff = differences(server, ns, collector);
      if (diff.length === 0) return server;
      if (Date.now() > deadline)
        throw new Error(
          `not converged within ${timeoutMs} ms: ${diff.length} differences, e.g. ${diff.slice(0, 10).join(', ')}`,
        );
      await sleep(250);
    }
  };

  /** End offsets of `hetu.raw.kube`'s partition 0 (every marker is written on every partition). */
  const rawEnd = async (): Promise<bigint> => {
    const [info] = await backend.log.describeTopics([KUBE_RAW_TOPIC]);
    return info!.partitions.find((p) => p.partition === 0)!.high;
  };
  /** The reasons of the GAP markers of `kind` appended to partition 0 from `from` on. */
  const gapReasons = async (kind: string, from: bigint): Promise<string[]> => {
    const out: string[] = [];
    for (const r of await backend.log.read(KUBE_RAW_TOPIC, 0, { fromOffset: from })) {
      if (r.value === null) continue;
      const v = await backend.serde.decode(r.value, 'WatchObserved');
      if (v.type === 'GAP' && v.kind === kind) out.push(v.detail ?? '');
    }
    return out;
  };

  it('restarts a silent watch with a GAP and a relist after watchdogMs, and not a quiet one that is answered', async () => {
    const NS = 'wd';
    await expectStatus(api('POST', '/api/v1/namespaces', { metadata: { name: NS } }), [201]);
    const names = Array.from({ length: 40 }, (_, i) => `w-${String(i).padStart(3, '0')}`);
    await inBatches(names, (n) => createPod(NS, n));
    const from = await rawEnd();

    const { collector: pods, proxy: podsRelay } = await collectorThroughRelay({
      kinds: ['Pod'],
      watchdogMs: WATCHDOG_MS,
    });
    const { collector: quiet } = await collectorThroughRelay({ kinds: QUIET_KINDS, watchdogMs: WATCHDOG_MS });
    const pod = () => kindOf(pods, 'Pod');
    await converge(NS, pods);
    await waitFor('every quiet kind watching', () =>
      quiet.status().kinds.every((k) => k.state === 'watching'),
    );
    const quietBefore = quiet.status().kinds.map((k) => ({ ...k }));
    const podBefore = { ...pod() };

    // Stall, at an instant when no request through the relay waits for its answer (see the header).
    await waitFor('no request waiting for its answer', () => podsRelay.awaitingServer() === 0, 30_000, 2);
    podsRelay.stall();
    const stalledAt = Date.now();
    // changes while the collector hears nothing: 10 pods created, 5 deleted, 5 modified
    const created = Array.from({ length: 10 }, (_, i) => `w-new-${i}`);
    const gone = names.filter((_, i) => i % 8 === 1);
    const modified = names.filter((_, i) => i % 8 === 2);
    await inBatches(created, (n) => createPod(NS, n));
    await inBatches(gone, (n) => deletePod(NS, n));
    await inBatches(modified, (n) => modifyPod(NS, n));
    await waitFor(
      'the watchdog to restart the Pod watch',
      () => pod().relists > podBefore.relists,
      60_000,
      20,
    );
    const detectedAt = Date.now();
    // The relist's request waits behind the stalled relay too; hold the stall until the quiet
    // kinds have had twice the watchdog's time to (wrongly) be taken for dead.
    await sleep(Math.max(0, stalledAt + 2 * WATCHDOG_MS - Date.now()));
    const quietAfter = quiet.status().kinds.map((k) => ({ ...k }));
    const stallS = (Date.now() - stalledAt) / 1000;
    podsRelay.flow();
    const flowingAt = Date.now();
    const server = await converge(NS, pods);
    const convergedAt = Date.now();

    const p = pod();
    const reasons = await gapReasons('Pod', from);
    const quietResumes = quietAfter.reduce((s, k, i) => s + k.resumes - quietBefore[i]!.resumes, 0);
    console.log(
      `[kube-faults] watchdog: watchdogMs ${WATCHDOG_MS}; Pod watch stalled ${stallS.toFixed(1)} s, detected ${((detectedAt - stalledAt) / 1000).toFixed(1)} s after the stall; ` +
        `converged ${((convergedAt - flowingAt) / 1000).toFixed(1)} s after the relay forwarded again; ` +
        `Pod: ${p.relists} relists, ${p.gaps} gaps, ${p.resumes} resumes, ${p.fullLists} full lists; ` +
        `${server.size} pods (${created.length} created, ${gone.length} deleted, ${modified.length} modified during the stall); ` +
        `quiet kinds (${QUIET_KINDS.join(', ')}) over the same ${stallS.toFixed(1)} s: ${quietAfter.reduce((s, k) => s + k.relists, 0)} relists, ${quietResumes} watches ended by the server and resumed; ` +
        `${view.repeatedFacts.length} repeated facts`,
    );

    // The Pod kind: one relist, for the watchdog, and nothing else
    expect(
      reasons.map((d) => d.replace(/:.*/s, '')),
      reasons.join(' | '),
    ).toEqual(['collector started', `the watch was silent for ${WATCHDOG_MS} ms (not even a bookmark)`]);
    expect([p.relists, p.fullLists, p.gaps, p.expired, p.dropped, p.state]).toEqual([
      1,
      2,
      2,
      0,
      0,
      'watching',
    ]);
    // The changes made during the stall reached the processor (converge compared every pod)
    for (const n of created) expect(server.has(`${NS}/${n}`)).toBe(true);
    for (const n of gone) expect(server.has(`${NS}/${n}`)).toBe(false);
    expect(view.repeatedFacts).toEqual([]);
    // The quiet kinds, same watchdog, relay forwarding: never restarted; their watches were ended
    // by the server (its deadline) and resumed, without a list or a GAP
    for (const [i, k] of quietAfter.entries()) {
      const b = quietBefore[i]!;
      expect([k.kind, k.relists, k.gaps, k.fullLists, k.state]).toEqual([b.kind, 0, 1, 1, 'watching']);
    }
    expect(quietResumes).toBeGreaterThan(0);
  }, 180_000);

  it('restarts a resumed watch whose answer never comes, after watchdogMs', async () => {
    const NS = 'wd-unanswered';
    await expectStatus(api('POST', '/api/v1/namespaces', { metadata: { name: NS } }), [201]);
    await inBatches(['u-0', 'u-1', 'u-2'], (n) => createPod(NS, n));
    const from = await rawEnd();
    const { collector: pods, proxy } = await collectorThroughRelay({
      kinds: ['Pod'],
      watchdogMs: WATCHDOG_MS,
    });
    const pod = () => kindOf(pods, 'Pod');
    await converge(NS, pods);
    const before = { ...pod() };
    // Cut the watch; its resumed request (after the collector's 1 s back-off) gets no answer.
    pods.cutWatches();
    proxy.stall();
    const stalledAt = Date.now();
    await waitFor(
      'the resumed watch request waiting for its answer',
      () => proxy.awaitingServer() > 0,
      30_000,
    );
    await createPod(NS, 'u-during-stall');
    await waitFor(
      'the watchdog to restart the unanswered watch',
      () => pod().relists > before.relists,
      60_000,
      20,
    );
    const detectedS = (Date.now() - stalledAt) / 1000;
    proxy.flow();
    const server = await converge(NS, pods);
    const reasons = await gapReasons('Pod', from);
    console.log(
      `[kube-faults] unanswered watch: restarted ${detectedS.toFixed(1)} s after the stall (watchdogMs ${WATCHDOG_MS}); ${server.size} pods converged`,
    );
    expect(reasons.map((d) => d.replace(/:.*/s, ''))).toEqual([
      'collector started',
      `the watch was silent for ${WATCHDOG_MS} ms (not even a bookmark)`,
    ]);
    expect(server.has(`${NS}/u-during-stall`)).toBe(true);
  }, 180_000);

  it('drops watch events past maxBuffered behind a slow log, relists with a GAP each time, and converges', async () => {
    const NS = 'bp';
    await expectStatus(api('POST', '/api/v1/namespaces', { metadata: { name: NS } }), [201]);
    const slow = new SlowLog(backend.log);
    const from = await rawEnd();
    const { collector } = await collectorThroughRelay({
      kinds: ['Pod'],
      maxBuffered: MAX_BUFFERED,
      log: slow,
    });
    const pod = () => kindOf(collector, 'Pod');
    const before = { ...pod() };

    slow.delayMs = SLOW_APPEND_MS;
    const t0 = Date.now();
    // when the first drop came (seconds after the burst started, observations queued before it)
    let firstDrop = null as { s: number; observed: number } | null;
    let watching = true;
    const watchFirstDrop = (async () => {
      let observed = before.observed;
      while (watching && firstDrop === null) {
        const k = pod();
        if (k.dropped > before.dropped)
          firstDrop = { s: (Date.now() - t0) / 1000, observed: observed - before.observed };
        observed = k.observed;
        await sleep(10);
      }
    })();
    const names = Array.from({ length: BURST }, (_, i) => `b-${String(i).padStart(3, '0')}`);
    await inBatches(names, (n) => createPod(NS, n));
    const burstS = (Date.now() - t0) / 1000;
    // kwok writes the pods' status after their creation: keep the log slow a little longer, and
    // until a first drop (the writer passes 5 appends a second: ~600 events take 2 minutes)
    await sleep(3_000);
    await waitFor('a first drop while appends are slow', () => pod().dropped > before.dropped, 90_000);
    const slowSnapshot = { ...pod() };
    slow.delayMs = 0;
    const fastAt = Date.now();
    const server = await converge(NS, collector);
    const convergedAt = Date.now();
    watching = false;
    await watchFirstDrop;

    const p = pod();
    const st = collector.status();
    const reasons = await gapReasons('Pod', from);
    const [info] = await backend.log.describeTopics([KUBE_RAW_TOPIC]);
    const partitions = info!.partitions.length;
    console.log(
      `[kube-faults] back-pressure: ${BURST} pods created in ${burstS.toFixed(1)} s, appends slowed by ${SLOW_APPEND_MS} ms until ${((fastAt - t0) / 1000).toFixed(1)} s, maxBuffered ${MAX_BUFFERED}; ` +
        `Pod: ${p.dropped} dropped (${slowSnapshot.dropped} while slow; the first ${firstDrop === null ? 'never' : `${firstDrop.s.toFixed(1)} s after the burst started, after ${firstDrop.observed} observations`}), ${p.relists} relists, ${p.gaps} gaps, ${p.resumes} resumes, ${p.observed - before.observed} observed; ` +
        `queue high-water ${st.bufferedHigh}; converged ${((convergedAt - fastAt) / 1000).toFixed(1)} s after appends were fast again; ${server.size} pods; ${view.repeatedFacts.length} repeated facts`,
    );

    expect(p.dropped).toBeGreaterThan(0);
    // every drop ended its watch and relisted Pods after a GAP with the overflow reason; nothing else did
    expect(reasons[0]).toMatch(/^collector started/);
    const overflow = /^\d+ observations were waiting for the log, so a watch event was dropped$/;
    expect(reasons.slice(1).filter((r) => !overflow.test(r))).toEqual([]);
    expect([p.relists, p.gaps, p.fullLists, p.expired, p.state]).toEqual([
      p.dropped,
      1 + p.dropped,
      1 + p.dropped,
      0,
      'watching',
    ]);
    // the bound: observations never past maxBuffered; markers (GAP, SYNC_BEGIN, SYNC_END of the one
    // kind's list) on top
    expect(st.bufferedHigh).toBeGreaterThanOrEqual(MAX_BUFFERED);
    expect(st.bufferedHigh).toBeLessThanOrEqual(MAX_BUFFERED + 3 * partitions);
    expect(names.filter((n) => !server.has(`${NS}/${n}`))).toEqual([]);
    expect(view.repeatedFacts).toEqual([]);
  }, 180_000);
});
