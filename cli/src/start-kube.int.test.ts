/**
 * `hetu start` with a reachable cluster (issue H, item 1): the collectors watch it instead of the
 * demo playing, and what they see reaches the GraphQL API — against the real API server + kwok.
 */
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startHetu, useKubeStack } from './testing-kube.ts';
import { SIM_MODE_LABEL } from '../../infra/src/index.ts';

describe('hetu start on a cluster', () => {
  const stack = useKubeStack('start-kube');

  it('watches the cluster (no demo), and a crash-looping pod shows in the API as an open incident', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await core.createNamespacedPod({
      namespace: 'shop',
      body: {
        metadata: { name: 'worker', labels: { app: 'worker', [SIM_MODE_LABEL]: 'crashloop' } },
        spec: {
          nodeName: stack.kube.nodes[0]!,
          containers: [{ name: 'app', image: 'registry.example/worker:1.0' }],
        },
      },
    });

    const hetu = await startHetu(stack);
    const query = (q: string) => hetu.query(q);
    try {
      // The pod crash-loops (kwok), the collector sees it, the stages make an incident of it.
      const deadline = Date.now() + 120_000;
      let overview: Record<string, unknown> = {};
      for (;;) {
        overview = (await query('{ clusters overview(cluster: "it") { openIncidents } }')) ?? {};
        const o = overview['overview'] as { openIncidents: number } | undefined;
        if ((o?.openIncidents ?? 0) > 0) break;
        if (Date.now() > deadline) throw new Error(`no incident within 120 s; hetu said:\n${hetu.out()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(overview['clusters']).toEqual(['it']);
      expect(hetu.out()).toContain('watching Kubernetes context');
      expect(hetu.out()).toContain('as cluster it');
      expect(hetu.out()).not.toContain('playing the demo');
      const incidents = (await query('{ incidents(cluster: "it") { nodes { title status } } }')) as {
        incidents: { nodes: { title: string; status: string }[] };
      };
      expect(incidents.incidents.nodes.map((i) => i.status)).toContain('open');
      expect(incidents.incidents.nodes.some((i) => i.title.includes('worker'))).toBe(true);
    } finally {
      await hetu.stop();
    }
  }, 300_000);
});
