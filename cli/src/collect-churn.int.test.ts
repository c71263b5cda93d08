/**
 * A churn of 1 000 pods (issue G: "a churn of 1 000 pods converges") against the real API server +
 * kwok: the Kubernetes collector and the kube processor end with exactly the server's pods, with a
 * forced relist in the middle of the churn and a small buffer bound (500 observations).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeCollector, type KubeCollector } from '@hetu/producers/kube';
import { killStaleProcesses, locateKube, startKube, type KubeHandle } from '../../infra/src/index.ts';
import { createCatalogueTopics, openBackend, type Backend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';
import { pipelineStages, stageRuntime } from './stages.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'churn';
const PODS = 1_000;
const DELETED = 300;

describe('the Kubernetes collector under a churn of 1 000 pods', () => {
  let kube: KubeHandle;
  let dir: string;
  let backend: Backend;
  let collector: KubeCollector | undefined;

  beforeAll(async () => {
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({ binDir: layout.binDir, pidDir: layout.pidDir, stagesDir: layout.stagesDir });
    dir = mkdtempSync(join(tmpdir(), 'hetu-churn-'));
    backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    await createCatalogueTopics(backend.log);
  }, 300_000);

  afterAll(async () => {
    await collector?.close();
    await backend?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The pods the kube processor holds a live health fact for (after running it to the end). */
  async function podsInFacts(): Promise<Set<string>> {
    await collector?.flushed();
    const stage = pipelineStages(backend).find(([name]) => name === 'kube')![1];
    const rt = stageRuntime(backend, stage);
    try {
      await (await rt.start()).whenCaughtUp(120_000);
    } finally {
      await rt.close();
    }
    const live = new Map<string, boolean>();
    const [info] = await backend.log.describeTopics(['hetu.facts.pod-health']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.facts.pod-health', p.partition)) {
        const key = r.key!.toString();
        if (key.startsWith(`it/${NS}/`)) live.set(key.slice(`it/${NS}/`.length), r.value !== null);
      }
    return new Set([...live].filter(([, alive]) => alive).map(([name]) => name));
  }

  it('ends with exactly the server’s pods after creating 1 000, deleting 300 and a forced relist mid-churn', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    collector = createKubeCollector({
      kubeconfig: kube.kubeconfig,
      cluster: 'it',
      log: backend.log,
      serde: backend.serde,
      maxBuffered: 500,
    });
    await collector.start();
    const names = Array.from({ length: PODS }, (_, i) => `p-${String(i).padStart(4, '0')}`);
    const inBatches = async (list: string[], f: (name: string) => Promise<unknown>) => {
      for (let i = 0; i < list.length; i += 25) await Promise.all(list.slice(i, i + 25).map(f));
    };
    await inBatches(names.slice(0, PODS / 2), (name) =>
      core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name, labels: { app: 'churn' } },
          spec: {
            nodeName: kube.nodes[0]!,
            containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
          },
        },
      }),
    );
    collector.relist('Pod');
    await inBatches(names.slice(PODS / 2), (name) =>
      core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name, labels: { app: 'churn' } },
          spec: {
            nodeName: kube.nodes[0]!,
            containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
          },
        },
      }),
    );
    const doomed = names.filter((_, i) => i % 10 < 3); // 300 of them
    expect(doomed.length).toBe(DELETED);
    await inBatches(doomed, (name) =>
      core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 }),
    );

    const truth = async () =>
      new Set((await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata!.name!));
    // Converges: the facts equal the server's pods (bounded wait on the state, not on time).
    const deadline = Date.now() + 180_000;
    let facts = new Set<string>();
    let server = await truth();
    for (;;) {
      facts = await podsInFacts();
      server = await truth();
      if (facts.size === server.size && [...server].every((n) => facts.has(n))) break;
      if (Date.now() > deadline)
        throw new Error(`not converged: ${facts.size} pods in the facts, ${server.size} on the server`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(server.size).toBe(PODS - DELETED);
    expect([...facts].sort()).toEqual([...server].sort());
    const pods = collector.status().kinds.find((k) => k.kind === 'Pod')!;
    expect(pods.state).toBe('watching');
    expect(pods.fullLists).toBeGreaterThanOrEqual(2);
  }, 600_000);
});
