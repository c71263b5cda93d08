/**
 * The Kubernetes collector (producers/src/kube) against a real API server + kwok (infra/src/kube.ts):
 * objects created through the API arrive in `hetu.raw.kube` of an embedded log with the catalogue's
 * keys; a kwok crash-looping pod becomes a `crashloop` pod-health fact through the real kube
 * processor; a forced relist, a cut watch (resumed, not relisted) and a collector restart converge
 * to the server's truth with no duplicate facts; a resync appends nothing for unchanged objects; a forbidden kind is a
 * status, not a crash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchObserved } from '@hetu/schemas';
import { ProcessorRuntime, avroDeadLetterEncoder, avroFactEncoder } from '@hetu/streams';
import { createKubeCollector, type KubeCollector } from '@hetu/producers/kube';
import {
  killStaleProcesses,
  kubeRequest,
  locateKube,
  SIM_ANNOTATIONS,
  SIM_MODE_LABEL,
  startKube,
  waitUntil,
  type KubeHandle,
} from '../../infra/src/index.ts';
import { createCatalogueTopics, openBackend, type Backend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';
import { pipelineStages } from './stages.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'shop';
const CLUSTER = 'it';
const NODE = 'kwok-node-0';

interface Raw {
  partition: number;
  key: string;
  value: WatchObserved;
}

interface Fact {
  key: string;
  value: Record<string, unknown> | null;
}

function podBody(name: string, mode: string, extra: Partial<k8s.V1ObjectMeta> = {}): k8s.V1Pod {
  return {
    metadata: {
      name,
      labels: { app: name, [SIM_MODE_LABEL]: mode, ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences } : {}),
    },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
}

describe('the Kubernetes collector against a real API server', () => {
  let kube: KubeHandle;
  let dir: string;
  let backend: Backend;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let collector: KubeCollector | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  async function readRaw(): Promise<Raw[]> {
    const out: Raw[] = [];
    const [info] = await backend.log.describeTopics(['hetu.raw.kube']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.raw.kube', p.partition))
        out.push({
          partition: p.partition,
          key: r.key!.toString(),
          value: await backend.serde.decode(r.value!, 'WatchObserved'),
        });
    return out.sort((a, b) => a.value.ts - b.value.ts);
  }

  async function readFacts(): Promise<Fact[]> {
    const out: Fact[] = [];
    const [info] = await backend.log.describeTopics(['hetu.facts.pod-health']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.facts.pod-health', p.partition))
        out.push({
          key: r.key!.toString(),
          value:
            r.value === null
              ? null
              : ((await backend.serde.decode(r.value, 'PodHealth')) as unknown as Record<string, unknown>),
        });
    return out;
  }

  /** Runs the real kube processor to the end of what the collector wrote. */
  async function runKubeStage(): Promise<void> {
    await collector?.flushed();
    const kubeStage = pipelineStages(backend).find(([name]) => name === 'kube')![1];
    const rt = new ProcessorRuntime({
      log: backend.log,
      processor: kubeStage,
      encodeFact: avroFactEncoder(backend.serde),
      encodeDeadLetter: avroDeadLetterEncoder(backend.serde),
      maxBatchRecords: 2000,
    });
    const sub = await rt.start();
    try {
      await sub.whenCaughtUp(60_000);
    } finally {
      await rt.close();
    }
  }

  /** Facts per pod key, for pods of NS. */
  function factsOf(facts: Fact[], pod: string): Fact[] {
    return facts.filter((f) => f.key === `${CLUSTER}/${NS}/${pod}`);
  }

  const fingerprint = (v: Record<string, unknown>) =>
    JSON.stringify([
      v['uid'],
      v['node'],
      v['phase'],
      v['workload'],
      v['categories'],
      v['restarts'],
      v['reasons'],
    ]);

  function newCollector(extra: { resyncMs?: number; kubeConfig?: k8s.KubeConfig } = {}): KubeCollector {
    return createKubeCollector({
      ...(extra.kubeConfig ? { kubeConfig: extra.kubeConfig } : { kubeconfig: kube.kubeconfig }),
      cluster: CLUSTER,
      log: backend.log,
      serde: backend.serde,
      ...(extra.resyncMs === undefined ? {} : { resyncMs: extra.resyncMs }),
    });
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({ binDir: layout.binDir, pidDir: layout.pidDir, stagesDir: layout.stagesDir });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    dir = mkdtempSync(join(tmpdir(), 'hetu-collect-kube-'));
    backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    await createCatalogueTopics(backend.log);
  }, 300_000);

  afterAll(async () => {
    await collector?.close();
    await backend?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.off('unhandledRejection', onUnhandled);
  }, 60_000);

  it('lists then watches every kind: objects created through the API arrive with the catalogue keys and markers', async () => {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const dep = await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: { containers: [{ name: 'api', image: 'registry.example/api:1.0' }] },
          },
        },
      },
    });
    const rs = await apps.createNamespacedReplicaSet({
      namespace: NS,
      body: {
        metadata: {
          name: 'api-5d8f7',
          labels: { app: 'api', 'pod-template-hash': '5d8f7' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: 'api',
              uid: dep.metadata!.uid!,
              controller: true,
            },
          ],
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api', 'pod-template-hash': '5d8f7' } },
          template: {
            metadata: { labels: { app: 'api', 'pod-template-hash': '5d8f7' } },
            spec: { containers: [{ name: 'api', image: 'registry.example/api:1.0' }] },
          },
        },
      },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: podBody('api-5d8f7-x2k9q', 'running', {
        labels: { 'pod-template-hash': '5d8f7' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'api-5d8f7',
            uid: rs.metadata!.uid!,
            controller: true,
          },
        ],
      }),
    });

    await waitFor(
      'pod api-5d8f7-x2k9q Running',
      () => core.readNamespacedPod({ namespace: NS, name: 'api-5d8f7-x2k9q' }),
      (p) => p.status?.phase === 'Running',
    );
    collector = newCollector();
    await collector.start();
    // Created after the initial list: arrives through the watch.
    await core.createNamespacedPod({ namespace: NS, body: podBody('web', 'running') });

    const raw = await waitFor('pod web Running in hetu.raw.kube', readRaw, (rs) =>
      rs.some(
        (r) => r.value.kind === 'Pod' && r.value.name === 'web' && r.value.object?.includes('"Running"'),
      ),
    );
    const status = collector.status();
    expect(status.kinds.map((k) => [k.kind, k.state])).toEqual(status.kinds.map((k) => [k.kind, 'watching']));
    expect(status.kinds.length).toBe(21);
    expect(unhandled).toEqual([]);

    const obs = (kind: string, name: string) =>
      raw.filter((r) => r.value.kind === kind && r.value.name === name);
    const first = (kind: string, name: string) => obs(kind, name)[0]!;
    expect([first('Namespace', NS).key, first('Namespace', NS).value.type]).toEqual([
      'it/Namespace/shop',
      'SYNCED',
    ]);
    expect([first('Deployment', 'api').key, first('Deployment', 'api').value.apiVersion]).toEqual([
      'it/shop/api',
      'apps/v1',
    ]);
    expect(first('ReplicaSet', 'api-5d8f7').key).toBe('it/shop/api');
    expect(first('Pod', 'api-5d8f7-x2k9q').key).toBe('it/shop/api');
    expect([first('Pod', 'web').key, first('Pod', 'web').value.type]).toEqual(['it/shop/web', 'ADDED']);
    expect(first('Node', NODE).key).toBe(`it/Node/${NODE}`);
    const pod = first('Pod', 'api-5d8f7-x2k9q').value;
    const served = JSON.parse(pod.object!) as k8s.V1Pod;
    expect([served.apiVersion, served.kind, served.metadata?.uid, served.metadata?.resourceVersion]).toEqual([
      'v1',
      'Pod',
      pod.uid,
      pod.resourceVersion,
    ]);

    // GAP (collector started), SYNC_BEGIN and SYNC_END of Pod on each of the 3 partitions, in that order.
    const podMarkers = raw.filter((r) => r.value.kind === 'Pod' && r.value.object === null);
    expect(
      [0, 1, 2].map((p) =>
        podMarkers.filter((m) => m.partition === p).map((m) => [m.key, m.value.type, m.value.namespace]),
      ),
    ).toEqual(
      [0, 1, 2].map(() => [
        ['it/Pod', 'GAP', null],
        ['it/Pod', 'SYNC_BEGIN', null],
        ['it/Pod', 'SYNC_END', null],
      ]),
    );
    const begin = podMarkers.find((m) => m.value.type === 'SYNC_BEGIN')!.value;
    expect(begin.resourceVersion).toMatch(/^\d+$/);
    expect(podMarkers.find((m) => m.value.type === 'GAP')!.value.detail).toMatch(/^collector started/);
  });

  it('turns a pod driven into CrashLoopBackOff by kwok into a crashloop pod-health fact through the kube processor', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: podBody('crash', 'crashloop', { annotations: { [SIM_ANNOTATIONS.restartEvery]: '1s' } }),
    });
    await waitFor('pod crash in CrashLoopBackOff in hetu.raw.kube', readRaw, (rs) =>
      rs.some(
        (r) =>
          r.value.kind === 'Pod' && r.value.name === 'crash' && r.value.object?.includes('CrashLoopBackOff'),
      ),
    );
    await runKubeStage();
    const facts = factsOf(await readFacts(), 'crash');
    const crash = facts.filter((f) =>
      (f.value?.['categories'] as string[] | undefined)?.includes('crashloop'),
    );
    expect(crash.length).toBeGreaterThan(0);
    expect(crash[0]!.value!['workload']).toEqual({
      kind: 'Pod',
      namespace: NS,
      name: 'crash',
      inferred: false,
    });
    const api = factsOf(await readFacts(), 'api-5d8f7-x2k9q');
    // The ReplicaSet was listed before the Pod, so the workload is known, not inferred from names.
    expect(api.map((f) => [f.value?.['phase'], f.value?.['workload']])).toEqual([
      ['Running', { kind: 'Deployment', namespace: NS, name: 'api', inferred: false }],
    ]);
  });

  it('converges after a forced relist, a cut watch and a collector restart, with no duplicate facts', async () => {
    await core.deleteNamespacedPod({ namespace: NS, name: 'crash', gracePeriodSeconds: 0 });
    await waitFor(
      'crash pod gone from the server',
      () => core.listNamespacedPod({ namespace: NS }),
      (l) => l.items.every((p) => p.metadata?.name !== 'crash'),
    );
    await runKubeStage();
    const stable = ['api-5d8f7-x2k9q', 'web'];
    const before = await readFacts();
    const counts = (fs: Fact[]) => stable.map((p) => factsOf(fs, p).length);
    const podLists = () => collector!.status().kinds.find((k) => k.kind === 'Pod')!.fullLists;
    const podSynced = (rs: Raw[]) =>
      rs.filter((r) => r.value.kind === 'Pod' && r.value.type === 'SYNCED').length;

    // Forced relist: every pod is SYNCED again, and no new fact.
    const syncedBefore = podSynced(await readRaw());
    collector!.relist();
    await waitFor(
      'second Pod list',
      async () => podLists(),
      (n) => n === 2,
    );
    await runKubeStage();
    const afterRelist = await readRaw();
    expect(podSynced(afterRelist) - syncedBefore).toBe(2);
    expect(
      afterRelist.filter((r) => r.value.kind === 'Pod' && r.value.type === 'GAP').map((r) => r.value.detail),
    ).toContain('relist forced by the operator');
    expect(counts(await readFacts())).toEqual(counts(before));

    // A cut watch connection: resumed from the last resourceVersion — no GAP, no list, no new
    // fact — and a change made after the cut arrives through the resumed watch.
    const podStatus = () => collector!.status().kinds.find((k) => k.kind === 'Pod')!;
    const beforeCut = podStatus();
    const rawBeforeCut = (await readRaw()).length;
    collector!.cutWatches();
    await waitFor(
      'Pod watch resumed',
      async () => podStatus(),
      (s) => s.resumes > beforeCut.resumes && s.state === 'watching',
    );
    const web = await core.readNamespacedPod({ namespace: NS, name: 'web' });
    web.metadata!.annotations = { ...web.metadata!.annotations, 'hetu.test/touched': 'after-cut' };
    await core.replaceNamespacedPod({ namespace: NS, name: 'web', body: web });
    await waitFor(
      'the change after the cut',
      async () => {
        await collector!.flushed();
        return (await readRaw()).slice(rawBeforeCut);
      },
      (rs) => rs.some((r) => r.value.type === 'MODIFIED' && r.value.name === 'web'),
    );
    const afterCut = (await readRaw()).slice(rawBeforeCut);
    expect(afterCut.filter((r) => r.value.kind === 'Pod').map((r) => r.value.type)).not.toContain('GAP');
    expect(afterCut.filter((r) => r.value.kind === 'Pod').map((r) => r.value.type)).not.toContain('SYNCED');
    expect([podStatus().fullLists, podStatus().relists, podStatus().gaps]).toEqual([
      beforeCut.fullLists,
      beforeCut.relists,
      beforeCut.gaps,
    ]);
    await runKubeStage();
    expect(counts(await readFacts())).toEqual(counts(before));
    await waitFor(
      'every kind watching again',
      async () => collector!.status().kinds.map((k) => k.state),
      (states) => states.every((st) => st === 'watching'),
    );

    // Collector down while a pod is deleted and another created; a new collector converges.
    await collector!.close();
    await core.deleteNamespacedPod({ namespace: NS, name: 'web', gracePeriodSeconds: 0 });
    await core.createNamespacedPod({ namespace: NS, body: podBody('late', 'running') });
    await waitFor(
      'pod late Running',
      () => core.readNamespacedPod({ namespace: NS, name: 'late' }),
      (p) => p.status?.phase === 'Running',
    );
    collector = newCollector({ resyncMs: 1500 });
    await collector.start();
    await runKubeStage();
    const facts = await readFacts();
    const last = new Map<string, Fact['value']>();
    for (const f of facts) last.set(f.key, f.value);
    const live = new Set(
      (await core.listNamespacedPod({ namespace: NS })).items.map(
        (p) => `${CLUSTER}/${NS}/${p.metadata!.name}`,
      ),
    );
    const known = new Set(
      [...last].filter(([k, v]) => k.startsWith(`${CLUSTER}/${NS}/`) && v !== null).map(([k]) => k),
    );
    expect([...known].sort()).toEqual([...live].sort());
    expect([...live].sort()).toEqual(['it/shop/api-5d8f7-x2k9q', 'it/shop/late']);
    expect(factsOf(facts, 'api-5d8f7-x2k9q').length).toBe(factsOf(before, 'api-5d8f7-x2k9q').length);
    // No two consecutive facts of a pod say the same thing.
    const byKey = new Map<string, string[]>();
    for (const f of facts) {
      if (f.value === null) continue;
      const list = byKey.get(f.key) ?? [];
      list.push(fingerprint(f.value));
      byKey.set(f.key, list);
    }
    for (const [key, prints] of byKey)
      for (let i = 1; i < prints.length; i++)
        expect(`${key} ${prints[i]}`).not.toBe(`${key} ${prints[i - 1]}`);

    // Resyncs every 1.5 s append nothing for unchanged objects.
    const nsCount = (rs: Raw[]) =>
      rs.filter((r) => r.value.kind === 'Namespace' && r.value.name === NS).length;
    const nsBefore = nsCount(await readRaw());
    await waitFor(
      'two Namespace resyncs',
      async () => collector!.status().kinds.find((k) => k.kind === 'Namespace')!.resyncs,
      (n) => n >= 2,
    );
    await collector.flushed();
    expect(nsCount(await readRaw())).toBe(nsBefore);
    expect(unhandled).toEqual([]);
  });

  it('reports a kind its credentials may not list as forbidden, and keeps watching the others', async () => {
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'limited' } } });
    const rbac = new k8s.KubeConfig();
    rbac.loadFromFile(kube.kubeconfig);
    const rbacApi = rbac.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbacApi.createClusterRole({
      body: {
        metadata: { name: 'hetu-limited' },
        rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbacApi.createClusterRoleBinding({
      body: {
        metadata: { name: 'hetu-limited' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'hetu-limited' },
        subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: NS }],
      },
    });
    const tr = await kubeRequest(kube, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/limited/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    expect(tr.status).toBe(201);
    const token = (JSON.parse(tr.text) as { status: { token: string } }).status.token;
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'it', server: kube.server, caData: Buffer.from(kube.ca).toString('base64') }],
      users: [{ name: 'limited', token }],
      contexts: [{ name: 'limited', cluster: 'it', user: 'limited' }],
      currentContext: 'limited',
    });
    await collector?.close();
    collector = newCollector({ kubeConfig: kc });
    await collector.start();
    const byState = new Map<string, string[]>();
    for (const k of collector.status().kinds) byState.set(k.state, [...(byState.get(k.state) ?? []), k.kind]);
    expect(byState.get('watching')).toEqual(['Namespace', 'Pod']);
    expect(byState.get('forbidden')?.length).toBe(19);
    const node = collector.status().kinds.find((k) => k.kind === 'Node')!;
    expect(node.message).toContain('forbidden');
    expect(node.message).toContain('system:serviceaccount:shop:limited');
    expect(unhandled).toEqual([]);
    await collector.close();
    collector = undefined;
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
