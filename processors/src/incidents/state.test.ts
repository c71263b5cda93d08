import { describe, expect, it } from 'vitest';
import { IncidentsState, fnv1a64, incidentId, memoryGrowthSignal } from './index.ts';
import type { IncidentChange, IncidentSeverity, ResourceRef, Signal, SignalKind } from './index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

const dep = (name: string, namespace = 'shop'): ResourceRef => ({ kind: 'Deployment', namespace, name });

let offset = 0;
function ev(ts: number, excerpt = 'x') {
  offset++;
  return [{ topic: 'hetu.raw.kube', partition: 0, offset: String(offset), ts, excerpt }];
}

function pod(
  kind: SignalKind,
  podName: string,
  workload: string,
  ts: number,
  opts: { severity?: IncidentSeverity; node?: string; cleared?: boolean; namespace?: string } = {},
): Signal {
  const ns = opts.namespace ?? 'shop';
  return {
    source: 'pod',
    key: kind + ':' + ns + '/' + podName,
    kind,
    severity: opts.severity ?? 'high',
    ts,
    ...(opts.cleared === true ? { cleared: true } : {}),
    resource: { kind: 'Pod', namespace: ns, name: podName },
    workload: dep(workload, ns),
    ...(opts.node === undefined ? {} : { node: opts.node }),
    detail: { reason: kind },
    evidence: ev(ts),
  };
}

function node(name: string, ts: number, cleared = false): Signal {
  return {
    source: 'node',
    key: 'NotReady:' + name,
    kind: 'node-not-ready',
    severity: 'critical',
    ts,
    ...(cleared ? { cleared: true } : {}),
    resource: { kind: 'Node', namespace: '', name },
    node: name,
    detail: { reason: 'NotReady' },
    evidence: ev(ts),
  };
}

function errSpike(workload: string, ts: number): Signal {
  return {
    source: 'error-group',
    key: 'eg-' + workload,
    kind: 'error-group-spike',
    severity: 'medium',
    ts,
    resource: dep(workload),
    workload: dep(workload),
    detail: { title: 'connection refused', errorReason: 'error' },
    evidence: ev(ts),
  };
}

function rollout(workload: string, ts: number): Signal {
  return {
    source: 'rollout',
    key: 'Deployment/shop/' + workload + '@2',
    kind: 'rollout',
    severity: 'low',
    ts,
    resource: dep(workload),
    workload: dep(workload),
    detail: { oldImage: 'shop/' + workload + ':1.0', newImage: 'shop/' + workload + ':1.1', revision: '2' },
    evidence: ev(ts),
  };
}

const upserts = (cs: IncidentChange[]) => cs.flatMap((c) => (c.type === 'upserted' ? [c.incident] : []));

describe('hash and id', () => {
  it('is FNV-1a 64 (known vectors)', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
  });
  it('names an incident after its first signal key and ts', () => {
    const st = new IncidentsState();
    const s = pod('crashloop', 'api-1', 'api', T0);
    const [c] = st.apply(s);
    expect(c).toMatchObject({ type: 'upserted', incident: { id: incidentId('pod', s.key, T0) } });
    expect(incidentId('pod', s.key, T0)).toBe('inc-' + fnv1a64('pod\n' + s.key + '\n' + String(T0)));
    expect(incidentId('pod', s.key, T0 + 1)).not.toBe(incidentId('pod', s.key, T0));
  });
});

describe('title', () => {
  it("names the first signal's workload, or its node when the signal is node-level", () => {
    const st = new IncidentsState();
    expect(upserts(st.apply(pod('crashloop', 'api-1', 'api', T0)))[0]!.title).toBe(
      'crashloop Deployment shop/api: crashloop',
    );
    // A pod's NodeNotReady event is the node's failure: the incident is the node's.
    const event: Signal = {
      source: 'event',
      key: 'NodeNotReady:Pod/kube-system/coredns-1',
      kind: 'warning-event',
      severity: 'medium',
      ts: T0 + HOUR,
      resource: { kind: 'Pod', namespace: 'kube-system', name: 'coredns-1' },
      workload: dep('coredns', 'kube-system'),
      node: 'node-2',
      detail: { reason: 'NodeNotReady' },
      evidence: ev(T0 + HOUR),
    };
    expect(upserts(st.apply(event))[0]!.title).toBe('warning-event Node node-2: NodeNotReady');
    expect(upserts(st.apply(node('node-3', T0 + 2 * HOUR)))[0]!.title).toBe(
      'node-not-ready Node node-3: NotReady',
    );
  });
});

describe('correlation', () => {
  it('joins within 15 min of the LAST signal (inclusive) and forks after', () => {
    const st = new IncidentsState();
    const a = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0)))[0]!;
    const b = upserts(st.apply(pod('crashloop', 'api-2', 'api', T0 + 15 * MIN)))[0]!;
    expect(b.id).toBe(a.id);
    expect(b.lastSignalAt).toBe(T0 + 15 * MIN);
    // 15 min after the last signal: still joins (30 min after creation).
    const c = upserts(st.apply(pod('crashloop', 'api-3', 'api', T0 + 30 * MIN)))[0]!;
    expect(c.id).toBe(a.id);
    expect(c.signals.map((s) => s.key)).toEqual([
      'crashloop:shop/api-1',
      'crashloop:shop/api-2',
      'crashloop:shop/api-3',
    ]);
    // 15 min + 1 ms after the last signal: a new incident.
    const d = upserts(st.apply(pod('crashloop', 'api-4', 'api', T0 + 45 * MIN + 1)))[0]!;
    expect(d.id).not.toBe(a.id);
    expect(d.openedAt).toBe(T0 + 45 * MIN + 1);
    expect(st.size).toBe(2);
  });

  it('keeps a long problem with a signal every 10 min as one incident for an hour', () => {
    const st = new IncidentsState();
    const ids = new Set<string>();
    for (let i = 0; i <= 6; i++) {
      for (const inc of upserts(st.apply(pod('crashloop', 'api-' + String(i), 'api', T0 + i * 10 * MIN))))
        ids.add(inc.id);
    }
    expect(ids.size).toBe(1);
    const [inc] = st.list();
    expect(inc!.openedAt).toBe(T0);
    expect(inc!.lastSignalAt).toBe(T0 + 60 * MIN);
    expect(inc!.signals).toHaveLength(7);
  });

  it('joins a pod signal to a node incident on the same node, not to one on another node', () => {
    const st = new IncidentsState();
    const n = upserts(st.apply(node('node-a', T0)))[0]!;
    const p = upserts(st.apply(pod('evicted', 'web-1', 'web', T0 + 2 * MIN, { node: 'node-a' })))[0]!;
    expect(p.id).toBe(n.id);
    expect(p.failedNodes).toEqual(['node-a']);
    expect(p.workloads).toEqual([dep('web')]);
    const q = upserts(st.apply(pod('evicted', 'cart-1', 'cart', T0 + 3 * MIN, { node: 'node-b' })))[0]!;
    expect(q.id).not.toBe(n.id);
    // node-b's pod incident has no node-level signal: a node signal of node-b joins it (same node)…
    const r = upserts(st.apply(node('node-b', T0 + 4 * MIN)))[0]!;
    expect(r.id).toBe(q.id);
    expect(st.size).toBe(2);
  });

  it('does not join two unrelated workloads only because their pods share a healthy node', () => {
    const st = new IncidentsState();
    const a = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0, { node: 'node-a' })))[0]!;
    const b = upserts(st.apply(pod('crashloop', 'cart-1', 'cart', T0 + MIN, { node: 'node-a' })))[0]!;
    expect(b.id).not.toBe(a.id);
  });

  it('joins a caller and its callee via observeCall, in either order', () => {
    const st = new IncidentsState();
    expect(st.observeCall(dep('api'), dep('db'), T0 - HOUR)).toBe(true);
    expect(st.observeCall(dep('api'), dep('db'), T0 - 30 * MIN)).toBe(false);
    const db = upserts(st.apply(pod('crashloop', 'db-1', 'db', T0)))[0]!;
    const api = upserts(st.apply(errSpike('api', T0 + 3 * MIN)))[0]!;
    expect(api.id).toBe(db.id);
    expect(api.workloads).toEqual([dep('api'), dep('db')]);

    const st2 = new IncidentsState();
    st2.observeCall(dep('api'), dep('db'), T0 - HOUR);
    const first = upserts(st2.apply(errSpike('api', T0)))[0]!;
    const second = upserts(st2.apply(pod('crashloop', 'db-1', 'db', T0 + MIN)))[0]!;
    expect(second.id).toBe(first.id);

    // Without the call relation they stay apart.
    const st3 = new IncidentsState();
    upserts(st3.apply(pod('crashloop', 'db-1', 'db', T0)));
    upserts(st3.apply(errSpike('api', T0 + 3 * MIN)));
    expect(st3.size).toBe(2);
  });
});

describe('dedupe and severity', () => {
  it('folds repeats of (source, key) into one signal with count, first and last seen', () => {
    const st = new IncidentsState();
    st.apply(pod('crashloop', 'api-1', 'api', T0, { severity: 'low' }));
    st.apply(pod('crashloop', 'api-1', 'api', T0 + 2 * MIN, { severity: 'critical' }));
    const inc = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0 + 4 * MIN, { severity: 'medium' })))[0]!;
    expect(inc.signals).toHaveLength(1);
    expect(inc.signals[0]).toMatchObject({
      count: 3,
      firstSeen: T0,
      lastSeen: T0 + 4 * MIN,
      severity: 'critical',
    });
    expect(inc.signals[0]!.evidence.map((e) => e.ts)).toEqual([T0, T0 + 2 * MIN, T0 + 4 * MIN]);
    expect(inc.severity).toBe('critical');
  });

  it('takes the maximum severity over signals', () => {
    const st = new IncidentsState();
    st.apply(pod('pending', 'api-1', 'api', T0, { severity: 'low' }));
    expect(st.list()[0]!.severity).toBe('low');
    st.apply(pod('crashloop', 'api-2', 'api', T0 + MIN, { severity: 'high' }));
    const inc = upserts(st.apply(pod('oomkilled', 'api-3', 'api', T0 + 2 * MIN, { severity: 'medium' })))[0]!;
    expect(inc.severity).toBe('high');
  });

  it('treats a re-applied record (same position, not newer) as no change', () => {
    const st = new IncidentsState();
    const s = pod('crashloop', 'api-1', 'api', T0);
    st.apply(s);
    st.apply(pod('crashloop', 'api-1', 'api', T0 + MIN));
    expect(st.apply(s)).toEqual([]);
    expect(st.list()[0]!.signals[0]!.count).toBe(2);
  });
});

describe('auto-resolve', () => {
  it('resolves exactly 10 min after the last condition cleared, not 1 ms before', () => {
    const st = new IncidentsState();
    st.apply(pod('crashloop', 'api-1', 'api', T0));
    st.apply(pod('crashloop', 'api-2', 'api', T0 + MIN));
    st.apply(pod('crashloop', 'api-1', 'api', T0 + 3 * MIN, { cleared: true }));
    expect(st.advance(T0 + 20 * MIN)).toEqual([]); // api-2 still crash-looping
    const cleared = upserts(st.apply(pod('crashloop', 'api-2', 'api', T0 + 21 * MIN, { cleared: true })))[0]!;
    expect(cleared.signals.map((s) => [s.cleared, s.clearedAt])).toEqual([
      [true, T0 + 3 * MIN],
      [true, T0 + 21 * MIN],
    ]);
    expect(st.advance(T0 + 31 * MIN - 1)).toEqual([]);
    const [resolved] = upserts(st.advance(T0 + 31 * MIN));
    expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: T0 + 31 * MIN, resolvedBy: 'auto' });
  });

  it('dates resolvedAt from the clearing, not from a coarse watermark', () => {
    const st = new IncidentsState();
    st.apply(pod('crashloop', 'api-1', 'api', T0));
    st.apply(pod('crashloop', 'api-1', 'api', T0 + MIN, { cleared: true }));
    expect(upserts(st.advance(T0 + HOUR))[0]!.resolvedAt).toBe(T0 + 11 * MIN);
  });

  it('resolves an incident of point-in-time signals 10 min after the last one', () => {
    const st = new IncidentsState();
    st.apply(errSpike('api', T0));
    st.apply(errSpike('api', T0 + 5 * MIN));
    expect(st.advance(T0 + 15 * MIN - 1)).toEqual([]);
    expect(upserts(st.advance(T0 + 15 * MIN))[0]!.status).toBe('resolved');
  });

  it('re-activates a cleared signal that fires again', () => {
    const st = new IncidentsState();
    st.apply(pod('crashloop', 'api-1', 'api', T0));
    st.apply(pod('crashloop', 'api-1', 'api', T0 + MIN, { cleared: true }));
    const inc = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0 + 5 * MIN)))[0]!;
    expect(inc.signals[0]).toMatchObject({ cleared: false, clearedAt: null, count: 2 });
    expect(st.advance(T0 + 30 * MIN)).toEqual([]);
  });

  it('ignores a clear that matches no incident', () => {
    const st = new IncidentsState();
    expect(st.apply(pod('crashloop', 'api-1', 'api', T0, { cleared: true }))).toEqual([]);
    expect(st.size).toBe(0);
  });
});

describe('rollouts', () => {
  it('a rollout alone opens nothing', () => {
    const st = new IncidentsState();
    expect(st.apply(rollout('api', T0))).toEqual([]);
    expect(st.size).toBe(0);
    expect(st.advance(T0 + HOUR)).toEqual([]);
  });

  it("a memory-growth (pressure) signal opens nothing, joins only its own workload's incident and holds it open", () => {
    const leak = (workload: string, ts: number, cleared = false) =>
      memoryGrowthSignal(
        { kind: 'Pod', namespace: 'shop', name: workload + '-1' },
        dep(workload),
        'app',
        ts,
        cleared,
        {},
        ev(ts),
      );
    const st = new IncidentsState();
    expect(st.apply(leak('db', T0))).toEqual([]);
    expect(st.size).toBe(0);
    // api calls db: a db leak still does not join api's incident (only the same workload's).
    st.observeCall(dep('api'), dep('db'), T0);
    const api = upserts(st.apply(errSpike('api', T0 + MIN)))[0]!;
    expect(st.apply(leak('db', T0 + 2 * MIN))).toEqual([]);
    // api's own leak joins; the spike (a point signal) alone would resolve at +11 min.
    expect(upserts(st.apply(leak('api', T0 + 3 * MIN))).map((i) => i.id)).toEqual([api.id]);
    expect(upserts(st.advance(T0 + 30 * MIN))).toEqual([]);
    // Cleared at +31 min: resolved 10 min after.
    st.apply(leak('api', T0 + 31 * MIN, true));
    const resolved = upserts(st.advance(T0 + 41 * MIN))[0]!;
    expect([resolved.id, resolved.status, resolved.resolvedAt]).toEqual([api.id, 'resolved', T0 + 41 * MIN]);
  });

  it('attaches a recent rollout to an incident of its workload as a change signal', () => {
    const st = new IncidentsState();
    st.apply(rollout('api', T0));
    const crash = pod('crashloop', 'api-1', 'api', T0 + 4 * MIN);
    const inc = upserts(st.apply(crash))[0]!;
    expect(inc.id).toBe(incidentId('pod', crash.key, T0 + 4 * MIN));
    expect(inc.signals.map((s) => [s.source, s.firstSeen])).toEqual([
      ['pod', T0 + 4 * MIN],
      ['rollout', T0],
    ]);
    expect(inc.severity).toBe('high');
    expect(inc.lastSignalAt).toBe(T0 + 4 * MIN);
  });

  it('does not attach a rollout older than the look-back (30 min)', () => {
    const st = new IncidentsState();
    st.apply(rollout('api', T0));
    const inc = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0 + 30 * MIN + 1)))[0]!;
    expect(inc.signals.map((s) => s.source)).toEqual(['pod']);
  });
});

describe('status commands', () => {
  it('sets investigating, dismissed; a dismissed incident takes no more signals', () => {
    const st = new IncidentsState();
    const inc = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0)))[0]!;
    expect(upserts(st.setStatus(inc.id, 'investigating', T0 + MIN))[0]).toMatchObject({
      status: 'investigating',
      statusChangedAt: T0 + MIN,
    });
    expect(st.setStatus(inc.id, 'investigating', T0 + 2 * MIN)).toEqual([]);
    expect(st.setStatus('inc-unknown', 'resolved', T0)).toEqual([]);
    expect(upserts(st.apply(pod('crashloop', 'api-2', 'api', T0 + 2 * MIN)))[0]!.id).toBe(inc.id);
    expect(upserts(st.setStatus(inc.id, 'dismissed', T0 + 3 * MIN))[0]).toMatchObject({
      status: 'dismissed',
      resolvedAt: T0 + 3 * MIN,
      resolvedBy: 'user',
    });
    expect(upserts(st.apply(pod('crashloop', 'api-3', 'api', T0 + 4 * MIN)))[0]!.id).not.toBe(inc.id);
  });

  it('a reopened incident auto-resolves only 10 min after the reopening', () => {
    const st = new IncidentsState();
    const inc = upserts(st.apply(errSpike('api', T0)))[0]!;
    st.setStatus(inc.id, 'resolved', T0 + MIN);
    st.setStatus(inc.id, 'open', T0 + 20 * MIN);
    expect(st.advance(T0 + 30 * MIN - 1)).toEqual([]);
    expect(upserts(st.advance(T0 + 30 * MIN))[0]).toMatchObject({
      status: 'resolved',
      resolvedAt: T0 + 30 * MIN,
    });
  });
});

describe('bounds', () => {
  it('keeps at most 500 incidents, deleting the oldest first', () => {
    const st = new IncidentsState();
    const ids: string[] = [];
    for (let i = 0; i < 500; i++)
      ids.push(upserts(st.apply(pod('crashloop', 'p' + String(i), 'w' + String(i), T0 + i)))[0]!.id);
    const cs = st.apply(pod('crashloop', 'p500', 'w500', T0 + 500));
    expect(cs.map((c) => c.type)).toEqual(['deleted', 'upserted']);
    expect(cs[0]).toEqual({ type: 'deleted', id: ids[0], reason: 'cap' });
    expect(st.size).toBe(500);
    expect(st.get(ids[0]!)).toBeUndefined();
    expect(st.get(ids[1]!)).toBeDefined();
  });

  it('deletes a resolved incident 24 h after resolving (inclusive)', () => {
    const st = new IncidentsState();
    const inc = upserts(st.apply(errSpike('api', T0)))[0]!;
    st.advance(T0 + 10 * MIN); // resolved at T0 + 10 min
    expect(st.advance(T0 + 10 * MIN + 24 * HOUR - 1)).toEqual([]);
    expect(st.advance(T0 + 10 * MIN + 24 * HOUR)).toEqual([
      { type: 'deleted', id: inc.id, reason: 'resolved-ttl' },
    ]);
  });

  it('deletes any incident 48 h after opening (inclusive), even if still open', () => {
    const st = new IncidentsState();
    const inc = upserts(st.apply(pod('crashloop', 'api-1', 'api', T0)))[0]!;
    expect(st.advance(T0 + 48 * HOUR - 1)).toEqual([]);
    expect(st.advance(T0 + 48 * HOUR)).toEqual([{ type: 'deleted', id: inc.id, reason: 'max-age' }]);
    expect(st.size).toBe(0);
  });

  it('caps evidence per signal at 10, keeping the latest', () => {
    const st = new IncidentsState();
    for (let i = 0; i < 12; i++) st.apply(pod('crashloop', 'api-1', 'api', T0 + i * MIN));
    const s = st.list()[0]!.signals[0]!;
    expect(s.count).toBe(12);
    expect(s.evidence.map((e) => e.ts)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (i + 2) * MIN));
  });

  it('orders and keeps equal-time evidence by content, whatever log positions it had', () => {
    // The same two records at swapped offsets (a broker restart, another interleaving of writers):
    // the signal keeps the same evidence in the same order, only the offsets differ.
    const kept = (offsets: [string, string]) => {
      const st = new IncidentsState({ maxEvidencePerSignal: 1 });
      const s = pod('crashloop', 'api-1', 'api', T0);
      const at = (excerpt: string, off: string) => ({
        topic: 'hetu.raw.kube',
        partition: 0,
        offset: off,
        ts: T0,
        excerpt,
      });
      st.apply({ ...s, evidence: [at('b: restarted', offsets[0]), at('a: back-off', offsets[1])] });
      return st.list()[0]!.signals[0]!.evidence.map((e) => e.excerpt);
    };
    expect(kept(['5', '6'])).toEqual(kept(['6', '5']));
    expect(kept(['5', '6'])).toEqual(['b: restarted']);
  });
});

function script(): Array<() => Signal | number | [ResourceRef, ResourceRef, number]> {
  offset = 1000;
  return [
    () => [dep('api'), dep('db'), T0 - HOUR],
    () => rollout('db', T0 - 2 * MIN),
    () => pod('crashloop', 'db-1', 'db', T0, { node: 'node-a' }),
    () => errSpike('api', T0 + MIN),
    () => node('node-b', T0 + 2 * MIN),
    () => pod('evicted', 'web-1', 'web', T0 + 3 * MIN, { node: 'node-b' }),
    () => T0 + 5 * MIN,
    () => pod('crashloop', 'db-1', 'db', T0 + 6 * MIN, { cleared: true }),
    () => node('node-b', T0 + 7 * MIN, true),
    () => pod('evicted', 'web-1', 'web', T0 + 7 * MIN, { cleared: true, node: 'node-b' }),
    () => T0 + 17 * MIN,
    () => T0 + 50 * HOUR,
  ];
}

function run(st: IncidentsState, steps: ReturnType<typeof script>): IncidentChange[] {
  const out: IncidentChange[] = [];
  for (const step of steps) {
    const x = step();
    if (typeof x === 'number') out.push(...st.advance(x));
    else if (Array.isArray(x)) st.observeCall(x[0], x[1], x[2]);
    else out.push(...st.apply(x));
  }
  return out;
}

describe('determinism and restore', () => {
  it('gives identical changes for the same input twice', () => {
    const a = run(new IncidentsState(), script());
    const b = run(new IncidentsState(), script());
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((c) => c.type + (c.type === 'deleted' ? ':' + c.reason : ':' + c.incident.status))).toEqual([
      'upserted:open', // db crash (+ db rollout attached)
      'upserted:open', // api spike joins via the call relation
      'upserted:open', // node-b NotReady: new incident
      'upserted:open', // web pod on node-b joins it
      'upserted:open', // db cleared
      'upserted:open', // node-b cleared
      'upserted:open', // web cleared
      'upserted:resolved', // db + api: last clear T0+6m → resolved at T0+16m
      'upserted:resolved', // node-b + web: last clear T0+7m → resolved at T0+17m
      'deleted:max-age',
      'deleted:max-age',
    ]);
  });

  it('restored from its records, continues exactly as without a restart', () => {
    const steps = script();
    const whole = run(new IncidentsState(), steps);
    const s2 = script();
    const first = new IncidentsState();
    const before = run(first, s2.slice(0, 7));
    const records = JSON.parse(JSON.stringify(first.toRecords()));
    const restored = IncidentsState.fromRecords(records);
    const after = run(restored, s2.slice(7));
    expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(whole));
    expect(records.map((r: { key: string }) => r.key.split(':')[0])).toEqual([
      'meta',
      'incident',
      'incident',
      'calls',
      'rollouts',
    ]);
  });
});
