/**
 * For the kube collector's fault tests (cli/src/collect-kube-faults.int.test.ts,
 * test/faults/kube-churn.int.test.ts): what the kube processor made of the pods under a key
 * prefix — its state (the changelog) and its pod-health facts, read incrementally from the log —
 * and how that differs from the API server's pods.
 */
import type { Subscription } from '@hetu/streams';
import { KUBE_CHANGELOG, POD_HEALTH_TOPIC, trimPod } from '@hetu/processors/kube';
import type { Backend } from './backend.ts';
import { pipelineStages, stageRuntime } from './stages.ts';

type Json = Record<string, unknown>;

export interface KubeView {
  /** Pod id (the key after the prefix) → its trimmed pod in the processor's state, as JSON. */
  readonly statePods: Map<string, string>;
  /** Pod id → uid and phase of its latest pod-health fact. */
  readonly facts: Map<string, { uid: string | null; phase: string | null }>;
  /** Pods whose pod-health fact was written twice in a row with nothing a consumer cares about changed. */
  readonly repeatedFacts: string[];
  /** Reads what the changelog and the pod-health topic got since the last call. */
  refresh(): Promise<void>;
  /**
   * What differs from the server's pods (`server`: id → pod) among the ids `mine` accepts, and
   * between the collector's cached pods and the server's count.
   */
  differences(server: Map<string, Json>, cachedPods: number, mine?: (id: string) => boolean): string[];
}

/** A view of the pods whose fact keys start with `prefix` (`<cluster>/` or `<cluster>/<ns>/`). */
export function kubeView(backend: Backend, prefix: string): KubeView {
  const statePods = new Map<string, string>();
  const facts = new Map<string, { uid: string | null; phase: string | null }>();
  const repeatedFacts: string[] = [];
  const lastCares = new Map<string, string>();
  const offsets = new Map<string, bigint>();
  const readNew = async (topic: string, f: (key: string, value: Buffer | null) => Promise<void> | void) => {
    const [info] = await backend.log.describeTopics([topic]);
    for (const p of info!.partitions) {
      const id = `${topic}/${p.partition}`;
      for (;;) {
        const chunk = await backend.log.read(topic, p.partition, {
          fromOffset: offsets.get(id) ?? 0n,
          maxRecords: 20_000,
        });
        if (chunk.length === 0) break;
        for (const r of chunk) if (r.key !== null) await f(r.key.toString(), r.value);
        offsets.set(id, chunk[chunk.length - 1]!.offset + 1n);
      }
    }
  };
  return {
    statePods,
    facts,
    repeatedFacts,
    async refresh() {
      await readNew(KUBE_CHANGELOG, (key, value) => {
        if (!key.startsWith(`p/${prefix}`)) return;
        const id = key.slice(`p/${prefix}`.length);
        if (value === null) statePods.delete(id);
        else statePods.set(id, JSON.stringify((JSON.parse(value.toString()) as { pod: unknown }).pod));
      });
      await readNew(POD_HEALTH_TOPIC, async (key, value) => {
        if (!key.startsWith(prefix)) return;
        const id = key.slice(prefix.length);
        if (value === null) {
          facts.delete(id);
          lastCares.delete(id);
          return;
        }
        const v = await backend.serde.decode(value, 'PodHealth');
        facts.set(id, { uid: v.uid, phase: v.phase });
        // the fields the processor compares before it publishes (podCares in processors/src/kube/topology.ts)
        const cares = JSON.stringify([
          v.uid,
          v.node,
          v.phase,
          v.workload,
          v.categories,
          v.reasons,
          v.restarts,
        ]);
        if (lastCares.get(id) === cares) repeatedFacts.push(id);
        lastCares.set(id, cares);
      });
    },
    differences(server, cachedPods, mine = () => true) {
      const out: string[] = [];
      for (const [id, p] of server) {
        if (!mine(id)) continue;
        if (statePods.get(id) !== JSON.stringify(trimPod(p))) out.push(`state ${id}`);
        const meta = p['metadata'] as { uid: string };
        const status = p['status'] as { phase?: string } | undefined;
        const f = facts.get(id);
        if (f?.uid !== meta.uid || f.phase !== (status?.phase ?? null)) out.push(`fact ${id}`);
      }
      for (const id of statePods.keys()) if (mine(id) && !server.has(id)) out.push(`state ${id} (gone)`);
      for (const id of facts.keys()) if (mine(id) && !server.has(id)) out.push(`fact ${id} (gone)`);
      if (cachedPods !== server.size) out.push(`collector cache ${cachedPods} ≠ ${server.size}`);
      return out;
    },
  };
}

/** The pipeline's `kube` stage running on `backend` (batches of 2 000), as `hetu start` runs it. */
export async function startKubeStage(
  backend: Backend,
): Promise<{ readonly sub: Subscription; close(): Promise<void> }> {
  const stage = pipelineStages(backend).find(([name]) => name === 'kube')![1];
  const rt = stageRuntime(backend, stage);
  return { sub: await rt.start(), close: () => rt.close() };
}
