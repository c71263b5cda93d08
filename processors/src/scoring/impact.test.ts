import { describe, expect, it } from 'vitest';
import { ev, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { impactOf } from './impact.ts';
import { RULES } from './rules.ts';
import type { ScoringInput } from './types.ts';

function input(): ScoringInput {
  return merge(wellRunNamespace('shop'), {
    namespaces: [{ name: 'pay', evidence: [ev(50, 'Namespace pay ADDED')] }],
    workloads: [
      workload('shop', 'api', {
        podSpec: {
          containers: [
            {
              name: 'a',
              securityContext: { privileged: true, readOnlyRootFilesystem: true, runAsUser: 1000 },
            },
          ],
        },
      }),
    ],
    pods: [
      pod('shop', 'api-x2', 'api', ['crashloop', 'oomkilled'], {
        details: { crashloop: 'api: CrashLoopBackOff, exit 137, 12 restarts' },
        evidence: [ev(7, 'Pod shop/api-x2 MODIFIED: waiting CrashLoopBackOff')],
      }),
      pod('shop', 'api-x3', 'api', ['crashloop']),
      pod('shop', 'api-x4', 'api', ['crashloop']),
      ...Array.from({ length: 4 }, (_, i) => pod('shop', `web-${i}`, 'web', ['crashloop'])),
    ],
    nodes: [{ name: 'n1', states: ['NotReady'], evidence: [ev(9)] }],
  });
}

describe('impactOf (drill-down level 4)', () => {
  it('a pod: every rule at its workload, namespace and cluster, with shares, hints and evidence', () => {
    const impacts = impactOf(input(), { kind: 'Pod', namespace: 'shop', name: 'api-x2' });
    expect(impacts.map((i) => [i.scope, i.rule, i.points, i.count, i.share])).toEqual([
      ['workload:shop/Deployment/api', 'crashloop-pods', -30, 3, -10],
      ['workload:shop/Deployment/api', 'oomkilled-pods', -5, 1, -5],
      ['namespace:shop', 'crashloop-pods', -30, 7, -4.29],
      ['namespace:shop', 'oomkilled-pods', -5, 1, -5],
      ['cluster', 'crashloop-pods', -30, 7, -4.29],
      ['cluster', 'oomkilled-pods', -5, 1, -5],
    ]);
    const first = impacts[0];
    expect(first?.detail).toBe('api: CrashLoopBackOff, exit 137, 12 restarts');
    expect(first?.status).toBe('crashloop');
    expect(first?.severity).toBe('high');
    expect(first?.dimension).toBe('reliability');
    expect(first?.evidence).toEqual([ev(7, 'Pod shop/api-x2 MODIFIED: waiting CrashLoopBackOff')]);
    expect(first?.hint).toBe(RULES.find((r) => r.id === 'crashloop-pods')?.hint);
  });

  it('a workload: its pod-spec rules at workload, namespace and cluster', () => {
    const impacts = impactOf(input(), { kind: 'Deployment', namespace: 'shop', name: 'api' });
    expect(impacts.map((i) => [i.scope, i.rule, i.share])).toEqual([
      ['workload:shop/Deployment/api', 'privileged-containers', -15],
      ['namespace:shop', 'privileged-containers', -15],
      ['cluster', 'privileged-containers', -15],
    ]);
  });

  it('a namespace rule applies at the namespace and the cluster only; a node at the cluster only', () => {
    const ns = impactOf(input(), { kind: 'Namespace', namespace: null, name: 'pay' });
    expect(ns.map((i) => [i.scope, i.rule, i.share])).toEqual([
      ['namespace:pay', 'namespaces-without-network-policy', -5],
      ['namespace:pay', 'namespaces-without-resourcequota', -5],
      ['namespace:pay', 'namespaces-without-limitrange', -3],
      ['cluster', 'namespaces-without-network-policy', -5],
      ['cluster', 'namespaces-without-resourcequota', -5],
      ['cluster', 'namespaces-without-limitrange', -3],
    ]);
    const node = impactOf(input(), { kind: 'Node', namespace: null, name: 'n1' });
    expect(node.map((i) => [i.scope, i.rule, i.share])).toEqual([['cluster', 'not-ready-nodes', -15]]);
  });

  it('a healthy or unknown resource has no impact', () => {
    expect(impactOf(input(), { kind: 'Pod', namespace: 'shop', name: 'nope' })).toEqual([]);
    expect(impactOf(input(), { kind: 'Namespace', namespace: null, name: 'shop' })).toEqual([]);
  });

  it('every rule has a hint; those about a manifest quote the field to change', () => {
    const notManifest = new Set(['open-error-groups', 'active-anomalies', 'open-incidents']);
    for (const rule of RULES) {
      expect(rule.hint.length, rule.id).toBeGreaterThan(150);
      if (!notManifest.has(rule.id)) expect(rule.hint, rule.id).toMatch(/`[^`]+`/);
    }
  });
});
