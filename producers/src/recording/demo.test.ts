import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateDemo } from './demo.ts';
import { readRecordingStream } from './reader.ts';
import type { RecordingItem } from './reader.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const demo = generateDemo();

async function readAll(text: string): Promise<RecordingItem[]> {
  const items: RecordingItem[] = [];
  // Feed it in 64 KiB chunks, as a file stream would.
  const buf = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 65_536) chunks.push(buf.subarray(i, i + 65_536));
  for await (const item of readRecordingStream(chunks)) items.push(item);
  return items;
}

describe('generateDemo', () => {
  it('is deterministic: two runs give identical bytes', () => {
    expect(sha(generateDemo().text)).toBe(sha(demo.text));
    expect(demo.text.length).toBe(5_375_957);
  });

  it('matches the committed demo/demo.jsonl.gz (regenerate with node scripts/gen-demo.ts)', () => {
    const committed = gunzipSync(
      readFileSync(new URL('../../../demo/demo.jsonl.gz', import.meta.url)),
    ).toString('utf8');
    expect(sha(committed)).toBe(sha(demo.text));
    const manifest = JSON.parse(
      readFileSync(new URL('../../../demo/scenarios.json', import.meta.url), 'utf8'),
    ) as {
      scenarios: unknown;
    };
    expect(manifest.scenarios).toEqual(demo.scenarios);
  });

  it('reads back with no dead letter, in non-decreasing ts, with the documented counts', async () => {
    const items = await readAll(demo.text);
    const counts: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    let dead = 0;
    let decreasing = 0;
    let last = -Infinity;
    for (const i of items) {
      if (i.kind === 'dead-letter') {
        dead++;
        continue;
      }
      counts[i.topic] = (counts[i.topic] ?? 0) + 1;
      if (i.value.ts < last) decreasing++;
      last = i.value.ts;
      if (i.topic === 'hetu.raw.kube') kinds[i.value.kind] = (kinds[i.value.kind] ?? 0) + 1;
    }
    expect({ dead, decreasing }).toEqual({ dead: 0, decreasing: 0 });
    expect(counts).toEqual({ 'hetu.raw.kube': 695, 'hetu.raw.metrics': 18_119, 'hetu.raw.logs': 2_965 });
    expect(kinds).toEqual({
      ClusterRole: 4,
      ClusterRoleBinding: 2,
      CronJob: 7,
      DaemonSet: 2,
      Deployment: 14,
      Endpoints: 51,
      Event: 340,
      HorizontalPodAutoscaler: 2,
      Job: 6,
      LimitRange: 1,
      Namespace: 5,
      NetworkPolicy: 3,
      Node: 6,
      PersistentVolumeClaim: 2,
      Pod: 217,
      ReplicaSet: 10,
      ResourceQuota: 2,
      Service: 7,
      ServiceAccount: 13,
      StatefulSet: 1,
    });
    const tsOf = (i: RecordingItem | undefined): number | undefined =>
      i?.kind === 'observation' ? i.value.ts : undefined;
    expect([tsOf(items.at(0)), tsOf(items.at(-1))]).toEqual([
      Date.parse('2026-11-26T08:00:00.000Z'),
      Date.parse('2026-11-26T10:00:00.000Z'),
    ]);
  });

  it('resolves every log line to its workload and assigns increasing resourceVersions', async () => {
    const items = await readAll(demo.text);
    const logs: Record<string, number> = {};
    let lastRv = 0;
    let rvOk = true;
    for (const i of items) {
      if (i.kind !== 'observation') continue;
      if (i.topic === 'hetu.raw.logs') {
        const k = `${i.value.workloadKind}/${i.value.namespace}/${i.value.workload}`;
        logs[k] = (logs[k] ?? 0) + 1;
      } else if (i.topic === 'hetu.raw.kube') {
        const rv = Number(i.value.resourceVersion);
        if (!(rv > lastRv)) rvOk = false;
        lastRv = rv;
      }
    }
    expect(rvOk).toBe(true);
    expect(logs).toEqual({
      'CronJob/platform/db-backup': 9,
      'DaemonSet/platform/node-agent': 68,
      'Deployment/kube-system/coredns': 59,
      'Deployment/payments/ledger': 268,
      'Deployment/platform/notifier': 48,
      'Deployment/shop/api': 535,
      'Deployment/shop/cart': 58,
      'Deployment/shop/checkout': 706,
      'Deployment/shop/search': 1_203,
      'StatefulSet/payments/ledger-db': 11,
    });
  });

  it('shows each scenario as a real API server would', () => {
    const lines = demo.text.split('\n');
    const has = (...parts: string[]): number => lines.filter((l) => parts.every((p) => l.includes(p))).length;
    // (a) OOMKilled cart, then CrashLoopBackOff; the leak shows in its logs.
    expect(
      has(
        '"object":{"kind":"Pod"',
        '"name":"cart-',
        '"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled"',
      ),
    ).toBe(47);
    expect(has('"object":{"kind":"Pod"', '"name":"cart-', '"waiting":{"reason":"CrashLoopBackOff"')).toBe(15);
    expect(has('"kind":"log"', '"container":"cart"', 'session cache holds')).toBe(17);
    // (b) the rollout: the new image in the Deployment (3 updates) and a Go panic per crash.
    expect(
      has('"object":{"kind":"Deployment"', '"name":"checkout"', 'checkout:v1.5.0', '"generation":2'),
    ).toBe(3);
    expect(
      has('"kind":"log"', 'panic: runtime error: invalid memory address or nil pointer dereference'),
    ).toBe(20);
    // (c) callers of ledger: timeouts, then connection refused.
    expect(has('"kind":"log"', 'timed out after 5000ms', 'ledger.payments.svc')).toBe(37);
    expect(has('"kind":"log"', 'ECONNREFUSED', 'ledger.payments.svc')).toBe(190);
    // (d) one Failed event, repeated 11 times (count 1..11); (e) FailedScheduling every 5 min.
    expect(has('"reason":"Failed"', 'manifest unknown')).toBe(11);
    expect(has('"reason":"FailedScheduling"', '0/3 nodes are available: 3 Insufficient memory.')).toBe(6);
    // (f) node-2 Ready Unknown (then tainted).
    expect(has('"object":{"kind":"Node"', '"name":"node-2"', '"type":"Ready","status":"Unknown"')).toBe(2);
    // (g) missing configuration, one line per start.
    expect(has('"kind":"log"', 'FATAL missing required env SMTP_HOST')).toBe(6);
    // (h) hundreds of timeouts in the storm.
    expect([
      has('"kind":"log"', '"pod":"search-', 'upstream timed out'),
      has('"kind":"log"', '"pod":"search-', 'ReadTimeout'),
      has('"kind":"log"', '"pod":"search-', 'WORKER TIMEOUT'),
    ]).toEqual([192, 85, 79]);
  });
});
