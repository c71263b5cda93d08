import { describe, expect, it } from 'vitest';
import { scoreChange } from './change.ts';
import { T0, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { scoreScope } from './score.ts';
import type { ScoringInput, ScoringPod } from './types.ts';

const AT = T0 + 12 * 60_000;

function withPods(pods: ScoringPod[]): ScoringInput {
  return merge(wellRunNamespace('shop'), { workloads: [workload('shop', 'api')], pods });
}

describe('scoreChange (history entries)', () => {
  it('explains a drop by the pod that entered a rule', () => {
    const before = scoreScope(withPods([pod('shop', 'api-x1', 'api', ['crashloop'])]), 'namespace:shop');
    const after = scoreScope(
      withPods([pod('shop', 'api-x1', 'api', ['crashloop']), pod('shop', 'api-x2', 'api', ['crashloop'])]),
      'namespace:shop',
    );
    const change = scoreChange(before, after, AT);
    expect(change).toEqual({
      scope: 'namespace:shop',
      at: AT,
      overall: { from: 96, to: 93, delta: -3 },
      level: { from: 'ok', to: 'ok' },
      dimensions: [
        {
          dimension: 'reliability',
          from: 90,
          to: 80,
          delta: -10,
          causes: [
            {
              at: AT,
              delta: -10,
              cause: 'pod shop/api-x2 entered crashloop',
              rule: 'crashloop-pods',
              entered: [{ kind: 'Pod', namespace: 'shop', name: 'api-x2' }],
              left: [],
            },
          ],
        },
      ],
      unchanged: false,
    });
  });

  it('explains a recovery and a move between rules', () => {
    const before = scoreScope(
      withPods([pod('shop', 'a', 'api', ['crashloop']), pod('shop', 'b', 'api', ['pending'])]),
      'cluster',
    );
    const after = scoreScope(
      withPods([pod('shop', 'a', 'api'), pod('shop', 'b', 'api', ['imagepull'])]),
      'cluster',
    );
    const change = scoreChange(before, after, AT);
    expect(change.dimensions).toHaveLength(1);
    expect(change.dimensions[0]?.delta).toBe(8); // 87 → 95
    expect(change.dimensions[0]?.causes.map((c) => [c.rule, c.delta, c.cause])).toEqual([
      ['crashloop-pods', 10, 'pod shop/a left crashloop'],
      ['pending-pods', 3, 'pod shop/b left pending'],
      ['imagepull-pods', -5, 'pod shop/b entered imagepull'],
    ]);
  });

  it('names the rule for non-pod resources, and a change within a cap with delta 0', () => {
    const priv = (name: string) =>
      workload('shop', name, {
        podSpec: {
          securityContext: { runAsNonRoot: true },
          containers: [{ name: 'c', securityContext: { privileged: true, readOnlyRootFilesystem: true } }],
        },
      });
    const base = wellRunNamespace('shop');
    const before = scoreScope(merge(base, { workloads: [priv('a'), priv('b')] }), 'cluster');
    const after = scoreScope(merge(base, { workloads: [priv('a'), priv('b'), priv('c')] }), 'cluster');
    const change = scoreChange(before, after, AT);
    expect(change.dimensions).toEqual([
      {
        dimension: 'security',
        from: 70,
        to: 70,
        delta: 0,
        causes: [
          {
            at: AT,
            delta: 0,
            cause: 'deployment shop/c entered privileged-containers',
            rule: 'privileged-containers',
            entered: [{ kind: 'Deployment', namespace: 'shop', name: 'c' }],
            left: [],
          },
        ],
      },
    ]);
  });

  it('counts what moved beyond the first 10 listed resources', () => {
    const pods = (n: number) =>
      Array.from({ length: n }, (_, i) => pod('shop', `p${String(i).padStart(2, '0')}`, 'api', ['pending']));
    const before = scoreScope(withPods(pods(10)), 'cluster');
    const after = scoreScope(withPods(pods(12)), 'cluster');
    const cause = scoreChange(before, after, AT).dimensions[0]?.causes[0];
    expect(cause).toMatchObject({
      rule: 'pending-pods',
      delta: 0,
      cause: '2 more entered pending-pods',
      entered: [],
    });
  });

  it('explains a change of the cost base', () => {
    const usage = (cpu: number) =>
      withPods([
        pod('shop', 'a', 'api', [], {
          containers: [{ name: 'app', cpuCores: 1 }],
          usage: { cpuCores: cpu, memoryBytes: 0 },
        }),
      ]);
    const before = scoreScope(usage(0.7), 'cluster');
    const after = scoreScope(usage(0.3), 'cluster');
    expect(scoreChange(before, after, AT).dimensions).toEqual([
      {
        dimension: 'cost',
        from: 100,
        to: 80,
        delta: -20,
        causes: [
          {
            at: AT,
            delta: -20,
            cause: 'cost base 100 → 80: CPU efficiency 100 → 50',
            rule: 'cost-efficiency',
            entered: [],
            left: [],
          },
        ],
      },
    ]);
  });

  it('first data, and no change at all', () => {
    const s = scoreScope(withPods([pod('shop', 'a', 'api', ['evicted'])]), 'cluster');
    const first = scoreChange(null, s, AT);
    expect(first.overall).toEqual({ from: null, to: s.overall, delta: null });
    expect(first.dimensions.find((d) => d.dimension === 'reliability')?.causes[0]?.cause).toBe(
      'pod shop/a entered evicted',
    );
    expect(first.unchanged).toBe(false);
    const same = scoreChange(s, s, AT);
    expect(same.dimensions).toEqual([]);
    expect(same.unchanged).toBe(true);
  });
});
