/**
 * Fault suite, item 5 (issue I; issue G's real 410; results in docs/reliability.md): a churn of pods
 * against the real API server + kwok (infra/src/kube.ts) while a TCP relay between the Kubernetes
 * collector and the API server resets every open connection again and again, and while the server
 * is made to answer **410 Gone for real**: the relay refuses connections, the test writes changes
 * and compacts etcd past the collector's resourceVersion, then lets it back. After the churn
 * (quiet), the kube processor's state and its pod-health facts must equal the server's pods, and
 * the collector must have resumed its watches after the resets (no list, no GAP) and relisted
 * exactly once per 410, on every kind.
 *
 * The API server runs with `--watch-cache=false`, so watches are served from etcd and a compacted
 * resourceVersion is answered with a 410 `ERROR` event. With the watch cache on (the default) a
 * compaction does not do it: the cache still holds the history and serves the resume (tried with
 * this stack: the watch from a compacted version was answered 200 with no error).
 *
 * Size: HETU_FAULT_KUBE_PODS pods (1 000 in `npm test`, 10 000 with `npm run test:faults`).
 * Prints one `[faults] kube churn:` line with the figures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import type { Subscription } from '@hetu/streams';
import { createKubeCollector, type KindStatus, type KubeCollector } from '@hetu/producers/kube';
import {
  killStaleProcesses,
  kubeRequest,
  locateKube,
  startKube,
  type KubeHandle,
} from '../../infra/src/index.ts';
import { createCatalogueTopics, openBackend, type Backend } from '../../cli/src/backend.ts';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { kubeView, startKubeStage } from '../../cli/src/testing-kube-view.ts';
import { relay } from './tcp-relay.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PODS = Number(process.env.HETU_FAULT_KUBE_PODS ?? 1_000);
if (!Number.isInteger(PODS) || PODS < 100)
  throw new Error(
    `HETU_FAULT_KUBE_PODS must be an integer of at least 100, got ${process.env.HETU_FAULT_KUBE_PODS}`,
  );
const NS = 'churn';
const CLUSTER = 'it';
/** Forced 410s (etcd compactions while the collector is cut off). */
const FORCED_410 = 2;
/** Least time between two connection resets. */
const RESET_EVERY_MS = 500;
/** The issue's bound: caches equal the server's truth within 30 s of quiet. */
const CONVERGE_MS = 30_000;
const CONCURRENCY = 25;

type Json = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs to etcd's v3 JSON gateway. */
async function etcd(url: string, path: string, body: unknown): Promise<Json> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`etcd ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Json;
}

describe('fault suite: kube churn with connection resets and real 410s', () => {
  let kube: KubeHandle;
  let dir: string;
  let backend: Backend;
  let proxy: Awaited<ReturnType<typeof relay>> | undefined;
  let collector: KubeCollector | undefined;
  let rt: Awaited<ReturnType<typeof startKubeStage>> | undefined;
  let sub: Subscription;

  beforeAll(async () => {
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
      // watches served from etcd, so a compaction makes the server answer 410 (see the header)
      apiserverArgs: ['--watch-cache=false'],
    });
    dir = mkdtempSync(join(tmpdir(), 'hetu-faults-kube-'));
    backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    await createCatalogueTopics(backend.log);
  }, 300_000);

  afterAll(async () => {
    await collector?.close();
    await rt?.close();
    await proxy?.close();
    await backend?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(`converges to the server's ${PODS} pods after resets and forced 410s, relisting only on the 410s`, async () => {
    const api = (method: string, path: string, body?: unknown) =>
      kubeRequest(kube, method, path, body, 60_000);
    const expectStatus = async (p: Promise<{ status: number; text: string }>, ok: number[]) => {
      const res = await p;
      if (!ok.includes(res.status)) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    };
    const inBatches = async (items: string[], f: (name: string) => Promise<void>) => {
      for (let i = 0; i < items.length; i += CONCURRENCY) {
        await Promise.all(items.slice(i, i + CONCURRENCY).map(f));
        await maybeReset();
      }
    };
    const podBody = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'churn', 'pod-template-hash': 'v1' } },
      spec: {
        nodeName: kube.nodes[0]!,
        containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
      },
    });
    const create = (name: string) =>
      expectStatus(api('POST', `/api/v1/namespaces/${NS}/pods`, podBody(name)), [201]);
    const remove = (name: string) =>
      expectStatus(api('DELETE', `/api/v1/namespaces/${NS}/pods/${name}?gracePeriodSeconds=0`), [200, 202]);
    /**
     * A graceful deletion, completed by kwok (its pod-delete stage plays the kubelet). Used for the
     * pods that come back under the same name: kwok deletes by name, so a pod re-created before
     * kwok is done with the old one would be deleted in its place.
     */
    const removeGracefully = (name: string) =>
      expectStatus(api('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`), [200, 202]);
    const goneFromServer = async (name: string) => {
      const deadline = Date.now() + 120_000;
      while ((await api('GET', `/api/v1/namespaces/${NS}/pods/${name}`)).status !== 404) {
        if (Date.now() > deadline)
          throw new Error(`pod ${name} still on the server 120 s after its deletion`);
        await sleep(200);
      }
    };
    /** A new pod-template-hash: a label the kube processor keeps, so a lost MODIFIED would show. */
    const modify = async (name: string) => {
      for (;;) {
        const res = await api('GET', `/api/v1/namespaces/${NS}/pods/${name}`);
        if (res.status !== 200) throw new Error(`GET pod ${name}: HTTP ${res.status}`);
        const pod = JSON.parse(res.text) as { metadata: { labels: Record<string, string> } };
        pod.metadata.labels['pod-template-hash'] = 'v2';
        const put = await api('PUT', `/api/v1/namespaces/${NS}/pods/${name}`, pod);
        if (put.status === 200) return;
        if (put.status !== 409)
          throw new Error(`PUT pod ${name}: HTTP ${put.status} ${put.text.slice(0, 300)}`);
        // 409: kwok updated its status meanwhile; read it again
      }
    };

    await expectStatus(api('POST', '/api/v1/namespaces', { metadata: { name: NS } }), [201]);

    // ---- the collector, through the relay; the kube processor running alongside
    proxy = await relay(new URL(kube.server));
    const kc = new KubeConfig();
    kc.loadFromString(
      readFileSync(kube.kubeconfig, 'utf8').replace(kube.server, `https://127.0.0.1:${proxy.port}`),
    );
    collector = createKubeCollector({
      kubeConfig: kc,
      cluster: CLUSTER,
      log: backend.log,
      serde: backend.serde,
      // etcd-served watches send no bookmarks: the watchdog must not take a quiet kind for dead
      watchdogMs: 3_600_000,
    });
    await collector.start();
    rt = await startKubeStage(backend);
    sub = rt.sub;

    const kinds = (): readonly KindStatus[] => collector!.status().kinds;
    const pod = (): KindStatus => kinds().find((k) => k.kind === 'Pod')!;
    const waitFor = async (what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > deadline)
          throw new Error(`${what}: not within ${timeoutMs} ms; Pod: ${JSON.stringify(pod())}`);
        await sleep(100);
      }
    };

    // ---- connection resets, between batches of the churn
    let resets = 0;
    let socketsReset = 0;
    /** Resets after which the Pod watch resumed (it was open when its connection was reset). */
    let podCuts = 0;
    let lastReset = Date.now();
    let resumesAtLastReset: number | null = null;
    let resetsOn = true;
    /**
     * Notes whether the last reset cut the Pod watch, then waits until every kind watches again
     * with its connection open (so a reset cuts watches only, never a list).
     */
    const steady = async (): Promise<void> => {
      if (resumesAtLastReset !== null) {
        const deadline = Date.now() + 15_000;
        while (pod().resumes <= resumesAtLastReset && Date.now() < deadline) await sleep(100);
        if (pod().resumes > resumesAtLastReset) podCuts++;
        resumesAtLastReset = null;
      }
      const ok = () => kinds().every((k) => k.state === 'watching') && proxy!.open() >= kinds().length;
      for (;;) {
        await waitFor('every watch open again', ok);
        const r = pod().resumes;
        await sleep(250);
        if (ok() && pod().resumes === r) return;
      }
    };
    const maybeReset = async (): Promise<void> => {
      if (!resetsOn || Date.now() - lastReset < RESET_EVERY_MS) return;
      await steady();
      resumesAtLastReset = pod().resumes;
      const cut = proxy!.reset();
      expect(cut).toBeGreaterThan(0);
      socketsReset += cut;
      resets++;
      lastReset = Date.now();
    };

    // ---- a real 410: the collector cut off while changes are written and etcd compacted past them
    let forced = 0;
    const force410 = async (writes: () => Promise<void>): Promise<void> => {
      resetsOn = false;
      await steady();
      const before = pod();
      proxy!.refuse();
      await writes();
      const { header } = (await etcd(kube.etcd, '/v3/kv/range', {
        key: Buffer.from('/registry/pods/').toString('base64'),
        count_only: true,
      })) as { header: { revision: string } };
      await etcd(kube.etcd, '/v3/kv/compaction', { revision: header.revision, physical: true });
      expect(Number(header.revision)).toBeGreaterThan(Number(before.resourceVersion));
      proxy!.accept();
      forced++;
      await waitFor(
        `the 410 #${forced} and its relist`,
        () =>
          pod().expired === before.expired + 1 &&
          pod().fullLists === before.fullLists + 1 &&
          kinds().every((k) => k.state === 'watching'),
        120_000,
      );
      resetsOn = true;
      lastReset = Date.now();
    };

    // ---- the churn
    const names = Array.from({ length: PODS }, (_, i) => `p-${String(i).padStart(5, '0')}`);
    const half = Math.floor(PODS / 2);
    const created = new Set<string>();
    const createAll = async (list: string[]) => {
      await inBatches(list, async (n) => {
        await create(n);
        created.add(n);
      });
    };
    let deleted = 0;
    let modified = 0;
    let recreated = 0;
    const t0 = Date.now();
    // 1. half the pods
    await createAll(names.slice(0, half));
    // 2. 410 #1: while cut off, 10 % of them deleted and 5 % modified
    const firstGone = names.slice(0, half).filter((_, i) => i % 10 === 1);
    const firstModified = names.slice(0, half).filter((_, i) => i % 20 === 2);
    await force410(async () => {
      for (const list of [firstGone, firstModified]) {
        for (let i = 0; i < list.length; i += CONCURRENCY)
          await Promise.all(list.slice(i, i + CONCURRENCY).map(list === firstGone ? remove : modify));
      }
      deleted += firstGone.length;
      modified += firstModified.length;
    });
    // 3. the other half, then a share modified and deleted, resets going on
    await createAll(names.slice(half));
    const mods = names.filter((n, i) => i % 10 === 3 && created.has(n));
    await inBatches(mods, modify);
    modified += mods.length;
    const doomed = names.filter((_, i) => i % 10 === 5);
    const back = doomed.filter((_, i) => i % 2 === 0);
    const comesBack = new Set(back);
    await inBatches(doomed, (n) => (comesBack.has(n) ? removeGracefully(n) : remove(n)));
    deleted += doomed.length;
    for (const n of back) await goneFromServer(n);
    // 4. 410 #2: while cut off, the gracefully deleted pods come back under the same name (a new uid)
    await force410(async () => {
      for (let i = 0; i < back.length; i += CONCURRENCY)
        await Promise.all(back.slice(i, i + CONCURRENCY).map(create));
      recreated += back.length;
    });
    // 5. a last round of changes under resets
    const late = names.filter((_, i) => i % 10 === 7);
    await inBatches(late, remove);
    deleted += late.length;
    const lateMods = names.filter((_, i) => i % 10 === 8);
    await inBatches(lateMods, modify);
    modified += lateMods.length;
    // ---- quiet (no more writes, no more resets) from here: the time to converge counts from now
    resetsOn = false;
    const quiet = Date.now();
    const churnS = (quiet - t0) / 1000;
    await steady(); // notes whether the last reset cut the Pod watch
    expect(forced).toBe(FORCED_410);

    // ---- the processor's state and facts must come to equal the server's pods
    const serverPods = async (): Promise<Map<string, Json>> => {
      const out = new Map<string, Json>();
      let cont = '';
      do {
        const res = await api(
          'GET',
          `/api/v1/namespaces/${NS}/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
        );
        if (res.status !== 200) throw new Error(`list pods: HTTP ${res.status}`);
        const page = JSON.parse(res.text) as { items: Json[]; metadata: { continue?: string } };
        for (const p of page.items) out.set((p['metadata'] as { name: string }).name, p);
        cont = page.metadata.continue ?? '';
      } while (cont !== '');
      return out;
    };
    // The kube processor's state (its changelog) and pod-health facts, read incrementally.
    const view = kubeView(backend, `${CLUSTER}/${NS}/`);
    const refresh = async () => {
      await collector!.flushed();
      await sub.whenCaughtUp(120_000);
      await view.refresh();
    };
    const differences = (server: Map<string, Json>): string[] => view.differences(server, pod().objects);
    let server = new Map<string, Json>();
    let diff: string[] = ['not compared yet'];
    for (;;) {
      await refresh();
      server = await serverPods();
      diff = differences(server);
      if (diff.length === 0) break;
      if (Date.now() - quiet > CONVERGE_MS)
        throw new Error(
          `not converged ${CONVERGE_MS / 1000} s after quiet: ${diff.length} differences, e.g. ${diff.slice(0, 10).join(', ')}`,
        );
      await sleep(500);
    }
    const convergedS = (Date.now() - quiet) / 1000;

    const p = pod();
    const all = kinds();
    const sum = (f: (k: KindStatus) => number) => all.reduce((s, k) => s + f(k), 0);
    console.log(
      `[faults] kube churn: ${PODS} pods (${created.size + recreated} created, ${deleted} deleted, ${modified} modified, ${recreated} re-created; ${server.size} at the end) in ${churnS.toFixed(1)} s; ` +
        `${resets} connection resets (${socketsReset} sockets; ${podCuts} cut the Pod watch), ${forced} forced 410s; ` +
        `Pod: ${p.expired} 410s, ${p.relists} relists, ${p.fullLists} full lists, ${p.resumes} resumes, ${p.gaps} gaps, ${p.dropped} dropped; ` +
        `all ${all.length} kinds: ${sum((k) => k.expired)} 410s, ${sum((k) => k.relists)} relists, ${sum((k) => k.resumes)} resumes; ` +
        `converged ${convergedS.toFixed(1)} s after quiet`,
    );

    expect(diff).toEqual([]);
    expect(resets).toBeGreaterThan(0);
    expect(podCuts).toBeGreaterThan(0);
    // The reasons of every kind's GAP markers (each is written on every partition; read one).
    const gapReasons = new Map<string, string[]>();
    for (const r of await backend.log.read('hetu.raw.kube', 0)) {
      if (r.value === null) continue;
      const v = await backend.serde.decode(r.value, 'WatchObserved');
      if (v.type !== 'GAP') continue;
      const list = gapReasons.get(v.kind) ?? [];
      list.push(v.detail ?? '');
      gapReasons.set(v.kind, list);
    }
    const reasons = (kind: string) => gapReasons.get(kind) ?? [];
    expect(
      reasons('Pod').map((d) => d.replace(/:.*/s, '')),
      reasons('Pod').join(' | '),
    ).toEqual(['collector started', ...Array.from({ length: FORCED_410 }, () => '410 Gone')]);
    // Relists only when forced: the Pod kind relisted once per real 410, and for nothing else.
    expect([p.expired, p.relists, p.fullLists, p.gaps, p.dropped]).toEqual([
      FORCED_410,
      FORCED_410,
      1 + FORCED_410,
      1 + FORCED_410,
      0,
    ]);
    // No kind relisted for anything but a 410 (each compaction reaches each kind at most once).
    for (const k of all) {
      expect([k.kind, k.relists, k.gaps, k.dropped, k.state], reasons(k.kind).join(' | ')).toEqual([
        k.kind,
        k.expired,
        1 + k.expired,
        0,
        'watching',
      ]);
      expect(k.expired).toBeLessThanOrEqual(FORCED_410);
    }
    expect(server.size).toBe(PODS - deleted + recreated);
  }, 1_800_000);
});
