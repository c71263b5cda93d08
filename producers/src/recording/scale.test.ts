import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { podHealth } from '@hetu/processors/health';
import type { KubePod } from '@hetu/processors/health';
import { readRecording, readRecordingStream } from './reader.ts';
import type { RecordingItem } from './reader.ts';
import { generateScaleObservations, generateScaleRecording, writeScaleRecording } from './scale.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function take<T>(it: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const x of it) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

function count(it: Iterable<unknown>): number {
  let n = 0;
  for (const _ of it) n++;
  return n;
}

async function readAll(text: string): Promise<RecordingItem[]> {
  const buf = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 65_536) chunks.push(buf.subarray(i, i + 65_536));
  const items: RecordingItem[] = [];
  for await (const item of readRecordingStream(chunks)) items.push(item);
  return items;
}

describe('generateScaleRecording', () => {
  it('is deterministic for a seed: the first 20 000 lines of the default 1 000 000 / 2 000 recording', () => {
    const first = sha(take(generateScaleRecording({ seed: 7 }), 20_000).join('\n'));
    const again = sha(take(generateScaleRecording({ seed: 7 }), 20_000).join('\n'));
    const other = sha(take(generateScaleRecording({ seed: 8 }), 20_000).join('\n'));
    expect(again).toBe(first);
    expect(first).toBe('038e12214a376df2e3eebf6724ce9acf938e7d85b2593775ed280aa302a32b72');
    expect(other).not.toBe(first);
  });

  it('gives exactly the requested number of observations', () => {
    for (const n of [0, 1, 137, 5_000])
      expect(count(generateScaleRecording({ pods: 50, observations: n }))).toBe(n);
    expect(count(generateScaleRecording({ pods: 300, observations: 12_345, seed: 3 }))).toBe(12_345);
  });

  it('rejects options it cannot honour', () => {
    expect(() => count(generateScaleRecording({ pods: 5 }))).toThrow(/pods 5/);
    expect(() => count(generateScaleRecording({ observations: 1.5 }))).toThrow(/observations 1.5/);
  });

  it('reads back with no dead letter, in non-decreasing ts, every log line resolved to its workload', async () => {
    const text = `${[...generateScaleRecording({ pods: 50, observations: 5_000 })].join('\n')}\n`;
    const items = await readAll(text);
    const topics: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    let dead = 0;
    let decreasing = 0;
    let unresolved = 0;
    let last = -Infinity;
    for (const i of items) {
      if (i.kind === 'dead-letter') {
        dead++;
        continue;
      }
      topics[i.topic] = (topics[i.topic] ?? 0) + 1;
      if (i.value.ts < last) decreasing++;
      last = i.value.ts;
      if (i.topic === 'hetu.raw.kube') kinds[i.value.kind] = (kinds[i.value.kind] ?? 0) + 1;
      if (i.topic === 'hetu.raw.logs' && i.value.workload === null) unresolved++;
    }
    expect({ items: items.length, dead, decreasing, unresolved }).toEqual({
      items: 5_000,
      dead: 0,
      decreasing: 0,
      unresolved: 0,
    });
    expect(topics).toEqual({ 'hetu.raw.kube': 390, 'hetu.raw.metrics': 3_064, 'hetu.raw.logs': 1_546 });
    expect(kinds).toEqual({
      ClusterRole: 4,
      ClusterRoleBinding: 2,
      DaemonSet: 3,
      Deployment: 9,
      Endpoints: 33,
      Event: 132,
      HorizontalPodAutoscaler: 19,
      LimitRange: 1,
      Namespace: 6,
      Node: 6,
      PersistentVolumeClaim: 3,
      Pod: 135,
      ReplicaSet: 20,
      ResourceQuota: 1,
      Service: 6,
      ServiceAccount: 9,
      StatefulSet: 1,
    });
  });

  it('puts the scenario pods in their SPEC §2 categories (20 000 observations, 200 pods)', () => {
    const pods = new Map<string, KubePod>();
    let now = 0;
    const metrics = new Set<string>();
    for (const o of generateScaleObservations({ pods: 200, observations: 20_000 })) {
      now = o.ts;
      if (o.kind === 'metric') metrics.add(o.name);
      if (o.kind !== 'watch' || typeof o.object !== 'string') continue;
      const obj = JSON.parse(o.object) as KubePod & { kind: string };
      if (obj.kind !== 'Pod') continue;
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (o.type === 'DELETED') pods.delete(key);
      else pods.set(key, obj);
    }
    const categories: Record<string, string[]> = {};
    for (const [key, pod] of pods)
      for (const c of podHealth(pod, now).categories) (categories[c] ??= []).push(key);
    for (const keys of Object.values(categories)) keys.sort();
    // One pod per scenario (crash loop, OOM, image pull, unschedulable), and the few pods that
    // restarted more than five times before the recording started.
    expect(categories).toEqual({
      crashloop: ['payments/quotes-nkkps4wwt6-fx9sm'],
      oomkilled: ['payments/orders-8jqtpxqq4h-nr8dl'],
      imagepull: ['shop/stock-bwpl5jzbg-8qz7q'],
      pending: ['shop/batch-exporter-tnznsskjg-8bl5l'],
      'high-restarts': ['kube-system/kube-proxy-mjlpx', 'shop/stock-6kglg5gx45-fzxd9'],
    });
    expect([...metrics].sort()).toEqual([
      'coredns_cache_hit_ratio',
      'coredns_nxdomain_ratio',
      'cpu_throttled_ratio',
      'cpu_usage_cores',
      'gc_pause_seconds',
      'http_error_ratio',
      'http_p95_latency_seconds',
      'http_request_rate',
      'memory_working_set_bytes',
      'node_cpu_utilisation',
      'node_memory_utilisation',
      'pvc_capacity_bytes',
      'pvc_used_bytes',
    ]);
  });

  it('writes a gzip recording that readRecording reads whole', async () => {
    const file = join(dir, 'scale.jsonl.gz');
    const stats = await writeScaleRecording(file, { pods: 50, observations: 3_000, seed: 11 });
    let observations = 0;
    let dead = 0;
    for await (const item of readRecording(file)) {
      if (item.kind === 'observation') observations++;
      else dead++;
    }
    expect({ observations, dead }).toEqual({ observations: 3_000, dead: 0 });
    expect(stats.observations).toBe(3_000);
    expect(stats.watch + stats.metric + stats.log).toBe(3_000);
    expect(stats.bytes).toBeGreaterThan(0);
    expect(new Date(stats.firstTs).toISOString()).toBe('2026-11-26T08:00:00.000Z');
  });
});
