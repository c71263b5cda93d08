import { describe, expect, it } from 'vitest';
import { ev, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { combine } from './partial.ts';
import { scoreAll, scoreFromPartial, scoreScope, shareOf, stagedPartials } from './score.ts';
import type { ScoringInput } from './types.ts';

describe('no data vs healthy', () => {
  it('nothing observed → noData with null scores, never 100', () => {
    for (const scope of ['cluster', 'namespace:shop', 'workload:shop/Deployment/api']) {
      expect(scoreScope({}, scope)).toEqual({
        scope,
        overall: null,
        level: null,
        reliability: null,
        security: null,
        cost: null,
        architecture: null,
        deductions: [],
        efficiency: null,
        noData: true,
      });
    }
    expect(scoreAll({})).toEqual([]);
  });

  it('observed with zero deductions → healthy 100 at every scope', () => {
    const input = merge(wellRunNamespace('shop'), {
      workloads: [workload('shop', 'api')],
      pods: [pod('shop', 'api-1', 'api')],
    });
    const all = scoreAll(input);
    expect(all.map((s) => s.scope)).toEqual(['cluster', 'namespace:shop', 'workload:shop/Deployment/api']);
    for (const s of all) {
      expect([
        s.overall,
        s.level,
        s.reliability,
        s.security,
        s.cost,
        s.architecture,
        s.noData,
        s.deductions,
      ]).toEqual([100, 'ok', 100, 100, 100, 100, false, []]);
    }
    // A scope outside what was observed still has no data.
    expect(scoreScope(input, 'namespace:pay').noData).toBe(true);
    expect(scoreScope(input, 'workload:shop/Deployment/web').noData).toBe(true);
  });

  it('a namespace known only through a NetworkPolicy has data', () => {
    const s = scoreScope(
      { networkPolicies: [{ namespace: 'x', name: 'p', evidence: [ev(1)] }] },
      'namespace:x',
    );
    expect([s.noData, s.overall]).toEqual([false, 100]);
  });
});

describe('deductions', () => {
  it('shares are points ÷ count to two decimals: 30 points ÷ 7 pods = 4.29', () => {
    const input = merge(wellRunNamespace('shop'), {
      pods: Array.from({ length: 7 }, (_, i) => pod('shop', `api-${i}`, 'api', ['crashloop'])),
    });
    const d = scoreScope(input, 'cluster').deductions[0];
    expect(d?.points).toBe(-30);
    expect(d?.count).toBe(7);
    expect(d?.resources.map((r) => r.share)).toEqual(Array(7).fill(-4.29));
    expect(shareOf(-20, 6)).toBe(-3.33);
    expect(shareOf(-20, 3)).toBe(-6.67);
    expect(shareOf(-15, 1)).toBe(-15);
  });

  it('lists the first 10 resources in canonical order with the total', () => {
    const input = merge(wellRunNamespace('a'), wellRunNamespace('b'), {
      pods: [
        ...Array.from({ length: 6 }, (_, i) => pod('b', `p-${String(i).padStart(2, '0')}`, 'w', ['pending'])),
        ...Array.from({ length: 6 }, (_, i) => pod('a', `p-${String(i).padStart(2, '0')}`, 'w', ['pending'])),
      ],
    });
    const d = scoreScope(input, 'cluster').deductions[0];
    expect(d).toMatchObject({
      dimension: 'reliability',
      rule: 'pending-pods',
      title: 'Pods pending for 5 minutes or more',
      severity: 'medium',
      points: -15,
      count: 12,
      perItem: 3,
      cap: 15,
      totalResources: 12,
    });
    expect(d?.resources.map((r) => `${r.namespace}/${r.name}`)).toEqual([
      'a/p-00',
      'a/p-01',
      'a/p-02',
      'a/p-03',
      'a/p-04',
      'a/p-05',
      'b/p-00',
      'b/p-01',
      'b/p-02',
      'b/p-03',
    ]);
    expect(d?.resources[0]).toEqual({
      kind: 'Pod',
      namespace: 'a',
      name: 'p-00',
      status: 'pending',
      detail: 'Pending for at least 5 minutes',
      share: -1.25,
      evidence: input.pods?.[6]?.evidence,
    });
  });

  it('severity high for crashloop, oomkilled, privileged, root, cluster-admin, open-incidents, not-ready-nodes', () => {
    const input: ScoringInput = {
      pods: [pod('shop', 'p', 'api', ['crashloop', 'oomkilled', 'pending'])],
      nodes: [{ name: 'n', states: ['NotReady'], evidence: [ev(1)] }],
      workloads: [
        workload('shop', 'api', {
          podSpec: { containers: [{ name: 'a', securityContext: { privileged: true } }] },
        }),
      ],
      incidents: [{ id: 'i', title: 'i', status: 'open', scopes: [], evidence: [ev(2)] }],
      clusterRoleBindings: [
        {
          name: 'b',
          roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: 's', namespace: 'shop' }],
          evidence: [ev(3)],
        },
      ],
    };
    const s = scoreScope(input, 'cluster');
    expect(s.deductions.map((d) => [d.rule, d.severity, d.points])).toEqual([
      ['crashloop-pods', 'high', -10],
      ['oomkilled-pods', 'high', -5],
      ['pending-pods', 'medium', -3],
      ['not-ready-nodes', 'high', -15],
      ['privileged-containers', 'high', -15],
      ['root-containers', 'high', -10],
      ['cluster-admin-bindings', 'high', -10],
      ['writable-root-filesystem', 'medium', -2],
      ['open-incidents', 'high', -2],
    ]);
    // The container has a securityContext ({privileged: true}): missing-security-context does not apply.
    // reliability 67, security 63, cost 100, architecture 98 → 23.45 + 18.9 + 20 + 14.7 = 77.05 → 77
    expect([s.reliability, s.security, s.cost, s.architecture, s.overall, s.level]).toEqual([
      67,
      63,
      100,
      98,
      77,
      'ok',
    ]);
  });

  it('clamps a dimension at 0 and applies the overall caps', () => {
    const priv = { name: 'a', securityContext: { privileged: true } };
    const input: ScoringInput = {
      namespaces: Array.from({ length: 4 }, (_, i) => ({ name: `n${i}`, evidence: [ev(i)] })),
      workloads: Array.from({ length: 3 }, (_, i) =>
        workload('n0', `w${i}`, { podSpec: { hostNetwork: true, containers: [priv] } }),
      ),
      clusterRoleBindings: ['a', 'b'].map((name) => ({
        name,
        roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name }],
        evidence: [ev(9)],
      })),
    };
    // security: privileged 30 (cap) + root 30 + host 20 (cap) + cluster-admin 20 + no NP 20 + writable 6 = 126 → 0
    const s = scoreScope(input, 'cluster');
    expect(s.security).toBe(0);
    // architecture: 100 − 15 (4 without quota, cap) − 10 (4 without LimitRange, cap) = 75
    // overall: 35 + 0 + 20 + 11.25 = 66.25 → security < 50 and > 60 → 60
    expect(s.architecture).toBe(75);
    expect(s.overall).toBe(60);
    expect(s.level).toBe('degraded');
  });

  it('rejects a malformed scope', () => {
    expect(() => scoreScope({}, 'namespace:')).toThrow(/is not cluster/);
    expect(() => scoreScope({}, 'workload:shop/api')).toThrow(
      expect.objectContaining({ code: 'HETU_SCORING_BAD_SCOPE' }),
    );
    expect(() => scoreScope({}, 'pod:x')).toThrow(/is not cluster/);
  });
});

/** A mixed input touching every rule, with incidents spanning workloads and namespaces. */
function everything(): ScoringInput {
  const wl = (ns: string, name: string) => ({ kind: 'Deployment', namespace: ns, name });
  return merge(wellRunNamespace('shop'), {
    namespaces: [
      { name: 'pay', evidence: [ev(100)] },
      { name: 'kube-system', evidence: [ev(101)] },
    ],
    workloads: [
      workload('shop', 'api', {
        replicas: 1,
        podSpec: { containers: [{ name: 'a', securityContext: { privileged: true } }] },
      }),
      workload('shop', 'web', { podSpec: { hostPID: true, containers: [{ name: 'w' }] } }),
      workload('pay', 'pay', { replicas: 1 }),
      workload('kube-system', 'coredns', { replicas: 1 }),
    ],
    pods: [
      ...Array.from({ length: 8 }, (_, i) => pod('shop', `api-${i}`, 'api', ['crashloop'])),
      ...Array.from({ length: 5 }, (_, i) => pod('pay', `pay-${i}`, 'pay', ['crashloop', 'oomkilled'])),
      pod('shop', 'web-1', 'web', [], { usage: { cpuCores: 0.9, memoryBytes: 2 ** 28 } }),
      pod('pay', 'pay-x', 'pay', [], { usage: { cpuCores: 0.1, memoryBytes: 2 ** 29 } }),
      pod('shop', 'lonely', 'lonely', ['imagepull'], {
        workload: { kind: 'Pod', namespace: 'shop', name: 'lonely' },
      }),
    ],
    nodes: [{ name: 'n1', states: ['NotReady'], evidence: [ev(102)] }],
    errorGroups: [
      {
        id: 'g1',
        workload: wl('shop', 'web'),
        title: 'TypeError',
        level: 'error',
        status: 'open',
        evidence: [ev(103)],
      },
    ],
    anomalies: [
      {
        id: 'an1',
        title: 'latency',
        status: 'open',
        namespace: 'shop',
        workload: wl('shop', 'web'),
        evidence: [ev(104)],
      },
      { id: 'an2', title: 'dns', status: 'open', evidence: [ev(105)] },
      { id: 'an3', title: 'ns', status: 'open', namespace: 'pay', evidence: [ev(106)] },
    ],
    incidents: [
      {
        id: 'inc1',
        title: 'checkout down',
        status: 'open',
        scopes: [
          { namespace: 'shop', workload: wl('shop', 'api') },
          { namespace: 'shop', workload: wl('shop', 'web') },
          { namespace: 'pay', workload: wl('pay', 'pay') },
        ],
        evidence: [ev(107)],
      },
      { id: 'inc2', title: 'pay', status: 'open', scopes: [{ namespace: 'pay' }], evidence: [ev(108)] },
      { id: 'inc3', title: 'node', status: 'open', scopes: [], evidence: [ev(109)] },
    ],
    recommendations: [
      { id: 'rs1', type: 'rightsizing', status: 'open', workload: wl('pay', 'pay'), evidence: [ev(110)] },
    ],
    pvcs: [
      {
        namespace: 'pay',
        name: 'data',
        workload: wl('pay', 'pay'),
        usedBytes: 95,
        capacityBytes: 100,
        evidence: [ev(111)],
      },
      { namespace: 'shop', name: 'free', usedBytes: 10, capacityBytes: 100, evidence: [ev(112)] },
    ],
    clusterRoles: [{ name: 'star', rules: [{ verbs: ['*'], resources: ['pods'] }], evidence: [ev(113)] }],
  });
}

describe('scoreAll and staged aggregation', () => {
  it('lists the cluster, then namespaces, then workloads, sorted', () => {
    expect(scoreAll(everything()).map((s) => s.scope)).toEqual([
      'cluster',
      'namespace:kube-system',
      'namespace:pay',
      'namespace:shop',
      'workload:kube-system/Deployment/coredns',
      'workload:pay/Deployment/pay',
      'workload:shop/Deployment/api',
      'workload:shop/Deployment/web',
      'workload:shop/Pod/lonely',
    ]);
  });

  it('staged (workload → namespace → cluster) equals direct for every scope', () => {
    const input = everything();
    const staged = scoreAll(input);
    for (const s of staged) expect(scoreScope(input, s.scope)).toEqual(s);
  });

  it('combine is order-independent and keeps distinct incidents distinct', () => {
    const input = everything();
    const parts = stagedPartials(input);
    const all = [
      parts.clusterOwn,
      ...parts.namespaces.map((n) => n.own),
      ...parts.workloads.map((w) => w.partial),
    ];
    const forward = scoreFromPartial('cluster', combine(...all));
    const backward = scoreFromPartial('cluster', combine(...[...all].reverse()));
    expect(backward).toEqual(forward);
    expect(forward).toEqual(scoreScope(input, 'cluster'));
    expect(forward.deductions.find((d) => d.rule === 'open-incidents')?.count).toBe(3);
    expect(forward.deductions.find((d) => d.rule === 'crashloop-pods')).toMatchObject({
      count: 13,
      points: -30,
      totalResources: 13,
    });
    expect(forward.deductions.find((d) => d.rule === 'crashloop-pods')?.resources).toHaveLength(10);
  });

  it('gives the exact figures of the mixed input', () => {
    const byScope = new Map(scoreAll(everything()).map((s) => [s.scope, s]));
    const pick = (scope: string) => {
      const s = byScope.get(scope);
      return [s?.overall, s?.reliability, s?.security, s?.cost, s?.architecture, s?.level];
    };
    // Worked out by hand in docs/scoring.md ("Worked example"): overall, rel, sec, cost, arch, level.
    expect(pick('cluster')).toEqual([48, 29, 41, 80, 67, 'high']);
    expect(pick('namespace:shop')).toEqual([58, 64, 49, 37, 91, 'degraded']);
    expect(pick('namespace:pay')).toEqual([67, 50, 95, 49, 81, 'degraded']);
    expect(pick('workload:shop/Deployment/api')).toEqual([80, 70, 73, 100, 96, 'ok']);
    expect(byScope.get('namespace:shop')?.efficiency).toEqual({
      cpuRatio: 1.8,
      memoryRatio: 0.5,
      storageRatio: 0.1,
      cpu: 0,
      memory: 83.33,
      storage: 16.67,
      base: 37,
    });
  });
});
