import { describe, expect, it } from 'vitest';
import { CONTAINER_RECORD_BINARY, decodeContainerRecord } from './container-record.ts';
import {
  advance,
  applyCommand,
  createRecommendationsState,
  evaluateNow,
  forgetContainer,
  forgetHpa,
  observeHpa,
  observeMetric,
  observeSpec,
  recommendations,
  restoreRecommendationsState,
  stateKeys,
  stateRecord,
  stateRecordBytes,
} from './state.ts';
import type { RecommendationsState } from './state.ts';
import type { RecommendationsConfig } from './config.ts';
import type {
  ContainerResources,
  Recommendation,
  RecommendationChange,
  StepResult,
  WorkloadRef,
} from './types.ts';

const T0 = Date.UTC(2026, 10, 26, 0, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIB = 1_048_576;
const API: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const PRICES: Partial<RecommendationsConfig> = { prices: { cpuCoreHour: 0.04, memoryGiBHour: 0.005 } };

function collect(into: RecommendationChange[], r: StepResult): StepResult {
  into.push(...r.changes);
  return r;
}

const spec = (s: Partial<ContainerResources>): ContainerResources => ({
  cpuRequest: null,
  memoryRequest: null,
  cpuLimit: null,
  memoryLimit: null,
  ...s,
});

/** Container usage samples every minute, from `from` to `to` inclusive. */
function usage(
  state: RecommendationsState,
  out: RecommendationChange[],
  from: number,
  to: number,
  cpu: number | null,
  memory: number | null,
  w: WorkloadRef = API,
  container = 'api',
): void {
  for (let ts = from; ts <= to; ts += MIN) {
    const labels = { namespace: w.namespace, pod: `${w.name}-1`, container };
    if (cpu !== null)
      collect(out, observeMetric(state, { name: 'cpu_usage_cores', labels, value: cpu, ts }, w));
    if (memory !== null)
      collect(out, observeMetric(state, { name: 'memory_working_set_bytes', labels, value: memory, ts }, w));
  }
}

const upserts = (changes: RecommendationChange[]): Recommendation[] =>
  changes.flatMap((c) => (c.type === 'upsert' ? [c.recommendation] : []));
const last = (changes: RecommendationChange[]): Recommendation => upserts(changes).at(-1)!;

describe('rightsizing', () => {
  it('over-provisioned at ratio 0.29, not at 0.30', () => {
    for (const [cpu, fires] of [
      [0.29, true],
      [0.3, false],
    ] as const) {
      const s = createRecommendationsState();
      const out: RecommendationChange[] = [];
      collect(out, observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0));
      usage(s, out, T0, T0 + HOUR, cpu, null);
      collect(out, evaluateNow(s));
      expect(upserts(out).length > 0).toBe(fires);
      if (fires) {
        const r = last(out);
        expect(r.id).toBe('rightsizing:Deployment/shop/api/api');
        expect(r.severity).toBe('medium');
        expect(r.title).toBe('Right-size container api of Deployment shop/api: CPU over-provisioned');
        expect(r.evidence).toEqual({
          from: T0,
          to: T0 + HOUR,
          samples: 61,
          values: {
            cpuP95: 0.29,
            cpuRequest: 1,
            cpuRatio: 0.29,
            cpuSamples: 61,
            cpuSuggestedRequestMilli: 350,
            cpuSuggestedLimitMilli: 450,
            replicas: 1,
          },
        });
        expect(r.savings).toBe(null); // no prices configured
      }
    }
  });

  it('under-provisioned at ratio 0.86 (high), not at 0.85', () => {
    for (const [mib, fires] of [
      [86, true],
      [85, false],
    ] as const) {
      const s = createRecommendationsState(PRICES);
      const out: RecommendationChange[] = [];
      observeSpec(s, API, 'api', spec({ memoryRequest: 100 * MIB, memoryLimit: 100 * MIB }), T0);
      usage(s, out, T0, T0 + HOUR, null, mib * MIB);
      expect(upserts(out).length > 0).toBe(fires);
      if (fires) {
        const r = last(out);
        expect(r.severity).toBe('high');
        expect(r.title).toBe('Right-size container api of Deployment shop/api: memory under-provisioned');
        expect(r.patch).toBe(
          'spec:\n  template:\n    spec:\n      containers:\n        - name: api\n          resources:\n' +
            '            requests:\n              memory: 128Mi\n            limits:\n              memory: 160Mi\n',
        );
        expect(r.savings).toBe(null); // an increase saves nothing
      }
    }
  });

  it('needs at least 1 h of samples', () => {
    const s = createRecommendationsState();
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR - MIN, 0.01, null);
    collect(out, evaluateNow(s));
    expect(out).toEqual([]);
    usage(s, out, T0 + HOUR, T0 + HOUR, 0.01, null);
    expect(upserts(out).map((r) => r.id)).toEqual(['rightsizing:Deployment/shop/api/api']);
  });

  it('the full recommendation: p95 0.101 cores and 100 MiB, prices, 3 replicas', () => {
    const s = createRecommendationsState(PRICES);
    const out: RecommendationChange[] = [];
    observeSpec(
      s,
      API,
      'api',
      spec({ cpuRequest: 1, memoryRequest: 1024 * MIB, cpuLimit: 2, replicas: 3 }),
      T0,
    );
    usage(s, out, T0, T0 + HOUR, 0.101, 100 * MIB);
    // The CPU sample at T0 + 1 h entered a new evaluation slot before the memory sample of the
    // same time arrived (memory then had 59 min of samples); evaluate again to include it.
    expect(last(out).title).toBe('Right-size container api of Deployment shop/api: CPU over-provisioned');
    collect(out, evaluateNow(s));
    const r = last(out);
    expect(r).toEqual({
      id: 'rightsizing:Deployment/shop/api/api',
      type: 'rightsizing',
      target: { kind: 'Deployment', namespace: 'shop', name: 'api', container: 'api' },
      severity: 'medium',
      title: 'Right-size container api of Deployment shop/api: CPU over-provisioned, memory over-provisioned',
      rationale:
        'Over 1 h of samples (122 samples, 2026-11-26T00:00:00.000Z to 2026-11-26T01:00:00.000Z), container api ' +
        'of Deployment shop/api used p95 0.101 cores of CPU against a request of 1 core (ratio 0.101: ' +
        'over-provisioned, below 0.30) and p95 100 MiB of memory against a request of 1024 MiB (ratio 0.098: ' +
        'over-provisioned, below 0.30). Suggested: CPU request 150m and limit 200m; memory request 128Mi and ' +
        'limit 160Mi (request 1.2 × p95, limit 1.5 × p95, rounded up to 50m CPU and 32Mi memory). Freeing ' +
        '0.85 cores and 896 MiB per pod across 3 pods saves 84.04 per month at the configured prices.',
      patch:
        'spec:\n  template:\n    spec:\n      containers:\n        - name: api\n          resources:\n' +
        '            requests:\n              cpu: 150m\n              memory: 128Mi\n            limits:\n' +
        '              cpu: 200m\n              memory: 160Mi\n',
      command: 'kubectl patch deployment api -n shop --type strategic --patch-file patch.yaml',
      // (0.85 × 0.04 + 0.875 × 0.005) × 730 × 3 = 0.038375 × 2190 = 84.04125
      savings: { monthly: 84.04, cpuCores: 0.85, memoryBytes: 896 * MIB, replicas: 3, hoursPerMonth: 730 },
      status: 'open',
      statusChangedAt: null,
      createdAt: T0 + HOUR,
      updatedAt: T0 + HOUR,
      closedAt: null,
      evidence: {
        from: T0,
        to: T0 + HOUR,
        samples: 122,
        values: {
          cpuP95: 0.101,
          cpuRequest: 1,
          cpuRatio: 0.101,
          cpuSamples: 61,
          cpuSuggestedRequestMilli: 150,
          cpuSuggestedLimitMilli: 200,
          memoryP95: 100 * MIB,
          memoryRequest: 1024 * MIB,
          memoryRatio: 0.09765625,
          memorySamples: 61,
          memorySuggestedRequestMi: 128,
          memorySuggestedLimitMi: 160,
          replicas: 3,
        },
      },
    });
  });

  it('savings: single replica, CPU only, 0.29 cores → 350m', () => {
    const s = createRecommendationsState(PRICES);
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR, 0.29, null);
    // 0.65 × 0.04 × 730 = 18.98
    expect(last(out).savings).toEqual({
      monthly: 18.98,
      cpuCores: 0.65,
      memoryBytes: 0,
      replicas: 1,
      hoursPerMonth: 730,
    });
  });

  it('an HPA targeting the workload sets the replicas for savings', () => {
    const s = createRecommendationsState(PRICES);
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1, replicas: 1 }), T0);
    observeHpa(
      s,
      {
        namespace: 'shop',
        name: 'api',
        target: { kind: 'Deployment', name: 'api' },
        min: 2,
        max: 10,
        current: 4,
      },
      T0,
    );
    usage(s, out, T0, T0 + HOUR, 0.29, null);
    // 0.65 × 0.04 × 730 × 4 = 75.92
    expect(last(out).savings?.monthly).toBe(75.92);
  });

  it('updates in place (same id), closes when the condition stops holding, drops 7 days after closing', () => {
    const s = createRecommendationsState();
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR, 0.1, null);
    const first = last(out);
    expect(first.createdAt).toBe(T0 + HOUR);
    out.length = 0;
    // More usage raises the p95 (0.2 for > 5 % of samples): same id, new numbers, createdAt kept.
    usage(s, out, T0 + HOUR + MIN, T0 + 2 * HOUR, 0.2, null);
    const updated = last(out);
    expect(updated.id).toBe(first.id);
    expect(updated.createdAt).toBe(T0 + HOUR);
    expect(updated.updatedAt).toBe(T0 + 2 * HOUR);
    expect(updated.evidence.values['cpuP95']).toBe(0.2);
    expect(updated.patch).toContain('cpu: 250m');
    // The request drops to 0.5 cores: 0.2 ÷ 0.5 = 0.4, inside the band → closed.
    out.length = 0;
    collect(out, observeSpec(s, API, 'api', spec({ cpuRequest: 0.5 }), T0 + 2 * HOUR + MIN));
    expect(out).toEqual([
      {
        type: 'upsert',
        recommendation: { ...updated, closedAt: T0 + 2 * HOUR + MIN, updatedAt: T0 + 2 * HOUR + MIN },
      },
    ]);
    const closedAt = T0 + 2 * HOUR + MIN;
    out.length = 0;
    collect(out, advance(s, closedAt + 7 * DAY - MIN));
    expect(out).toEqual([]);
    expect(recommendations(s).map((r) => r.id)).toEqual([first.id]);
    collect(out, advance(s, closedAt + 7 * DAY));
    expect(out).toEqual([{ type: 'delete', id: first.id, reason: 'expired' }]);
    expect(recommendations(s)).toEqual([]);
  });

  it('samples outside the 14-day window no longer count', () => {
    const s = createRecommendationsState();
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR, 0.1, null);
    expect(last(out).closedAt).toBe(null);
    out.length = 0;
    // 14 days later the window (336 whole hours up to the current one) no longer holds hour 0.
    collect(out, advance(s, T0 + 14 * DAY));
    expect(last(out).closedAt).toBe(T0 + 14 * DAY);
  });
});

describe('HPA rules', () => {
  const hpa = (min: number, max: number, current: number) => ({
    namespace: 'shop',
    name: 'api',
    target: { kind: 'Deployment', name: 'api' },
    min,
    max,
    current,
  });

  it('hpa-at-max when current = max, not at max − 1', () => {
    const s = createRecommendationsState();
    expect(observeHpa(s, hpa(2, 10, 9), T0).changes).toEqual([]);
    const r = last(observeHpa(s, hpa(2, 10, 10), T0 + MIN).changes);
    expect(r.id).toBe('hpa-at-max:HorizontalPodAutoscaler/shop/api');
    expect(r.severity).toBe('high');
    expect(r.patch).toBe('spec:\n  maxReplicas: 15\n');
    expect(r.command).toBe(
      'kubectl patch horizontalpodautoscaler api -n shop --type strategic --patch-file patch.yaml',
    );
    expect(r.rationale).toBe(
      'HorizontalPodAutoscaler shop/api (scaling Deployment api) has run 10 replicas, its maxReplicas, since ' +
        '2026-11-26T00:01:00.000Z (1 observation): it cannot scale out under more load. Raise maxReplicas to 15 ' +
        '(max(⌊1.5 × 10⌋, 10 + 2)) and check the nodes have room for the extra pods.',
    );
    expect(r.evidence).toEqual({
      from: T0 + MIN,
      to: T0 + MIN,
      samples: 1,
      values: { current: 10, min: 2, max: 10, suggestedMax: 15 },
    });
    // Scaling back below max closes it.
    const closed = last(observeHpa(s, hpa(2, 10, 8), T0 + 2 * MIN).changes);
    expect(closed.closedAt).toBe(T0 + 2 * MIN);
  });

  it('hpa-at-max with a small max: max + 2 wins', () => {
    const s = createRecommendationsState();
    expect(last(observeHpa(s, hpa(1, 3, 3), T0).changes).patch).toBe('spec:\n  maxReplicas: 5\n');
  });

  it('hpa-min-high when current = min > 1; not when min = 1', () => {
    const s = createRecommendationsState();
    const r = last(observeHpa(s, hpa(3, 10, 3), T0).changes);
    expect(r.id).toBe('hpa-min-high:HorizontalPodAutoscaler/shop/api');
    expect(r.severity).toBe('low');
    expect(r.patch).toBe('spec:\n  minReplicas: 2\n');
    const s2 = createRecommendationsState();
    expect(observeHpa(s2, hpa(1, 10, 1), T0).changes).toEqual([]);
  });

  it('min = max = current > 1 gives both; deleting the HPA closes both', () => {
    const s = createRecommendationsState();
    expect(upserts(observeHpa(s, hpa(4, 4, 4), T0).changes).map((r) => [r.id, r.patch])).toEqual([
      ['hpa-at-max:HorizontalPodAutoscaler/shop/api', 'spec:\n  maxReplicas: 6\n'],
      ['hpa-min-high:HorizontalPodAutoscaler/shop/api', 'spec:\n  minReplicas: 3\n'],
    ]);
    expect(upserts(forgetHpa(s, 'shop', 'api', T0 + MIN).changes).map((r) => [r.type, r.closedAt])).toEqual([
      ['hpa-at-max', T0 + MIN],
      ['hpa-min-high', T0 + MIN],
    ]);
  });
});

describe('node rules', () => {
  const cpu = (s: RecommendationsState, node: string, value: number, ts: number) =>
    observeMetric(s, { name: 'node_cpu_utilisation', labels: { node }, value, ts });

  it('idle-node below 15 % averaged over 30 min: 14.9 % fires, 15 % does not', () => {
    for (const [v, fires] of [
      [0.149, true],
      [0.15, false],
    ] as const) {
      const s = createRecommendationsState();
      const out: RecommendationChange[] = [];
      for (let ts = T0; ts <= T0 + 30 * MIN; ts += 30_000) collect(out, cpu(s, 'n1', v, ts));
      expect(upserts(out).length > 0).toBe(fires);
      if (fires) {
        const r = last(out);
        expect(r.id).toBe('idle-node:Node//n1');
        expect(r.target).toEqual({ kind: 'Node', namespace: null, name: 'n1' });
        expect(r.severity).toBe('medium');
        expect(r.createdAt).toBe(T0 + 30 * MIN);
        expect(r.patch).toBe('spec:\n  unschedulable: true\n');
        expect(r.command).toBe('kubectl drain n1 --ignore-daemonsets --delete-emptydir-data');
        // The current minute and the 29 before it: 29 × 2 samples + 1.
        expect(r.evidence).toEqual({
          from: T0 + MIN,
          to: T0 + 30 * MIN,
          samples: 59,
          values: { cpuUtilisation: 0.149 },
        });
        expect(r.title).toBe('Node n1 is idle (14.9 % CPU over 30 min)');
      }
    }
  });

  it('idle-node needs 30 min of history', () => {
    const s = createRecommendationsState();
    const out: RecommendationChange[] = [];
    for (let ts = T0; ts < T0 + 30 * MIN; ts += 30_000) collect(out, cpu(s, 'n1', 0.01, ts));
    collect(out, evaluateNow(s));
    expect(out).toEqual([]);
  });

  it('node-memory-pressure above 90 %: 90.1 % fires, 90 % does not; stale data closes', () => {
    const s = createRecommendationsState();
    const mem = (v: number, ts: number) =>
      observeMetric(s, { name: 'node_memory_utilisation', labels: { node: 'n1' }, value: v, ts });
    expect(mem(0.9, T0).changes).toEqual([]);
    const r = last(mem(0.901, T0 + MIN).changes);
    expect(r.id).toBe('node-memory-pressure:Node//n1');
    expect(r.severity).toBe('high');
    expect(r.patch).toBe(null);
    expect(r.title).toBe('Node n1 is under memory pressure (90.1 %)');
    // No sample for more than 10 min: closed.
    expect(
      advance(s, T0 + 11 * MIN + 1).changes.map((c) => c.type === 'upsert' && c.recommendation.closedAt),
    ).toEqual([T0 + 11 * MIN + 1]);
  });
});

describe('CoreDNS and GC rules', () => {
  const dns = (s: RecommendationsState, name: string, value: number, ts: number) =>
    observeMetric(s, { name, value, ts });

  it('coredns-nxdomain above 5 %', () => {
    const s = createRecommendationsState();
    expect(dns(s, 'coredns_nxdomain_ratio', 0.05, T0).changes).toEqual([]);
    const r = last(dns(s, 'coredns_nxdomain_ratio', 0.0501, T0 + MIN).changes);
    expect(r.id).toBe('coredns-nxdomain:Deployment/kube-system/coredns');
    expect(r.severity).toBe('medium');
    expect(r.patch).toBe(
      'spec:\n  template:\n    spec:\n      dnsConfig:\n        options:\n          - name: ndots\n            value: "2"\n',
    );
  });

  it('coredns-cache when 0 < hit ratio < 60 %', () => {
    for (const [v, fires] of [
      [0, false],
      [0.6, false],
      [0.599, true],
    ] as const) {
      const s = createRecommendationsState();
      const changes = dns(s, 'coredns_cache_hit_ratio', v, T0).changes;
      expect(upserts(changes).map((r) => [r.id, r.severity])).toEqual(
        fires ? [['coredns-cache:Deployment/kube-system/coredns', 'low']] : [],
      );
    }
  });

  it('gc-pauses: Go above 50 ms medium, JVM above 100 ms high', () => {
    const gc = (s: RecommendationsState, runtime: string, value: number, pod = 'api-1') =>
      observeMetric(
        s,
        { name: 'gc_pause_seconds', labels: { namespace: 'shop', pod, runtime }, value, ts: T0 },
        API,
      );
    const cases: [string, number, string | null][] = [
      ['go', 0.05, null],
      ['go', 0.051, 'medium'],
      ['jvm', 0.1, null],
      ['jvm', 0.101, 'high'],
    ];
    for (const [runtime, value, severity] of cases) {
      const s = createRecommendationsState();
      expect(upserts(gc(s, runtime, value).changes).map((r) => [r.id, r.severity])).toEqual(
        severity === null ? [] : [['gc-pauses:Deployment/shop/api', severity]],
      );
    }
    const s = createRecommendationsState();
    const r = last(gc(s, 'go', 0.0625).changes);
    expect(r.rationale).toBe(
      '1 pod of Deployment shop/api averaged GC pauses above the threshold (Go 50 ms, JVM 100 ms) over 5 min; ' +
        'the longest, 62.5 ms (Go), in pod api-1 at 2026-11-26T00:00:00.000Z. Requests stall during pauses: ' +
        'for Go, raise GOGC or set GOMEMLIMIT so the collector runs less often, and cut allocation.',
    );
    // Without a workload the pod is the target.
    const s2 = createRecommendationsState();
    const r2 = last(
      observeMetric(s2, {
        name: 'gc_pause_seconds',
        labels: { namespace: 'shop', pod: 'solo', runtime: 'jvm' },
        value: 0.2,
        ts: T0,
      }).changes,
    );
    expect(r2.id).toBe('gc-pauses:Pod/shop/solo');
  });
});

describe('status commands', () => {
  const hpa = (current: number) => ({
    namespace: 'shop',
    name: 'api',
    target: { kind: 'Deployment', name: 'api' },
    min: 1,
    max: 5,
    current,
  });
  const id = 'hpa-at-max:HorizontalPodAutoscaler/shop/api';

  it('accept, dismiss, apply; unknown ids and same status change nothing', () => {
    const s = createRecommendationsState();
    observeHpa(s, hpa(5), T0);
    const r = last(applyCommand(s, { recommendationId: id, status: 'accepted', ts: T0 + 1000 }).changes);
    expect([r.status, r.statusChangedAt, r.updatedAt]).toEqual(['accepted', T0 + 1000, T0 + 1000]);
    expect(applyCommand(s, { recommendationId: id, status: 'accepted', ts: T0 + 2000 }).changes).toEqual([]);
    expect(applyCommand(s, { recommendationId: 'nope', status: 'dismissed', ts: T0 + 2000 }).changes).toEqual(
      [],
    );
    // Recomputation keeps the status.
    observeHpa(s, hpa(5), T0 + MIN);
    expect(recommendations(s)[0]?.status).toBe('accepted');
  });

  it('a recurring condition reopens an applied recommendation; a dismissed one stays dismissed', () => {
    for (const [status, after] of [
      ['applied', 'open'],
      ['dismissed', 'dismissed'],
    ] as const) {
      const s = createRecommendationsState();
      observeHpa(s, hpa(5), T0);
      applyCommand(s, { recommendationId: id, status, ts: T0 + 1000 });
      expect(last(observeHpa(s, hpa(3), T0 + MIN).changes).closedAt).toBe(T0 + MIN);
      const again = last(observeHpa(s, hpa(5), T0 + 2 * MIN).changes);
      expect([again.id, again.status, again.closedAt, again.createdAt]).toEqual([id, after, null, T0]);
    }
  });
});

describe('bounds and determinism', () => {
  it('the 300 cap: a 301st of equal rank is not created; a higher severity evicts the lowest', () => {
    const s = createRecommendationsState();
    const name = (i: number) => `svc-${String(i).padStart(3, '0')}`;
    const out: RecommendationChange[] = [];
    for (let i = 0; i < 301; i++)
      collect(
        out,
        observeHpa(
          s,
          {
            namespace: 'ns',
            name: name(i),
            target: { kind: 'Deployment', name: name(i) },
            min: 2,
            max: 9,
            current: 2,
          },
          T0,
        ),
      );
    // The first observation entered the first evaluation slot (svc-000); the rest are evaluated now.
    expect(upserts(out).length).toBe(1);
    collect(out, evaluateNow(s));
    expect(upserts(out).length).toBe(300);
    expect(out.some((c) => c.type === 'delete')).toBe(false);
    expect(recommendations(s).length).toBe(300);
    expect(recommendations(s).some((r) => r.target.name === 'svc-300')).toBe(false);
    const r2 = observeMetric(s, {
      name: 'node_memory_utilisation',
      labels: { node: 'n1' },
      value: 0.95,
      ts: T0 + MIN,
    });
    expect(
      r2.changes.map((c) =>
        c.type === 'delete' ? ['delete', c.id, c.reason] : ['upsert', c.recommendation.id],
      ),
    ).toEqual([
      ['delete', 'hpa-min-high:HorizontalPodAutoscaler/ns/svc-299', 'cap'],
      ['upsert', 'node-memory-pressure:Node//n1'],
    ]);
    expect(recommendations(s).length).toBe(300);
  });

  function scenario(s: RecommendationsState, from: number, to: number): RecommendationChange[] {
    const out: RecommendationChange[] = [];
    for (let ts = from; ts <= to; ts += 30_000) {
      const k = (ts - T0) / 30_000;
      collect(
        out,
        observeMetric(
          s,
          {
            name: 'cpu_usage_cores',
            labels: { namespace: 'shop', pod: 'api-1', container: 'api' },
            value: 0.05 + (k % 7) / 100,
            ts,
          },
          API,
        ),
      );
      collect(
        out,
        observeMetric(s, {
          name: 'node_cpu_utilisation',
          labels: { node: 'n1' },
          value: 0.1 + (k % 3) / 100,
          ts,
        }),
      );
      collect(
        out,
        observeMetric(s, { name: 'coredns_nxdomain_ratio', value: k % 40 < 20 ? 0.08 : 0.01, ts }),
      );
      if (k % 10 === 0)
        collect(
          out,
          observeHpa(
            s,
            {
              namespace: 'shop',
              name: 'api',
              target: { kind: 'Deployment', name: 'api' },
              min: 2,
              max: 4,
              current: 2 + (k % 3),
            },
            ts,
          ),
        );
      if (k === 0)
        collect(out, observeSpec(s, API, 'api', spec({ cpuRequest: 1, memoryRequest: 256 * MIB }), ts));
    }
    collect(out, evaluateNow(s));
    return out;
  }

  it('the same inputs give the same changes; a restored state continues identically', () => {
    const a = createRecommendationsState(PRICES);
    const full = scenario(a, T0, T0 + 3 * HOUR);
    const b = createRecommendationsState(PRICES);
    expect(JSON.stringify(scenario(b, T0, T0 + 3 * HOUR))).toBe(JSON.stringify(full));
    expect(new Set(upserts(full).map((r) => r.type))).toEqual(
      new Set(['rightsizing', 'idle-node', 'coredns-nxdomain', 'hpa-at-max', 'hpa-min-high']),
    );

    // Stop half-way, write every changed key to a changelog, restore, and continue.
    const c = createRecommendationsState(PRICES);
    const log: { key: string; value: unknown }[] = [];
    const first = scenario(c, T0, T0 + 90 * MIN);
    for (const key of stateKeys(c)) log.push({ key, value: JSON.parse(JSON.stringify(stateRecord(c, key))) });
    const restored = restoreRecommendationsState(log, PRICES);
    const d = createRecommendationsState(PRICES);
    const firstD = scenario(d, T0, T0 + 90 * MIN);
    expect(JSON.stringify(firstD)).toBe(JSON.stringify(first));
    const rest = scenario(restored, T0 + 90 * MIN + 30_000, T0 + 3 * HOUR);
    const restD = scenario(d, T0 + 90 * MIN + 30_000, T0 + 3 * HOUR);
    expect(JSON.stringify(rest)).toBe(JSON.stringify(restD));
    expect(stateKeys(restored)).toEqual(stateKeys(d));
    for (const key of stateKeys(d)) expect(stateRecord(restored, key)).toEqual(stateRecord(d, key));
    // The changelog value: a container's binary record decodes to its JSON form, others are JSON.
    let containers = 0;
    for (const st of [a, c, d, restored])
      for (const key of [...stateKeys(st), 'c:nope', 'h:nope', 'rec:nope']) {
        const v = stateRecord(st, key);
        const bytes = stateRecordBytes(st, key);
        if (v === null) expect(bytes).toBe(null);
        else if (key.startsWith('c:')) {
          containers++;
          expect(bytes![0]).toBe(CONTAINER_RECORD_BINARY);
          expect(decodeContainerRecord(bytes!)).toEqual(JSON.parse(JSON.stringify(v)));
        } else expect(bytes!.toString('utf8')).toBe(JSON.stringify(v));
      }
    expect(containers).toBeGreaterThan(0);
  });

  it('stateKeys of each step name the records that changed', () => {
    const s = createRecommendationsState();
    const r = observeHpa(
      s,
      {
        namespace: 'shop',
        name: 'api',
        target: { kind: 'Deployment', name: 'api' },
        min: 1,
        max: 3,
        current: 3,
      },
      T0,
    );
    expect(r.stateKeys).toEqual(['h:shop/api', 'meta', 'rec:hpa-at-max:HorizontalPodAutoscaler/shop/api']);
    expect(stateRecord(s, 'rec:nope')).toBe(null);
  });
});

describe('config, restore errors, input caps', () => {
  it('invalid config and malformed records throw coded errors', () => {
    expect(() => createRecommendationsState({ maxRecommendations: 0 })).toThrow(
      expect.objectContaining({ code: 'HETU_RECOMMENDATIONS_CONFIG_INVALID' }),
    );
    expect(() => createRecommendationsState({ quantile: 1.5 })).toThrow(
      expect.objectContaining({ code: 'HETU_RECOMMENDATIONS_CONFIG_INVALID' }),
    );
    expect(() => restoreRecommendationsState([{ key: 'meta', value: { kind: 'meta', v: 2 } }])).toThrow(
      expect.objectContaining({ code: 'HETU_RECOMMENDATIONS_RESTORE_INVALID' }),
    );
  });

  it('forgetting a container closes its recommendation', () => {
    const s = createRecommendationsState();
    const out: RecommendationChange[] = [];
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR, 0.1, null);
    expect(last(out).closedAt).toBe(null);
    const r = last(forgetContainer(s, API, 'api', T0 + HOUR + MIN).changes);
    expect([r.id, r.closedAt]).toEqual(['rightsizing:Deployment/shop/api/api', T0 + HOUR + MIN]);
  });

  it('the container cap evicts the least recently updated container and closes its recommendation', () => {
    const s = createRecommendationsState({ maxContainers: 2 });
    const out: RecommendationChange[] = [];
    const B: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'b' };
    const C: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'c' };
    observeSpec(s, API, 'api', spec({ cpuRequest: 1 }), T0);
    usage(s, out, T0, T0 + HOUR, 0.1, null);
    observeSpec(s, B, 'b', spec({ cpuRequest: 1 }), T0 + HOUR);
    expect(last(out).closedAt).toBe(null);
    out.length = 0;
    const r = observeSpec(s, C, 'c', spec({ cpuRequest: 1 }), T0 + HOUR + MIN);
    expect(r.stateKeys).toContain('c:shop/Deployment/api/api');
    expect(stateRecord(s, 'c:shop/Deployment/api/api')).toBe(null);
    expect(upserts(r.changes).map((x) => [x.id, x.closedAt])).toEqual([
      ['rightsizing:Deployment/shop/api/api', T0 + HOUR + MIN],
    ]);
  });
});
