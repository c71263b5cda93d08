/**
 * `hetu record` (issue G, item 4) against the real API server + kwok: what the collectors observe
 * becomes a recording in time order, and the recording replays through `hetu analyze`.
 */
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useKubeStack } from './testing-kube.ts';
import { readRecording } from '@hetu/producers/recording';
import { SIM_MODE_LABEL } from '../../infra/src/index.ts';
import { runRecord, type RecordProgress } from './commands/record.ts';
import { analyze } from './commands/analyze.ts';

describe('hetu record', () => {
  const stack = useKubeStack('record');

  it('writes what the cluster shows, in time order, and the recording replays into an incident', async () => {
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
    const out = join(stack.dir, 'rec.jsonl.gz');
    const progress: RecordProgress[] = [];
    const summary = await runRecord({
      out,
      kube: { kubeconfig: stack.kube.kubeconfig },
      cluster: 'rec',
      durationMs: 6_000,
      progress: (p) => progress.push(p),
    });
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(summary.cluster).toBe('rec');

    const lines: { ts: number; kind: string; type?: string; name?: string }[] = [];
    let dead = 0;
    for await (const item of readRecording(out)) {
      if (item.kind !== 'observation') {
        dead++;
        continue;
      }
      const v = item.value as { ts: number; kind?: string; type: string; name: string };
      lines.push({ ts: v.ts, kind: item.topic, type: v.type, name: v.name });
    }
    expect(dead).toBe(0);
    expect(lines.length).toBe(summary.lines);
    expect(lines.every((l, i) => i === 0 || l.ts >= lines[i - 1]!.ts)).toBe(true);
    // The pod, listed (already crash-looping by then) or added, and any later status change.
    const pod = lines.filter((l) => l.kind === 'hetu.raw.kube' && l.name === 'worker');
    expect(pod.length).toBeGreaterThanOrEqual(1);

    const { summary: replayed, result } = await analyze(out);
    expect(replayed).toEqual({ observations: summary.lines, deadLetters: 0, deadLettersByReason: {} });
    const incidents = result['incidents'] as { status: string; signals: { resource: { name: string } }[] }[];
    expect(incidents.some((i) => i.signals.some((s) => s.resource.name === 'worker'))).toBe(true);
  }, 300_000);
});
