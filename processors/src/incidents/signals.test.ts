import { describe, expect, it } from 'vitest';
import { nodeHealth, podHealth } from '../health/index.ts';
import { crashLoopOomPod, NOW, readyNode, runningPod } from '../health/fixtures.ts';
import { IncidentsState, eventSignal, nodeSignals, podSignals, rolloutSignal } from './index.ts';

const EV = [
  { topic: 'hetu.raw.kube', partition: 1, offset: '77', ts: NOW, excerpt: 'MODIFIED Pod shop/api' },
];

describe('podSignals', () => {
  it('emits one signal per category entered and a cleared one per category left', () => {
    const ok = podHealth(runningPod(), NOW);
    const bad = podHealth(crashLoopOomPod(), NOW);
    expect(bad.categories).toEqual(['crashloop', 'oomkilled']);
    const entered = podSignals(ok, bad, NOW, EV);
    expect(entered.map((s) => [s.key, s.kind, s.severity, s.cleared ?? false])).toEqual([
      ['crashloop:shop/api-7d9f8b6c5d-x2k4q', 'crashloop', 'high', false],
      ['oomkilled:shop/api-7d9f8b6c5d-x2k4q', 'oomkilled', 'high', false],
    ]);
    expect(entered[0]).toMatchObject({
      source: 'pod',
      resource: { kind: 'Pod', namespace: 'shop', name: 'api-7d9f8b6c5d-x2k4q' },
      workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
      node: 'worker-1',
      detail: { reason: 'CrashLoopBackOff', container: 'api' },
      evidence: EV,
    });
    expect(podSignals(bad, bad, NOW + 1)).toEqual([]);
    const left = podSignals(bad, ok, NOW + 2);
    expect(left.map((s) => [s.kind, s.cleared])).toEqual([
      ['crashloop', true],
      ['oomkilled', true],
    ]);
    expect(podSignals(bad, null, NOW + 3).every((s) => s.cleared === true)).toBe(true);
  });

  it('feeds the fold: enter opens, leave clears, 10 min later it resolves', () => {
    const st = new IncidentsState();
    const ok = podHealth(runningPod(), NOW);
    const bad = podHealth(crashLoopOomPod(), NOW);
    for (const s of podSignals(null, bad, NOW)) st.apply(s);
    for (const s of podSignals(bad, ok, NOW + 60_000)) st.apply(s);
    expect(st.advance(NOW + 11 * 60_000)[0]).toMatchObject({
      type: 'upserted',
      incident: { status: 'resolved' },
    });
  });
});

describe('nodeSignals', () => {
  it('NotReady is critical; its end is a cleared signal', () => {
    const ready = nodeHealth(readyNode(), NOW);
    const n = readyNode();
    const cond = n.status!.conditions!.find((c) => c.type === 'Ready')!;
    cond.status = 'Unknown';
    cond.lastTransitionTime = '2026-11-26T07:50:00Z';
    const down = nodeHealth(n, NOW);
    const [s] = nodeSignals(ready, down, NOW);
    expect(s).toMatchObject({
      source: 'node',
      key: 'NotReady:worker-1',
      kind: 'node-not-ready',
      severity: 'critical',
      resource: { kind: 'Node', namespace: '', name: 'worker-1' },
      node: 'worker-1',
    });
    expect(nodeSignals(down, ready, NOW + 1).map((x) => [x.key, x.cleared])).toEqual([
      ['NotReady:worker-1', true],
    ]);
  });
});

describe('eventSignal and rolloutSignal', () => {
  it('keys an event by reason and involved object; severity by reason', () => {
    const s = eventSignal({
      involved: { kind: 'Pod', namespace: 'shop', name: 'db-0' },
      workload: { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
      reason: 'FailedScheduling',
      message: '0/3 nodes are available: 3 Insufficient cpu.',
      count: 4,
      ts: NOW,
    });
    expect([s.key, s.kind, s.severity, s.detail.eventCount]).toEqual([
      'FailedScheduling:Pod/shop/db-0',
      'warning-event',
      'medium',
      4,
    ]);
    expect(eventSignal({ involved: s.resource, reason: 'SomethingNew', message: '', ts: NOW }).severity).toBe(
      'low',
    );
  });

  it('a rollout is keyed by workload and revision', () => {
    const r = rolloutSignal(
      { kind: 'Deployment', namespace: 'shop', name: 'api' },
      NOW,
      'api:1',
      'api:2',
      '8',
    );
    expect([r.source, r.key, r.detail]).toEqual([
      'rollout',
      'Deployment/shop/api@8',
      { oldImage: 'api:1', newImage: 'api:2', revision: '8' },
    ]);
    expect(new IncidentsState().apply(r)).toEqual([]);
  });
});
